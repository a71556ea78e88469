/**
 * The three R-CNN sampling rules, as pure functions over one image's proposals and ground truth.
 * The trainer uses them to pick training examples; the app's "how the three models were trained"
 * panel uses the very same functions to colour each proposal, so what it shows is what training
 * does. Thresholds are the paper's / release's:
 *
 * - Fine-tuning (docs/algorithm.md section 4; Caffe window_data_layer): a proposal whose best IoU
 *   with any ground truth is >= 0.5 is a positive of that ground truth's class, every other
 *   proposal is background.
 * - SVMs (docs/algorithm.md section 5; rcnn_train.m): the ground-truth boxes are the only
 *   positives; for class c, a proposal with IoU < 0.3 with every instance of c is a negative; the
 *   rest is ignored. (Per class: a proposal on a dog is a negative for "cat".)
 * - Box regression (docs/algorithm.md section 6; rcnn_train_bbox_regressor.m): a proposal is
 *   assigned to the ground truth it overlaps most (any class) and used, for that ground truth's
 *   class, when that IoU is > 0.6. This is the paper's "assign P to the ground-truth box with
 *   maximum IoU, if and only if the overlap is greater than 0.6", which the release implements.
 *
 * Release details worth knowing: its proposal lists start with the ground-truth boxes themselves
 * (roidb_from_voc.m), so GT boxes are also fine-tuning positives and box-regression samples
 * (target 0); pass them in `proposals` to reproduce that. Difficult objects are kept as ground
 * truth in training (PASreadrecord returns them); `useDifficult: false` drops them instead.
 *
 * IoU convention: continuous by default (src/core/geometry.ts); the release's boxoverlap uses
 * inclusive +1 pixel areas, available as `convention: 'inclusive'`.
 */
import { type AreaConvention, sideOffset } from '../geometry';
import type { GroundTruth } from '../dataset/groundTruth';

export const FINE_TUNE_FOREGROUND_IOU = 0.5;
export const SVM_NEGATIVE_IOU = 0.3;
export const BBOX_REGRESSION_MIN_IOU = 0.6;

/** One-line reasons, for the UI next to each rule's counts. */
export const SAMPLING_RULES = {
  fineTune:
    'Fine-tuning: IoU >= 0.5 with a ground truth makes a positive of its class, everything else is background; the loose threshold multiplies the positives so the CNN does not over-fit.',
  svm: 'SVM: only ground-truth boxes are positives and proposals under 0.3 IoU with every instance of the class are negatives; the grey zone in between is ignored, because tight positives work best for the SVM.',
  bbox: 'Box regression: proposals over 0.6 IoU with their best ground truth learn to move onto it; farther ones would make the transform meaningless.',
} as const;

export interface SamplingOptions {
  convention?: AreaConvention;
  fineTuneForegroundIou?: number;
  svmNegativeIou?: number;
  bboxMinIou?: number;
  /** Keep difficult ground truths as ground truth (release: yes). Default true. */
  useDifficult?: boolean;
}

/** SVM label values in ProposalSampling.svmLabel. */
export const SVM_NEGATIVE = -1;
export const SVM_IGNORED = 0;

export interface SamplingCounts {
  /** Fine-tuning positives per class, and background proposals. */
  fineTuneForeground: Int32Array;
  fineTuneBackground: number;
  /** SVM positives per class: ground-truth boxes of the class. */
  svmPositives: Int32Array;
  svmNegatives: Int32Array;
  svmIgnored: Int32Array;
  /** Box-regression samples per class, and proposals not used. */
  bboxUsed: Int32Array;
  bboxUnused: number;
}

export interface ProposalSampling {
  numProposals: number;
  numClasses: number;
  /** Best IoU with any (kept) ground truth, and that ground truth's index (-1 when none). */
  maxOverlap: Float64Array;
  maxOverlapGt: Int32Array;
  /** [i * numClasses + c]: best IoU of proposal i with a ground truth of class c (0 when none). */
  classOverlap: Float64Array;
  /** Fine-tuning label: 0 = background, c + 1 = class c. */
  fineTuneLabel: Int32Array;
  /** [i * numClasses + c]: SVM_NEGATIVE or SVM_IGNORED for class c. */
  svmLabel: Int8Array;
  /** Ground-truth index proposal i regresses to, -1 when not a box-regression sample. */
  bboxTarget: Int32Array;
  /** Class of that sample (the ground truth's), -1 when unused. */
  bboxClass: Int32Array;
  counts: SamplingCounts;
}

/**
 * Label n proposals (flat boxes) of one image under the three rules. Ground-truth labels must be
 * in [0, numClasses).
 */
