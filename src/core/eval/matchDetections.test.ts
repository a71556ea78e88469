import { describe, expect, it } from 'vitest';
import { matchDetections } from './matchDetections';

describe('matching detections to ground truth (VOC rule)', () => {
  const gt = [0, 0, 10, 10, 20, 20, 30, 30];
  const labels = ['cat', 'dog'];
  it('best score takes the object, duplicates and wrong classes are false positives', () => {
    const dets = [
      { className: 'cat', score: 0.5, box: [1, 0, 11, 10] }, // IoU 9/11 = 0.818, but lower score than the next
      { className: 'cat', score: 0.9, box: [0, 0, 10, 10] }, // exact: TP
      { className: 'dog', score: 0.7, box: [0, 0, 10, 10] }, // no dog there: FP
      { className: 'dog', score: 0.6, box: [22, 20, 32, 30] }, // IoU 8/12 = 0.667: TP
    ];
    const m = matchDetections(dets, gt, labels);
    expect(Array.from(m.matched)).toEqual([-1, 0, -1, 1]);
    expect(m.truePositives).toBe(2);
    expect(m.falsePositives).toBe(2);
    expect(m.found).toBe(2);
    expect(m.bestIou[0]).toBeCloseTo(90 / 110, 5);
    expect(m.bestIou[2]).toBe(0);
  });
  it('the 0.5 boundary is inclusive', () => {
    // [0,0,10,10] vs [0,0,10,5]: IoU 50/100 = 0.5
    expect(matchDetections([{ className: 'cat', score: 1, box: [0, 0, 10, 5] }], gt, labels).truePositives).toBe(1);
    expect(matchDetections([{ className: 'cat', score: 1, box: [0, 0, 10, 4.9] }], gt, labels).truePositives).toBe(0);
  });
});
