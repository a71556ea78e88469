/**
 * PASCAL VOC detection evaluation (VOCevaldet.m / VOCap.m of the devkit), the metric of the
 * R-CNN paper's tables:
 *
 * - per class, all detections of all images are sorted by score, descending (stable: ties keep
 *   their input order, as MATLAB's sort does);
 * - each detection is matched to the ground truth of its image and class with which it has the
 *   highest IoU (first one on ties); with IoU >= 0.5 it is a true positive if that ground truth
 *   was not matched before, a false positive if it was (a duplicate), and ignored (neither) if
 *   that ground truth is "difficult"; below 0.5 it is a false positive;
 * - recall = TP / (non-difficult ground truths), precision = TP / (TP + FP) along the ranking;
 * - AP (VOC2010 onwards, default): area under the precision-recall curve after making precision
 *   monotone (each precision replaced by the maximum precision at any higher recall), summed
 *   over all points where recall changes. VOC2007's 11-point AP is available: the mean over
 *   t = 0, 0.1, ..., 1 of the maximum precision at recall >= t.
 * - mAP: the mean of the per-class APs.
 *
 * Choices to know about:
 * - IoU convention. Ground truth converted from VOC with vocToBox covers the same pixels as the
 *   devkit's inclusive box, and continuous IoU on the converted boxes equals the devkit's +1 IoU
 *   on the original ones; our detections are continuous boxes too, so 'continuous' (default)
 *   reproduces the devkit. Use 'inclusive' for boxes given in the devkit's own 1-based inclusive
 *   integer coordinates.
 * - Detections ignored on a difficult ground truth are removed from the precision-recall arrays
 *   rather than kept as points where nothing changes; the AP is identical, and a first ignored
 *   detection cannot produce 0/0.
 * - A class without any non-difficult ground truth has no defined recall: its AP is NaN and it is
 *   left out of the mAP (reported in `classesWithoutGroundTruth`).
 * - `matching: 'unmatched'` is a variant (COCO-like) that matches each detection to the best
 *   ground truth *not yet matched*; the default 'voc' is the devkit's rule above.
 */
import { type AreaConvention, sideOffset } from '../geometry';
import type { GroundTruth } from '../dataset/groundTruth';

export type ApMetric = 'voc2010' | 'voc2007';

export interface EvalOptions {
  /** Minimum IoU for a match (VOC: 0.5, inclusive: >=). */
  iouThreshold?: number;
  convention?: AreaConvention;
  /** 'voc2010' (all points, default) or 'voc2007' (11-point). */
  metric?: ApMetric;
  matching?: 'voc' | 'unmatched';
}

/** All detections of one class over a set of images. */
export interface ClassDetections {
  /** Index of the image (into the ground-truth array) of each detection. */
  imageIndex: Int32Array;
  scores: ArrayLike<number>;
  /** Flat [x1, y1, x2, y2] per detection. */
  boxes: ArrayLike<number>;
}

export const DETECTION_TP = 1;
export const DETECTION_FP = 2;
export const DETECTION_IGNORED = 3;

export interface ClassEvaluation {
  classIndex: number;
  /** Non-difficult ground truths of the class. */
  numPositives: number;
  numDetections: number;
  /** Detection indices in ranking order. */
  order: Int32Array;
  /** Outcome per detection (input order): DETECTION_TP / _FP / _IGNORED. */
  outcome: Uint8Array;
  /** Ground truth matched by each detection (index within its image), -1 when none. */
  matchedGt: Int32Array;
  /** Precision and recall after each counted (non-ignored) detection in ranking order. */
  precision: Float64Array;
  recall: Float64Array;
  truePositives: number;
  falsePositives: number;
  /** NaN when numPositives is 0. */
  ap: number;
}

/** Devkit IoU of a detection box against ground-truth box j of an image. */
function boxIou(b: ArrayLike<number>, o4: number, g: ArrayLike<number>, j: number, off: number): number {
  const iw = Math.min(b[o4 + 2], g[4 * j + 2]) - Math.max(b[o4], g[4 * j]) + off;
  if (iw <= 0) return 0;
  const ih = Math.min(b[o4 + 3], g[4 * j + 3]) - Math.max(b[o4 + 1], g[4 * j + 1]) + off;
  if (ih <= 0) return 0;
  const inter = iw * ih;
  const ua = (b[o4 + 2] - b[o4] + off) * (b[o4 + 3] - b[o4 + 1] + off) + (g[4 * j + 2] - g[4 * j] + off) * (g[4 * j + 3] - g[4 * j + 1] + off) - inter;
  return inter / ua;
}

/** Indices 0..n-1 sorted by score descending, ties by index (stable). */
export function rankByScore(scores: ArrayLike<number>): Int32Array {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return Int32Array.from(order);
}

