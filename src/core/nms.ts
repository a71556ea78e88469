/**
 * Greedy non-maximum suppression exactly as R-CNN (docs/algorithm.md section 7, rcnn/nms.m): drop
 * boxes scoring below the score threshold, sort by score (descending), repeatedly keep the best
 * remaining box and remove every remaining box whose IoU with it is *strictly above* the overlap
 * threshold. Ties in score are broken by the lower input index first, so results are deterministic.
 *
 * Besides the kept indices we record, for every suppressed box, which kept box removed it, so
 * the UI can replay the process.
 */
import { type AreaConvention, sideOffset } from './geometry';

/**
 * R-CNN's per-class NMS overlap threshold (docs/algorithm.md section 7), used when a model names
 * none.
 */
export const RCNN_NMS_THRESHOLD = 0.3;

/** The NMS threshold to use with a model by default: its own (model.json `detection`), else R-CNN's. */
export function defaultNmsThreshold(model: { detection?: { nmsThreshold: number } | null }): number {
  return model.detection?.nmsThreshold ?? RCNN_NMS_THRESHOLD;
}

export interface NmsOptions {
  /** Boxes with score < scoreThreshold are discarded before suppression (R-CNN demo: -1). */
  scoreThreshold?: number;
  /** Overlap threshold: a box is removed when IoU > iouThreshold (R-CNN: 0.3). */
  iouThreshold?: number;
  convention?: AreaConvention;
}

/** suppressedBy[i] values besides a box index. */
export const KEPT = -1;
export const BELOW_THRESHOLD = -2;

export interface NmsResult {
  /** Indices of kept boxes, best score first. */
  keep: Int32Array;
  /** Per input box: KEPT, BELOW_THRESHOLD, or the index of the kept box that suppressed it. */
  suppressedBy: Int32Array;
  /** IoU with the suppressing box for suppressed boxes, else 0. */
  suppressionIou: Float32Array;
}

// Scratch buffers reused across calls: NMS runs on every slider move, so avoid re-allocating.
let scratchCap = 0;
let sx1 = new Float64Array(0);
let sy1 = new Float64Array(0);
let sx2 = new Float64Array(0);
let sy2 = new Float64Array(0);
let sarea = new Float64Array(0);
let liveBuf = new Int32Array(0);
let orderBuf = new Int32Array(0);

function ensureScratch(n: number): void {
  if (n <= scratchCap) return;
  scratchCap = Math.max(n, scratchCap * 2, 64);
  sx1 = new Float64Array(scratchCap);
  sy1 = new Float64Array(scratchCap);
  sx2 = new Float64Array(scratchCap);
  sy2 = new Float64Array(scratchCap);
  sarea = new Float64Array(scratchCap);
  liveBuf = new Int32Array(scratchCap);
  orderBuf = new Int32Array(scratchCap);
}

/**
 * NMS over n boxes. `boxes` holds flat [x1, y1, x2, y2] starting at boxOffset (4 values per box);
 * `scores` is read as scores[scoreOffset + i * scoreStride], so one column of an N x C score matrix
 * can be used without copying.
 */
export function nms(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  options: NmsOptions = {},
  n: number = boxes.length >> 2,
  scoreStride = 1,
  scoreOffset = 0,
  boxOffset = 0,
): NmsResult {
  const scoreThreshold = options.scoreThreshold ?? -Infinity;
  const iouThreshold = options.iouThreshold ?? RCNN_NMS_THRESHOLD;
  const o = sideOffset(options.convention);
  ensureScratch(n);

  const suppressedBy = new Int32Array(n).fill(BELOW_THRESHOLD);
  const suppressionIou = new Float32Array(n);

  let m = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[scoreOffset + i * scoreStride];
    if (s >= scoreThreshold) orderBuf[m++] = i; // NaN scores fail this test and are dropped
  }
  const order = orderBuf.subarray(0, m);
  order.sort((a, b) => {
    const d = scores[scoreOffset + b * scoreStride] - scores[scoreOffset + a * scoreStride];
    return d !== 0 ? d : a - b;
  });

  for (let r = 0; r < m; r++) {
    const b = boxOffset + 4 * order[r];
    const x1 = boxes[b], y1 = boxes[b + 1], x2 = boxes[b + 2], y2 = boxes[b + 3];
    sx1[r] = x1;
    sy1[r] = y1;
    sx2[r] = x2;
    sy2[r] = y2;
    const w = x2 - x1 + o;
    const h = y2 - y1 + o;
    sarea[r] = w > 0 && h > 0 ? w * h : 0;
  }

  return greedy(order, m, iouThreshold, o, suppressedBy, suppressionIou);
}

/**
 * The greedy loop on score-sorted scratch arrays. `live` holds the ranks still alive after the
 * current position and is compacted during every scan, so suppressed boxes are never visited again.
 */
