/**
 * The last steps of R-CNN detection, shared by the app and `rcnn detect`: apply each class's
 * box-regression deltas once to every proposal (RCNN-SPEC section 6), then per-class greedy NMS
 * (section 7), giving the final detections. Pure data in, pure data out.
 */
import { clipBoxesInPlace, decodeBoxes } from './geometry';
import type { ClassNmsResult } from './nms';

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
