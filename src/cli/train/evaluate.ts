/**
 * Detection on a set of images with a trained model and PASCAL VOC evaluation (AP at IoU 0.5),
 * with and without box regression as the paper reports. Runs the same steps as the app:
 * proposals -> warp -> CNN -> SVM scores (fc7) -> box regression (pool5) -> per-class NMS.
 */
import { RCNN_NMS_THRESHOLD, nms } from '../../core/nms';
import { clipBoxesInPlace, decodeBoxes } from '../../core/geometry';
import { evaluateDetections, groupDetectionsByClass, type ApMetric, type DetectionEvaluation, type ImageDetections } from '../../core/eval/ap';
import type { SvmHead, BoxRegressorHead } from '../../model/package';
import type { DatasetImage } from './data';
import { toRaster } from './data';
import { forEachOnWorkers, type CnnPool } from './cnnPool';
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

/** SVM scores N x C from fc7 (N x D): (fc7 * scale) . w_c + b_c. */
export function svmScoreMatrix(fc7: Float32Array, n: number, head: SvmHead): Float32Array {
  const C = head.classes.length;
  const D = head.weights.length / C;
  const out = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    const x = fc7.subarray(i * D, (i + 1) * D);
    for (let c = 0; c < C; c++) {
      const w = head.weights.subarray(c * D, (c + 1) * D);
      let s = 0;
      for (let k = 0; k < D; k++) s += x[k] * w[k];
      out[i * C + c] = s * head.featureScale + head.bias[c];
    }
  }
  return out;
}

/**
 * The fine-tuned CNN's own classifier as a scorer (the paper's appendix B compares it with the
 * SVMs): fc8 on fc7 (weight D x K in tfjs layout, bias K; output 0 is background), softmax over
 * the K outputs, and the probabilities of outputs 1..K-1 as the N x (K-1) class scores.
 */
export interface SoftmaxHead {
  kind: 'softmax';
  classes: string[];
  weight: Float32Array;
  bias: Float32Array;
}

export function softmaxScoreMatrix(fc7: Float32Array, n: number, head: SoftmaxHead): Float32Array {
  const K = head.bias.length;
  const D = head.weight.length / K;
  const C = K - 1;
  const out = new Float32Array(n * C);
  const z = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    z.set(head.bias);
    for (let k = 0; k < D; k++) {
      const v = fc7[i * D + k];
      if (v === 0) continue;
      const row = k * K;
      for (let j = 0; j < K; j++) z[j] += v * head.weight[row + j];
    }
    let max = -Infinity;
    for (let j = 0; j < K; j++) max = Math.max(max, z[j]);
    let sum = 0;
    for (let j = 0; j < K; j++) sum += Math.exp(z[j] - max);
    for (let c = 0; c < C; c++) out[i * C + c] = Math.exp(z[c + 1] - max) / sum;
  }
  return out;
}

/** Regressed boxes, class-major C x N x 4, clipped to the image. */
export function regressedBoxes(pool5: Float32Array, proposals: Float32Array, head: BoxRegressorHead, width: number, height: number): Float32Array {
  const n = proposals.length >> 2;
  const C = head.classes.length;
  const D = pool5.length / Math.max(1, n);
  const out = new Float32Array(C * n * 4);
  const deltas = new Float64Array(4 * n);
  for (let c = 0; c < C; c++) {
    const W = head.weights.subarray(c * D * 4, (c + 1) * D * 4);
    const T = head.targetTransform.subarray(c * 16, c * 16 + 16);
    for (let i = 0; i < n; i++) {
      const x = pool5.subarray(i * D, (i + 1) * D);
      let r0 = 0, r1 = 0, r2 = 0, r3 = 0;
      for (let k = 0; k < D; k++) {
        const v = x[k];
        if (v === 0) continue;
        r0 += v * W[4 * k];
        r1 += v * W[4 * k + 1];
        r2 += v * W[4 * k + 2];
        r3 += v * W[4 * k + 3];
      }
      const s = head.featureScale;
      const raw = [r0 * s + head.bias[4 * c], r1 * s + head.bias[4 * c + 1], r2 * s + head.bias[4 * c + 2], r3 * s + head.bias[4 * c + 3]];
      for (let j = 0; j < 4; j++) deltas[4 * i + j] = raw[0] * T[j] + raw[1] * T[4 + j] + raw[2] * T[8 + j] + raw[3] * T[12 + j] + head.targetMean[4 * c + j];
    }
    out.set(clipBoxesInPlace(decodeBoxes(proposals, deltas), width, height), c * n * 4);
  }
  return out;
}

export interface ImageDetectionsRaw {
  /** Per box regressor, per class: flat boxes and scores after NMS, best first. */
  withRegression: Array<Array<{ boxes: Float32Array; scores: Float32Array }>>;
  withoutRegression: Array<{ boxes: Float32Array; scores: Float32Array }>;
}

function detectionsFor(boxes: Float32Array, scores: Float32Array, C: number, c: number, classBoxOffset: number, o: EvalOptions) {
  const n = scores.length / C;
  const r = nms(boxes, scores, { iouThreshold: o.nmsThreshold }, n, C, c, classBoxOffset);
  const keep = r.keep.subarray(0, Math.min(r.keep.length, o.maxPerClass));
  const b = new Float32Array(keep.length * 4);
  const s = new Float32Array(keep.length);
  keep.forEach((i, k) => {
    b.set(boxes.subarray(classBoxOffset + 4 * i, classBoxOffset + 4 * i + 4), 4 * k);
    s[k] = scores[i * C + c];
  });
  return { boxes: b, scores: s };
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
  pool: CnnPool,
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
  pool: CnnPool,
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
    (i, { props, f }) => {
      const im = images[i];
      const n = props.length >> 2;
      const reg = regressors.map((head) => regressedBoxes(f.pool5, props, head, im.width, im.height));
      scorers.forEach((head, k) => {
        const scores = 'kind' in head ? softmaxScoreMatrix(f.fc7, n, head) : svmScoreMatrix(f.fc7, n, head);
        perSvm[k][i] = {
          withoutRegression: classes.map((_, c) => detectionsFor(props, scores, C, c, 0, o)),
          withRegression: reg.map((boxes) => classes.map((_, c) => detectionsFor(boxes, scores, C, c, c * n * 4, o))),
        };
      });
      done++;
      if (done % 10 === 0 || done === images.length) {
        const el = (performance.now() - t0) / 1000;
        say(`eval: ${done}/${images.length} images, ETA ${formatEta((el / done) * (images.length - done))}`);
      }
    },
  );
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
