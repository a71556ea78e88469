import { describe, expect, it } from 'vitest';
import { blurCropInPlace, colourMatrix, randomAugment, randomColourMatrix, warpBoxInto } from './cpuWarp';
import { mulberry32 } from '../../core/learn/random';
import { refWarp } from '../cpuReference';

function noise(w: number, h: number, seed = 3) {
  let s = seed;
  const data = new Uint8Array(w * h * 3).map(() => ((s = (s * 1103515245 + 12345) >>> 0) >>> 24));
  return { width: w, height: h, data };
}

describe('CPU warp for training batches', () => {
  const img = noise(61, 47);
  const mean: [number, number, number] = [104, 117, 123];
  const boxes = [
    [10, 5, 40, 30], // inside
    [-10, -8, 30, 20], // crosses the top-left border: mean fill after dilation
    [0, 0, 61, 47], // whole image
    [20.3, 11.7, 21.9, 13.2], // tiny sub-pixel box
  ];

  it('matches the reference warp to float precision', () => {
    for (const b of boxes) {
      const ref = refWarp(img, b, mean, 31, 4);
      const out = new Float32Array(31 * 31 * 3);
      warpBoxInto(img, b, mean, out, 0, 31, 4);
      let max = 0;
      for (let i = 0; i < out.length; i++) max = Math.max(max, Math.abs(out[i] - ref[i]));
      expect(max).toBeLessThan(1e-3);
    }
  });

  it('flip mirrors columns exactly; gain and offset act on mean-subtracted values', () => {
    const b = boxes[1];
    const a = new Float32Array(31 * 31 * 3);
    const f = new Float32Array(31 * 31 * 3);
    warpBoxInto(img, b, mean, a, 0, 31, 4);
    warpBoxInto(img, b, mean, f, 0, 31, 4, { flip: true });
    for (let v = 0; v < 31; v++)
      for (let u = 0; u < 31; u++)
        for (let c = 0; c < 3; c++) expect(f[(v * 31 + u) * 3 + c]).toBe(a[(v * 31 + 30 - u) * 3 + c]);
    const g = new Float32Array(31 * 31 * 3);
    warpBoxInto(img, b, mean, g, 0, 31, 4, { channelGain: [2, 1, 0.5], offset: 3 });
    const i = (15 * 31 + 15) * 3;
    expect(g[i]).toBeCloseTo(a[i] * 2 + 3, 4);
    expect(g[i + 2]).toBeCloseTo(a[i + 2] * 0.5 + 3, 4);
    // Outside the image stays at the mean (0) when no offset is given.
    expect(a[0]).toBe(0);
  });

  it('writes at an offset without touching the rest of the batch', () => {
    const out = new Float32Array(2 * 31 * 31 * 3).fill(7);
    warpBoxInto(img, boxes[0], mean, out, 31 * 31 * 3, 31, 4);
    expect(out[0]).toBe(7);
    expect(out[31 * 31 * 3 - 1]).toBe(7);
  });

  it('colour augmentation: identity at (0, 1, 1), greys fixed by hue, 120 degrees turns red into green', () => {
    const apply = (m: Float32Array, v: number[]) => [0, 1, 2].map((r) => m[3 * r] * v[0] + m[3 * r + 1] * v[1] + m[3 * r + 2] * v[2]);
    const id = apply(colourMatrix(0, 1, 1), [200, 20, 30]);
    id.forEach((x, i) => expect(x).toBeCloseTo([200, 20, 30][i], 4));
    apply(colourMatrix(37, 1, 1), [90, 90, 90]).forEach((x) => expect(x).toBeCloseTo(90, 4));
    const g = apply(colourMatrix(120, 1, 1), [255, 0, 0]);
    [0, 255, 0].forEach((x, i) => expect(g[i]).toBeCloseTo(x, 3));
    // Saturation 0 gives Rec. 601 luma in every channel; brightness scales.
    apply(colourMatrix(0, 0, 0.5), [255, 0, 0]).forEach((x) => expect(x).toBeCloseTo(0.5 * 0.299 * 255, 3));
    // +15 degrees moves a deep apple red towards orange: hue from about -3 to about 13 degrees.
    const [r, gg, b] = apply(colourMatrix(15, 1, 1), [200, 20, 30]);
    expect(((gg - b) / (r - b)) * 60).toBeGreaterThan(10);
    expect(((gg - b) / (r - b)) * 60).toBeLessThan(16);
  });

  it('a random colour draw spans the documented ranges: hue +-15, saturation 0.7-1.3, brightness 0.85-1.15', () => {
    expect([...randomColourMatrix(() => 0)]).toEqual([...colourMatrix(-15, 0.7, 0.85)]);
    expect([...randomColourMatrix(() => 0.5)]).toEqual([...colourMatrix(0, 1, 1)]);
    expect([...randomColourMatrix(() => 1)]).toEqual([...colourMatrix(15, 1.3, 1.15)]);
  });

  it('the colour matrix acts on RGB before the mean is subtracted, clamped to 0..255', () => {
    const b = boxes[0];
    const a = new Float32Array(31 * 31 * 3);
    const m = new Float32Array(31 * 31 * 3);
    warpBoxInto(img, b, mean, a, 0, 31, 4);
    warpBoxInto(img, b, mean, m, 0, 31, 4, { rgbMatrix: colourMatrix(0, 1, 2) });
    for (let i = 0; i < a.length; i += 3) {
      const [B, G, R] = [a[i] + mean[0], a[i + 1] + mean[1], a[i + 2] + mean[2]];
      expect(m[i]).toBeCloseTo(Math.min(255, 2 * B) - mean[0], 3);
      expect(m[i + 1]).toBeCloseTo(Math.min(255, 2 * G) - mean[1], 3);
      expect(m[i + 2]).toBeCloseTo(Math.min(255, 2 * R) - mean[2], 3);
    }
  });

  it('randomAugment with the defaults draws exactly what the window layer drew before (same stream, no blur draws)', () => {
    const a = mulberry32(7), b = mulberry32(7);
    for (let k = 0; k < 20; k++) {
      const aug = randomAugment(a, k % 2 ? 'colour' : 'window');
      const flip = b() < 0.5;
      const gain = [0.92 + 0.16 * b(), 0.92 + 0.16 * b(), 0.92 + 0.16 * b()];
      const offset = (b() - 0.5) * 16;
      const m = k % 2 ? randomColourMatrix(b) : undefined;
      expect(aug.flip).toBe(flip);
      aug.channelGain!.forEach((g, i) => expect(g).toBeCloseTo(gain[i], 12));
      expect(aug.offset).toBeCloseTo(offset, 12);
      expect(aug.rgbMatrix === undefined).toBe(m === undefined);
      expect(aug.blurSigma).toBeUndefined();
    }
  });

  it('randomAugment: gains within 1 +- gainJitter, blur on about the asked share of crops with sigma in [0, 2)', () => {
    const r = mulberry32(11);
    let blurred = 0, lo = Infinity, hi = -Infinity, smax = 0;
    for (let k = 0; k < 4000; k++) {
      const aug = randomAugment(r, 'window', 0.2, 0.5);
      for (const g of aug.channelGain!) (lo = Math.min(lo, g)), (hi = Math.max(hi, g));
      if (aug.blurSigma !== undefined) blurred++, (smax = Math.max(smax, aug.blurSigma));
    }
    expect(lo).toBeGreaterThanOrEqual(0.8);
    expect(lo).toBeLessThan(0.81);
    expect(hi).toBeLessThanOrEqual(1.2);
    expect(hi).toBeGreaterThan(1.19);
    expect(blurred / 4000).toBeGreaterThan(0.47);
    expect(blurred / 4000).toBeLessThan(0.53);
    expect(smax).toBeLessThan(2);
    expect(smax).toBeGreaterThan(1.95);
  });

  it('blur: keeps a constant crop, spreads an impulse as the normalised 9-tap Gaussian, commutes with the mirror', () => {
    const S = 21;
    const flat = new Float32Array(S * S * 3).fill(-7.5);
    blurCropInPlace(flat, 0, S, 1.3);
    for (const v of flat) expect(v).toBeCloseTo(-7.5, 4);

    const imp = new Float32Array(S * S * 3);
    const c = 10;
    imp[(c * S + c) * 3 + 1] = 1000; // green channel only
    blurCropInPlace(imp, 0, S, 1);
    const g = (t: number) => Math.exp(-0.5 * t * t);
    let z = 0;
    for (let t = -4; t <= 4; t++) z += g(t);
    let sum = 0;
    for (let v = 0; v < S; v++)
      for (let u = 0; u < S; u++) {
        const dv = v - c, du = u - c;
        const want = Math.abs(dv) <= 4 && Math.abs(du) <= 4 ? (1000 * g(dv) * g(du)) / (z * z) : 0;
        expect(imp[(v * S + u) * 3 + 1]).toBeCloseTo(want, 3);
        expect(imp[(v * S + u) * 3]).toBe(0);
        sum += imp[(v * S + u) * 3 + 1];
      }
    expect(sum).toBeCloseTo(1000, 2);

    const b = boxes[1]; // crosses the border: mean fill inside the crop
    const plain = new Float32Array(31 * 31 * 3);
    const mirrored = new Float32Array(31 * 31 * 3);
    warpBoxInto(img, b, mean, plain, 0, 31, 4, { blurSigma: 1.7 });
    warpBoxInto(img, b, mean, mirrored, 0, 31, 4, { blurSigma: 1.7, flip: true });
    for (let v = 0; v < 31; v++)
      for (let u = 0; u < 31; u++)
        for (let ch = 0; ch < 3; ch++) expect(mirrored[(v * 31 + 30 - u) * 3 + ch]).toBeCloseTo(plain[(v * 31 + u) * 3 + ch], 3);
  });
});
