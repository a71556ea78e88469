/**
 * Proposal quality, as Uijlings et al. (selective search, IJCV 2013) and the R-CNN paper report
 * it: for every ground-truth object the best IoU any proposal of its image reaches ("best
 * overlap"); recall at an IoU threshold = fraction of objects whose best overlap is >= the
 * threshold; ABO of a class = mean best overlap over its objects; MABO = mean of the class ABOs
 * (each class weighs the same, however many objects it has). The plain mean best overlap over all
 * objects is reported too.
 *
 * Difficult objects are excluded by default, like the detection AP (set includeDifficult to count
 * them). Proposals are expected in rank order when `maxProposals` is used (top-N recall).
 */
import { type AreaConvention, sideOffset } from '../geometry';
import type { GroundTruth } from '../dataset/groundTruth';

export interface RecallOptions {
  /** IoU thresholds for recall (>=). Default 0.5 and 0.7. */
  thresholds?: readonly number[];
  convention?: AreaConvention;
  includeDifficult?: boolean;
  /** Use only the first N proposals of each image. */
  maxProposals?: number;
}

export interface ClassRecall {
  /** Objects of the class counted. */
  count: number;
  /** Average best overlap (NaN when count is 0). */
  abo: number;
  /** Recall per threshold. */
  recall: Float64Array;
}

export interface ProposalRecall {
  thresholds: Float64Array;
  /** Recall over all counted objects, per threshold. */
  recall: Float64Array;
  numObjects: number;
  /** Best overlap of each counted object, in image order then annotation order. */
  bestOverlap: Float64Array;
  /** Class, image and annotation index of each counted object. */
  objectClass: Int32Array;
  objectImage: Int32Array;
  objectIndex: Int32Array;
  /** Mean over classes (with objects) of their ABO. */
  mabo: number;
  /** Mean best overlap over all objects. */
  meanBestOverlap: number;
  perClass: ClassRecall[];
  /** Mean number of proposals used per image. */
  meanProposals: number;
}

/** Best IoU of box g (flat index j in gBoxes) with the first n boxes of `proposals`. */
function bestOverlapOf(proposals: ArrayLike<number>, n: number, g: ArrayLike<number>, j: number, off: number): number {
  const gx1 = g[4 * j], gy1 = g[4 * j + 1], gx2 = g[4 * j + 2], gy2 = g[4 * j + 3];
  const ga = (gx2 - gx1 + off) * (gy2 - gy1 + off);
  let best = 0;
  for (let i = 0; i < n; i++) {
    const o = 4 * i;
    const iw = Math.min(gx2, proposals[o + 2]) - Math.max(gx1, proposals[o]) + off;
    if (iw <= 0) continue;
    const ih = Math.min(gy2, proposals[o + 3]) - Math.max(gy1, proposals[o + 1]) + off;
    if (ih <= 0) continue;
    const inter = iw * ih;
    const v = inter / (ga + (proposals[o + 2] - proposals[o] + off) * (proposals[o + 3] - proposals[o + 1] + off) - inter);
    if (v > best) best = v;
  }
  return best;
}

export function proposalRecall(
  proposalsPerImage: readonly ArrayLike<number>[],
  groundTruth: readonly GroundTruth[],
  numClasses: number,
  opts: RecallOptions = {},
): ProposalRecall {
  if (proposalsPerImage.length !== groundTruth.length) {
    throw new Error(`${proposalsPerImage.length} proposal lists for ${groundTruth.length} images`);
  }
  const thresholds = Float64Array.from(opts.thresholds ?? [0.5, 0.7]);
  const off = sideOffset(opts.convention);
  const best: number[] = [];
  const cls: number[] = [];
  const img: number[] = [];
  const idx: number[] = [];
  let used = 0;
  groundTruth.forEach((g, m) => {
    const p = proposalsPerImage[m];
    const n = Math.min(p.length >> 2, opts.maxProposals ?? Infinity);
    used += n;
    for (let j = 0; j < g.labels.length; j++) {
      if (g.difficult[j] && !opts.includeDifficult) continue;
      const c = g.labels[j];
      if (!(c >= 0 && c < numClasses)) throw new Error(`ground truth label ${c} outside 0..${numClasses - 1}`);
      best.push(bestOverlapOf(p, n, g.boxes, j, off));
      cls.push(c);
      img.push(m);
      idx.push(j);
    }
  });
  const T = thresholds.length;
  const recall = new Float64Array(T);
  const perClass: ClassRecall[] = Array.from({ length: numClasses }, () => ({ count: 0, abo: 0, recall: new Float64Array(T) }));
  let sum = 0;
  for (let k = 0; k < best.length; k++) {
    const pc = perClass[cls[k]];
    pc.count++;
    pc.abo += best[k];
    sum += best[k];
    for (let t = 0; t < T; t++) {
      if (best[k] >= thresholds[t]) {
        recall[t]++;
        pc.recall[t]++;
      }
    }
  }
  let maboSum = 0;
  let maboClasses = 0;
  for (const pc of perClass) {
    if (pc.count === 0) {
      pc.abo = NaN;
      pc.recall.fill(NaN);
      continue;
    }
    pc.abo /= pc.count;
    for (let t = 0; t < T; t++) pc.recall[t] /= pc.count;
    maboSum += pc.abo;
    maboClasses++;
  }
  const N = best.length;
  for (let t = 0; t < T; t++) recall[t] = N > 0 ? recall[t] / N : NaN;
  return {
    thresholds,
    recall,
    numObjects: N,
    bestOverlap: Float64Array.from(best),
    objectClass: Int32Array.from(cls),
    objectImage: Int32Array.from(img),
    objectIndex: Int32Array.from(idx),
    mabo: maboClasses > 0 ? maboSum / maboClasses : NaN,
    meanBestOverlap: N > 0 ? sum / N : NaN,
    perClass,
    meanProposals: groundTruth.length > 0 ? used / groundTruth.length : 0,
  };
}

/**
 * Recall at one IoU threshold as a function of how many top-ranked proposals are kept
 * (the "recall vs number of proposals" curve).
 */
export function recallVersusProposals(
  proposalsPerImage: readonly ArrayLike<number>[],
  groundTruth: readonly GroundTruth[],
  numClasses: number,
  counts: readonly number[],
  iouThreshold = 0.5,
  opts: Omit<RecallOptions, 'thresholds' | 'maxProposals'> = {},
): { counts: number[]; recall: Float64Array; mabo: Float64Array } {
  const recall = new Float64Array(counts.length);
  const mabo = new Float64Array(counts.length);
  counts.forEach((n, k) => {
    const r = proposalRecall(proposalsPerImage, groundTruth, numClasses, { ...opts, thresholds: [iouThreshold], maxProposals: n });
    recall[k] = r.recall[0];
    mabo[k] = r.mabo;
  });
  return { counts: [...counts], recall, mabo };
}
