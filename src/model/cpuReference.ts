/**
 * Direct, loop-by-loop CPU implementations of the CaffeNet layers in Caffe's own layout (NCHW,
 * float64 accumulation) and Caffe's own formulas. Slow and obvious on purpose: the tests check
 * the tfjs graph (which maps Caffe's numbers onto tfjs ops and layouts) against these.
 */
import type { LrnSpec, Pads4 } from './architecture';

export interface Nchw {
  n: number;
  c: number;
  h: number;
  w: number;
  data: Float64Array;
}

export function nchw(n: number, c: number, h: number, w: number, data?: ArrayLike<number>): Nchw {
  const t = { n, c, h, w, data: new Float64Array(n * c * h * w) };
  if (data) t.data.set(data);
  return t;
}

/**
 * Grouped convolution + optional ReLU. weight in ONNX/Caffe OIHW order [cout, cin/group, kh, kw].
 */
export function refConv(
  x: Nchw,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  cout: number,
  kernel: [number, number],
  stride: [number, number],
  pads: Pads4,
  group: number,
  relu = true,
): Nchw {
  const [kh, kw] = kernel;
  const oh = Math.floor((x.h + pads[0] + pads[2] - kh) / stride[0]) + 1;
  const ow = Math.floor((x.w + pads[1] + pads[3] - kw) / stride[1]) + 1;
  const y = nchw(x.n, cout, oh, ow);
  const cinG = x.c / group;
  const coutG = cout / group;
  for (let b = 0; b < x.n; b++) {
    for (let o = 0; o < cout; o++) {
      const g = Math.floor(o / coutG);
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let s = bias[o];
          for (let ci = 0; ci < cinG; ci++) {
            const cx = g * cinG + ci;
            for (let u = 0; u < kh; u++) {
              const yy = i * stride[0] + u - pads[0];
              if (yy < 0 || yy >= x.h) continue;
              for (let v = 0; v < kw; v++) {
                const xx = j * stride[1] + v - pads[1];
                if (xx < 0 || xx >= x.w) continue;
                s += x.data[((b * x.c + cx) * x.h + yy) * x.w + xx] * weight[((o * cinG + ci) * kh + u) * kw + v];
              }
            }
          }
          y.data[((b * cout + o) * oh + i) * ow + j] = relu && s < 0 ? 0 : s;
        }
      }
    }
  }
  return y;
}

/** Max pooling; padded positions never win (as Caffe, ONNX and tfjs). */
export function refMaxPool(x: Nchw, kernel: [number, number], stride: [number, number], pads: Pads4): Nchw {
  const oh = Math.floor((x.h + pads[0] + pads[2] - kernel[0]) / stride[0]) + 1;
  const ow = Math.floor((x.w + pads[1] + pads[3] - kernel[1]) / stride[1]) + 1;
  const y = nchw(x.n, x.c, oh, ow);
  for (let b = 0; b < x.n; b++) {
    for (let c = 0; c < x.c; c++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let m = -Infinity;
          for (let u = 0; u < kernel[0]; u++) {
            const yy = i * stride[0] + u - pads[0];
            if (yy < 0 || yy >= x.h) continue;
            for (let v = 0; v < kernel[1]; v++) {
              const xx = j * stride[1] + v - pads[1];
              if (xx < 0 || xx >= x.w) continue;
              m = Math.max(m, x.data[((b * x.c + c) * x.h + yy) * x.w + xx]);
            }
          }
          y.data[((b * x.c + c) * oh + i) * ow + j] = m;
        }
      }
    }
  }
  return y;
}

/**
 * Caffe's LRN, ACROSS_CHANNELS: y = x / (k + alpha / size * sum_{c' in window} x_{c'}^2) ^ beta,
 * window = channels [c - (size - 1) / 2, c + (size - 1) / 2] clipped to the valid range.
 */
export function refLrn(x: Nchw, s: LrnSpec): Nchw {
  const y = nchw(x.n, x.c, x.h, x.w);
  const half = (s.size - 1) / 2;
  const plane = x.h * x.w;
  for (let b = 0; b < x.n; b++) {
    for (let c = 0; c < x.c; c++) {
      for (let p = 0; p < plane; p++) {
        let sum = 0;
        for (let cc = Math.max(0, c - half); cc <= Math.min(x.c - 1, c + half); cc++) {
          const v = x.data[(b * x.c + cc) * plane + p];
          sum += v * v;
        }
        const i = (b * x.c + c) * plane + p;
        y.data[i] = x.data[i] / Math.pow(s.k + (s.alpha / s.size) * sum, s.beta);
      }
    }
  }
  return y;
}

