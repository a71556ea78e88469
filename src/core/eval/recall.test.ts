import { describe, expect, it } from 'vitest';
import { makeGroundTruth } from '../dataset/groundTruth';
import { proposalRecall, recallVersusProposals } from './recall';

// Classes: 0 apple, 1 banana, 2 orange.
// Image 0: apples A [0,0,10,10], B [20,0,30,10]; banana C [40,0,50,10].
// Image 1: banana D [0,0,10,10]; orange E [0,0,20,20] (difficult); apple F [50,50,60,60].
const gts = [
  makeGroundTruth([0, 0, 10, 10, 20, 0, 30, 10, 40, 0, 50, 10], [0, 0, 1]),
  makeGroundTruth([0, 0, 10, 10, 0, 0, 20, 20, 50, 50, 60, 60], [1, 2, 0], [0, 1, 0]),
];
const proposals = [
  Float32Array.from([
    0, 0, 10, 10, // A: 1
    20, 0, 30, 5, // B: 50/100 = 0.5
    40, 0, 45, 10, // C: 0.5
    42, 0, 50, 10, // C: 0.8
  ]),
  Float32Array.from([0, 0, 10, 6]), // D: 0.6; E: 60/400 = 0.15; F: 0
];

describe('proposal recall and MABO, hand-computed', () => {
  it('best overlaps, recall per threshold, ABO per class, MABO and mean best overlap', () => {
    const r = proposalRecall(proposals, gts, 3, { thresholds: [0.5, 0.7, 0.9] });
    // Counted objects (difficult E left out): A 1, B 0.5, C 0.8, D 0.6, F 0.
    expect(Array.from(r.bestOverlap)).toEqual([1, 0.5, 0.8, 0.6, 0]);
    expect(Array.from(r.objectClass)).toEqual([0, 0, 1, 1, 0]);
    expect(Array.from(r.objectImage)).toEqual([0, 0, 0, 1, 1]);
    expect(Array.from(r.objectIndex)).toEqual([0, 1, 2, 0, 2]);
    expect(r.numObjects).toBe(5);
    // >= 0.5: A B C D (4/5); >= 0.7: A C (2/5); >= 0.9: A (1/5)
    expect(Array.from(r.recall)).toEqual([0.8, 0.4, 0.2]);
    // apple (1 + 0.5 + 0) / 3 = 0.5, banana (0.8 + 0.6) / 2 = 0.7, orange: no counted object
    expect(r.perClass[0].abo).toBeCloseTo(0.5, 12);
    expect(r.perClass[1].abo).toBeCloseTo(0.7, 12);
    expect(Number.isNaN(r.perClass[2].abo)).toBe(true);
    expect(Array.from(r.perClass[1].recall)).toEqual([1, 0.5, 0]);
    expect(r.mabo).toBeCloseTo(0.6, 12);
    expect(r.meanBestOverlap).toBeCloseTo(2.9 / 5, 12);
    expect(r.meanProposals).toBe(2.5);
  });

  it('difficult objects on request', () => {
    const r = proposalRecall(proposals, gts, 3, { includeDifficult: true });
    expect(r.numObjects).toBe(6);
    expect(r.perClass[2].abo).toBeCloseTo(0.15, 12);
    expect(r.mabo).toBeCloseTo((0.5 + 0.7 + 0.15) / 3, 12);
  });

  it('top-N proposals: recall grows with N', () => {
    const r1 = proposalRecall(proposals, gts, 3, { maxProposals: 1, thresholds: [0.5] });
    // image 0 keeps only [0,0,10,10]: A 1, B 0, C 0; image 1: D 0.6, F 0 -> 2/5
    expect(r1.recall[0]).toBeCloseTo(0.4, 12);
    const curve = recallVersusProposals(proposals, gts, 3, [1, 2, 4], 0.5);
    expect(Array.from(curve.recall)).toEqual([0.4, 0.6, 0.8]);
    expect(curve.mabo[2]).toBeCloseTo(0.6, 12);
  });

  it('inclusive convention and empty inputs', () => {
    // [0,0,10,10] vs [0,0,10,5] inclusive: 11*6 / (11*11) = 0.545...
    const r = proposalRecall([Float32Array.from([0, 0, 10, 5])], [makeGroundTruth([0, 0, 10, 10], [0])], 1, { convention: 'inclusive' });
    expect(r.bestOverlap[0]).toBeCloseTo(66 / 121, 12);
    const none = proposalRecall([new Float32Array(0)], [makeGroundTruth([0, 0, 10, 10], [0])], 1);
    expect(Array.from(none.recall)).toEqual([0, 0]);
    expect(none.mabo).toBe(0);
    expect(Number.isNaN(proposalRecall([], [], 1).mabo)).toBe(true);
    expect(() => proposalRecall([], gts, 3)).toThrow(/proposal lists/);
  });
});
