/**
 * Detection on a set of images with a trained model and PASCAL VOC evaluation (AP at IoU 0.5),
 * with and without box regression as the paper reports. Runs the same steps as the app:
 * proposals -> warp -> CNN (training workers) -> the heads (model/heads.ts RcnnHeads, on this
 * thread's tfjs backend) -> box regression and per-class NMS (core/detect.ts finishDetections),
 * the two pieces src/pipeline's Detector.score/finish are made of.
 */
import { RCNN_NMS_THRESHOLD } from '../../core/nms';
import { finishDetections, type FinishedDetections } from '../../core/detect';
import { RcnnHeads, type SoftmaxHead } from '../../model/heads';
import { useNodeBackend } from '../../model/node';
import { evaluateDetections, groupDetectionsByClass, type ApMetric, type DetectionEvaluation, type ImageDetections } from '../../core/eval/ap';
import type { SvmHead, BoxRegressorHead } from '../../model/package';
import type { DatasetImage } from './data';
import { toRaster } from './data';
import { forEachOnWorkers, type TrainerPool } from './trainerPool';
import { formatEta } from './finetune';
import { matchDetections } from '../../core/eval/matchDetections';
import type { GroundTruth } from '../../core/dataset/groundTruth';

export interface EvalOptions {
  proposals: number;
  nmsThreshold: number;
  /** Detections kept per class and image after NMS (highest scores). */
  maxPerClass: number;
  metric: ApMetric;
}

export const EVAL_DEFAULTS: EvalOptions = { proposals: 2000, nmsThreshold: RCNN_NMS_THRESHOLD, maxPerClass: 100, metric: 'voc2010' };

export interface ImageDetectionsRaw {
  /** Per box regressor, per class: flat boxes and scores after NMS, best first. */
  withRegression: Array<Array<{ boxes: Float32Array; scores: Float32Array }>>;
  withoutRegression: Array<{ boxes: Float32Array; scores: Float32Array }>;
}

/** One class's kept boxes and scores, best first, from finishDetections' per-class results. */
function perClassLists(fin: FinishedDetections, scores: Float32Array, C: number, n: number): Array<{ boxes: Float32Array; scores: Float32Array }> {
  return fin.results.map((r) => {
    const c = r.classIndex;
    const off = fin.boxes.length === 4 * n * C && C > 1 ? 4 * n * c : 0;
    const b = new Float32Array(r.keep.length * 4);
    const s = new Float32Array(r.keep.length);
    r.keep.forEach((i, k) => {
      b.set(fin.boxes.subarray(off + 4 * i, off + 4 * i + 4), 4 * k);
      s[k] = scores[i * C + c];
    });
    return { boxes: b, scores: s };
  });
}

export interface EvalResult {
  withRegression: DetectionEvaluation | null;
  withoutRegression: DetectionEvaluation;
  seconds: number;
  images: number;
  /** Per image: the detections after NMS (best first, at most maxPerClass per class), per class. */
  detections: ImageDetectionsRaw[];
}

/** One scorer's evaluation with every box regressor given (evaluateModels). */
export interface EvalResults {
  withoutRegression: DetectionEvaluation;
  /** One per box regressor, in the order given. */
  withRegression: DetectionEvaluation[];
  seconds: number;
  images: number;
  detections: ImageDetectionsRaw[];
}

export async function evaluateModel(
  pool: TrainerPool,
  images: readonly DatasetImage[],
  classes: string[],
  scorer: SvmHead | SoftmaxHead,
  bbox: BoxRegressorHead | undefined,
  o: EvalOptions,
  say: (line: string) => void,
  /** Index of images[0] in the workers' raster list. */
  rasterOffset = 0,
): Promise<EvalResult> {
  const [r] = await evaluateModels(pool, images, classes, [scorer], bbox ? [bbox] : [], o, say, rasterOffset);
  return { withoutRegression: r.withoutRegression, withRegression: r.withRegression[0] ?? null, seconds: r.seconds, images: r.images, detections: r.detections };
}

/**
 * evaluateModel for several sets of SVMs (e.g. one per value of C) and several sets of box
 * regressors (one per lambda) on the same CNN: the features of each image are computed once, and
 * every scorer is evaluated without box regression and with each set of regressors.
 */