/** Fully connected on the C,H,W-flattened input; weight [in, out] row-major. */
export function refFc(x: Nchw, weight: ArrayLike<number>, bias: ArrayLike<number>, out: number, relu: boolean): Nchw {
  const d = x.c * x.h * x.w;
  const y = nchw(x.n, out, 1, 1);
  for (let b = 0; b < x.n; b++) {
    for (let o = 0; o < out; o++) {
      let s = bias[o];
      for (let i = 0; i < d; i++) s += x.data[b * d + i] * weight[i * out + o];
      y.data[b * out + o] = relu && s < 0 ? 0 : s;
    }
  }
  return y;
}

/** HWIO [kh, kw, cin/g, cout] (our canonical layout) to OIHW [cout, cin/g, kh, kw]. */
export function hwioToOihw(w: ArrayLike<number>, shape: number[]): Float32Array {
  const [kh, kw, ci, co] = shape;
  const out = new Float32Array(w.length);
  for (let u = 0; u < kh; u++)
    for (let v = 0; v < kw; v++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + u) * kw + v] = w[((u * kw + v) * ci + i) * co + o];
  return out;
}

/** NHWC flat data to NCHW. */
export function nhwcToNchw(data: ArrayLike<number>, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k];
  return out;
}

/**
 * The parity metric of the tests: max over elements of |a - b| / max(|b|, floor * max|b|).
 * Each element is judged against its own magnitude, except elements smaller than 1% of the
 * layer's largest value, which are judged against that 1%: a value that a ReLU or a bias nearly
 * cancels is the difference of large float32 sums, and its own magnitude says nothing about the
 * accuracy of the computation (a float32 sum of n terms is exact only to ~n * 6e-8 of its terms).
 */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-2): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  const f = Math.max(floor * scale, 1e-30);
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), f));
  return m;
}

/**
 * R-CNN's warp written out per output pixel (docs/algorithm.md section 2), for the warp tests:
 * dilate about the centre by size / (size - 2 * padding); output pixel (u, v) samples the
 * continuous point X1 + (u + 0.5) * w / size (pixel i covers [i, i + 1)); bilinear between pixel
 * centres, edge pixels held in the half pixel next to the border; mean (0) outside [0, W] x [0, H].
 * Returns NHWC, BGR, mean-subtracted.
 */
export function refWarp(
  img: { width: number; height: number; data: Uint8Array },
  boxes: ArrayLike<number>,
  mean: [number, number, number],
  size = 227,
  padding = 16,
): Float32Array {
  const n = boxes.length >> 2;
  const out = new Float32Array(n * size * size * 3);
  const scale = size / (size - 2 * padding);
  const { width: W, height: H, data } = img;
  const px = (x: number, y: number, c: number) => data[3 * (y * W + x) + c];
  for (let b = 0; b < n; b++) {
    const cx = 0.5 * (boxes[4 * b] + boxes[4 * b + 2]);
    const cy = 0.5 * (boxes[4 * b + 1] + boxes[4 * b + 3]);
    const w = (boxes[4 * b + 2] - boxes[4 * b]) * scale;
    const h = (boxes[4 * b + 3] - boxes[4 * b + 1]) * scale;
    const x1 = cx - w / 2;
    const y1 = cy - h / 2;
    for (let v = 0; v < size; v++) {
      const y = y1 + ((v + 0.5) * h) / size;
      for (let u = 0; u < size; u++) {
        const x = x1 + ((u + 0.5) * w) / size;
        const o = ((b * size + v) * size + u) * 3;
        if (x < 0 || x > W || y < 0 || y > H) continue; // mean: 0 after subtraction
        const fx = Math.min(Math.max(x - 0.5, 0), W - 1);
        const fy = Math.min(Math.max(y - 0.5, 0), H - 1);
        const x0 = Math.floor(fx), y0 = Math.floor(fy);
        const x1i = Math.min(x0 + 1, W - 1), y1i = Math.min(y0 + 1, H - 1);
        const ax = fx - x0, ay = fy - y0;
        for (let k = 0; k < 3; k++) {
          const c = 2 - k; // BGR output from RGB input
          const top = px(x0, y0, c) * (1 - ax) + px(x1i, y0, c) * ax;
          const bot = px(x0, y1i, c) * (1 - ax) + px(x1i, y1i, c) * ax;
          out[o + k] = top * (1 - ay) + bot * ay - mean[k];
        }
      }
    }
  }
  return out;
}