function greedy(order: Int32Array, m: number, iouThreshold: number, o: number, suppressedBy: Int32Array, suppressionIou: Float32Array): NmsResult {
  const X1 = sx1, Y1 = sy1, X2 = sx2, Y2 = sy2, A = sarea;
  const live = liveBuf;
  for (let r = 0; r < m; r++) live[r] = r;
  let liveCount = m;
  // IoU > t needs min(area)/max(area) > t (the intersection is at most the smaller area),
  // so pairs with very different areas are skipped without computing the intersection.
  const t = iouThreshold;
  const keep: number[] = [];
  let head = 0;
  while (head < liveCount) {
    const r = live[head++];
    const idx = order[r];
    keep.push(idx);
    suppressedBy[idx] = KEPT;
    const x1 = X1[r], y1 = Y1[r], x2 = X2[r], y2 = Y2[r], area = A[r];
    const lo = area * t;
    const hi = t > 0 ? area / t : Infinity;
    let w = head;
    for (let k = head; k < liveCount; k++) {
      const q = live[k];
      const aq = A[q];
      if (aq > lo && aq < hi) {
        const iw = (x2 < X2[q] ? x2 : X2[q]) - (x1 > X1[q] ? x1 : X1[q]) + o;
        if (iw > 0) {
          const ih = (y2 < Y2[q] ? y2 : Y2[q]) - (y1 > Y1[q] ? y1 : Y1[q]) + o;
          if (ih > 0) {
            const inter = iw * ih;
            const ov = inter / (area + aq - inter);
            if (ov > t) {
              suppressedBy[order[q]] = idx;
              suppressionIou[order[q]] = ov;
              continue;
            }
          }
        }
      }
      live[w++] = q;
    }
    liveCount = w;
  }
  return { keep: Int32Array.from(keep), suppressedBy, suppressionIou };
}

export interface ClassNmsResult extends NmsResult {
  classIndex: number;
}

/**
 * Per-class NMS over an N x C score matrix (row-major, proposal i's class c score at i * C + c).
 * `boxes` is either N shared boxes (4N values) or class-specific boxes laid out class-major
 * (C x N x 4 values, e.g. after per-class box regression).
 * `classes` selects which classes to process (default all).
 */
export function nmsPerClass(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  numClasses: number,
  options: NmsOptions = {},
  classes?: ArrayLike<number>,
): ClassNmsResult[] {
  const n = Math.floor(scores.length / numClasses);
  const perClassBoxes = boxes.length === 4 * n * numClasses && numClasses > 1;
  if (!perClassBoxes && boxes.length !== 4 * n) {
    throw new Error(`nmsPerClass: expected ${4 * n} or ${4 * n * numClasses} box values, got ${boxes.length}`);
  }
  const list = classes ?? Array.from({ length: numClasses }, (_, c) => c);
  const out: ClassNmsResult[] = [];
  for (let k = 0; k < list.length; k++) {
    const c = list[k];
    const res = nms(boxes, scores, options, n, numClasses, c, perClassBoxes ? 4 * n * c : 0);
    out.push({ ...res, classIndex: c });
  }
  return out;
}

/**
 * Per-class NMS for interactive sliders. Greedy NMS has a prefix property: whether a box is kept
 * depends only on boxes with higher scores, so raising the score threshold just filters the
 * previous result. We therefore re-run suppression only when the IoU threshold or convention
 * changes, or when the score threshold drops below the one last computed with.
 */
export class InteractiveNms {
  private cache = new Map<number, { iou: number; convention: AreaConvention; threshold: number; result: NmsResult }>();
  readonly numBoxes: number;

  constructor(
    readonly boxes: ArrayLike<number>,
    readonly scores: ArrayLike<number>,
    readonly numClasses: number,
  ) {
    this.numBoxes = Math.floor(scores.length / numClasses);
  }

  /** NMS for one class, reusing the cached run when the prefix property allows. */
  classResult(c: number, options: NmsOptions): NmsResult {
    const iou = options.iouThreshold ?? RCNN_NMS_THRESHOLD;
    const convention = options.convention ?? 'continuous';
    const threshold = options.scoreThreshold ?? -Infinity;
    const hit = this.cache.get(c);
    if (hit && hit.iou === iou && hit.convention === convention && hit.threshold <= threshold) {
      return hit.threshold === threshold ? hit.result : filterByScore(hit.result, this.scores, this.numClasses, c, threshold);
    }
    const n = this.numBoxes;
    const perClassBoxes = this.boxes.length === 4 * n * this.numClasses && this.numClasses > 1;
    const result = nms(this.boxes, this.scores, { iouThreshold: iou, convention, scoreThreshold: threshold }, n, this.numClasses, c, perClassBoxes ? 4 * n * c : 0);
    this.cache.set(c, { iou, convention, threshold, result });
    return result;
  }

  run(options: NmsOptions, classes?: ArrayLike<number>): ClassNmsResult[] {
    const list = classes ?? Array.from({ length: this.numClasses }, (_, c) => c);
    const out: ClassNmsResult[] = [];
    for (let k = 0; k < list.length; k++) out.push({ ...this.classResult(list[k], options), classIndex: list[k] });
    return out;
  }
}

function filterByScore(r: NmsResult, scores: ArrayLike<number>, stride: number, c: number, threshold: number): NmsResult {
  const n = r.suppressedBy.length;
  const suppressedBy = r.suppressedBy.slice();
  const suppressionIou = r.suppressionIou.slice();
  for (let i = 0; i < n; i++) {
    if (!(scores[i * stride + c] >= threshold)) {
      suppressedBy[i] = BELOW_THRESHOLD;
      suppressionIou[i] = 0;
    }
  }
  // Boxes suppressed by a box that is now below threshold were themselves below it (lower score).
  return { keep: r.keep.filter((i) => scores[i * stride + c] >= threshold), suppressedBy, suppressionIou };
}
