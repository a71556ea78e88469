/**
 * R-CNN's warp (docs/algorithm.md section 2) on the CPU, straight into a training batch: the
 * fine-tuning loop samples 128 windows from up to 128 different images per iteration, as Caffe's
 * window data layer does, so a batched GPU op per image would be dominated by per-call overhead.
 * Same sampling as warp.ts / cpuReference.refWarp (continuous coordinates, bilinear between pixel
 * centres, the border pixel held in the half pixel next to the edge, the mean outside the image),
 * plus the window layer's augmentation: horizontal mirror and a small colour jitter, and optionally
 * a photometric colour transform (hue rotation, saturation, brightness) as a 3x3 matrix on RGB and
 * a Gaussian blur of the crop.
 */
import type { RgbImage } from '../../core/image/raster';
import { FINE_TUNE_RECIPE } from './recipe';

const AUGMENT = FINE_TUNE_RECIPE.augment;

export interface WarpAugment {
  /** Mirror the crop left-right (Caffe window layer: mirror: true). */
  flip?: boolean;
  /** Multiplies pixel values (mean-subtracted) per channel in BGR order, e.g. [1.05, 0.97, 1]. */
  channelGain?: [number, number, number];
  /** Added to every channel after the gain (brightness shift). */
  offset?: number;
  /** Row-major 3x3 matrix applied to the sampled RGB (0-255) before the mean is subtracted. */
  rgbMatrix?: ArrayLike<number>;
  /** Gaussian blur of the whole crop (after the mean fill), sigma in output pixels; 0: none. */
  blurSigma?: number;
}

/** Radius of the blur kernel (9 taps: sigma up to 2 px keeps > 95 % of the weight). */
export const BLUR_RADIUS = AUGMENT.blurRadius;

/** `--augment colour`'s ranges, each drawn uniformly per training window. */
export const COLOUR_AUGMENT = AUGMENT.colour;

/** One random draw of `--augment colour` (hue, then saturation, then brightness from `rand`). */
export function randomColourMatrix(rand: () => number): Float32Array {
  const { hueDegrees, saturation: s, brightness: b } = COLOUR_AUGMENT;
  return colourMatrix(hueDegrees * (2 * rand() - 1), s[0] + (s[1] - s[0]) * rand(), b[0] + (b[1] - b[0]) * rand());
}

/**
 * One training window's augmentation, drawn from `rand` in a fixed order: mirror, the three
 * channel gains (1 +- gainJitter), the brightness offset (+-8), the colour matrix (`colour` only),
 * then, only when blur > 0, whether to blur (probability `blur`) and sigma (uniform in [0, 2) px).
 */
export function randomAugment(rand: () => number, mode: 'window' | 'colour', gainJitter: number = AUGMENT.gainJitter, blur = 0): WarpAugment {
  const g = () => 1 - gainJitter + 2 * gainJitter * rand();
  const aug: WarpAugment = {
    flip: rand() < AUGMENT.mirror,
    channelGain: [g(), g(), g()],
    offset: (rand() - 0.5) * 2 * AUGMENT.offset,
    rgbMatrix: mode === 'colour' ? randomColourMatrix(rand) : undefined,
  };
  if (blur > 0) {
    const on = rand() < blur;
    const sigma = AUGMENT.blurMaxSigma * rand();
    if (on) aug.blurSigma = sigma;
  }
  return aug;
}

/**
 * The photometric transform of `--augment colour`: rotate hue by `hueDegrees` about the grey axis,
 * scale saturation towards Rec. 601 luma by `saturation` and everything by `brightness`; returned as
 * a row-major 3x3 matrix on RGB. Identity for (0, 1, 1).
 */
export function colourMatrix(hueDegrees: number, saturation: number, brightness: number): Float32Array {
  const a = (hueDegrees * Math.PI) / 180;
  const c = Math.cos(a), s = Math.sin(a) / Math.sqrt(3), t = (1 - c) / 3;
  const hue = [c + t, t - s, t + s, t + s, c + t, t - s, t - s, t + s, c + t];
  const luma = [0.299, 0.587, 0.114];
  const m = new Float32Array(9);
  for (let r = 0; r < 3; r++)
    for (let k = 0; k < 3; k++) {
      let v = 0;
      for (let j = 0; j < 3; j++) v += (saturation * (r === j ? 1 : 0) + (1 - saturation) * luma[j]) * hue[3 * j + k];
      m[3 * r + k] = brightness * v;
    }
  return m;
}

