import { describe, expect, it } from 'vitest';
import { BELOW_THRESHOLD, KEPT, nms, nmsPerClass } from './nms';

describe('greedy NMS (docs/algorithm.md section 7)', () => {
  // Four boxes: 0 and 1 overlap with IoU 0.6806 (continuous), 2 overlaps 0 with IoU 0.25, 3 is apart.
  const boxes = new Float32Array([
    0, 0, 10, 10, // 0
    1, 1, 11, 11, // 1: inter 81, union 119 -> 0.6807
    5, 0, 15, 10, // 2: with 0 inter 50 union 150 -> 0.333; with 1: inter 6*9=54 union 146 -> 0.37
    50, 50, 60, 60, // 3
  ]);
  const scores = new Float32Array([0.9, 0.8, 0.7, 0.1]);

  it('keeps the best and suppresses overlaps above the threshold, recording the suppressor', () => {
    const r = nms(boxes, scores, { iouThreshold: 0.3 });
    expect(Array.from(r.keep)).toEqual([0, 3]);
    expect(Array.from(r.suppressedBy)).toEqual([KEPT, 0, 0, KEPT]);
    expect(r.suppressionIou[1]).toBeCloseTo(81 / 119, 5);
    expect(r.suppressionIou[2]).toBeCloseTo(50 / 150, 5);
  });

  it('strictly-above comparison: IoU equal to the threshold survives', () => {
    const r = nms(boxes, scores, { iouThreshold: 50 / 150 });
    // box 2 has IoU exactly 1/3 with box 0 (in float64 arithmetic) -> kept
    expect(Array.from(r.keep)).toEqual([0, 2, 3]);
  });

  it('a higher IoU threshold keeps more, a higher score threshold keeps fewer', () => {
    expect(nms(boxes, scores, { iouThreshold: 0.7 }).keep.length).toBe(4);
    expect(nms(boxes, scores, { iouThreshold: 0.5 }).keep.length).toBe(3);
    const r = nms(boxes, scores, { iouThreshold: 0.3, scoreThreshold: 0.75 });
    expect(Array.from(r.keep)).toEqual([0]);
    expect(r.suppressedBy[2]).toBe(BELOW_THRESHOLD);
    expect(r.suppressedBy[3]).toBe(BELOW_THRESHOLD);
    expect(r.suppressedBy[1]).toBe(0);
  });

  it('suppression is by kept boxes only (chain case)', () => {
    // A > B > C by score; A overlaps B, B overlaps C, A does not overlap C: C survives since B was removed.
    const b = new Float32Array([0, 0, 10, 10, 6, 0, 16, 10, 12, 0, 22, 10]);
    const s = new Float32Array([3, 2, 1]);
    const r = nms(b, s, { iouThreshold: 0.2 });
    expect(Array.from(r.keep)).toEqual([0, 2]);
    expect(r.suppressedBy[1]).toBe(0);
  });

  it('inclusive convention differs from continuous on touching boxes', () => {
    const b = new Float32Array([0, 0, 9, 9, 9, 0, 18, 9]);
    const s = new Float32Array([1, 0.5]);
    expect(nms(b, s, { iouThreshold: 0, convention: 'continuous' }).keep.length).toBe(2);
    // Inclusive: they share pixel column 9 -> IoU = 10 / 190 > 0 -> suppressed
    expect(nms(b, s, { iouThreshold: 0, convention: 'inclusive' }).keep.length).toBe(1);
  });

  it('ties are broken by lower index, NaN scores are dropped', () => {
    const b = new Float32Array([0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10]);
    const r = nms(b, new Float32Array([0.5, 0.5, NaN]), { iouThreshold: 0.3 });
    expect(Array.from(r.keep)).toEqual([0]);
    expect(Array.from(r.suppressedBy)).toEqual([KEPT, 0, BELOW_THRESHOLD]);
  });

  it('empty input', () => {
    const r = nms(new Float32Array(0), new Float32Array(0));
    expect(r.keep.length).toBe(0);
  });

  it('per class over an N x C matrix with shared and class-specific boxes', () => {
    // 3 proposals x 2 classes
    const s = new Float32Array([
      0.9, 0.1,
      0.8, 0.7,
      0.2, 0.95,
    ]);
    const shared = new Float32Array([0, 0, 10, 10, 1, 1, 11, 11, 30, 30, 40, 40]);
    const res = nmsPerClass(shared, s, 2, { iouThreshold: 0.3 });
    expect(Array.from(res[0].keep)).toEqual([0, 2]);
    expect(Array.from(res[1].keep)).toEqual([2, 1]);
    // Class-specific boxes (class-major): for class 1, move box 1 away from box 0.
    const perClass = new Float32Array([...shared, 0, 0, 10, 10, 100, 100, 110, 110, 30, 30, 40, 40]);
    const res2 = nmsPerClass(perClass, s, 2, { iouThreshold: 0.3, scoreThreshold: 0.05 });
    expect(Array.from(res2[1].keep)).toEqual([2, 1, 0]);
    expect(() => nmsPerClass(new Float32Array(5), s, 2)).toThrow();
  });
});

describe('InteractiveNms (slider path)', () => {
  it('matches a fresh per-class NMS for every slider sequence', async () => {
    const { InteractiveNms } = await import('./nms');
    let seed = 7;
    const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296);
    const n = 300, C = 4;
    const boxes = new Float32Array(4 * n);
    for (let i = 0; i < n; i++) {
      const x = rand() * 200, y = rand() * 200, w = 10 + rand() * 80, h = 10 + rand() * 80;
      boxes.set([x, y, x + w, y + h], 4 * i);
    }
    const scores = new Float32Array(n * C).map(() => rand() * 4 - 2);
    const inter = new InteractiveNms(boxes, scores, C);
    const settings: Array<[number, number]> = [[-1, 0.3], [0, 0.3], [0.5, 0.3], [-0.5, 0.3], [-0.5, 0.5], [1, 0.5], [-2, 0.1]];
    for (const [scoreThreshold, iouThreshold] of settings) {
      const got = inter.run({ scoreThreshold, iouThreshold });
      const want = nmsPerClass(boxes, scores, C, { scoreThreshold, iouThreshold });
      for (let c = 0; c < C; c++) {
        expect(Array.from(got[c].keep)).toEqual(Array.from(want[c].keep));
        expect(Array.from(got[c].suppressedBy)).toEqual(Array.from(want[c].suppressedBy));
      }
    }
  });
});
