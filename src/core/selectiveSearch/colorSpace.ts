import type { RgbImage } from '../image/raster';
import type { ColorSpace } from './types';

/**
 * An image in one of selective search's colour spaces, as 8-bit planar channels: channel c of
 * pixel p at planes[c * n + p]. The release converts to uint8 before segmenting and before the
 * histograms (Image2ColourSpace returns colourImUInt8 for segmentation and its /255 double for
 * the histograms), so 8-bit planes are the faithful representation, not a shortcut.
 */
export interface ColourPlanes {
  space: ColorSpace;
  width: number;
  height: number;
  channels: number;
  planes: Uint8Array;
  /**
   * Factor on edge weights. H and I are single channels that the release replicates 3 times, which
   * multiplies every Euclidean colour distance by sqrt(3) and leaves the L1-normalised histograms
   * unchanged, so one channel with this factor gives identical results at a third of the cost.
   */
  edgeWeightScale: number;
}

/** MATLAB rgb2gray weights (Rec. 601 luma), as the release's 'Intensity' and rgI use. */
const GREY_R = 0.298936021293775;
const GREY_G = 0.587043074451121;
const GREY_B = 0.114020904255103;

export function convertColourSpace(img: RgbImage, space: ColorSpace): ColourPlanes {
  const n = img.width * img.height;
  const src = img.data;
  const single = space === 'H' || space === 'I';
  const channels = single ? 1 : 3;
  const planes = new Uint8Array(channels * n);
  const out: ColourPlanes = { space, width: img.width, height: img.height, channels, planes, edgeWeightScale: single ? Math.sqrt(3) : 1 };
  switch (space) {
    case 'RGB':
      for (let p = 0; p < n; p++) {
        planes[p] = src[3 * p];
        planes[n + p] = src[3 * p + 1];
        planes[2 * n + p] = src[3 * p + 2];
      }
      break;
    case 'HSV':
      for (let p = 0; p < n; p++) {
        const r = src[3 * p], g = src[3 * p + 1], b = src[3 * p + 2];
        planes[p] = hue8(r, g, b);
        const v = r > g ? (r > b ? r : b) : g > b ? g : b;
        const mn = r < g ? (r < b ? r : b) : g < b ? g : b;
        planes[n + p] = v === 0 ? 0 : Math.round(((v - mn) / v) * 255);
        planes[2 * n + p] = v;
      }
      break;
    case 'H':
      for (let p = 0; p < n; p++) planes[p] = hue8(src[3 * p], src[3 * p + 1], src[3 * p + 2]);
      break;
    case 'I':
      for (let p = 0; p < n; p++) planes[p] = grey8(src[3 * p], src[3 * p + 1], src[3 * p + 2]);
      break;
    case 'Lab':
      rgbToLab8(src, n, planes);
      break;
    case 'rgI':
      rgbToRgI8(src, n, planes);
      break;
    default:
      throw new Error(`unknown colour space ${String(space)}`);
  }
  return out;
}

function grey8(r: number, g: number, b: number): number {
  return Math.round(GREY_R * r + GREY_G * g + GREY_B * b);
}

/** MATLAB rgb2hsv hue in [0, 1) scaled to 0..255 (im2uint8). Later branches win ties, as in rgb2hsv. */
function hue8(r: number, g: number, b: number): number {
  const v = r > g ? (r > b ? r : b) : g > b ? g : b;
  const mn = r < g ? (r < b ? r : b) : g < b ? g : b;
  const d = v - mn;
  if (d === 0) return 0;
  let h: number;
  if (b === v) h = 4 + (r - g) / d;
  else if (g === v) h = 2 + (b - r) / d;
  else h = (g - b) / d;
  h /= 6;
  if (h < 0) h += 1;
  return Math.round(h * 255);
}

let srgbToLinear: Float64Array | null = null;

/**
 * sRGB (D65) to CIE L*a*b*, 8-bit ICC encoding (L * 255 / 100, a + 128, b + 128), which is what
 * MATLAB's applycform(uint8, makecform('srgb2lab')) and OpenCV's COLOR_RGB2Lab return for uint8.
 * (MATLAB adapts to a D50 white; we keep D65 like OpenCV: the difference is a small shift of a/b.)
 */
function rgbToLab8(src: Uint8Array, n: number, planes: Uint8Array): void {
  if (!srgbToLinear) {
    srgbToLinear = new Float64Array(256);
    for (let i = 0; i < 256; i++) {
      const c = i / 255;
      srgbToLinear[i] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }
  }
  const lin = srgbToLinear;
  const eps = 216 / 24389;
  const kappa = 24389 / 27;
  for (let p = 0; p < n; p++) {
    const r = lin[src[3 * p]], g = lin[src[3 * p + 1]], b = lin[src[3 * p + 2]];
    // XYZ relative to the D65 white (Xn = 0.95047, Zn = 1.08883).
    const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
    const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
    const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
    const fx = x > eps ? Math.cbrt(x) : (kappa * x + 16) / 116;
    const fy = y > eps ? Math.cbrt(y) : (kappa * y + 16) / 116;
    const fz = z > eps ? Math.cbrt(z) : (kappa * z + 16) / 116;
    const L = 116 * fy - 16;
    const A = 500 * (fx - fy);
    const B = 200 * (fy - fz);
    planes[p] = clamp8(Math.round((L * 255) / 100));
    planes[n + p] = clamp8(Math.round(A + 128));
    planes[2 * n + p] = clamp8(Math.round(B + 128));
  }
}

/**
 * The release's Rgb2Rgi: chromaticities r = R/(R+G+B) and g = G/(R+G+B) (1/3 for black), each
 * min-max stretched over the image (NormalizeArray), and grey intensity as the third channel.
 */
function rgbToRgI8(src: Uint8Array, n: number, planes: Uint8Array): void {
  const rc = new Float32Array(n);
  const gc = new Float32Array(n);
  let rMin = Infinity, rMax = -Infinity, gMin = Infinity, gMax = -Infinity;
  for (let p = 0; p < n; p++) {
    const R = src[3 * p], G = src[3 * p + 1], B = src[3 * p + 2];
    const sum = R + G + B;
    const r = sum === 0 ? 1 / 3 : R / sum;
    const g = sum === 0 ? 1 / 3 : G / sum;
    rc[p] = r;
    gc[p] = g;
    if (r < rMin) rMin = r;
    if (r > rMax) rMax = r;
    if (g < gMin) gMin = g;
    if (g > gMax) gMax = g;
    planes[2 * n + p] = grey8(R, G, B);
  }
  // A constant chromaticity (e.g. a grey image) has no range: MATLAB would produce NaN -> 0.
  const rs = rMax > rMin ? 255 / (rMax - rMin) : 0;
  const gs = gMax > gMin ? 255 / (gMax - gMin) : 0;
  for (let p = 0; p < n; p++) {
    planes[p] = Math.round((rc[p] - rMin) * rs);
    planes[n + p] = Math.round((gc[p] - gMin) * gs);
  }
}

function clamp8(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}