export function labelProposals(
  proposals: ArrayLike<number>,
  gt: GroundTruth,
  numClasses: number,
  opts: SamplingOptions = {},
): ProposalSampling {
  const fgIou = opts.fineTuneForegroundIou ?? FINE_TUNE_FOREGROUND_IOU;
  const negIou = opts.svmNegativeIou ?? SVM_NEGATIVE_IOU;
  const bbIou = opts.bboxMinIou ?? BBOX_REGRESSION_MIN_IOU;
  const useDifficult = opts.useDifficult ?? true;
  const n = proposals.length >> 2;
  const C = numClasses;
  const g = gt.labels.length;
  for (let j = 0; j < g; j++) {
    if (!(gt.labels[j] >= 0 && gt.labels[j] < C)) throw new Error(`ground truth ${j} has label ${gt.labels[j]}, outside 0..${C - 1}`);
  }
  // IoUs in float64: thresholds such as 0.6 must compare exactly (0.6 rounded to float32 is
  // above 0.6, which would turn the "> 0.6" rule into ">= 0.6").
  const iou = iouMatrix64(proposals, gt.boxes, opts.convention);
  const maxOverlap = new Float64Array(n);
  const maxOverlapGt = new Int32Array(n).fill(-1);
  const classOverlap = new Float64Array(n * C);
  const fineTuneLabel = new Int32Array(n);
  const svmLabel = new Int8Array(n * C);
  const bboxTarget = new Int32Array(n).fill(-1);
  const bboxClass = new Int32Array(n).fill(-1);
  const counts: SamplingCounts = {
    fineTuneForeground: new Int32Array(C),
    fineTuneBackground: 0,
    svmPositives: new Int32Array(C),
    svmNegatives: new Int32Array(C),
    svmIgnored: new Int32Array(C),
    bboxUsed: new Int32Array(C),
    bboxUnused: 0,
  };
  for (let j = 0; j < g; j++) if (useDifficult || !gt.difficult[j]) counts.svmPositives[gt.labels[j]]++;

  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestJ = -1;
    const row = i * g;
    const co = i * C;
    for (let j = 0; j < g; j++) {
      if (!useDifficult && gt.difficult[j]) continue;
      const v = iou[row + j];
      // First maximum wins, as MATLAB's max does.
      if (v > best || (bestJ < 0 && v >= best)) {
        best = v;
        bestJ = j;
      }
      const c = gt.labels[j];
      if (v > classOverlap[co + c]) classOverlap[co + c] = v;
    }
    maxOverlap[i] = best;
    maxOverlapGt[i] = bestJ;
    if (bestJ >= 0 && best >= fgIou) {
      const c = gt.labels[bestJ];
      fineTuneLabel[i] = c + 1;
      counts.fineTuneForeground[c]++;
    } else {
      counts.fineTuneBackground++;
    }
    for (let c = 0; c < C; c++) {
      if (classOverlap[co + c] < negIou) {
        svmLabel[co + c] = SVM_NEGATIVE;
        counts.svmNegatives[c]++;
      } else {
        counts.svmIgnored[c]++;
      }
    }
    if (bestJ >= 0 && best > bbIou) {
      bboxTarget[i] = bestJ;
      bboxClass[i] = gt.labels[bestJ];
      counts.bboxUsed[gt.labels[bestJ]]++;
    } else {
      counts.bboxUnused++;
    }
  }
  return { numProposals: n, numClasses: C, maxOverlap, maxOverlapGt, classOverlap, fineTuneLabel, svmLabel, bboxTarget, bboxClass, counts };
}

function iouMatrix64(a: ArrayLike<number>, b: ArrayLike<number>, convention?: AreaConvention): Float64Array {
  const n = a.length >> 2;
  const m = b.length >> 2;
  const o = sideOffset(convention);
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const ax1 = a[4 * i], ay1 = a[4 * i + 1], ax2 = a[4 * i + 2], ay2 = a[4 * i + 3];
    const areaA = Math.max(0, ax2 - ax1 + o) * Math.max(0, ay2 - ay1 + o);
    for (let j = 0; j < m; j++) {
      const bx1 = b[4 * j], by1 = b[4 * j + 1], bx2 = b[4 * j + 2], by2 = b[4 * j + 3];
      const w = Math.min(ax2, bx2) - Math.max(ax1, bx1) + o;
      if (w <= 0) continue;
      const h = Math.min(ay2, by2) - Math.max(ay1, by1) + o;
      if (h <= 0) continue;
      const inter = w * h;
      const areaB = Math.max(0, bx2 - bx1 + o) * Math.max(0, by2 - by1 + o);
      out[i * m + j] = inter / (areaA + areaB - inter);
    }
  }
  return out;
}

/** Indices of the proposals that are SVM negatives for class c. */
export function svmNegativeIndices(s: ProposalSampling, c: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < s.numProposals; i++) if (s.svmLabel[i * s.numClasses + c] === SVM_NEGATIVE) out.push(i);
  return Int32Array.from(out);
}

/** Indices of the ground truths that are SVM positives for class c. */
export function svmPositiveIndices(gt: GroundTruth, c: number, useDifficult = true): Int32Array {
  const out: number[] = [];
  for (let j = 0; j < gt.labels.length; j++) if (gt.labels[j] === c && (useDifficult || !gt.difficult[j])) out.push(j);
  return Int32Array.from(out);
}

export interface RegressionPairs {
  /** Proposal indices used for class c. */
  proposalIndex: Int32Array;
  /** Their boxes and their ground-truth targets, flat and paired by position. */
  proposals: Float32Array;
  targets: Float32Array;
}

/** The box-regression training pairs (P, G) of class c in this image. */
export function bboxRegressionPairs(proposals: ArrayLike<number>, gt: GroundTruth, s: ProposalSampling, c: number): RegressionPairs {
  const idx: number[] = [];
  for (let i = 0; i < s.numProposals; i++) if (s.bboxClass[i] === c) idx.push(i);
  const P = new Float32Array(4 * idx.length);
  const G = new Float32Array(4 * idx.length);
  idx.forEach((i, k) => {
    const j = s.bboxTarget[i];
    for (let q = 0; q < 4; q++) {
      P[4 * k + q] = proposals[4 * i + q];
      G[4 * k + q] = gt.boxes[4 * j + q];
    }
  });
  return { proposalIndex: Int32Array.from(idx), proposals: P, targets: G };
}
