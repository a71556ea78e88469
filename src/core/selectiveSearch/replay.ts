/**
 * Replaying a run's hierarchical grouping for display: which region each base segment belongs to
 * after the first `step` merges (to colour the segmentation map at any point of the scrub), and
 * the merge tree. Pure functions over a RunResult's merge history; nothing is recomputed from pixels.
 */
import type { RunResult } from './types';

/** Parent region of every region (-1 for the last, whole-image region): merge j makes region n + j the parent of its two children. */
export function mergeParents(run: Pick<RunResult, 'segmentCount' | 'merges'>): Int32Array {
  const n = run.segmentCount;
  const m = run.merges.length >> 1;
  const parent = new Int32Array(n + m).fill(-1);
  for (let j = 0; j < m; j++) {
    parent[run.merges[2 * j]] = n + j;
    parent[run.merges[2 * j + 1]] = n + j;
  }
  return parent;
}

/**
 * For each base segment (0..n-1), the region it belongs to after the first `step` merges
 * (0 <= step <= n - 1): step 0 gives the segments themselves, step n - 1 the whole image.
 * Map a label image through it (regionOf[labels[p]]) to draw the regions at that step.
 */
export function segmentRegionsAtStep(run: Pick<RunResult, 'segmentCount' | 'merges'>, step: number, out?: Int32Array): Int32Array {
  const n = run.segmentCount;
  const m = run.merges.length >> 1;
  const s = Math.max(0, Math.min(m, Math.floor(step)));
  const regionOf = out && out.length >= n ? out : new Int32Array(n);
  // Union-find over region ids where a region's root is the newest region containing it so far.
  const up = new Int32Array(n + s);
  for (let r = 0; r < n + s; r++) up[r] = r;
  for (let j = 0; j < s; j++) {
    up[run.merges[2 * j]] = n + j;
    up[run.merges[2 * j + 1]] = n + j;
  }
  for (let r = 0; r < n; r++) {
    let x = r;
    while (up[x] !== x) x = up[x];
    // Path compression for the next segments of the same region.
    let y = r;
    while (up[y] !== x) {
      const next = up[y];
      up[y] = x;
      y = next;
    }
    regionOf[r] = x;
  }
  return regionOf;
}
