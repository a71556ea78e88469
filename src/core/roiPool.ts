/**
 * RoI max pooling as Fast R-CNN defines it (Girshick, ICCV 2015; docs/fast-rcnn.md), for the
 * shared-convolution path: the convolutional layers run once on the whole photo and each
 * proposal's features are max-pooled out of conv5 onto the fixed P x P grid fc6 expects (P = 6
 * for CaffeNet). The rules are those of rbgirshick/caffe-fast-rcnn's roi_pooling_layer.cpp
 * (Forward_cpu; the CUDA kernel computes the same), in Caffe's float32 arithmetic:
 *
 *   1. A RoI is [x1, y1, x2, y2] in the resized image's pixel indices, x2/y2 inclusive (the
 *      MATLAB convention Fast R-CNN's boxes use): our continuous [x1, x2) box covers pixel
 *      indices x1 .. x2 - 1, so the RoI of box b at image scale s is s * [x1, y1, x2 - 1, y2 - 1].
 *   2. Its corners go to the feature map by spatial_scale (1/16: conv5's stride in CaffeNet and
 *      VGG16) and are rounded, C's round (halves away from zero):
 *        roi_start_w = round(x1 * spatial_scale), roi_end_w = round(x2 * spatial_scale), same for h.
 *   3. roi_width = max(roi_end_w - roi_start_w + 1, 1) cells (a malformed RoI becomes 1 x 1), same
 *      for the height; bin_size_w = roi_width / P (float32).
 *   4. Bin pw spans cells  floor(pw * bin_size_w) .. ceil((pw + 1) * bin_size_w)  (end excluded),
 *      offset by roi_start_w and clipped to [0, map width]; the same for rows. Neighbouring bins
 *      may share a cell when bin_size is not an integer.
 *   5. A bin left empty by the clipping (a RoI past the map's border) outputs 0; any other bin
 *      outputs the maximum over its cells, per channel.
 *
 * Output per RoI is C x P x P in Caffe's C,H,W order: the same layout as the flattened pool5 of
 * the warp path, so fc6, the box regressor and every later stage take it unchanged.
 *
 * Pure TypeScript: the CPU backends pool the read-back conv5 map here (model/sharedConv.ts);
 * model/roiPoolTf.ts is the same pooling as tfjs ops for the GPU backends.
 */

/** Fast R-CNN's output grid and feature stride for a CaffeNet-family conv5. */
export interface RoiPoolSpec {
  /** P: bins per side (6: pool5's size, what fc6 was trained on). */
  pooled: number;
  /** Feature-map cells per image pixel (1/16 for conv5 of CaffeNet and VGG16). */
  spatialScale: number;
}

export const FAST_RCNN_ROI_POOL: RoiPoolSpec = { pooled: 6, spatialScale: 1 / 16 };

/** C's round(): halves away from zero (JavaScript's Math.round takes halves up). */
export function cRound(v: number): number {
  return v >= 0 ? Math.floor(v + 0.5) : Math.ceil(v - 0.5);
}

/**
 * Fast R-CNN RoIs for continuous boxes in a photo's pixels, on the photo resized by `scale`:
 * s * [x1, y1, x2 - 1, y2 - 1] (rule 1 above), rounded to float32 as Caffe's RoI blob holds them.
 */
export function boxesToRois(boxes: ArrayLike<number>, scale: number): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = boxes[i] * scale;
    out[i + 1] = boxes[i + 1] * scale;
    out[i + 2] = (boxes[i + 2] - 1) * scale;
    out[i + 3] = (boxes[i + 3] - 1) * scale;
  }
  return out;
}

/**
 * Where each bin of each RoI reads on a height x width map (rules 2-4): per RoI, 4P integers,
 * [hstart_0..hstart_{P-1}, hend_0.., wstart_0.., wend_0..], ends excluded. Rows and columns are
 * independent, so bin (ph, pw) is rows [hstart_ph, hend_ph) x columns [wstart_pw, wend_pw).
 */