export async function evaluateModels(
  pool: TrainerPool,
  images: readonly DatasetImage[],
  classes: string[],
  scorers: ReadonlyArray<SvmHead | SoftmaxHead>,
  regressors: readonly BoxRegressorHead[],
  o: EvalOptions,
  say: (line: string) => void,
  rasterOffset = 0,
): Promise<EvalResults[]> {
  const t0 = performance.now();
  const C = classes.length;
  const perSvm: ImageDetectionsRaw[][] = scorers.map(() => new Array(images.length));
  let done = 0;
  await useNodeBackend('wasm');
  // Uploaded once the first image tells the feature widths; freed at the end.
  let scorerHeads: RcnnHeads[] | null = null;
  let regressorHeads: RcnnHeads[] = [];
  try {
    await forEachOnWorkers(
      images.length,
      pool.workers.length,
      async (i, w) => {
        const im = images[i];
        const props = im.proposals.subarray(0, 4 * Math.min(o.proposals, im.proposals.length >> 2));
        const n = props.length >> 2;
        const f = await pool.features(w, i + rasterOffset, toRaster(im, props), regressors.length ? Int32Array.from({ length: n }, (_, k) => k) : new Int32Array(0));
        return { props, f };
      },
      async (i, { props, f }) => {
        const im = images[i];
        const n = props.length >> 2;
        if (!scorerHeads && n > 0) {
          const dims = { fc7: f.fc7.length / n, pool5: regressors.length ? f.pool5.length / n : 0 };
          scorerHeads = scorers.map((svm) => new RcnnHeads({ svm }, dims));
          regressorHeads = regressors.map((boxRegressor) => new RcnnHeads({ boxRegressor }, dims));
        }
        const deltas = await Promise.all(regressorHeads.map(async (h) => (await h.applyToArrays(null, f.pool5, n)).deltas));
        for (let k = 0; k < scorers.length; k++) {
          const scores = scorerHeads ? (await scorerHeads[k].applyToArrays(f.fc7, null, n)).scores! : new Float32Array(0);
          const scored = { proposals: props, scores, deltas: null as Float32Array | null, classes, width: im.width, height: im.height };
          const finish = (d: Float32Array | null) => perClassLists(finishDetections({ ...scored, deltas: d }, { iouThreshold: o.nmsThreshold, maxPerClass: o.maxPerClass }), scores, C, n);
          perSvm[k][i] = { withoutRegression: finish(null), withRegression: deltas.map((d) => finish(d)) };
        }
        done++;
        if (done % 10 === 0 || done === images.length) {
          const el = (performance.now() - t0) / 1000;
          say(`eval: ${done}/${images.length} images, ETA ${formatEta((el / done) * (images.length - done))}`);
        }
      },
    );
  } finally {
    for (const h of [...((scorerHeads as RcnnHeads[] | null) ?? []), ...regressorHeads]) h.dispose();
  }
  const evaluate = (lists: ReadonlyArray<ReadonlyArray<{ boxes: Float32Array; scores: Float32Array }>>) => {
    const perImage: ImageDetections[] = lists.map((perClass) => {
      const total = perClass.reduce((a, l) => a + l.scores.length, 0);
      const boxes = new Float32Array(4 * total);
      const scores = new Float32Array(total);
      const labels = new Int32Array(total);
      let k = 0;
      perClass.forEach((l, c) => {
        boxes.set(l.boxes, 4 * k);
        scores.set(l.scores, k);
        labels.fill(c, k, k + l.scores.length);
        k += l.scores.length;
      });
      return { boxes, scores, labels };
    });
    return evaluateDetections(groupDetectionsByClass(perImage, C), images.map((im) => im.gt), classes, { metric: o.metric });
  };
  const seconds = (performance.now() - t0) / 1000;
  return perSvm.map((per) => ({
    withoutRegression: evaluate(per.map((p) => p.withoutRegression)),
    withRegression: regressors.map((_, j) => evaluate(per.map((p) => p.withRegression[j]))),
    seconds,
    images: images.length,
    detections: per,
  }));
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
