/**
 * Pooling the runs into R-CNN's ranked proposal list, as the release's selective_search_boxes.m:
 * concatenate the boxes of all runs with their hierarchy positions, multiply each position by a
 * random number in [0, 1), sort ascending, drop boxes narrower or shorter than 20 px
 * (FilterBoxesWidth), drop repeated boxes keeping the best-ranked copy (BoxRemoveDuplicates), and
 * map the boxes back to the input image's pixels. R-CNN then uses the top 2000.
 *
 * The random factor (Uijlings et al., section 4.1): combining hierarchies by position alone would
 * put all the whole-image regions of every run first; the random weighting mixes runs while
 * keeping large regions near the top on average. It is seeded here so a run is reproducible.
 */
import { segmentationKey } from './plan';
import { mulberry32 } from './random';
import type { PoolOptions, ProposalSet, RunResult } from './types';

export const DEFAULT_MAX_BOXES = 2000;
export const DEFAULT_MIN_BOX_SIDE = 20;
export const DEFAULT_SEED = 1;

/**
 * Pool run results (all on the same resized image) into the final ranked proposals.
 *
 * Which boxes each run contributes: every merged region (hierarchy positions mergeCount..1), and
 * the base segments (position n) once per base segmentation, from the first run in the list that
 * uses it, because the release adds a segmentation's blob boxes once per (colour space, k), not
 * once per similarity set. Random numbers are drawn in list order, one per contributed box.
 */
export function poolRuns(runs: RunResult[], options: PoolOptions = {}): ProposalSet {
  if (runs.length === 0) throw new Error('poolRuns needs at least one run result');
  const W = runs[0].width;
  const H = runs[0].height;
  for (const r of runs) {
    if (r.width !== W || r.height !== H) throw new Error(`runs were made on different image sizes (${W}x${H} and ${r.width}x${r.height})`);
  }
  const seed = options.seed ?? DEFAULT_SEED;
  const maxBoxes = Math.max(0, Math.floor(options.maxBoxes ?? DEFAULT_MAX_BOXES));
  // On a strip narrower than 20 px no box could survive; a box spanning the whole side is kept.
  const minSide = Math.min(options.minBoxSide ?? DEFAULT_MIN_BOX_SIDE, W, H);
  const outW = options.outputWidth ?? W;
  const outH = options.outputHeight ?? H;
  const sx = outW / W;
  const sy = outH / H;

  // Candidate ranges per run: [first region id, last region id).
  const seen = new Set<string>();
  const from = new Int32Array(runs.length);
  let pooled = 0;
  runs.forEach((r, i) => {
    const key = segmentationKey(r.spec);
    const includeBase = !seen.has(key);
    seen.add(key);
    from[i] = includeBase ? 0 : r.segmentCount;
    pooled += r.hierarchyPositions.length - from[i];
  });

  const rand = mulberry32(seed);
  const keys = new Float64Array(pooled);
  const candRun = new Int32Array(pooled);
  const candRegion = new Int32Array(pooled);
  let kept = 0;
  for (let i = 0; i < runs.length; i++) {
    const r = runs[i];
    const pos = r.hierarchyPositions;
    const b = r.boxes;
    // The release lists a run's merged regions before its base segments: draw in that order.
    const regions = pos.length;
    const n = r.segmentCount;
    for (let step = 0; step < regions - from[i]; step++) {
      const id = step < regions - n ? n + step : from[i] + (step - (regions - n));
      const u = rand();
      if (b[4 * id + 2] - b[4 * id] < minSide || b[4 * id + 3] - b[4 * id + 1] < minSide) continue;
      keys[kept] = pos[id] * u;
      candRun[kept] = i;
      candRegion[kept] = id;
      kept++;
    }
  }
  const order = new Uint32Array(kept);
  for (let i = 0; i < kept; i++) order[i] = i;
  // Ties (only possible for equal products) keep pooling order, like MATLAB's stable sort.
  order.sort((a, b) => keys[a] - keys[b] || a - b);

  const outBoxes = new Float32Array(4 * Math.min(maxBoxes, kept));
  const runIndex = new Int32Array(Math.min(maxBoxes, kept));
  const regionId = new Int32Array(Math.min(maxBoxes, kept));
  const hierarchyPosition = new Int32Array(Math.min(maxBoxes, kept));
  const rankKey = new Float32Array(Math.min(maxBoxes, kept));
  const unique = new Set<number>();
  // Integer box coordinates in [0, W] x [0, H]: an exact numeric key.
  const W1 = W + 1, H1 = H + 1;
  let count = 0;
  let uniqueTotal = 0;
  for (let o = 0; o < kept; o++) {
    const c = order[o];
    const r = runs[candRun[c]];
    const id = candRegion[c];
    const b = r.boxes;
    const x1 = b[4 * id], y1 = b[4 * id + 1], x2 = b[4 * id + 2], y2 = b[4 * id + 3];
    const key = ((x1 * H1 + y1) * W1 + x2) * H1 + y2;
    if (unique.has(key)) continue;
    unique.add(key);
    uniqueTotal++;
    if (count < maxBoxes) {
      outBoxes[4 * count] = x1 * sx;
      outBoxes[4 * count + 1] = y1 * sy;
      outBoxes[4 * count + 2] = x2 * sx;
      outBoxes[4 * count + 3] = y2 * sy;
      runIndex[count] = candRun[c];
      regionId[count] = id;
      hierarchyPosition[count] = r.hierarchyPositions[id];
      rankKey[count] = keys[c];
      count++;
    }
  }
  const trim = <T extends Float32Array | Int32Array>(a: T, len: number): T => (a.length === len ? a : (a.slice(0, len) as T));
  return {
    boxes: trim(outBoxes, 4 * count),
    runIndex: trim(runIndex, count),
    regionId: trim(regionId, count),
    hierarchyPosition: trim(hierarchyPosition, count),
    rankKey: trim(rankKey, count),
    width: outW,
    height: outH,
    resizedWidth: W,
    resizedHeight: H,
    scaleX: sx,
    scaleY: sy,
    counts: { pooled, afterMinSide: kept, unique: uniqueTotal },
  };
}
