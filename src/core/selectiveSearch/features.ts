/**
 * Region features of the base segmentation (BlobStructColourHist / BlobStructTextureHist of the
 * selective-search release): pixel count, bounding box, a colour histogram (25 bins per channel)
 * and a texture histogram (Gaussian derivatives, sigma 1, 8 orientations x 10 bins per channel),
 * both L1-normalised over the whole descriptor, plus the region adjacency graph.
 */
import type { ColourPlanes } from './colorSpace';
import type { Segmentation } from './felzenszwalb';

export const COLOUR_BINS = 25;
export const TEXTURE_ORIENTATIONS = 8;
export const TEXTURE_BINS = 10;
/** Sigma of the texture's Gaussian derivatives (Uijlings et al., section 3.2). */
export const TEXTURE_SIGMA = 1;
/**
 * The release maps derivative magnitudes in [0, 0.43] (on 0..1 intensities) linearly onto the 10
 * bins ("semi arbitrary parameter denoting maximum value of gradient"): a unit step edge gives
 * 1 / (sqrt(2 pi) sigma) = 0.40 at sigma 1, so 0.43 just covers the strongest edge. Larger values
 * (only from noise-like patterns) go to the top bin.
 */
export const TEXTURE_MAX_GRADIENT = 0.43;

/** The release's colour bin: round(v / 255 * (25 - 1)), i.e. 0..24 with half-width end bins. */
const COLOUR_BIN_OF = (() => {
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.round((v / 255) * (COLOUR_BINS - 1));
  return lut;
})();

/** Directions of the texture derivatives; each gives two of the 8 orientations (its positive and negative half). */
export const TEXTURE_DIRECTIONS = 4;

/**
 * Texture bins of every pixel, per channel and derivative direction, as a signed bin:
 * bins[(p * channels + c) * 4 + d] = s * b means the derivative of channel c along direction d at
 * pixel p falls in bin b (0..9) of orientation d (s = +1, the positive half) or d + 4 (s = -1).
 * The other half of the pair gets bin 0 (a derivative is positive or negative, not both), which
 * the histogram pass adds implicitly, so it touches 4 bytes per pixel and channel instead of 8
 * and skips the flat pixels (bin 0 in both halves) entirely.
 *
 * Orientations follow the release's Image2OrientedGradients: the positive and negative halves of
 * the first Gaussian derivative along y, the 45-degree diagonal, x and the 135-degree diagonal
 * (orientation order y, xy, x, yx, -y, -xy, -x, -yx). The diagonal derivatives are steered from
 * the x and y ones (the first derivative of an isotropic Gaussian is steerable:
 * d/d(theta) = cos(theta) d/dx + sin(theta) d/dy), the same numbers the release's anigauss filter
 * computes at 45 and 135 degrees.
 */
export interface TextureBins {
  channels: number;
  bins: Int8Array;
}

export function textureBins(colour: ColourPlanes): TextureBins {
  const { width, height, channels, planes } = colour;
  const n = width * height;
  const bins = new Int8Array(n * channels * TEXTURE_DIRECTIONS);
  const { smooth, deriv, radius } = gaussianDerivativeKernels(TEXTURE_SIGMA);
  // Half kernels: smooth is even, deriv odd, so each tap pair costs one multiply.
  const ks = new Float32Array(radius + 1);
  const kd = new Float32Array(radius + 1);
  for (let i = 0; i <= radius; i++) {
    ks[i] = smooth[radius + i];
    kd[i] = deriv[radius + i];
  }
  const gx = new Float32Array(n);
  const gy = new Float32Array(n);
  const rowS = new Float32Array(n);
  const rowD = new Float32Array(n);
  const plane = new Float32Array(n);
  const toBin = (TEXTURE_BINS - 1) / TEXTURE_MAX_GRADIENT;
  const diag = Math.SQRT1_2;
  const top = TEXTURE_BINS - 1;
  const stride = channels * TEXTURE_DIRECTIONS;
  for (let c = 0; c < channels; c++) {
    // Intensities on 0..1, as the release's im2double.
    for (let p = 0, o = c * n; p < n; p++) plane[p] = planes[o + p] * (1 / 255);
    rowPass(plane, width, height, ks, kd, rowS, rowD);
    // d/dx = deriv along x then smooth along y; d/dy = smooth along x then deriv along y.
    colPass(rowD, rowS, width, height, ks, kd, gx, gy);
    for (let p = 0; p < n; p++) {
      const dx = gx[p];
      const dy = gy[p];
      const d45 = diag * (dx + dy);
      const d135 = diag * (dy - dx);
      // Signed bin: round(|v| * 9 / 0.43) capped at 9, with the sign of v.
      let by = (dy * toBin + (dy > 0 ? 0.5 : -0.5)) | 0;
      let b45 = (d45 * toBin + (d45 > 0 ? 0.5 : -0.5)) | 0;
      let bx = (dx * toBin + (dx > 0 ? 0.5 : -0.5)) | 0;
      let b135 = (d135 * toBin + (d135 > 0 ? 0.5 : -0.5)) | 0;
      const o = p * stride + c * TEXTURE_DIRECTIONS;
      bins[o] = by > top ? top : by < -top ? -top : by;
      bins[o + 1] = b45 > top ? top : b45 < -top ? -top : b45;
      bins[o + 2] = bx > top ? top : bx < -top ? -top : bx;
      bins[o + 3] = b135 > top ? top : b135 < -top ? -top : b135;
    }
  }
  return { channels, bins };
}