// Per-axis sampling tables, reused between calls.
let tabSize = 0;
let xi0 = new Int32Array(0), xi1 = new Int32Array(0), xw = new Float32Array(0), xin = new Uint8Array(0);
let yi0 = new Int32Array(0), yi1 = new Int32Array(0), yw = new Float32Array(0), yin = new Uint8Array(0);

// Source rows already interpolated along x for the current box (rowA holds row rowAIndex, rowB
// rowBIndex; -1: none), float64 like the arithmetic they replace.
let rowA = new Float64Array(0), rowB = new Float64Array(0);

function ensureTables(size: number): void {
  if (size === tabSize) return;
  tabSize = size;
  xi0 = new Int32Array(size); xi1 = new Int32Array(size); xw = new Float32Array(size); xin = new Uint8Array(size);
  yi0 = new Int32Array(size); yi1 = new Int32Array(size); yw = new Float32Array(size); yin = new Uint8Array(size);
  rowA = new Float64Array(3 * size); rowB = new Float64Array(3 * size);
}

/** Source row `y` of `d` (width W) sampled at the output columns: (d[x0] * (1 - a) + d[x1] * a) per channel. */
function interpolateRow(d: Uint8Array, W: number, y: number, size: number, into: Float64Array): void {
  const r = 3 * y * W;
  for (let u = 0; u < size; u++) {
    const ax = xw[u], bx = 1 - ax;
    const p0 = r + 3 * xi0[u], p1 = r + 3 * xi1[u];
    into[3 * u] = d[p0] * bx + d[p1] * ax;
    into[3 * u + 1] = d[p0 + 1] * bx + d[p1 + 1] * ax;
    into[3 * u + 2] = d[p0 + 2] * bx + d[p1 + 2] * ax;
  }
}

function axis(lo: number, len: number, n: number, size: number, i0: Int32Array, i1: Int32Array, w: Float32Array, inside: Uint8Array): void {
  for (let u = 0; u < size; u++) {
    const p = lo + ((u + 0.5) * len) / size;
    inside[u] = p >= 0 && p <= n ? 1 : 0;
    const f = Math.min(Math.max(p - 0.5, 0), n - 1);
    const a = Math.floor(f);
    i0[u] = a;
    i1[u] = Math.min(a + 1, n - 1);
    w[u] = f - a;
  }
}

/**
 * Warps one box of `img` (continuous pixel box in img's pixels) into out[offset ..] as
 * size x size x 3 NHWC floats, BGR, mean-subtracted (mean given in BGR).
 */
