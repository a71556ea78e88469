/**
 * Pure pixel helpers of the CNN-features panel: channel statistics and colour-mapped activation
 * maps, conv1 filters as RGB tiles, the fc7 strip, and the PCA scatter's geometry. No React here,
 * so each is unit-tested against hand-computed cases.
 */
import { sequential } from '../../palette';

/** Per-channel means and the layer's maximum of one crop's activations (C x H x W, Caffe order). */
export interface ChannelStats {
  means: Float32Array;
  maxes: Float32Array;
  /** Channels by mean activation, strongest first (ties by index). */
  order: Int32Array;
  /** Largest activation over all channels: the top of the shared colour scale. */
  max: number;
  /** Smallest value (0 after a ReLU; pool5 and norm layers too). */
  min: number;
}

export function channelStats(data: Float32Array, C: number, H: number, W: number): ChannelStats {
  const hw = H * W;
  const means = new Float32Array(C);
  const maxes = new Float32Array(C);
  let max = -Infinity, min = Infinity;
  for (let c = 0; c < C; c++) {
    let s = 0, m = -Infinity;
    const o = c * hw;
    for (let i = 0; i < hw; i++) {
      const v = data[o + i];
      s += v;
      if (v > m) m = v;
      if (v < min) min = v;
    }
    means[c] = s / hw;
    maxes[c] = m;
    if (m > max) max = m;
  }
  const order = Int32Array.from({ length: C }, (_, i) => i).sort((a, b) => means[b] - means[a] || a - b);
  return { means, maxes, order, max: C ? max : 0, min: C ? min : 0 };
}

/** One channel as RGBA through viridis, with a colour scale shared by the layer ([lo, hi]). */
export function channelRgba(data: Float32Array, c: number, H: number, W: number, lo: number, hi: number, out = new Uint8ClampedArray(4 * H * W)): Uint8ClampedArray {
  const hw = H * W;
  const o = c * hw;
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < hw; i++) {
    const [r, g, b] = sequential((data[o + i] - lo) / span);
    out[4 * i] = r;
    out[4 * i + 1] = g;
    out[4 * i + 2] = b;
    out[4 * i + 3] = 255;
  }
  return out;
}

/**
 * conv1 filter f as an RGB tile from the canonical HWIO weight [kh, kw, cin, F]. The network
 * reads BGR (Caffe), so input channel 0 is blue: RGB = (w[.., 2], w[.., 1], w[.., 0]). Each
 * filter is scaled on its own so that 0 is mid-grey and its largest |weight| reaches 0 or 255.
 */
export function filterRgba(w: Float32Array, kh: number, kw: number, cin: number, F: number, f: number, bgr = true, out = new Uint8ClampedArray(4 * kh * kw)): Uint8ClampedArray {
  let m = 0;
  for (let p = 0; p < kh * kw; p++) for (let ch = 0; ch < cin; ch++) m = Math.max(m, Math.abs(w[(p * cin + ch) * F + f]));
  const s = m > 0 ? 127.5 / m : 0;
  for (let p = 0; p < kh * kw; p++) {
    for (let k = 0; k < 3; k++) {
      const ch = cin === 1 ? 0 : bgr ? 2 - k : k;
      out[4 * p + k] = Math.round(127.5 + s * w[(p * cin + ch) * F + f]);
    }
    out[4 * p + 3] = 255;
  }
  return out;
}

/** A vector as a 1 x D RGBA strip through viridis on [0, max] (fc7 is after its ReLU). */
export function stripRgba(values: ArrayLike<number>, max: number, out = new Uint8ClampedArray(4 * values.length)): Uint8ClampedArray {
  const s = max > 0 ? 1 / max : 0;
  for (let i = 0; i < values.length; i++) {
    const [r, g, b] = sequential(values[i] * s);
    out[4 * i] = r;
    out[4 * i + 1] = g;
    out[4 * i + 2] = b;
    out[4 * i + 3] = 255;
  }
  return out;
}

export interface VectorSummary {
  max: number;
  argmax: number;
  norm: number;
  /** Units above zero. */
  active: number;
  /** Indices of the largest values, descending. */
  top: number[];
}

export function summarizeVector(v: ArrayLike<number>, topK = 5): VectorSummary {
  let max = -Infinity, argmax = -1, sq = 0, active = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    sq += x * x;
    if (x > 0) active++;
    if (x > max) {
      max = x;
      argmax = i;
    }
  }
  const top = Array.from({ length: v.length }, (_, i) => i)
    .sort((a, b) => v[b] - v[a] || a - b)
    .slice(0, topK);
  return { max: v.length ? max : 0, argmax, norm: Math.sqrt(sq), active, top };
}

/** Data-to-canvas mapping of a scatter plot: equal scale on both axes, centred, with a margin. */
export interface ScatterFrame {
  scale: number;
  ox: number;
  oy: number;
}

export function scatterFrame(coords: Float32Array, width: number, height: number, margin = 10): ScatterFrame {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < coords.length; i += 2) {
    x0 = Math.min(x0, coords[i]);
    x1 = Math.max(x1, coords[i]);
    y0 = Math.min(y0, coords[i + 1]);
    y1 = Math.max(y1, coords[i + 1]);
  }
  if (!Number.isFinite(x0)) return { scale: 1, ox: width / 2, oy: height / 2 };
  const sx = (width - 2 * margin) / Math.max(1e-9, x1 - x0);
  const sy = (height - 2 * margin) / Math.max(1e-9, y1 - y0);
  const scale = Math.min(sx, sy);
  // Screen y grows downwards: PC2 up is -y.
  return { scale, ox: width / 2 - scale * 0.5 * (x0 + x1), oy: height / 2 + scale * 0.5 * (y0 + y1) };
}

export function toScreen(f: ScatterFrame, x: number, y: number): [number, number] {
  return [f.ox + f.scale * x, f.oy - f.scale * y];
}

/** The point nearest to (px, py) in screen pixels, or -1 when none is within `radius`. */
export function nearestPoint(coords: Float32Array, f: ScatterFrame, px: number, py: number, radius: number): number {
  let best = -1, bd = radius * radius;
  for (let i = 0; i < coords.length / 2; i++) {
    const [x, y] = toScreen(f, coords[2 * i], coords[2 * i + 1]);
    const d = (x - px) ** 2 + (y - py) ** 2;
    if (d <= bd) {
      bd = d;
      best = i;
    }
  }
  return best;
}

/** Top SVM class of proposal i, or -1 (background) when every score is below 0. */
export function topClass(scores: Float32Array, C: number, i: number): { cls: number; score: number } {
  let cls = -1, best = -Infinity;
  for (let c = 0; c < C; c++) {
    const s = scores[i * C + c];
    if (s > best) {
      best = s;
      cls = c;
    }
  }
  return { cls: best >= 0 ? cls : -1, score: best };
}