/** Rows correlated with the even half-kernel ks (-> s) and the odd half-kernel kd (-> d); borders replicated. */
function rowPass(src: Float32Array, width: number, height: number, ks: Float32Array, kd: Float32Array, s: Float32Array, d: Float32Array): void {
  const r = ks.length - 1;
  const wm1 = width - 1;
  const lo = Math.min(r, width);
  const hi = Math.max(lo, width - r);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (x === lo) x = hi;
      if (x >= width) break;
      let a = ks[0] * src[row + x];
      let b = 0;
      for (let i = 1; i <= r; i++) {
        const l = src[row + (x - i < 0 ? 0 : x - i)];
        const h = src[row + (x + i > wm1 ? wm1 : x + i)];
        a += ks[i] * (l + h);
        b += kd[i] * (h - l);
      }
      s[row + x] = a;
      d[row + x] = b;
    }
    for (let x = lo; x < hi; x++) {
      const q = row + x;
      let a = ks[0] * src[q];
      let b = 0;
      for (let i = 1; i <= r; i++) {
        const l = src[q - i];
        const h = src[q + i];
        a += ks[i] * (l + h);
        b += kd[i] * (h - l);
      }
      s[q] = a;
      d[q] = b;
    }
  }
}

/** Columns: gx = rowD smoothed along y, gy = rowS differentiated along y; borders replicated, row by row. */
function colPass(rowD: Float32Array, rowS: Float32Array, width: number, height: number, ks: Float32Array, kd: Float32Array, gx: Float32Array, gy: Float32Array): void {
  const r = ks.length - 1;
  const hm1 = height - 1;
  for (let y = 0; y < height; y++) {
    const o = y * width;
    const k0 = ks[0];
    for (let x = 0; x < width; x++) {
      gx[o + x] = k0 * rowD[o + x];
      gy[o + x] = 0;
    }
    for (let i = 1; i <= r; i++) {
      const up = (y - i < 0 ? 0 : y - i) * width;
      const dn = (y + i > hm1 ? hm1 : y + i) * width;
      const a = ks[i];
      const b = kd[i];
      for (let x = 0; x < width; x++) {
        gx[o + x] += a * (rowD[up + x] + rowD[dn + x]);
        gy[o + x] += b * (rowS[dn + x] - rowS[up + x]);
      }
    }
  }
}

/**
 * Sampled Gaussian (sum 1) and first-derivative-of-Gaussian kernels over [-4 sigma, 4 sigma]. The
 * derivative is scaled so a unit ramp gives exactly 1 (sum of -i * d[i] = 1), i.e. it measures
 * intensity change per pixel like the continuous derivative.
 */
export function gaussianDerivativeKernels(sigma: number): { smooth: Float32Array; deriv: Float32Array; radius: number } {
  const radius = Math.max(1, Math.ceil(4 * sigma));
  const size = 2 * radius + 1;
  const smooth = new Float32Array(size);
  const deriv = new Float32Array(size);
  let s = 0;
  for (let i = -radius; i <= radius; i++) s += Math.exp((-i * i) / (2 * sigma * sigma));
  let m = 0;
  for (let i = -radius; i <= radius; i++) {
    const g = Math.exp((-i * i) / (2 * sigma * sigma)) / s;
    smooth[i + radius] = g;
    m += i * i * g;
  }
  // Correlation kernel: response(x) = sum_i deriv[i + r] * f(x + i); for f(x) = x it is sum_i i * deriv = 1.
  for (let i = -radius; i <= radius; i++) deriv[i + radius] = (i * smooth[i + radius]) / m;
  return { smooth, deriv, radius };
}

/** Features of the n base segments, laid out for a hierarchy of up to 2n - 1 regions. */
export interface RegionFeatures {
  /** n: number of base segments. */
  count: number;
  imageSize: number;
  /** Pixel counts (n). */
  sizes: Float64Array;
  /** Bounding boxes (4n), continuous convention [x1, y1, x2, y2), in pixels. */
  boxes: Float32Array;
  /** Colour histogram length per region (channels * 25) and the n histograms, L1-normalised. */
  colourLength: number;
  colourHist: Float32Array;
  /** Texture histogram length per region (channels * 8 * 10) and the n histograms, L1-normalised. */
  textureLength: number;
  textureHist: Float32Array;
  /** Region adjacency graph (8-connected pixel adjacency), CSR: neighbours of r at adjIndex[adjStart[r] .. adjStart[r + 1]). */
  adjStart: Int32Array;
  adjIndex: Int32Array;
}

