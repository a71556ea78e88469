import { describe, expect, it } from 'vitest';
import { makeGroundTruth } from '../dataset/groundTruth';
import {
  bboxRegressionPairs,
  labelProposals,
  SVM_IGNORED,
  SVM_NEGATIVE,
  svmNegativeIndices,
  svmPositiveIndices,
} from './sampling';

// Ground truth: A = apple [0,0,10,10] (area 100), B = banana [20,0,30,10]; class 2 (orange) has none.
const gt = makeGroundTruth([0, 0, 10, 10, 20, 0, 30, 10], [0, 1]);
// Proposals and their IoU with A (continuous areas):
const proposals = Float32Array.from([
  0, 0, 10, 10, // p0: A itself, IoU 1
  1, 0, 10, 10, // p1: 90/100 = 0.9
  0, 0, 10, 6, //  p2: 60/100 = 0.6 exactly (not > 0.6: no box regression)
  0, 0, 10, 5, //  p3: 0.5 exactly (>= 0.5: fine-tuning positive)
  0, 0, 10, 4, //  p4: 0.4
  0, 0, 10, 3, //  p5: 0.3 exactly (not < 0.3: SVM-ignored for apple)
  0, 0, 10, 2, //  p6: 0.2
  5, 0, 25, 10, // p7: 50/250 = 0.2 with A and with B (tie: the first ground truth wins)
  40, 40, 50, 50, // p8: touches nothing
  21, 0, 30, 10, // p9: 0.9 with B
]);

describe('R-CNN sampling rules on hand-made boxes', () => {
  const s = labelProposals(proposals, gt, 3);

  it('computes best overlaps per proposal and per class', () => {
    expect(Array.from(s.maxOverlap).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([1, 0.9, 0.6, 0.5, 0.4, 0.3, 0.2, 0.2, 0, 0.9]);
    expect(Array.from(s.maxOverlapGt)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(s.classOverlap[7 * 3 + 0]).toBeCloseTo(0.2, 12);
    expect(s.classOverlap[7 * 3 + 1]).toBeCloseTo(0.2, 12);
    expect(s.classOverlap[7 * 3 + 2]).toBe(0);
  });

  it('fine-tuning: IoU >= 0.5 takes the ground truth class (label c + 1), else background (0)', () => {
    expect(Array.from(s.fineTuneLabel)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 2]);
    expect(Array.from(s.counts.fineTuneForeground)).toEqual([4, 1, 0]);
    expect(s.counts.fineTuneBackground).toBe(5);
  });

  it('SVM: per class, IoU < 0.3 with every instance is a negative; ground truths are the positives', () => {
    const label = (i: number, c: number) => s.svmLabel[i * 3 + c];
    // apple: p0..p5 (IoU >= 0.3) ignored; p6, p7 (0.2), p8, p9 (0 with A) negatives.
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => label(i, 0))).toEqual([
      SVM_IGNORED, SVM_IGNORED, SVM_IGNORED, SVM_IGNORED, SVM_IGNORED, SVM_IGNORED, SVM_NEGATIVE, SVM_NEGATIVE, SVM_NEGATIVE, SVM_NEGATIVE,
    ]);
    // banana: only p9 (0.9) is near B; the proposals on the apple are banana negatives.
    expect(Array.from(svmNegativeIndices(s, 1))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // orange has no instance: every proposal is a negative.
    expect(svmNegativeIndices(s, 2).length).toBe(10);
    expect(Array.from(s.counts.svmPositives)).toEqual([1, 1, 0]);
    expect(Array.from(s.counts.svmNegatives)).toEqual([4, 9, 10]);
    expect(Array.from(s.counts.svmIgnored)).toEqual([6, 1, 0]);
    expect(Array.from(svmPositiveIndices(gt, 1))).toEqual([1]);
  });

  it('box regression: IoU > 0.6 with the best ground truth, which gives target and class', () => {
    expect(Array.from(s.bboxTarget)).toEqual([0, 0, -1, -1, -1, -1, -1, -1, -1, 1]);
    expect(Array.from(s.bboxClass)).toEqual([0, 0, -1, -1, -1, -1, -1, -1, -1, 1]);
    expect(Array.from(s.counts.bboxUsed)).toEqual([2, 1, 0]);
    expect(s.counts.bboxUnused).toBe(7);
    const pairs = bboxRegressionPairs(proposals, gt, s, 0);
    expect(Array.from(pairs.proposalIndex)).toEqual([0, 1]);
    expect(Array.from(pairs.proposals)).toEqual([0, 0, 10, 10, 1, 0, 10, 10]);
    expect(Array.from(pairs.targets)).toEqual([0, 0, 10, 10, 0, 0, 10, 10]);
  });

  it('the inclusive (+1) convention of the release changes borderline cases', () => {
    // p2 inclusive: (10+1)*(6+1) / (11*11) = 77/121 = 0.636 > 0.6 -> now a regression sample.
    const inc = labelProposals(proposals, gt, 3, { convention: 'inclusive' });
    expect(inc.maxOverlap[2]).toBeCloseTo(77 / 121, 12);
    expect(inc.bboxTarget[2]).toBe(0);
  });

  it('difficult ground truths are kept by default (release) and can be dropped', () => {
    const hard = makeGroundTruth([0, 0, 10, 10], [0], [1]);
    expect(labelProposals(proposals.subarray(0, 4), hard, 1).fineTuneLabel[0]).toBe(1);
    const dropped = labelProposals(proposals.subarray(0, 4), hard, 1, { useDifficult: false });
    expect(dropped.fineTuneLabel[0]).toBe(0);
    expect(dropped.svmLabel[0]).toBe(SVM_NEGATIVE);
    expect(dropped.counts.svmPositives[0]).toBe(0);
  });

  it('an image without ground truth: everything background / negative, nothing regressed', () => {
    const none = labelProposals(proposals, makeGroundTruth([], []), 2);
    expect(none.counts.fineTuneBackground).toBe(10);
    expect(Array.from(none.counts.svmNegatives)).toEqual([10, 10]);
    expect(none.counts.bboxUnused).toBe(10);
    expect(Array.from(none.maxOverlapGt).every((j) => j === -1)).toBe(true);
    expect(() => labelProposals(proposals, makeGroundTruth([0, 0, 1, 1], [5]), 2)).toThrow(/label 5/);
  });
});
