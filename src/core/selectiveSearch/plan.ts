import type { RgbImage } from '../image/raster';
import { resizeRgb } from '../image/resize';
import {
  COLOR_SPACES,
  RELEASE_SIMILARITY_SETS,
  type CustomStrategy,
  type RunSpec,
  type SearchMode,
  type SelectiveSearchOptions,
  type SimilaritySet,
} from './types';

/** Smoothing of the base segmentation: the release's sigma (Felzenszwalb-Huttenlocher's default too). */
export const DEFAULT_SIGMA = 0.8;
/** R-CNN runs selective search on the image resized to this width. */
export const DEFAULT_RESIZE_WIDTH = 500;
/**
 * Longest side allowed after the resize to 500 px wide. R-CNN never meets such shapes, but a
 * 1 x N strip resized to 500 wide would be 500 x 500N pixels: we cap the long side instead, so
 * degenerate inputs stay cheap (the result is then at most this size on its long side).
 */
export const MAX_RESIZED_SIDE = 2000;

/** The release's fast mode (selective_search_boxes.m, fast_mode = true): 2 x 2 x 2 = 8 runs. */
export const FAST_STRATEGY: CustomStrategy = { colorSpaces: ['HSV', 'Lab'], ks: [50, 100], similarities: ['CTSF', 'TSF'] };
/** The release's quality mode: 5 colour spaces x 4 k x 4 similarity sets = 80 runs. */
export const QUALITY_STRATEGY: CustomStrategy = {
  colorSpaces: ['HSV', 'Lab', 'rgI', 'H', 'I'],
  ks: [50, 100, 150, 300],
  similarities: [...RELEASE_SIMILARITY_SETS],
};

export interface SimilarityFlags {
  colour: boolean;
  texture: boolean;
  size: boolean;
  fill: boolean;
}

/** Parse 'CTSF'-style similarity sets (letters C, T, S, F in any order, each at most once). */
export function parseSimilaritySet(set: SimilaritySet): SimilarityFlags {
  const s = set.toUpperCase();
  if (!/^[CTSF]{1,4}$/.test(s) || new Set(s).size !== s.length) {
    throw new Error(`similarity set "${set}" must be a non-empty combination of the letters C (colour), T (texture), S (size), F (fill)`);
  }
  return { colour: s.includes('C'), texture: s.includes('T'), size: s.includes('S'), fill: s.includes('F') };
}

/** Canonical letter order C, T, S, F. */
export function normaliseSimilaritySet(set: SimilaritySet): SimilaritySet {
  const f = parseSimilaritySet(set);
  return (f.colour ? 'C' : '') + (f.texture ? 'T' : '') + (f.size ? 'S' : '') + (f.fill ? 'F' : '');
}

/** Fill in the release's defaults (sigma 0.8, minSize = k) and validate a run. */
export function resolveRunSpec(spec: RunSpec): Required<RunSpec> {
  if (!COLOR_SPACES.includes(spec.colorSpace)) throw new Error(`unknown colour space "${spec.colorSpace}"; one of ${COLOR_SPACES.join(', ')}`);
  if (!(spec.k > 0) || !Number.isFinite(spec.k)) throw new Error(`k must be a positive number, got ${spec.k}`);
  const sigma = spec.sigma ?? DEFAULT_SIGMA;
  if (!(sigma >= 0) || !Number.isFinite(sigma) || sigma > 20) throw new Error(`sigma must be in [0, 20], got ${sigma}`);
  const minSize = spec.minSize ?? spec.k;
  if (!(minSize >= 0) || !Number.isFinite(minSize)) throw new Error(`minSize must be >= 0, got ${minSize}`);
  return { colorSpace: spec.colorSpace, k: spec.k, similarity: normaliseSimilaritySet(spec.similarity), sigma, minSize: Math.round(minSize) };
}

/**
 * The runs of a mode or custom strategy, in the release's loop order (k outer, colour space
 * inner, similarity set innermost). The order matters only for reproducing a seed's ranking:
 * pooling draws the random factors in run order.
 */
export function planRuns(strategy: SearchMode | CustomStrategy = 'fast'): Required<RunSpec>[] {
  const s = strategy === 'fast' ? FAST_STRATEGY : strategy === 'quality' ? QUALITY_STRATEGY : strategy;
  if (!s.colorSpaces.length || !s.ks.length || !s.similarities.length) throw new Error('a strategy needs at least one colour space, one k and one similarity set');
  const runs: Required<RunSpec>[] = [];
  for (const k of s.ks) {
    for (const colorSpace of s.colorSpaces) {
      for (const similarity of s.similarities) runs.push(resolveRunSpec({ colorSpace, k, similarity, sigma: s.sigma }));
    }
  }
  return runs;
}

/** The run list selected by selectiveSearch options. */
export function runsFromOptions(options: Pick<SelectiveSearchOptions, 'mode' | 'strategy' | 'runs'> = {}): Required<RunSpec>[] {
  if (options.runs) {
    if (!options.runs.length) throw new Error('runs must not be empty');
    return options.runs.map(resolveRunSpec);
  }
  return planRuns(options.strategy ?? options.mode ?? 'fast');
}