export function warpBoxInto(
  img: RgbImage,
  box: ArrayLike<number>,
  meanBgr: readonly [number, number, number],
  out: Float32Array,
  offset: number,
  size = 227,
  padding: number = FINE_TUNE_RECIPE.warpPadding,
  aug: WarpAugment = {},
): void {
  ensureTables(size);
  const s = size / (size - 2 * padding);
  const cx = 0.5 * (box[0] + box[2]);
  const cy = 0.5 * (box[1] + box[3]);
  const w = (box[2] - box[0]) * s;
  const h = (box[3] - box[1]) * s;
  axis(cx - w / 2, w, img.width, size, xi0, xi1, xw, xin);
  axis(cy - h / 2, h, img.height, size, yi0, yi1, yw, yin);
  const W = img.width;
  const d = img.data as Uint8Array;
  const g0 = aug.channelGain?.[0] ?? 1, g1 = aug.channelGain?.[1] ?? 1, g2 = aug.channelGain?.[2] ?? 1;
  const off = aug.offset ?? 0;
  const mB = meanBgr[0], mG = meanBgr[1], mR = meanBgr[2];
  const flip = aug.flip ?? false;
  const M = aug.rgbMatrix;
  // A box shorter than the crop (enlarged: consecutive output rows sample the same two source
  // rows) is warped separably: each source row it needs is interpolated along x once, then output
  // rows blend two of them. The same products in the same order as blending the four pixels
  // directly, so identical values; 2.7x faster on a 40 px box, but slower than the direct form
  // once every output row needs new source rows (boxes of ~120 px and more), which keep it.
  const separable = h < 0.75 * size;
  let rowAIndex = -1, rowBIndex = -1;
  for (let v = 0; v < size; v++) {
    const rowOut = offset + v * size * 3;
    if (!yin[v]) {
      out.fill(0, rowOut, rowOut + size * 3);
      continue;
    }
    const y0 = yi0[v], y1 = yi1[v];
    if (separable) {
      // Keep whichever cached row is still needed; interpolate the other.
      if (rowAIndex !== y0 && rowBIndex === y0) {
        const t = rowA; rowA = rowB; rowB = t;
        rowBIndex = rowAIndex;
        rowAIndex = y0;
      } else if (rowAIndex !== y0) {
        interpolateRow(d, W, y0, size, rowA);
        rowAIndex = y0;
      }
      if (rowBIndex !== y1) {
        interpolateRow(d, W, y1, size, rowB);
        rowBIndex = y1;
      }
    }
    const ay = yw[v], by = 1 - ay;
    const h0 = rowA, h1 = rowB;
    const r0 = 3 * y0 * W, r1 = 3 * y1 * W;
    for (let u = 0; u < size; u++) {
      const o = rowOut + 3 * (flip ? size - 1 - u : u);
      if (!xin[u]) {
        out[o] = 0; out[o + 1] = 0; out[o + 2] = 0;
        continue;
      }
      let R: number, G: number, B: number;
      if (separable) {
        const q = 3 * u;
        R = h0[q] * by + h1[q] * ay;
        G = h0[q + 1] * by + h1[q + 1] * ay;
        B = h0[q + 2] * by + h1[q + 2] * ay;
      } else {
        const ax = xw[u], bx = 1 - ax;
        const c0 = 3 * xi0[u], c1 = 3 * xi1[u];
        const p00 = r0 + c0, p01 = r0 + c1, p10 = r1 + c0, p11 = r1 + c1;
        R = (d[p00] * bx + d[p01] * ax) * by + (d[p10] * bx + d[p11] * ax) * ay;
        G = (d[p00 + 1] * bx + d[p01 + 1] * ax) * by + (d[p10 + 1] * bx + d[p11 + 1] * ax) * ay;
        B = (d[p00 + 2] * bx + d[p01 + 2] * ax) * by + (d[p10 + 2] * bx + d[p11 + 2] * ax) * ay;
      }
      if (M) {
        const r = R, g = G, b = B;
        R = Math.min(255, Math.max(0, M[0] * r + M[1] * g + M[2] * b));
        G = Math.min(255, Math.max(0, M[3] * r + M[4] * g + M[5] * b));
        B = Math.min(255, Math.max(0, M[6] * r + M[7] * g + M[8] * b));
      }
      out[o] = (B - mB) * g0 + off;
      out[o + 1] = (G - mG) * g1 + off;
      out[o + 2] = (R - mR) * g2 + off;
    }
  }
  if (aug.blurSigma && aug.blurSigma > 0) blurCropInPlace(out, offset, size, aug.blurSigma);
}

let blurTmp = new Float32Array(0);

/**
 * Separable Gaussian blur (radius BLUR_RADIUS, edge pixels repeated) of one size x size x 3 crop
 * stored at out[offset ..]. Symmetric, so it commutes with the mirror.
 */
export function blurCropInPlace(out: Float32Array, offset: number, size: number, sigma: number): void {
  const R = BLUR_RADIUS;
  const k = new Float32Array(2 * R + 1);
  let sum = 0;
  for (let t = -R; t <= R; t++) sum += k[t + R] = Math.exp(-0.5 * (t / sigma) ** 2);
  for (let t = 0; t < k.length; t++) k[t] /= sum;
  const n = size * size * 3;
  if (blurTmp.length < n) blurTmp = new Float32Array(n);
  const tmp = blurTmp;
  const clamp = (i: number) => (i < 0 ? 0 : i >= size ? size - 1 : i);
  // Rows: out -> tmp.
  for (let v = 0; v < size; v++) {
    const row = offset + v * size * 3;
    for (let u = 0; u < size; u++)
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let t = -R; t <= R; t++) acc += k[t + R] * out[row + 3 * clamp(u + t) + c];
        tmp[v * size * 3 + 3 * u + c] = acc;
      }
  }
  // Columns: tmp -> out.
  for (let v = 0; v < size; v++)
    for (let u = 0; u < size; u++)
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let t = -R; t <= R; t++) acc += k[t + R] * tmp[clamp(v + t) * size * 3 + 3 * u + c];
        out[offset + v * size * 3 + 3 * u + c] = acc;
      }
}