export function roiBinBounds(rois: ArrayLike<number>, height: number, width: number, spec: RoiPoolSpec = FAST_RCNN_ROI_POOL): Int32Array {
  const P = spec.pooled;
  const n = rois.length >> 2;
  const out = new Int32Array(n * 4 * P);
  const ss = Math.fround(spec.spatialScale);
  // Caffe multiplies in float32: fround of a product of two float32 values is exactly that.
  const f = (v: number) => cRound(Math.fround(Math.fround(v) * ss));
  for (let i = 0; i < n; i++) {
    const startW = f(rois[4 * i]);
    const startH = f(rois[4 * i + 1]);
    const endW = f(rois[4 * i + 2]);
    const endH = f(rois[4 * i + 3]);
    const roiH = Math.max(endH - startH + 1, 1);
    const roiW = Math.max(endW - startW + 1, 1);
    // Caffe's float32 (Dtype) arithmetic, kept literally; for whole-cell RoI sizes up to 2000
    // cells float64 gives the same bins (checked exhaustively), so it is cheap insurance.
    const binH = Math.fround(roiH / P);
    const binW = Math.fround(roiW / P);
    const o = i * 4 * P;
    for (let p = 0; p < P; p++) {
      out[o + p] = clamp(Math.floor(Math.fround(p * binH)) + startH, height);
      out[o + P + p] = clamp(Math.ceil(Math.fround((p + 1) * binH)) + startH, height);
      out[o + 2 * P + p] = clamp(Math.floor(Math.fround(p * binW)) + startW, width);
      out[o + 3 * P + p] = clamp(Math.ceil(Math.fround((p + 1) * binW)) + startW, width);
    }
  }
  return out;
}

function clamp(v: number, hi: number): number {
  return v < 0 ? 0 : v > hi ? hi : v;
}

/**
 * Every bin of RoIs [first, first + count) from roiBinBounds' bounds: `visit(k, cell, hs, he, ws,
 * we)` with k counted from `first`, cell = ph * P + pw, and the bin's map rows [hs, he) and
 * columns [ws, we) (empty when he <= hs or we <= ws: rule 5). The one walk of the CPU loop below
 * and of the tfjs gather (model/roiPoolTf.ts).
 */
export function forEachRoiBin(
  bounds: Int32Array,
  P: number,
  first: number,
  count: number,
  visit: (k: number, cell: number, hs: number, he: number, ws: number, we: number) => void,
): void {
  for (let k = 0; k < count; k++) {
    const b = (first + k) * 4 * P;
    for (let ph = 0; ph < P; ph++) {
      const hs = bounds[b + ph];
      const he = bounds[b + P + ph];
      for (let pw = 0; pw < P; pw++) visit(k, ph * P + pw, hs, he, bounds[b + 2 * P + pw], bounds[b + 3 * P + pw]);
    }
  }
}

/**
 * RoI max pooling of RoIs [first, first + count) on an NHWC map (one image: height x width x C,
 * channels innermost, as tfjs holds conv5) into `out` (count x C*P*P, Caffe C,H,W order), from
 * bin bounds of roiBinBounds. Channels are the inner loop, so each cell's C values are read
 * contiguously. Returns out.
 */
export function roiMaxPoolNhwc(
  map: Float32Array,
  height: number,
  width: number,
  channels: number,
  bounds: Int32Array,
  P: number,
  first: number,
  count: number,
  out: Float32Array = new Float32Array(count * channels * P * P),
): Float32Array {
  if (map.length !== height * width * channels) throw new Error(`map holds ${map.length} values, expected ${height} x ${width} x ${channels}`);
  const C = channels;
  const PP = P * P;
  const D = C * PP;
  const m = new Float32Array(C);
  forEachRoiBin(bounds, P, first, count, (k, cell, hs, he, ws, we) => {
    const o = k * D;
    if (he <= hs || we <= ws) {
      for (let c = 0; c < C; c++) out[o + c * PP + cell] = 0;
      return;
    }
    m.fill(-Infinity);
    for (let h = hs; h < he; h++) {
      let idx = (h * width + ws) * C;
      for (let w = ws; w < we; w++) {
        for (let c = 0; c < C; c++) {
          const v = map[idx + c];
          if (v > m[c]) m[c] = v;
        }
        idx += C;
      }
    }
    for (let c = 0; c < C; c++) out[o + c * PP + cell] = m[c];
  });
  return out;
}

/** Largest number of cells any bin of RoIs [first, first + count) spans (the tfjs gather's K). */
export function maxBinCells(bounds: Int32Array, P: number, first: number, count: number): number {
  let best = 0;
  for (let k = first; k < first + count; k++) {
    const b = k * 4 * P;
    let mh = 0;
    let mw = 0;
    for (let p = 0; p < P; p++) {
      mh = Math.max(mh, bounds[b + P + p] - bounds[b + p]);
      mw = Math.max(mw, bounds[b + 3 * P + p] - bounds[b + 2 * P + p]);
    }
    best = Math.max(best, mh * mw);
  }
  return best;
}
