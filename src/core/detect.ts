/**
 * The last steps of R-CNN detection, the same for the app, `rcnn detect`, `rcnn eval` and the
 * trainer's validation: apply each class's box-regression deltas once to every proposal
 * (docs/algorithm.md section 6), then per-class greedy NMS (section 7), giving the final
 * detections (`finishDetections`). Pure data in, pure data out.
 */
import { clipBoxesInPlace, decodeBoxes, type AreaConvention } from './geometry';
import { nmsPerClass, RCNN_NMS_THRESHOLD, type ClassNmsResult, type NmsOptions } from './nms';

/**
 * Regressed boxes for every class, class-major (C x N x 4): class c's box for proposal i at
 * [4 (c N + i), +4). `deltas` is N x C x 4 (proposal-major, as the model's head produces it).
 * Boxes are clipped to the width x height image.
 */
export function regressAllClasses(proposals: ArrayLike<number>, deltas: ArrayLike<number>, numClasses: number, width: number, height: number): Float32Array {
  const n = proposals.length >> 2;
  const C = numClasses;
  const out = new Float32Array(C * n * 4);
  const d = new Float64Array(4 * n);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < n; i++) for (let q = 0; q < 4; q++) d[4 * i + q] = deltas[(i * C + c) * 4 + q];
    out.set(clipBoxesInPlace(decodeBoxes(proposals, d), width, height), c * n * 4);
  }
  return out;
}

export interface Detection {
  classIndex: number;
  className: string;
  score: number;
  /** Final box (regressed when regression was used), in the caller's pixel frame. */
  box: [number, number, number, number];
  /** The proposal it came from, same frame. */
  proposal: [number, number, number, number];
  proposalIndex: number;
}

/**
 * Detections from per-class NMS results: kept boxes, best score first within each class, classes
 * in order. `boxes` are the boxes NMS ran on (shared N x 4, or class-major C x N x 4).
 */
export function collectDetections(
  results: readonly ClassNmsResult[],
  boxes: ArrayLike<number>,
  proposals: ArrayLike<number>,
  scores: ArrayLike<number>,
  classNames: readonly string[],
  maxPerClass = Infinity,
): Detection[] {
  const C = classNames.length;
  const n = proposals.length >> 2;
  const perClass = boxes.length === 4 * n * C && C > 1;
  const out: Detection[] = [];
  for (const r of results) {
    const c = r.classIndex;
    const off = perClass ? 4 * n * c : 0;
    const k = Math.min(r.keep.length, maxPerClass);
    for (let j = 0; j < k; j++) {
      const i = r.keep[j];
      out.push({
        classIndex: c,
        className: classNames[c],
        score: scores[i * C + c],
        box: [boxes[off + 4 * i], boxes[off + 4 * i + 1], boxes[off + 4 * i + 2], boxes[off + 4 * i + 3]],
        proposal: [proposals[4 * i], proposals[4 * i + 1], proposals[4 * i + 2], proposals[4 * i + 3]],
        proposalIndex: i,
      });
    }
  }
  return out;
}

/** What the CNN stage produced for one image's proposals (working-image pixels). */
export interface ScoredProposals {
  /** N x 4 proposals. */
  proposals: Float32Array;
  /** N x C class scores (SVM margins). NaN marks a proposal not scored yet (the app, mid-run). */
  scores: Float32Array;
  /** N x C x 4 box-regression deltas, or null without a box regressor. */
  deltas: Float32Array | null;
  classes: readonly string[];
  /** The image the boxes are clipped to. */
  width: number;
  height: number;
}

export interface FinishOptions {
  /** Boxes scoring below are dropped before NMS (default: none dropped). */
  scoreThreshold?: number;
  /** Default R-CNN's 0.3. */
  iouThreshold?: number;
  convention?: AreaConvention;
  /** Apply the regressor's deltas (default: when there are deltas). */
  useRegression?: boolean;
  /** Keep at most this many boxes per class, best first (eval: 100). */
  maxPerClass?: number;
}

export interface FinishedDetections {
  /** The boxes NMS ran on: class-major C x N x 4 regressed boxes, or the shared proposals. */
  boxes: Float32Array;
  regressed: boolean;
  results: ClassNmsResult[];
  detections: Detection[];
}

/**
 * Box regression, per-class NMS and the detection list. `regressedBoxes` may pass boxes already
 * decoded from `s.deltas` (the app caches them); `runNms` may replace plain per-class NMS with an
 * equivalent (the app's InteractiveNms, which reuses work while a slider moves).
 */
export function finishDetections(
  s: ScoredProposals,
  o: FinishOptions = {},
  reuse: { regressedBoxes?: Float32Array | null; runNms?: (boxes: Float32Array, options: NmsOptions) => ClassNmsResult[] } = {},
): FinishedDetections {
  const C = s.classes.length;
  const regressed = (o.useRegression ?? true) && !!s.deltas;
  const boxes = regressed ? (reuse.regressedBoxes ?? regressAllClasses(s.proposals, s.deltas!, C, s.width, s.height)) : s.proposals;
  const options: NmsOptions = { scoreThreshold: o.scoreThreshold ?? -Infinity, iouThreshold: o.iouThreshold ?? RCNN_NMS_THRESHOLD, convention: o.convention ?? 'continuous' };
  const results = reuse.runNms ? reuse.runNms(boxes, options) : nmsPerClass(boxes, s.scores, C, options);
  return { boxes, regressed, results, detections: collectDetections(results, boxes, s.proposals, s.scores, s.classes, o.maxPerClass) };
}

/** Scale a detection's boxes (e.g. working-image pixels to original pixels). */
export function scaleDetection(d: Detection, sx: number, sy: number): Detection {
  const s = (b: [number, number, number, number]): [number, number, number, number] => [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy];
  return { ...d, box: s(d.box), proposal: s(d.proposal) };
}

/** The JSON both the app's export and `rcnn detect` print. */
export interface DetectionJson {
  detections: Array<{ class: string; score: number; box: number[]; proposal: number[] }>;
  timings: Record<string, number>;
  [extra: string]: unknown;
}

const r2 = (v: number) => Math.round(v * 100) / 100;

export function detectionsToJson(dets: readonly Detection[], timings: Record<string, number>, extra: Record<string, unknown> = {}): DetectionJson {
  return {
    ...extra,
    detections: dets.map((d) => ({ class: d.className, score: Math.round(d.score * 1e4) / 1e4, box: d.box.map(r2), proposal: d.proposal.map(r2) })),
    timings: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])),
  };
}