export function evaluateClass(
  dets: ClassDetections,
  groundTruth: readonly GroundTruth[],
  classIndex: number,
  opts: EvalOptions = {},
): ClassEvaluation {
  const thr = opts.iouThreshold ?? 0.5;
  const off = sideOffset(opts.convention);
  const matching = opts.matching ?? 'voc';
  const nd = dets.imageIndex.length;
  if (dets.scores.length !== nd || dets.boxes.length !== 4 * nd) throw new Error('evaluateClass: imageIndex, scores and boxes disagree in length');

  // Per image: the class's ground truths (indices into the image's arrays) and their matched flags.
  const gtOf: Int32Array[] = [];
  let numPositives = 0;
  const detected: Uint8Array[] = [];
  for (const g of groundTruth) {
    const idx: number[] = [];
    for (let j = 0; j < g.labels.length; j++) {
      if (g.labels[j] !== classIndex) continue;
      idx.push(j);
      if (!g.difficult[j]) numPositives++;
    }
    gtOf.push(Int32Array.from(idx));
    detected.push(new Uint8Array(idx.length));
  }

  const order = rankByScore(dets.scores);
  const outcome = new Uint8Array(nd);
  const matchedGt = new Int32Array(nd).fill(-1);
  const precision: number[] = [];
  const recall: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let r = 0; r < nd; r++) {
    const d = order[r];
    const im = dets.imageIndex[d];
    if (!(im >= 0 && im < groundTruth.length)) throw new Error(`detection ${d} refers to image ${im}, outside 0..${groundTruth.length - 1}`);
    const g = groundTruth[im];
    const cand = gtOf[im];
    const used = detected[im];
    let best = -Infinity;
    let bestK = -1;
    for (let k = 0; k < cand.length; k++) {
      const j = cand[k];
      if (matching === 'unmatched' && used[k] && !g.difficult[j]) continue;
      const ov = boxIou(dets.boxes, 4 * d, g.boxes, j, off);
      if (ov > best) {
        best = ov;
        bestK = k;
      }
    }
    if (bestK >= 0 && best >= thr) {
      const j = cand[bestK];
      matchedGt[d] = j;
      if (g.difficult[j]) {
        outcome[d] = DETECTION_IGNORED;
        continue;
      }
      if (!used[bestK]) {
        used[bestK] = 1;
        outcome[d] = DETECTION_TP;
        tp++;
      } else {
        outcome[d] = DETECTION_FP;
        fp++;
      }
    } else {
      outcome[d] = DETECTION_FP;
      fp++;
    }
    recall.push(numPositives > 0 ? tp / numPositives : NaN);
    precision.push(tp / (tp + fp));
  }
  const rec = Float64Array.from(recall);
  const prec = Float64Array.from(precision);
  return {
    classIndex,
    numPositives,
    numDetections: nd,
    order,
    outcome,
    matchedGt,
    precision: prec,
    recall: rec,
    truePositives: tp,
    falsePositives: fp,
    ap: numPositives > 0 ? averagePrecision(rec, prec, opts.metric) : NaN,
  };
}

/**
 * Average precision from a precision-recall curve (points in ranking order).
 * voc2010: VOCap.m, all points; voc2007: 11-point interpolation.
 */
export function averagePrecision(recall: ArrayLike<number>, precision: ArrayLike<number>, metric: ApMetric = 'voc2010'): number {
  const n = recall.length;
  if (metric === 'voc2007') {
    let ap = 0;
    for (let t = 0; t <= 10; t++) {
      const th = t / 10;
      let p = 0;
      for (let i = 0; i < n; i++) if (recall[i] >= th && precision[i] > p) p = precision[i];
      ap += p / 11;
    }
    return ap;
  }
  // mrec = [0, rec, 1], mpre = [0, prec, 0]; make mpre non-increasing from the right; sum the
  // rectangles where recall changes.
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  for (let i = 0; i < n; i++) {
    mrec[i + 1] = recall[i];
    mpre[i + 1] = precision[i];
  }
  mrec[n + 1] = 1;
  for (let i = n; i >= 0; i--) if (mpre[i + 1] > mpre[i]) mpre[i] = mpre[i + 1];
  let ap = 0;
  for (let i = 1; i < n + 2; i++) if (mrec[i] !== mrec[i - 1]) ap += (mrec[i] - mrec[i - 1]) * mpre[i];
  return ap;
}

export interface DetectionEvaluation {
  perClass: (ClassEvaluation & { name: string })[];
  /** Mean AP over the classes that have ground truth. */
  map: number;
  classesWithoutGroundTruth: string[];
}

/** Evaluate every class; detsPerClass[c] holds class c's detections. */
export function evaluateDetections(
  detsPerClass: readonly ClassDetections[],
  groundTruth: readonly GroundTruth[],
  classNames: readonly string[],
  opts: EvalOptions = {},
): DetectionEvaluation {
  if (detsPerClass.length !== classNames.length) throw new Error(`${detsPerClass.length} detection lists for ${classNames.length} classes`);
  const perClass = classNames.map((name, c) => ({ ...evaluateClass(detsPerClass[c], groundTruth, c, opts), name }));
  const counted = perClass.filter((e) => e.numPositives > 0);
  return {
    perClass,
    map: counted.length > 0 ? counted.reduce((a, e) => a + e.ap, 0) / counted.length : NaN,
    classesWithoutGroundTruth: perClass.filter((e) => e.numPositives === 0).map((e) => e.name),
  };
}

/** Per-image detections (after NMS) in the shape a detector produces them. */
export interface ImageDetections {
  boxes: ArrayLike<number>;
  scores: ArrayLike<number>;
  labels: ArrayLike<number>;
}

/** Regroup per-image detections into per-class lists for evaluateDetections. */
export function groupDetectionsByClass(images: readonly ImageDetections[], numClasses: number): ClassDetections[] {
  const count = new Int32Array(numClasses);
  for (const im of images) {
    for (let i = 0; i < im.labels.length; i++) {
      const c = im.labels[i];
      if (!(c >= 0 && c < numClasses)) throw new Error(`detection label ${c} outside 0..${numClasses - 1}`);
      count[c]++;
    }
  }
  const out = Array.from(count, (n) => ({ imageIndex: new Int32Array(n), scores: new Float64Array(n), boxes: new Float32Array(4 * n) }));
  const fill = new Int32Array(numClasses);
  images.forEach((im, m) => {
    for (let i = 0; i < im.labels.length; i++) {
      const c = im.labels[i];
      const k = fill[c]++;
      out[c].imageIndex[k] = m;
      out[c].scores[k] = im.scores[i];
      for (let q = 0; q < 4; q++) out[c].boxes[4 * k + q] = im.boxes[4 * i + q];
    }
  });
  return out;
}
