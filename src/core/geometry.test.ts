import { describe, expect, it } from 'vitest';
import {
  boxArea, clipBox, decodeBoxes, encodeBoxes, intersectionArea, iou, iouMatrix, bestOverlaps, vocToBox, scaleBoxes,
} from './geometry';

describe('box geometry', () => {
  it('areas in both conventions', () => {
    expect(boxArea([0, 0, 10, 5])).toBe(50);
    expect(boxArea([0, 0, 10, 5], 'inclusive')).toBe(66); // 11 x 6 pixel indices
    expect(boxArea([5, 5, 5, 9])).toBe(0);
    expect(boxArea([5, 5, 4, 9])).toBe(0); // inverted box is empty, not negative
  });

  // Hand-computed table: a = [0,0,10,10] against each b.
  const a = [0, 0, 10, 10];
  const table: Array<[number[], number, number]> = [
    // b, intersection, IoU (continuous)
    [[0, 0, 10, 10], 100, 1],
    [[5, 0, 15, 10], 50, 50 / 150],
    [[5, 5, 15, 15], 25, 25 / 175],
    [[10, 0, 20, 10], 0, 0], // touching edge: no overlap in continuous coordinates
    [[2, 2, 4, 4], 4, 4 / 100],
    [[-5, -5, 5, 5], 25, 25 / 175],
    [[20, 20, 30, 30], 0, 0],
  ];
  it.each(table)('IoU([0,0,10,10], %j)', (b, inter, expected) => {
    expect(intersectionArea(a, b)).toBe(inter);
    expect(iou(a, b)).toBeCloseTo(expected, 12);
    expect(iou(b, a)).toBeCloseTo(expected, 12);
  });

  it('inclusive convention matches rcnn/nms.m arithmetic', () => {
    // Inclusive: [0,0,10,10] is 11x11=121 pixels; [5,0,15,10]: overlap cols 5..10 (6) x 11 = 66.
    expect(intersectionArea([0, 0, 10, 10], [5, 0, 15, 10], 'inclusive')).toBe(66);
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10], 'inclusive')).toBeCloseTo(66 / (121 + 121 - 66), 12);
    // Touching boxes share one pixel column when indices are inclusive.
    expect(iou([0, 0, 10, 10], [10, 0, 20, 10], 'inclusive')).toBeCloseTo(11 / (242 - 11), 12);
  });

  it('IoU matrix equals pairwise IoU', () => {
    const A = new Float32Array([0, 0, 10, 10, 5, 5, 15, 15]);
    const B = new Float32Array([0, 0, 10, 10, 5, 0, 15, 10, 100, 100, 110, 110]);
    const m = iouMatrix(A, B);
    expect(m.length).toBe(6);
    expect(Array.from(m)).toEqual([
      1, Math.fround(50 / 150), 0,
      Math.fround(25 / 175), Math.fround(50 / 150), 0,
    ]);
    const best = bestOverlaps(B, A);
    expect(Array.from(best.index)).toEqual([0, 0, 0]);
    expect(best.overlap[1]).toBeCloseTo(1 / 3, 6);
    expect(best.overlap[2]).toBe(0);
  });

  it('clips to the image', () => {
    expect(clipBox([-3, 4, 120, 90], 100, 80)).toEqual([0, 4, 100, 80]);
  });

  it('box transform: hand-computed deltas and exact round trip', () => {
    // P: centre (15, 30), size 10 x 20. G: centre (20, 25), size 20 x 10.
    const P = [10, 20, 20, 40];
    const G = [10, 20, 30, 30];
    const t = encodeBoxes(P, G);
    expect(t[0]).toBeCloseTo(0.5, 12); // (20-15)/10
    expect(t[1]).toBeCloseTo(-0.25, 12); // (25-30)/20
    expect(t[2]).toBeCloseTo(Math.log(2), 12);
    expect(t[3]).toBeCloseTo(Math.log(0.5), 12);
    const back = decodeBoxes(P, t);
    for (let i = 0; i < 4; i++) expect(back[i]).toBeCloseTo(G[i], 4);
    // Zero deltas leave the proposal unchanged.
    expect(Array.from(decodeBoxes(P, [0, 0, 0, 0]))).toEqual(P);
  });

  it('VOC 1-based inclusive boxes map to continuous boxes', () => {
    expect(vocToBox(1, 1, 10, 20)).toEqual([0, 0, 10, 20]);
    expect(boxArea(vocToBox(1, 1, 10, 20))).toBe(200);
  });

  it('scales boxes between working and original pixels', () => {
    expect(Array.from(scaleBoxes([1, 2, 3, 4], 2, 0.5))).toEqual([2, 1, 6, 2]);
  });
});
