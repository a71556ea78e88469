/**
 * Pure helpers for the box-regression panel: the blended box, one proposal's deltas, and the
 * before/after IoU of the top proposals against the ground truth. No DOM, no React.
 */
import { decodeBoxes, iou } from '../../../core/geometry';

export type Box4 = [number, number, number, number];

/** The box t of the way from the proposal p (t = 0) to the regressed box r (t = 1), corner by corner. */
export function lerpBox(p: ArrayLike<number>, r: ArrayLike<number>, t: number): Box4 {
  return [p[0] + (r[0] - p[0]) * t, p[1] + (r[1] - p[1]) * t, p[2] + (r[2] - p[2]) * t, p[3] + (r[3] - p[3]) * t];
}

export function boxCentre(b: ArrayLike<number>): [number, number] {
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
}

/** Proposal i's predicted (tx, ty, tw, th) for class c from N x C x 4 deltas. */
export function deltasOf(deltas: ArrayLike<number>, C: number, i: number, c: number): Box4 {
  const o = (i * C + c) * 4;
  return [deltas[o], deltas[o + 1], deltas[o + 2], deltas[o + 3]];
}

/** The regressed box of proposal i for class c in class-major C x N x 4 boxes. */
export function regressedOf(regressed: ArrayLike<number>, n: number, i: number, c: number): Box4 {
  const o = 4 * (c * n + i);
  return [regressed[o], regressed[o + 1], regressed[o + 2], regressed[o + 3]];
}

/** The regressed box before clipping to the image (to say when clipping changed it). */
export function unclippedRegressed(p: ArrayLike<number>, d: ArrayLike<number>): Box4 {
  const b = decodeBoxes(p, d);
  return [b[0], b[1], b[2], b[3]];
}

/**
 * Ground-truth boxes to compare class `className` with: those labelled with the class when any are,
 * else all of them (a user may draw boxes without naming the class).
 */
export function groundTruthFor(boxes: Float32Array, labels: readonly string[], className: string): { boxes: Float32Array; sameClass: boolean } {
  const idx = labels.map((l, k) => (l === className ? k : -1)).filter((k) => k >= 0);
  if (!idx.length) return { boxes, sameClass: false };
  const out = new Float32Array(4 * idx.length);
  idx.forEach((k, j) => out.set(boxes.subarray(4 * k, 4 * k + 4), 4 * j));
  return { boxes: out, sameClass: true };
}

/** Best IoU of box b with any of the ground-truth boxes, and which one (-1 when there are none). */
export function bestIou(b: ArrayLike<number>, gt: ArrayLike<number>): { iou: number; index: number } {
  let best = 0, index = -1;
  for (let j = 0; 4 * j < gt.length; j++) {
    const v = iou(b, [gt[4 * j], gt[4 * j + 1], gt[4 * j + 2], gt[4 * j + 3]]);
    if (index < 0 || v > best) {
      best = v;
      index = j;
    }
  }
  return { iou: best, index };
}

export interface RegressionRow {
  proposal: number;
  score: number;
  before: Box4;
  after: Box4;
  /** Best IoU with the ground truth before and after regression (NaN without ground truth). */
  iouBefore: number;
  iouAfter: number;
}

export interface RegressionSummary {
  rows: RegressionRow[];
  meanBefore: number;
  meanAfter: number;
  /** Rows whose IoU went up / down by more than 0.001. */
  improved: number;
  worsened: number;
}

/** Before/after boxes and IoUs of proposals `top` for class c. */
export function regressionRows(
  top: ArrayLike<number>,
  proposals: ArrayLike<number>,
  regressed: ArrayLike<number>,
  scores: ArrayLike<number>,
  C: number,
  c: number,
  gt: ArrayLike<number> | null,
): RegressionSummary {
  const n = proposals.length >> 2;
  const rows: RegressionRow[] = [];
  let sb = 0, sa = 0, improved = 0, worsened = 0;
  for (let k = 0; k < top.length; k++) {
    const i = top[k];
    const before: Box4 = [proposals[4 * i], proposals[4 * i + 1], proposals[4 * i + 2], proposals[4 * i + 3]];
    const after = regressedOf(regressed, n, i, c);
    const hasGt = !!gt && gt.length >= 4;
    const iouBefore = hasGt ? bestIou(before, gt!).iou : NaN;
    const iouAfter = hasGt ? bestIou(after, gt!).iou : NaN;
    sb += iouBefore;
    sa += iouAfter;
    if (iouAfter > iouBefore + 1e-3) improved++;
    else if (iouAfter < iouBefore - 1e-3) worsened++;
    rows.push({ proposal: i, score: scores[i * C + c], before, after, iouBefore, iouAfter });
  }
  const m = rows.length || NaN;
  return { rows, meanBefore: sb / m, meanAfter: sa / m, improved, worsened };
}