/**
 * Sizes, boxes and adjacency of a segmentation, plus the colour histograms when `colour` is given
 * and the texture histograms when `texture` (from textureBins) is given.
 */
export function regionFeatures(seg: Segmentation, colour: ColourPlanes | null, texture: TextureBins | null): RegionFeatures {
  const geo = regionGeometry(seg);
  const c = colour ? colourHistograms(seg, colour, geo.sizes) : { length: 0, hist: new Float32Array(0) };
  const t = texture ? textureHistograms(seg, texture, geo.sizes) : { length: 0, hist: new Float32Array(0) };
  return { ...geo, colourLength: c.length, colourHist: c.hist, textureLength: t.length, textureHist: t.hist };
}

export type RegionGeometry = Pick<RegionFeatures, 'count' | 'imageSize' | 'sizes' | 'boxes' | 'adjStart' | 'adjIndex'>;

/** Pixel counts, bounding boxes and adjacency of the segments. */
export function regionGeometry(seg: Segmentation): RegionGeometry {
  const { width, height, labels, count } = seg;
  const sizes = new Float64Array(count);
  const boxes = new Float32Array(4 * count);
  for (let r = 0; r < count; r++) {
    boxes[4 * r] = width;
    boxes[4 * r + 1] = height;
    boxes[4 * r + 2] = 0;
    boxes[4 * r + 3] = 0;
  }
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      const l = labels[p];
      sizes[l]++;
      const b = 4 * l;
      if (x < boxes[b]) boxes[b] = x;
      if (y < boxes[b + 1]) boxes[b + 1] = y;
      if (x + 1 > boxes[b + 2]) boxes[b + 2] = x + 1;
      if (y + 1 > boxes[b + 3]) boxes[b + 3] = y + 1;
    }
  }
  const { adjStart, adjIndex } = regionAdjacency(seg);
  return { count, imageSize: width * height, sizes, boxes, adjStart, adjIndex };
}

/** Colour histograms (channels x 25 bins per segment), L1-normalised. */
export function colourHistograms(seg: Segmentation, colour: ColourPlanes, sizes: Float64Array): { length: number; hist: Float32Array } {
  const { labels, count } = seg;
  const n = labels.length;
  const ch = colour.channels;
  const length = ch * COLOUR_BINS;
  const hist = new Float32Array(count * length);
  const planes = colour.planes;
  const lut = COLOUR_BIN_OF;
  for (let c = 0; c < ch; c++) {
    const base = c * n;
    const off = c * COLOUR_BINS;
    for (let p = 0; p < n; p++) hist[labels[p] * length + off + lut[planes[base + p]]]++;
  }
  normaliseRows(hist, length, sizes, ch);
  return { length, hist };
}

/** Texture histograms (channels x 8 orientations x 10 bins per segment), L1-normalised. */
export function textureHistograms(seg: Segmentation, texture: TextureBins, sizes: Float64Array): { length: number; hist: Float32Array } {
  const { labels, count } = seg;
  const n = labels.length;
  const { channels, bins } = texture;
  const stride = channels * TEXTURE_DIRECTIONS;
  const length = channels * TEXTURE_ORIENTATIONS * TEXTURE_BINS;
  const hist = new Float32Array(count * length);
  // Histogram offset of the positive and the negative half of each (channel, direction).
  const posOff = new Int32Array(stride);
  const negOff = new Int32Array(stride);
  for (let c = 0; c < channels; c++) {
    for (let d = 0; d < TEXTURE_DIRECTIONS; d++) {
      posOff[c * TEXTURE_DIRECTIONS + d] = (c * TEXTURE_ORIENTATIONS + d) * TEXTURE_BINS;
      negOff[c * TEXTURE_DIRECTIONS + d] = (c * TEXTURE_ORIENTATIONS + d + TEXTURE_DIRECTIONS) * TEXTURE_BINS;
    }
  }
  for (let p = 0; p < n; p++) {
    const row = labels[p] * length;
    const o = p * stride;
    for (let j = 0; j < stride; j++) {
      const b = bins[o + j];
      if (b > 0) hist[row + posOff[j] + b]++;
      else if (b < 0) hist[row + negOff[j] - b]++;
    }
  }
  // Bin 0 of every orientation: the pixels of the region not counted in bins 1..9.
  for (let r = 0; r < count; r++) {
    const size = sizes[r];
    for (let h = 0; h < channels * TEXTURE_ORIENTATIONS; h++) {
      const o = r * length + h * TEXTURE_BINS;
      let s = 0;
      for (let b = 1; b < TEXTURE_BINS; b++) s += hist[o + b];
      hist[o] = size - s;
    }
  }
  normaliseRows(hist, length, sizes, channels * TEXTURE_ORIENTATIONS);
  return { length, hist };
}