/** Key of the base segmentation a run uses: runs with the same key share it (and its base boxes). */
export function segmentationKey(spec: Required<RunSpec>): string {
  return `${spec.colorSpace}|${spec.sigma}|${spec.k}|${spec.minSize}`;
}

/** Size of the image selective search works on: `resizeWidth` wide (aspect kept), long side capped. */
export function searchSize(width: number, height: number, resizeWidth = DEFAULT_RESIZE_WIDTH): { width: number; height: number } {
  if (!(width >= 1 && height >= 1)) throw new Error(`image must be at least 1 x 1, got ${width} x ${height}`);
  let s = resizeWidth > 0 ? resizeWidth / width : 1;
  s = Math.min(s, MAX_RESIZED_SIDE / Math.max(width, height));
  if (resizeWidth <= 0) s = Math.min(1, s);
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

/** The image as selective search sees it (the release: imresize(im, [NaN 500])), and input pixels per resized pixel. */
export function prepareSearchImage(image: RgbImage, resizeWidth = DEFAULT_RESIZE_WIDTH): { resized: RgbImage; scaleX: number; scaleY: number } {
  if (image.data.length !== image.width * image.height * 3) {
    throw new Error(`raster data has ${image.data.length} bytes, expected ${image.width * image.height * 3} for ${image.width} x ${image.height} RGB`);
  }
  const size = searchSize(image.width, image.height, resizeWidth);
  const resized = size.width === image.width && size.height === image.height ? image : resizeRgb(image, size.width, size.height);
  return { resized, scaleX: image.width / size.width, scaleY: image.height / size.height };
}

/**
 * Split a run list into worker tasks. Runs that share a colour space share its conversion,
 * smoothing, sorted pixel graph and texture maps, and runs that share (colour space, k) share the
 * segmentation and region histograms, so a task is a group of runs; groups are split (colour space
 * first, then by k) only while there are fewer groups than `targetTasks`, trading repeated shared
 * work for parallelism. Returns run indices per task, the costliest first (so the pool's greedy
 * scheduling is longest-processing-time first).
 */
export function groupRunsIntoTasks(runs: Required<RunSpec>[], targetTasks: number): number[][] {
  const byColour = new Map<string, number[]>();
  runs.forEach((r, i) => {
    const key = `${r.colorSpace}|${r.sigma}`;
    const g = byColour.get(key);
    if (g) g.push(i);
    else byColour.set(key, [i]);
  });
  let groups = [...byColour.values()];
  const splitByK = (g: number[]): number[][] => {
    const m = new Map<string, number[]>();
    for (const i of g) {
      const key = segmentationKey(runs[i]);
      const x = m.get(key);
      if (x) x.push(i);
      else m.set(key, [i]);
    }
    return [...m.values()];
  };
  while (groups.length < targetTasks) {
    // Split the costliest group that holds more than one segmentation.
    let best = -1;
    let bestCost = -1;
    for (let g = 0; g < groups.length; g++) {
      if (splitByK(groups[g]).length < 2) continue;
      const c = taskCost(runs, groups[g]);
      if (c > bestCost) {
        bestCost = c;
        best = g;
      }
    }
    if (best < 0) break;
    // Two halves of about equal cost, whole segmentations each (greedy, largest first).
    const parts = splitByK(groups[best]).sort((a, b) => taskCost(runs, b) - taskCost(runs, a));
    const halves: number[][] = [[], []];
    const load = [0, 0];
    for (const p of parts) {
      const h = load[0] <= load[1] ? 0 : 1;
      halves[h].push(...p);
      load[h] += taskCost(runs, p);
    }
    groups.splice(best, 1, halves[0].sort((a, b) => a - b), halves[1].sort((a, b) => a - b));
  }
  const cost = (g: number[]) => taskCost(runs, g);
  groups = groups.sort((a, b) => cost(b) - cost(a));
  return groups;
}

/**
 * Rough relative cost of a task, in milliseconds measured on a 500 x 333 photo (Node 20, one
 * core): per 3-channel colour space about 100 (conversion, smoothing, sorted graph, texture maps),
 * per segmentation about 50 (union-find, adjacency, histograms), per grouping with histogram
 * similarities 25 at k = 50 (fewer regions at larger k: ~ 50 / k), half that with size/fill only.
 * Single-channel spaces (H, I) cost about a third per colour space.
 */
export function taskCost(runs: Required<RunSpec>[], indices: number[]): number {
  const segs = new Set<string>();
  const colours = new Set<string>();
  let c = 0;
  for (const i of indices) {
    const r = runs[i];
    const channelFactor = r.colorSpace === 'H' || r.colorSpace === 'I' ? 1 / 3 : 1;
    if (!colours.has(r.colorSpace)) {
      colours.add(r.colorSpace);
      c += 100 * channelFactor;
    }
    const sk = segmentationKey(r);
    if (!segs.has(sk)) {
      segs.add(sk);
      c += 50;
    }
    const histograms = r.similarity.includes('C') || r.similarity.includes('T');
    c += (histograms ? 25 : 12) * Math.min(2, 50 / r.k);
  }
  return c;
}
