import { describe, expect, it } from 'vitest';
import { convertColourSpace } from './colorSpace';
import { felzenszwalb, type Segmentation } from './felzenszwalb';
import {
  COLOUR_BINS,
  TEXTURE_BINS,
  TEXTURE_MAX_GRADIENT,
  gaussianDerivativeKernels,
  regionAdjacency,
  regionFeatures,
  textureBins,
} from './features';
import { flatRectangles, syntheticScene } from './syntheticImages';

function rowSums(hist: Float32Array, len: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < hist.length; o += len) {
    let s = 0;
    for (let i = 0; i < len; i++) s += hist[o + i];
    out.push(s);
  }
  return out;
}

/** A segmentation given by a label function. */
function labelsOf(width: number, height: number, f: (x: number, y: number) => number): Segmentation {
  const labels = new Int32Array(width * height);
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      labels[y * width + x] = f(x, y);
      count = Math.max(count, f(x, y) + 1);
    }
  }
  return { width, height, count, labels };
}

describe('region features', () => {
  it('colour and texture histograms are L1-normalised over the whole descriptor', () => {
    const img = syntheticScene(100, 80, 5, 25);
    for (const space of ['HSV', 'Lab', 'H', 'I'] as const) {
      const colour = convertColourSpace(img, space);
      const seg = felzenszwalb(colour, { k: 50 });
      const f = regionFeatures(seg, colour, textureBins(colour));
      expect(f.colourLength).toBe(colour.channels * COLOUR_BINS);
      expect(f.textureLength).toBe(colour.channels * 8 * TEXTURE_BINS);
      for (const s of rowSums(f.colourHist, f.colourLength)) expect(s).toBeCloseTo(1, 5);
      for (const s of rowSums(f.textureHist, f.textureLength)) expect(s).toBeCloseTo(1, 5);
      expect([...f.colourHist].every((v) => v >= 0)).toBe(true);
    }
  });

  it('a flat region puts each channel\'s third of the mass in bin round(v * 24 / 255)', () => {
    const img = flatRectangles(40, 30, [128, 0, 255], []);
    const colour = convertColourSpace(img, 'RGB');
    const seg = labelsOf(40, 30, () => 0);
    const f = regionFeatures(seg, colour, textureBins(colour));
    const nonZero = [...f.colourHist].map((v, i) => [i, v]).filter(([, v]) => v > 0);
    expect(nonZero.map(([i]) => i)).toEqual([12, 25 + 0, 50 + 24]);
    for (const [, v] of nonZero) expect(v).toBeCloseTo(1 / 3, 6);
    // No gradient anywhere: every orientation histogram has all its mass in bin 0.
    const tex = [...f.textureHist];
    for (let j = 0; j < 24; j++) expect(tex[j * TEXTURE_BINS]).toBeCloseTo(1 / 24, 6);
    expect(tex.filter((v) => v > 0).length).toBe(24);
  });

  it('texture: derivative kernels measure slope per pixel; a unit step lands in bin round(0.40 * 9 / 0.43) = 8', () => {
    const { smooth, deriv, radius } = gaussianDerivativeKernels(1);
    expect(radius).toBe(4);
    expect(smooth.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    let ramp = 0;
    for (let i = -radius; i <= radius; i++) ramp += deriv[i + radius] * i;
    expect(ramp).toBeCloseTo(1, 6);
    // Vertical black/white step at x = 20 (a unit step on 0..1 intensities).
    const img = flatRectangles(40, 20, [0, 0, 0], [{ box: [20, 0, 40, 20], colour: [255, 255, 255] }]);
    const colour = convertColourSpace(img, 'I');
    const tex = textureBins(colour);
    // Signed bin of direction d (0 y, 1 xy, 2 x, 3 yx); orientation d + 4 is the negative half.
    const at = (x: number, y: number, d: number) => tex.bins[(y * 40 + x) * 4 + d];
    let peak = 0;
    for (let i = -radius; i <= radius; i++) if (i < 0) peak -= deriv[i + radius];
    expect(peak).toBeLessThan(TEXTURE_MAX_GRADIENT);
    // Brightness rising to the right: positive x derivative (orientation 2, not 6).
    expect(at(19, 10, 2)).toBe(Math.round((peak * 9) / TEXTURE_MAX_GRADIENT));
    expect(at(19, 10, 2)).toBe(8);
    // Diagonals get cos(45 deg) of it, with the sign of their direction; y gets nothing.
    expect(at(19, 10, 1)).toBe(Math.round((peak * Math.SQRT1_2 * 9) / TEXTURE_MAX_GRADIENT));
    expect(at(19, 10, 3)).toBe(-Math.round((peak * Math.SQRT1_2 * 9) / TEXTURE_MAX_GRADIENT));
    expect(at(19, 10, 0)).toBe(0);
    expect(at(5, 10, 2)).toBe(0);
  });

  it('texture histograms equal a direct count over all 8 orientations (bin 0 of the idle half included)', () => {
    const img = syntheticScene(90, 70, 12, 30);
    const colour = convertColourSpace(img, 'Lab');
    const seg = felzenszwalb(colour, { k: 50 });
    const tex = textureBins(colour);
    const f = regionFeatures(seg, null, tex);
    const len = 3 * 8 * TEXTURE_BINS;
    const ref = new Float64Array(seg.count * len);
    const sizes = new Float64Array(seg.count);
    for (let p = 0; p < seg.labels.length; p++) {
      const l = seg.labels[p];
      sizes[l]++;
      for (let c = 0; c < 3; c++) {
        for (let d = 0; d < 4; d++) {
          const b = tex.bins[(p * 3 + c) * 4 + d];
          ref[l * len + (c * 8 + d) * TEXTURE_BINS + (b > 0 ? b : 0)]++;
          ref[l * len + (c * 8 + d + 4) * TEXTURE_BINS + (b < 0 ? -b : 0)]++;
        }
      }
    }
    let maxErr = 0;
    for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(ref[i] / (24 * sizes[Math.floor(i / len)]) - f.textureHist[i]));
    expect(maxErr).toBeLessThan(1e-6);
    expect([...tex.bins].some((b) => b > 1) && [...tex.bins].some((b) => b < -1)).toBe(true);
  });

  it('sizes and bounding boxes of the segments (continuous convention)', () => {
    const seg = labelsOf(10, 6, (x, y) => (x < 4 ? 0 : y < 2 ? 1 : 2));
    const f = regionFeatures(seg, null, null);
    expect([...f.sizes]).toEqual([24, 12, 24]);
    expect([...f.boxes]).toEqual([0, 0, 4, 6, 4, 0, 10, 2, 4, 2, 10, 6]);
    expect(f.colourHist.length).toBe(0);
    expect(f.textureHist.length).toBe(0);
  });

  it('adjacency is 8-connected: diagonal-only neighbours count', () => {
    // Quadrants: 0 1 / 2 3; 0-3 and 1-2 touch only at the centre corner.
    const seg = labelsOf(6, 6, (x, y) => (y < 3 ? 0 : 2) + (x < 3 ? 0 : 1));
    const { adjStart, adjIndex, pairs } = regionAdjacency(seg);
    expect(pairs.length / 2).toBe(6);
    const neighbours = (r: number) => [...adjIndex.subarray(adjStart[r], adjStart[r + 1])];
    expect(neighbours(0)).toEqual([1, 2, 3]);
    expect(neighbours(3)).toEqual([0, 1, 2]);
    // A region enclosed by another has exactly one neighbour.
    const ring = regionAdjacency(labelsOf(9, 9, (x, y) => (x >= 3 && x < 6 && y >= 3 && y < 6 ? 1 : 0)));
    expect([...ring.adjIndex]).toEqual([1, 0]);
  });
});
