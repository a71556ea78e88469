/**
 * Selective search (Uijlings et al., IJCV 2013) as R-CNN uses it: docs/algorithm.md section 1.
 *
 * Pure TypeScript on typed arrays: no DOM, no tfjs, no Node APIs, so the same code runs in the
 * page, in a Web Worker and in Node.
 *
 * Three-step API (what the worker pools use; each run is independent):
 *   1. `prepareSearchImage(image)` resizes to 500 px wide; `runsFromOptions` / `planRuns(mode)`
 *      lists the (colour space, k, similarity set) runs; `groupRunsIntoTasks` splits them into
 *      tasks that share work.
 *   2. `new SearchContext(resized).execute(run, { labels })` (or `executeRun`) executes one run and
 *      returns its regions' boxes, hierarchy positions, merge history and, on request, the base
 *      segmentation labels.
 *   3. `poolRuns(results, { seed, maxBoxes, outputWidth, outputHeight })` ranks, filters,
 *      de-duplicates and maps the boxes back to the input image.
 * One-call: `selectiveSearch(image, options)`.
 */
import type { RgbImage } from '../image/raster';
import { prepareSearchImage, runsFromOptions } from './plan';
import { poolRuns } from './rank';
import { SearchContext, executionOrder } from './run';
import type { ProposalSet, RunResult, SelectiveSearchOptions } from './types';

export * from './types';
export {
  DEFAULT_RESIZE_WIDTH,
  DEFAULT_SIGMA,
  FAST_STRATEGY,
  QUALITY_STRATEGY,
  groupRunsIntoTasks,
  normaliseSimilaritySet,
  parseSimilaritySet,
  planRuns,
  prepareSearchImage,
  resolveRunSpec,
  runsFromOptions,
  searchSize,
  segmentationKey,
} from './plan';
export { SearchContext, executeRun, executionOrder } from './run';
export { DEFAULT_MAX_BOXES, DEFAULT_MIN_BOX_SIDE, DEFAULT_SEED, poolRuns } from './rank';
export { mulberry32 } from './random';

export interface SelectiveSearchResult extends ProposalSet {
  /** Every run's result, in run-list order (their boxes are in resized pixels). */
  runs: RunResult[];
  /** Wall time of the whole search in milliseconds (resize included). */
  ms: number;
}

/**
 * Selective search on one image in the calling thread: resize to 500 px wide, execute every run of
 * the mode (fast by default) sharing segmentations, pool, rank, keep the top 2000. Boxes are in the
 * input image's pixels, best first.
 */
export function selectiveSearch(image: RgbImage, options: SelectiveSearchOptions = {}): SelectiveSearchResult {
  const t0 = typeof performance !== 'undefined' ? performance.now() : Date.now();
  const runs = runsFromOptions(options);
  const { resized } = prepareSearchImage(image, options.resizeWidth);
  const ctx = new SearchContext(resized);
  const results: RunResult[] = new Array(runs.length);
  for (const i of executionOrder(runs)) results[i] = ctx.execute(runs[i]);
  const pooled = poolRuns(results, {
    seed: options.seed,
    maxBoxes: options.maxBoxes,
    minBoxSide: options.minBoxSide,
    outputWidth: image.width,
    outputHeight: image.height,
  });
  const t1 = typeof performance !== 'undefined' ? performance.now() : Date.now();
  return { ...pooled, runs: results, ms: t1 - t0 };
}
export { mergeParents, segmentRegionsAtStep } from './replay';
