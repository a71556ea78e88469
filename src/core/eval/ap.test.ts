import { describe, expect, it } from 'vitest';
import { makeGroundTruth } from '../dataset/groundTruth';
import {
  averagePrecision,
  type ClassDetections,
  DETECTION_FP,
  DETECTION_IGNORED,
  DETECTION_TP,
  evaluateClass,
  evaluateDetections,
  groupDetectionsByClass,
} from './ap';

const G1 = [0, 0, 10, 10];
const G2 = [20, 0, 30, 10];
const G3 = [40, 0, 50, 10];
const FAR = [100, 100, 110, 110];

function dets(list: [number, number[], number][]): ClassDetections {
  return {
    imageIndex: Int32Array.from(list.map((d) => d[2])),
    scores: Float64Array.from(list.map((d) => d[0])),
    boxes: Float32Array.from(list.flatMap((d) => d[1])),
  };
}

describe('PASCAL VOC AP, hand-computed tables', () => {
  // One image, three apples; five detections, listed out of score order on purpose.
  const gt = [makeGroundTruth([...G1, ...G2, ...G3], [0, 0, 0])];
  const d = dets([
    [0.6, G2, 0], //              rank 4: TP (G2)
    [0.9, G1, 0], //              rank 1: TP (G1)
    [0.7, [1, 0, 11, 10], 0], //  rank 3: IoU 90/110 with G1, already matched -> duplicate, FP
    [0.8, FAR, 0], //             rank 2: no overlap -> FP
    [0.5, G3, 0], //              rank 5: TP (G3)
  ]);
  //  rank  outcome  TP  FP  recall  precision
  //   1    TP       1   0   1/3     1
  //   2    FP       1   1   1/3     1/2
  //   3    FP       1   2   1/3     1/3
  //   4    TP       2   2   2/3     1/2
  //   5    TP       3   2   1       3/5
  // Monotone precision: 1 up to recall 1/3, then 0.6 (the max at recall >= 2/3).
  // All points: 1/3 * 1 + 1/3 * 0.6 + 1/3 * 0.6 = 0.7333...
  // 11-point: t = 0..0.3 -> 1 (4 points), t = 0.4..1.0 -> 0.6 (7 points): (4 + 4.2) / 11 = 0.74545...

  it('ranks, matches and counts duplicates as false positives', () => {
    const e = evaluateClass(d, gt, 0);
    expect(Array.from(e.order)).toEqual([1, 3, 2, 0, 4]);
    expect(Array.from(e.outcome)).toEqual([DETECTION_TP, DETECTION_TP, DETECTION_FP, DETECTION_FP, DETECTION_TP]);
    expect(Array.from(e.matchedGt)).toEqual([1, 0, 0, -1, 2]);
    expect(Array.from(e.recall)).toEqual([1 / 3, 1 / 3, 1 / 3, 2 / 3, 1]);
    expect(Array.from(e.precision)).toEqual([1, 1 / 2, 1 / 3, 1 / 2, 3 / 5]);
    expect(e.numPositives).toBe(3);
    expect([e.truePositives, e.falsePositives]).toEqual([3, 2]);
  });

  it('all-point AP (VOC2010+) = 0.7333, 11-point AP (VOC2007) = 0.74545', () => {
    expect(evaluateClass(d, gt, 0).ap).toBeCloseTo(11 / 15, 12);
    expect(evaluateClass(d, gt, 0, { metric: 'voc2007' }).ap).toBeCloseTo(8.2 / 11, 12);
  });

  it('a second table: missing G3 and a far false positive last -> both variants give 0.5', () => {
    const d2 = dets([[0.9, G1, 0], [0.8, FAR, 0], [0.7, [1, 0, 11, 10], 0], [0.6, G2, 0], [0.5, [60, 0, 70, 10], 0]]);
    // recall 1/3,1/3,1/3,2/3,2/3; precision 1,1/2,1/3,1/2,2/5
    // all points: 1/3 * 1 + 1/3 * 1/2 = 0.5;  11-point: (4 * 1 + 3 * 0.5) / 11 = 0.5
    expect(evaluateClass(d2, gt, 0).ap).toBeCloseTo(0.5, 12);
    expect(evaluateClass(d2, gt, 0, { metric: 'voc2007' }).ap).toBeCloseTo(0.5, 12);
  });

  it('difficult ground truths: detections on them are neither TP nor FP, and they do not count as positives', () => {
    const withHard = [makeGroundTruth([...G1, ...G2, ...G3, 60, 0, 70, 10], [0, 0, 0, 0], [0, 0, 0, 1])];
    const d3 = dets([[0.9, G1, 0], [0.8, FAR, 0], [0.7, [1, 0, 11, 10], 0], [0.6, G2, 0], [0.5, [60, 0, 70, 10], 0]]);
    const e = evaluateClass(d3, withHard, 0);
    expect(e.numPositives).toBe(3);
    expect(e.outcome[4]).toBe(DETECTION_IGNORED);
    expect(e.recall.length).toBe(4); // the ignored detection adds no point
    expect(e.ap).toBeCloseTo(0.5, 12);
    // The same object not marked difficult: 4 positives, the last detection a TP.
    // recall 1/4,1/4,1/4,2/4,3/4; precision 1,1/2,1/3,1/2,3/5 -> 1/4 + 1/4 * 0.6 + 1/4 * 0.6 = 0.55
    const plain = [makeGroundTruth([...G1, ...G2, ...G3, 60, 0, 70, 10], [0, 0, 0, 0])];
    expect(evaluateClass(d3, plain, 0).ap).toBeCloseTo(0.55, 12);
    // A difficult ground truth can be "hit" several times, always ignored.
    const twice = dets([[0.9, [60, 0, 70, 10], 0], [0.8, [60, 0, 70, 10], 0]]);
    expect(Array.from(evaluateClass(twice, withHard, 0).outcome)).toEqual([DETECTION_IGNORED, DETECTION_IGNORED]);
  });

  it('IoU exactly 0.5 matches (>=); detections only match ground truth of their own image', () => {
    const two = [makeGroundTruth(G1, [0]), makeGroundTruth(G2, [0])];
    const e = evaluateClass(dets([[0.9, [0, 0, 10, 5], 0], [0.8, G1, 1], [0.7, G2, 1]]), two, 0);
    expect(Array.from(e.outcome)).toEqual([DETECTION_TP, DETECTION_FP, DETECTION_TP]);
    // recall 1/2, 1/2, 1; precision 1, 1/2, 2/3 -> 1/2 * 1 + 1/2 * 2/3
    expect(e.ap).toBeCloseTo(0.5 + 1 / 3, 12);
  });

  it('no detections -> AP 0; no ground truth -> AP NaN, left out of the mAP', () => {
    expect(evaluateClass(dets([]), gt, 0).ap).toBe(0);
    expect(evaluateClass(dets([]), gt, 0, { metric: 'voc2007' }).ap).toBe(0);
    const r = evaluateDetections([d, dets([[0.9, G1, 0]]), dets([])], gt, ['apple', 'pear', 'plum']);
    expect(r.perClass.map((c) => c.numPositives)).toEqual([3, 0, 0]);
    expect(Number.isNaN(r.perClass[1].ap)).toBe(true);
    expect(r.classesWithoutGroundTruth).toEqual(['pear', 'plum']);
    expect(r.map).toBeCloseTo(11 / 15, 12);
    // mAP is the plain mean over classes with ground truth.
    const gt2 = [makeGroundTruth([...G1, ...G2], [0, 1])];
    const r2 = evaluateDetections([dets([[0.9, G1, 0]]), dets([[0.9, FAR, 0], [0.8, G2, 0]])], gt2, ['a', 'b']);
    expect(r2.perClass.map((c) => c.ap)).toEqual([1, 0.5]);
    expect(r2.map).toBe(0.75);
  });

  it("matching 'voc' (devkit: best ground truth, duplicate if taken) vs 'unmatched' (best free one)", () => {
    // G1 = [0,0,10,10], Gb = [4,0,14,10]. The second detection overlaps G1 (0.739) more than Gb (0.6).
    const g = [makeGroundTruth([...G1, 4, 0, 14, 10], [0, 0])];
    const dd = dets([[0.9, G1, 0], [0.8, [1.5, 0, 11.5, 10], 0]]);
    const voc = evaluateClass(dd, g, 0);
    expect(Array.from(voc.outcome)).toEqual([DETECTION_TP, DETECTION_FP]);
    expect(voc.ap).toBeCloseTo(0.5, 12);
    const un = evaluateClass(dd, g, 0, { matching: 'unmatched' });
    expect(Array.from(un.outcome)).toEqual([DETECTION_TP, DETECTION_TP]);
    expect(Array.from(un.matchedGt)).toEqual([0, 1]);
    expect(un.ap).toBe(1);
  });

  it('continuous IoU on vocToBox-converted boxes equals the devkit +1 IoU on the original ones', () => {
    // VOC 1-based inclusive boxes and detections, evaluated the devkit way ('inclusive')...
    const vocGt = [makeGroundTruth([1, 1, 10, 10, 21, 1, 30, 10], [0, 0])];
    const vocDets = dets([[0.9, [2, 1, 11, 10], 0], [0.8, [21, 4, 30, 12], 0], [0.7, [1, 1, 5, 10], 0]]);
    // ...and the same pixels in the continuous convention (x1 - 1, y1 - 1, x2, y2).
    const toCont = (b: ArrayLike<number>) => Array.from(b, (v, k) => (k % 4 < 2 ? v - 1 : v));
    const contGt = [makeGroundTruth(toCont(vocGt[0].boxes), [0, 0])];
    const contDets = { ...vocDets, boxes: Float32Array.from(toCont(vocDets.boxes)) };
    const a = evaluateClass(vocDets, vocGt, 0, { convention: 'inclusive', iouThreshold: 0.7 });
    const b = evaluateClass(contDets, contGt, 0, { iouThreshold: 0.7 });
    expect(Array.from(b.outcome)).toEqual(Array.from(a.outcome));
    expect(b.ap).toBe(a.ap);
    // The second detection: inclusive inter 10 x 7 = 70, union 100 + 90 - 70 = 120 -> 0.583 < 0.7: FP.
    expect(Array.from(a.outcome)).toEqual([DETECTION_TP, DETECTION_FP, DETECTION_FP]);
  });

  it('averagePrecision on raw curves; per-image detections regroup by class', () => {
    expect(averagePrecision([0.5, 1], [1, 1])).toBe(1);
    expect(averagePrecision([], [])).toBe(0);
    const grouped = groupDetectionsByClass(
      [
        { boxes: [...G1, ...G2], scores: [0.9, 0.4], labels: [1, 0] },
        { boxes: G3, scores: [0.7], labels: [1] },
      ],
      2,
    );
    expect(Array.from(grouped[0].imageIndex)).toEqual([0]);
    expect(Array.from(grouped[1].imageIndex)).toEqual([0, 1]);
    expect(Array.from(grouped[1].scores)).toEqual([0.9, 0.7]);
    expect(Array.from(grouped[1].boxes)).toEqual([...G1, ...G3]);
    expect(() => groupDetectionsByClass([{ boxes: G1, scores: [1], labels: [2] }], 2)).toThrow(/outside/);
  });
});
