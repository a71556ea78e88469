import { describe, expect, it } from 'vitest';
import { bestIou, deltasOf, groundTruthFor, lerpBox, regressedOf, regressionRows, unclippedRegressed } from './rows';
import { regressAllClasses } from '../../../core/detect';
import { encodeBoxes } from '../../../core/geometry';

describe('box-regression panel helpers', () => {
  it('blends corner by corner between the proposal and the regressed box', () => {
    expect(lerpBox([0, 0, 10, 10], [10, 20, 30, 40], 0)).toEqual([0, 0, 10, 10]);
    expect(lerpBox([0, 0, 10, 10], [10, 20, 30, 40], 1)).toEqual([10, 20, 30, 40]);
    expect(lerpBox([0, 0, 10, 10], [10, 20, 30, 40], 0.5)).toEqual([5, 10, 20, 25]);
  });

  it('reads deltas (N x C x 4) and regressed boxes (C x N x 4) at the right offsets', () => {
    // Two proposals, two classes; the deltas move proposal 1 onto a known target for class 1.
    const proposals = new Float32Array([10, 10, 50, 30, 20, 20, 60, 80]);
    const target = new Float32Array([25, 30, 55, 90]);
    const t = encodeBoxes(proposals.subarray(4, 8), target);
    const deltas = new Float32Array(2 * 2 * 4);
    deltas.set(t, (1 * 2 + 1) * 4);
    expect(deltasOf(deltas, 2, 1, 1).map((v) => Math.round(v * 1e6))).toEqual(Array.from(t, (v) => Math.round(v * 1e6)));
    expect(deltasOf(deltas, 2, 1, 0)).toEqual([0, 0, 0, 0]);
    const reg = regressAllClasses(proposals, deltas, 2, 100, 100);
    regressedOf(reg, 2, 1, 1).forEach((v, q) => expect(v).toBeCloseTo(target[q], 4));
    expect(regressedOf(reg, 2, 1, 0)).toEqual([20, 20, 60, 80]);
    // Unclipped decode differs from the clipped one only when the box leaves the image.
    const out = unclippedRegressed([80, 80, 100, 100], [0.5, 0, 0, 0]);
    expect(out).toEqual([90, 80, 110, 100]);
  });

  it('matches ground truth of the class when labelled, else all of it', () => {
    const gt = new Float32Array([0, 0, 10, 10, 20, 20, 40, 40]);
    expect(Array.from(groundTruthFor(gt, ['apple', 'kangaroo'], 'kangaroo').boxes)).toEqual([20, 20, 40, 40]);
    expect(groundTruthFor(gt, ['apple', 'kangaroo'], 'orange')).toEqual({ boxes: gt, sameClass: false });
    expect(bestIou([0, 0, 10, 5], gt)).toEqual({ iou: 0.5, index: 0 });
    expect(bestIou([0, 0, 10, 5], [])).toEqual({ iou: 0, index: -1 });
  });

  it('reports IoU before and after regression per box and on average', () => {
    const proposals = new Float32Array([0, 0, 10, 10, 0, 0, 20, 20]);
    const gt = new Float32Array([0, 0, 20, 20]);
    // One class: proposal 0 grows onto the ground truth, proposal 1 shrinks away from it.
    const reg = new Float32Array([0, 0, 20, 20, 0, 0, 10, 20]);
    const scores = new Float32Array([1.5, 0.5]);
    const s = regressionRows([0, 1], proposals, reg, scores, 1, 0, gt);
    expect(s.rows.map((r) => [r.proposal, r.score, r.iouBefore, r.iouAfter])).toEqual([
      [0, 1.5, 0.25, 1],
      [1, 0.5, 1, 0.5],
    ]);
    expect(s.meanBefore).toBeCloseTo(0.625);
    expect(s.meanAfter).toBeCloseTo(0.75);
    expect([s.improved, s.worsened]).toEqual([1, 1]);
    expect(Number.isNaN(regressionRows([0], proposals, reg, scores, 1, 0, null).meanAfter)).toBe(true);
  });
});