/** Each region's counts sum to size * entriesPerPixel; dividing makes every row sum to 1 (NormalizeRows). */
function normaliseRows(hist: Float32Array, len: number, sizes: Float64Array, entriesPerPixel: number): void {
  for (let r = 0; r < sizes.length; r++) {
    const inv = 1 / (sizes[r] * entriesPerPixel);
    const o = r * len;
    for (let i = 0; i < len; i++) hist[o + i] *= inv;
  }
}

/**
 * Pairs of segments that touch (8-connected, like the segmentation graph), as a symmetric CSR
 * adjacency. Unique pairs are collected in an open-addressing hash set: boundary pixels repeat
 * each pair many times, while the number of distinct pairs is only a few per segment.
 */
export function regionAdjacency(seg: Segmentation): { adjStart: Int32Array; adjIndex: Int32Array; pairs: Int32Array } {
  const { width, height, labels, count } = seg;
  const set = new PairSet(16 * count);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const p = row + x;
      const l = labels[p];
      if (x + 1 < width) {
        const r = labels[p + 1];
        if (r !== l) set.add(l, r);
      }
      if (y + 1 < height) {
        const d = labels[p + width];
        if (d !== l) set.add(l, d);
        if (x + 1 < width) {
          const dr = labels[p + width + 1];
          if (dr !== l) set.add(l, dr);
        }
        if (x > 0) {
          const dl = labels[p + width - 1];
          if (dl !== l) set.add(l, dl);
        }
      }
    }
  }
  const used = set.size;
  const pairs = new Int32Array(2 * used);
  const adjStart = new Int32Array(count + 1);
  let k = 0;
  const { keyA, keyB } = set;
  for (let i = 0; i < keyA.length; i++) {
    if (keyA[i] === -1) continue;
    pairs[k++] = keyA[i];
    pairs[k++] = keyB[i];
    adjStart[keyA[i] + 1]++;
    adjStart[keyB[i] + 1]++;
  }
  for (let r = 0; r < count; r++) adjStart[r + 1] += adjStart[r];
  const fill = adjStart.slice(0, count);
  const adjIndex = new Int32Array(2 * used);
  for (let i = 0; i < used; i++) {
    const a = pairs[2 * i], b = pairs[2 * i + 1];
    adjIndex[fill[a]++] = b;
    adjIndex[fill[b]++] = a;
  }
  // Sort each neighbour list so the adjacency (and thus the grouping) does not depend on hash order.
  for (let r = 0; r < count; r++) {
    const s = adjStart[r], e = adjStart[r + 1];
    if (e - s > 1) adjIndex.subarray(s, e).sort();
  }
  return { adjStart, adjIndex, pairs };
}

/** Open-addressing hash set of unordered (a, b) integer pairs, stored as (min, max). */
class PairSet {
  keyA: Int32Array;
  keyB: Int32Array;
  mask: number;
  size = 0;
  constructor(expected: number) {
    let cap = 1024;
    while (cap < expected) cap <<= 1;
    this.keyA = new Int32Array(cap).fill(-1);
    this.keyB = new Int32Array(cap);
    this.mask = cap - 1;
  }

  add(a: number, b: number): void {
    const lo = a < b ? a : b;
    const hi = a < b ? b : a;
    const keyA = this.keyA, keyB = this.keyB, mask = this.mask;
    let h = (Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi, 0x85ebca6b)) & mask;
    while (keyA[h] !== -1) {
      if (keyA[h] === lo && keyB[h] === hi) return;
      h = (h + 1) & mask;
    }
    keyA[h] = lo;
    keyB[h] = hi;
    if (++this.size * 2 > keyA.length) this.grow();
  }

  /** Double the table (rare: only highly fragmented segmentations outgrow 16 slots per segment). */
  private grow(): void {
    const oa = this.keyA, ob = this.keyB;
    const cap = oa.length * 2;
    const mask = cap - 1;
    const keyA = new Int32Array(cap).fill(-1);
    const keyB = new Int32Array(cap);
    for (let i = 0; i < oa.length; i++) {
      if (oa[i] === -1) continue;
      let g = (Math.imul(oa[i], 0x9e3779b1) ^ Math.imul(ob[i], 0x85ebca6b)) & mask;
      while (keyA[g] !== -1) g = (g + 1) & mask;
      keyA[g] = oa[i];
      keyB[g] = ob[i];
    }
    this.keyA = keyA;
    this.keyB = keyB;
    this.mask = mask;
  }
}
