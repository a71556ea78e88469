import { type RgbImage, createRgbImage } from './raster';

/**
 * Deterministic resize used by every shell (browser, worker, Node), so that the app and the CLI
 * see exactly the same pixels. Shrinking averages the source area under each destination pixel
 * (box filter, i.e. anti-aliased, like MATLAB's imresize with antialiasing); enlarging is bilinear
 * with pixel-centre alignment.
 */
export function resizeRgb(src: RgbImage, dstW: number, dstH: number): RgbImage {
  dstW = Math.max(1, Math.round(dstW));
  dstH = Math.max(1, Math.round(dstH));
  if (dstW === src.width && dstH === src.height) {
    return { width: dstW, height: dstH, data: src.data.slice() };
  }
  // Separable: horizontal pass into float rows, then vertical.
  const tmp = new Float32Array(dstW * src.height * 3);
  const hx = axisWeights(src.width, dstW);
  for (let y = 0; y < src.height; y++) {
    const srow = y * src.width * 3;
    const drow = y * dstW * 3;
    for (let x = 0; x < dstW; x++) {
      let r = 0, g = 0, b = 0;
      for (let k = hx.start[x]; k < hx.start[x + 1]; k++) {
        const s = srow + 3 * hx.index[k];
        const w = hx.weight[k];
        r += src.data[s] * w;
        g += src.data[s + 1] * w;
        b += src.data[s + 2] * w;
      }
      tmp[drow + 3 * x] = r;
      tmp[drow + 3 * x + 1] = g;
      tmp[drow + 3 * x + 2] = b;
    }
  }
  const out = createRgbImage(dstW, dstH);
  const vy = axisWeights(src.height, dstH);
  const rowLen = dstW * 3;
  const acc = new Float32Array(rowLen);
  for (let y = 0; y < dstH; y++) {
    acc.fill(0);
    for (let k = vy.start[y]; k < vy.start[y + 1]; k++) {
      const s = vy.index[k] * rowLen;
      const w = vy.weight[k];
      for (let i = 0; i < rowLen; i++) acc[i] += tmp[s + i] * w;
    }
    const d = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      const v = Math.round(acc[i]);
      out.data[d + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

interface AxisWeights {
  start: Int32Array; // CSR offsets, length dst + 1
  index: Int32Array;
  weight: Float32Array;
}

function axisWeights(srcN: number, dstN: number): AxisWeights {
  const scale = srcN / dstN;
  const idx: number[] = [];
  const wts: number[] = [];
  const start = new Int32Array(dstN + 1);
  for (let i = 0; i < dstN; i++) {
    start[i] = idx.length;
    if (scale > 1) {
      // Area average over [i * scale, (i + 1) * scale).
      const a = i * scale;
      const b = Math.min(srcN, (i + 1) * scale);
      for (let s = Math.floor(a); s < b; s++) {
        const w = Math.min(b, s + 1) - Math.max(a, s);
        if (w > 1e-9) {
          idx.push(s);
          wts.push(w / (b - a));
        }
      }
    } else {
      // Bilinear, centres aligned: source coordinate of destination centre.
      const c = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), srcN - 1);
      const s0 = Math.floor(c);
      const s1 = Math.min(s0 + 1, srcN - 1);
      const f = c - s0;
      idx.push(s0);
      wts.push(1 - f);
      if (s1 !== s0 && f > 0) {
        idx.push(s1);
        wts.push(f);
      }
    }
  }
  start[dstN] = idx.length;
  return { start, index: Int32Array.from(idx), weight: Float32Array.from(wts) };
}

/** Size that fits within maxSide on the longer side, keeping the aspect ratio (never enlarges). */
export function fitWithin(width: number, height: number, maxSide: number): { width: number; height: number; scale: number } {
  const s = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)), scale: s };
}
