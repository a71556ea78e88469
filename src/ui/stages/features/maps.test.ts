import { describe, expect, it } from 'vitest';
import { channelRgba, channelStats, filterRgba, nearestPoint, scatterFrame, stripRgba, summarizeVector, toScreen, topClass } from './maps';
import { sequential } from '../../palette';

describe('feature panel pixels', () => {
  it('ranks channels by mean activation with a shared maximum', () => {
    // 3 channels of 2 x 2.
    const d = new Float32Array([0, 0, 0, 4, /**/ 1, 1, 1, 1, /**/ 0, 2, 2, 2]);
    const s = channelStats(d, 3, 2, 2);
    expect(Array.from(s.means)).toEqual([1, 1, 1.5]);
    expect(Array.from(s.order)).toEqual([2, 0, 1]);
    expect(s.max).toBe(4);
    expect(s.min).toBe(0);
    const px = channelRgba(d, 0, 2, 2, 0, s.max);
    // The 4 of channel 0 is the top of the scale, its zeros the bottom.
    expect(Array.from(px.subarray(12, 15))).toEqual(sequential(1).map(Math.round));
    expect(Array.from(px.subarray(0, 3))).toEqual(sequential(0).map(Math.round));
    expect(px[3]).toBe(255);
  });

  it('turns a BGR conv1 filter into an RGB tile with 0 at mid-grey', () => {
    // 1 x 1 kernel, 3 inputs (B, G, R), 2 filters: filter 1 is pure "red" (+) and "blue" (-).
    // HWIO index: ((p * cin + ch) * F + f).
    const w = new Float32Array(6);
    w[(0 * 3 + 2) * 2 + 1] = 0.5; // R of filter 1
    w[(0 * 3 + 0) * 2 + 1] = -0.25; // B of filter 1
    const t = filterRgba(w, 1, 1, 3, 2, 1);
    expect(Array.from(t)).toEqual([255, 128, 64, 255]);
    // An all-zero filter is flat grey, not NaN.
    expect(Array.from(filterRgba(new Float32Array(6), 1, 1, 3, 2, 0))).toEqual([128, 128, 128, 255]);
  });

  it('summarises and colours a vector', () => {
    const v = new Float32Array([0, 3, 0, 4, 1]);
    const s = summarizeVector(v, 2);
    expect(s).toEqual({ max: 4, argmax: 3, norm: Math.sqrt(26), active: 3, top: [3, 1] });
    const px = stripRgba(v, 4);
    expect(px.length).toBe(20);
    expect(Array.from(px.subarray(12, 15))).toEqual(sequential(1).map(Math.round));
  });

  it('frames a scatter with equal axes and finds the nearest point', () => {
    const coords = new Float32Array([-1, 0, 1, 0, 0, 2]);
    const f = scatterFrame(coords, 100, 100, 10);
    // x spans 2, y spans 2: scale (100 - 20) / 2 = 40, centre (0, 1) at (50, 50); y up.
    expect(f.scale).toBe(40);
    expect(toScreen(f, 0, 1)).toEqual([50, 50]);
    expect(toScreen(f, 0, 2)).toEqual([50, 10]);
    expect(nearestPoint(coords, f, 12, 88, 5)).toBe(0);
    expect(nearestPoint(coords, f, 50, 50, 5)).toBe(-1);
    expect(nearestPoint(coords, f, 52, 12, 5)).toBe(2);
  });

  it('calls a proposal background when no SVM scores it above 0', () => {
    const scores = new Float32Array([-1, -0.2, /**/ 0.3, 0.7]);
    expect(topClass(scores, 2, 0)).toEqual({ cls: -1, score: expect.closeTo(-0.2, 6) });
    expect(topClass(scores, 2, 1)).toEqual({ cls: 1, score: expect.closeTo(0.7, 6) });
  });
});
