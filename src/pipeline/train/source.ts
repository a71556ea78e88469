/**
 * What R-CNN's heads trainer (heads.ts) and its evaluation (evaluate.ts) need from the shell that
 * drives them, so that `rcnn train --stages svm,bbox` (Node: worker_threads with a disk feature
 * cache) and the app's Train view (Web Workers: the CNN worker pool, recomputing) run the same
 * code with the same defaults:
 *
 * - a FeatureSource: fc7 of every box and pool5 of some rows, for one image, on one of `lanes`
 *   parallel lanes (a worker thread, a CNN worker);
 * - the images as TrainImages: proposals and ground truth in the photo's own pixels, and the
 *   scale of the raster the CNN warps from (the shell keeps the raster).
 */
import type { GroundTruth } from '../../core/dataset/groundTruth';

/**
 * Longest side of the raster training and evaluation warp from (`rcnn train`, `rcnn eval` and the
 * Train view alike): crops are 227 px, so 800 keeps the detail a crop can use and a fraction of
 * a large photo's memory (docs/algorithm.md section 2).
 */
export const TRAIN_RASTER_MAX_SIDE = 800;

/**
 * Augmentation of a features request (the SVMs' augmented positives): every box draws its own
 * `randomAugment` (mirror, gains, optional colour matrix and blur) from one stream seeded by `seed`.
 */
export interface FeatureAugment {
  seed: number;
  mode: 'window' | 'colour';
  gainJitter: number;
  blur: number;
}

export interface ImageFeatures {
  /** n x fc7 width, one row per box. */
  fc7: Float32Array;
  /** pool5 (Caffe C,H,W order) of the requested rows, in the order requested. */
  pool5: Float32Array;
  ms: number;
}

/** fc7 / pool5 of boxes (raster pixels) of image `image`, computed on lane `lane`. */
export type FeatureFn = (lane: number, image: number, boxes: Float32Array, pool5Rows: Int32Array, augment?: FeatureAugment) => Promise<ImageFeatures>;

export interface FeatureSource {
  /** Requests that may run at once (one per worker); results are consumed in image order. */
  lanes: number;
  features: FeatureFn;
}

/** A training or evaluation image: what the trainer reads (the raster stays with the shell). */
export interface TrainImage {
  id: string;
  /** Original px = raster px x (sx, sy). */
  sx: number;
  sy: number;
  /** Upright original size (what boxes refer to). */
  width: number;
  height: number;
  /** Selective-search proposals in original pixels, best-ranked first. */
  proposals: Float32Array;
  gt: GroundTruth;
}

/** What a long run reports and how it is stopped. */
export interface RunHooks {
  signal?: AbortSignal;
  /** A step of a phase finished: `done` of `total` images. */
  onProgress?: (phase: string, done: number, total: number) => void;
}

export function abortError(): Error {
  return Object.assign(new Error('training cancelled'), { name: 'AbortError' });
}

/** Boxes in original pixels to raster pixels. */
export function toRaster(img: { sx: number; sy: number }, boxes: ArrayLike<number>): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let k = 0; k < boxes.length; k += 4) {
    out[k] = boxes[k] / img.sx;
    out[k + 1] = boxes[k + 1] / img.sy;
    out[k + 2] = boxes[k + 2] / img.sx;
    out[k + 3] = boxes[k + 3] / img.sy;
  }
  return out;
}

export function formatEta(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/**
 * Run `fn` for every item on whichever lane is free, at most one job per lane at a time,
 * delivering results in item order to `onResult` (so consumers like the hard-negative miner see
 * images in a fixed order regardless of timing). An aborted `signal` stops new items and rejects.
 */
export async function forEachOnWorkers<T>(
  count: number,
  workers: number,
  fn: (item: number, worker: number) => Promise<T>,
  onResult: (item: number, result: T) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const results = new Map<number, T>();
  let next = 0;
  let deliver = 0;
  let failed: unknown = null;
  const flush = async () => {
    while (results.has(deliver)) {
      const r = results.get(deliver)!;
      results.delete(deliver);
      await onResult(deliver, r);
      deliver++;
    }
  };
  const lane = async (w: number) => {
    while (failed === null) {
      if (signal?.aborted) {
        failed = abortError();
        return;
      }
      const item = next++;
      if (item >= count) return;
      try {
        results.set(item, await fn(item, w));
        await flush();
      } catch (e) {
        failed = e;
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => lane(w)));
  if (failed !== null) throw failed;
  await flush();
}
