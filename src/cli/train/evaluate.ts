/**
 * `rcnn eval` and `rcnn train`'s validation: the shell-neutral evaluation
 * (src/pipeline/train/evaluate.ts) on the training worker threads, with the heads on this
 * thread's tfjs wasm backend; and what a user sees at one score threshold (--count-at).
 */
import { useNodeBackend } from '../../model/node';
import type { SoftmaxHead } from '../../model/heads';
import type { SvmHead, BoxRegressorHead } from '../../model/package';
import { matchDetections } from '../../core/eval/matchDetections';
import type { GroundTruth } from '../../core/dataset/groundTruth';
import * as shared from '../../pipeline/train/evaluate';
import type { DatasetImage } from './data';
import { poolSource, type TrainerPool } from './trainerPool';

export { EVAL_DEFAULTS, type EvalOptions, type EvalResult, type EvalResults, type ImageDetectionsRaw } from '../../pipeline/train/evaluate';

export async function evaluateModel(
  pool: TrainerPool,
  images: readonly DatasetImage[],
  classes: string[],
  scorer: SvmHead | SoftmaxHead,
  bbox: BoxRegressorHead | undefined,
  o: shared.EvalOptions,
  say: (line: string) => void,
  rasterOffset = 0,
): Promise<shared.EvalResult> {
  await useNodeBackend('wasm');
  return shared.evaluateModel(poolSource(pool), images, classes, scorer, bbox, o, say, rasterOffset);
}

export async function evaluateModels(
  pool: TrainerPool,
  images: readonly DatasetImage[],
  classes: string[],
  scorers: ReadonlyArray<SvmHead | SoftmaxHead>,
  regressors: readonly BoxRegressorHead[],
  o: shared.EvalOptions,
  say: (line: string) => void,
  rasterOffset = 0,
): Promise<shared.EvalResults[]> {
  await useNodeBackend('wasm');
  return shared.evaluateModels(poolSource(pool), images, classes, scorers, regressors, o, say, rasterOffset);
}

/** What a user sees at one score threshold, counted against the ground truth at IoU 0.5. */
export interface ThresholdCount {
  threshold: number;
  /** Non-difficult ground-truth objects, and how many a drawn box found. */
  objects: number;
  found: number;
  /** Boxes drawn (score >= threshold), and how many of them are true positives. */
  boxes: number;
  correct: number;
  /** Images with no box drawn at all. */
  emptyImages: number;
  images: number;
}

/**
 * Counts, over the images, what the detector draws at `threshold` (per class, after NMS): the
 * objects found and the boxes that are right, PASCAL-style (a box is right when it overlaps a
 * not-yet-found object of its class at IoU >= 0.5). Difficult objects are left out of both sides:
 * a box that only finds a difficult object is neither right nor wrong.
 */
export function countAtThreshold(
  perImage: ReadonlyArray<ReadonlyArray<{ boxes: Float32Array; scores: Float32Array }>>,
  groundTruth: readonly GroundTruth[],
  classes: readonly string[],
  threshold: number,
): ThresholdCount {
  const out: ThresholdCount = { threshold, objects: 0, found: 0, boxes: 0, correct: 0, emptyImages: 0, images: perImage.length };
  perImage.forEach((perClass, i) => {
    const gt = groundTruth[i];
    const dets: Array<{ className: string; score: number; box: number[] }> = [];
    perClass.forEach((l, c) => {
      for (let k = 0; k < l.scores.length; k++) if (l.scores[k] >= threshold) dets.push({ className: classes[c], score: l.scores[k], box: Array.from(l.boxes.subarray(4 * k, 4 * k + 4)) });
    });
    // Match against every object; then drop the boxes whose match is difficult.
    const labels = Array.from(gt.labels, (c) => classes[c]);
    const m = matchDetections(dets, gt.boxes, labels);
    // Matching is one to one, so each correct box is one found object.
    for (let k = 0; k < dets.length; k++) {
      const j = m.matched[k];
      if (j >= 0 && gt.difficult[j]) continue;
      out.boxes++;
      if (j >= 0) {
        out.correct++;
        out.found++;
      }
    }
    if (dets.length === 0) out.emptyImages++;
    for (let j = 0; j < labels.length; j++) if (!gt.difficult[j]) out.objects++;
  });
  return out;
}

export function formatThresholdCount(t: ThresholdCount): string {
  return `at score >= ${t.threshold}: ${t.found} of ${t.objects} objects found, ${t.correct} of ${t.boxes} boxes correct (IoU >= 0.5), nothing drawn on ${t.emptyImages} of ${t.images} images`;
}
