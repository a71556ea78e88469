/**
 * Warping proposals into CNN inputs (docs/algorithm.md section 2), batched on the tfjs backend.
 *
 * 1. Dilate each box about its centre by S / (S - 2p) (S = 227, p = 16), so that after warping
 *    the proposal fills the central S - 2p pixels and p pixels of real context surround it.
 * 2. Warp the dilated box anisotropically to S x S with bilinear interpolation and no
 *    anti-aliasing (R-CNN's imresize(..., 'bilinear', 'antialiasing', false)).
 * 3. Samples that fall outside the image take the mean, i.e. 0 after mean subtraction.
 * Output: NHWC float32, channels in the network's order (BGR for Caffe models), mean subtracted.
 *
 * Coordinates (src/core/geometry.ts): continuous, pixel i covers [i, i + 1), so its centre is
 * i + 0.5. Output pixel u of a dilated box [X1, X2) samples the continuous point
 *   x(u) = X1 + (u + 0.5) * (X2 - X1) / S,   i.e. pixel-index position  x(u) - 0.5.
 * tf.image.cropAndResize samples, for a normalised box (y1, x1, y2, x2) and crop size S,
 *   in_x(u) = x1 * (W' - 1) + u * (x2 - x1) * (W' - 1) / (S - 1)
 * (corner-aligned: 0 maps to pixel 0 and 1.0 to pixel W' - 1). Matching the two at u = 0 and
 * u = S - 1 gives  x1 = (x(0) - 0.5 + pad) / (W' - 1),  x2 = (x(S - 1) - 0.5 + pad) / (W' - 1),
 * where the source image is padded by pad = 1 replicated pixel on each side (W' = W + 2). The
 * padding makes bilinear sampling in the half pixel between the image border and the first
 * pixel centre use the border pixel (as resizing the clipped window does), instead of
 * cropAndResize's extrapolation value; a separable mask then sets to 0 (the mean) exactly the
 * samples whose continuous point lies outside [0, W] x [0, H].
 *
 * On the CPU backends (wasm, cpu) the same warp runs in plain JavaScript instead
 * (finetune/cpuWarp.ts, the trainer's warp), straight from the raster into the batch: tfjs-wasm's
 * cropAndResize plus the mask cost about half as much as the width-0.25 network itself, the
 * JavaScript warp about a fifth. The two agree to float rounding (warp.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RgbImage } from '../core/image/raster';
import type { CaffeNetArch } from './architecture';
import { warpBoxInto } from './finetune/cpuWarp';

export interface WarpOptions {
  /** Output side (227 for CaffeNet). */
  size: number;
  /** Context padding in output pixels (16 in R-CNN). */
  padding: number;
}

export const RCNN_WARP: WarpOptions = { size: 227, padding: 16 };

/** Scales flat boxes about their centres by size / (size - 2 * padding). */
export function dilateBoxes(boxes: ArrayLike<number>, opts: WarpOptions = RCNN_WARP): Float64Array {
  const s = opts.size / (opts.size - 2 * opts.padding);
  const out = new Float64Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    const cx = 0.5 * (boxes[i] + boxes[i + 2]);
    const cy = 0.5 * (boxes[i + 1] + boxes[i + 3]);
    const hw = 0.5 * (boxes[i + 2] - boxes[i]) * s;
    const hh = 0.5 * (boxes[i + 3] - boxes[i + 1]) * s;
    out[i] = cx - hw;
    out[i + 1] = cy - hh;
    out[i + 2] = cx + hw;
    out[i + 3] = cy + hh;
  }
  return out;
}

/**
 * The image as the warp samples it. Keep it for all batches of an image. On GPU backends the
 * warp samples `tensor`: float32 [1, H + 2, W + 2, 3], channels in the network's order, mean
 * subtracted, one replicated pixel of border (built on first use); on CPU backends it samples the
 * raster itself.
 */
export interface WarpSource {
  readonly tensor: tf.Tensor4D;
  width: number;
  height: number;
  image: RgbImage;
  arch: Pick<CaffeNetArch, 'channelOrder' | 'mean'>;
  dispose(): void;
}

export function createWarpSource(img: RgbImage, arch: Pick<CaffeNetArch, 'channelOrder' | 'mean'>): WarpSource {
  let tensor: tf.Tensor4D | null = null;
  return {
    get tensor() {
      // Kept: the first use may be inside a caller's tidy, which must not dispose it.
      tensor ??= tf.keep(tf.tidy(() => {
        const rgb = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
        let x = tf.cast(rgb, 'float32');
        if (arch.channelOrder === 'BGR') x = tf.reverse(x, 2);
        x = tf.sub(x, tf.tensor1d(arch.mean));
        // mirrorPad 'symmetric' by 1 repeats the border pixel.
        return tf.expandDims(tf.mirrorPad(x as tf.Tensor3D, [[1, 1], [1, 1], [0, 0]], 'symmetric'), 0) as tf.Tensor4D;
      }));
      return tensor;
    },
    width: img.width,
    height: img.height,
    image: img,
    arch: { channelOrder: arch.channelOrder, mean: [...arch.mean] },
    dispose: () => {
      tensor?.dispose();
      tensor = null;
    },
  };
}

/** Where the warp runs: tfjs ops on the backend ('tensor'), or JavaScript into the batch ('cpu'). */
export type WarpMethod = 'tensor' | 'cpu';

/** 'cpu' on the CPU backends for BGR networks (all Caffe-style models), else 'tensor'. */
export function defaultWarpMethod(src: WarpSource): WarpMethod {
  const b = tf.getBackend();
  return (b === 'wasm' || b === 'cpu') && src.arch.channelOrder === 'BGR' ? 'cpu' : 'tensor';
}

/** Per box: cropAndResize's normalised (y1, x1, y2, x2) and the in-image masks of rows/columns. */
export function warpGeometry(
  boxes: ArrayLike<number>,
  width: number,
  height: number,
  opts: WarpOptions = RCNN_WARP,
): { crop: Float32Array; rowMask: Float32Array; colMask: Float32Array } {
  const n = boxes.length >> 2;
  const S = opts.size;
  const d = dilateBoxes(boxes, opts);
  const crop = new Float32Array(4 * n);
  const rowMask = new Float32Array(n * S);
  const colMask = new Float32Array(n * S);
  const wp = width + 2 - 1;
  const hp = height + 2 - 1;
  for (let i = 0; i < n; i++) {
    const [X1, Y1, X2, Y2] = [d[4 * i], d[4 * i + 1], d[4 * i + 2], d[4 * i + 3]];
    const sx = (X2 - X1) / S;
    const sy = (Y2 - Y1) / S;
    // Pixel-index positions of the first and last samples, shifted by the 1-pixel padding.
    crop[4 * i] = (Y1 + 0.5 * sy - 0.5 + 1) / hp;
    crop[4 * i + 1] = (X1 + 0.5 * sx - 0.5 + 1) / wp;
    crop[4 * i + 2] = (Y1 + (S - 0.5) * sy - 0.5 + 1) / hp;
    crop[4 * i + 3] = (X1 + (S - 0.5) * sx - 0.5 + 1) / wp;
    for (let u = 0; u < S; u++) {
      const y = Y1 + (u + 0.5) * sy;
      const x = X1 + (u + 0.5) * sx;
      rowMask[i * S + u] = y >= 0 && y <= height ? 1 : 0;
      colMask[i * S + u] = x >= 0 && x <= width ? 1 : 0;
    }
  }
  return { crop, rowMask, colMask };
}

/**
 * Warps N proposals (flat continuous boxes in the source image's pixels) into a
 * [N, size, size, 3] batch ready for the network. The caller disposes the result.
 */
export function warpProposals(src: WarpSource, boxes: ArrayLike<number>, opts: WarpOptions = RCNN_WARP, method: WarpMethod = defaultWarpMethod(src)): tf.Tensor4D {
  const n = boxes.length >> 2;
  const S = opts.size;
  if (method === 'cpu') {
    if (src.arch.channelOrder !== 'BGR') throw new Error('the JavaScript warp writes BGR; use the tensor warp for an RGB network');
    const out = new Float32Array(n * S * S * 3);
    const mean = src.arch.mean as [number, number, number];
    for (let i = 0; i < n; i++) warpBoxInto(src.image, [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]], mean, out, i * S * S * 3, S, opts.padding);
    return tf.tensor4d(out, [n, S, S, 3]);
  }
  const g = warpGeometry(boxes, src.width, src.height, opts);
  return tf.tidy(() => {
    const crops = tf.image.cropAndResize(src.tensor, tf.tensor2d(g.crop, [n, 4]), tf.zeros([n], 'int32') as tf.Tensor1D, [S, S], 'bilinear', 0);
    const mask = tf.mul(tf.tensor4d(g.rowMask, [n, S, 1, 1]), tf.tensor4d(g.colMask, [n, 1, S, 1]));
    return tf.mul(crops, mask) as tf.Tensor4D;
  });
}

/**
 * Warped crops back to displayable RGB bytes (mean added, channel order undone): for the crop
 * gallery. [N, S, S, 3] interleaved RGB, like RgbImage.data per crop.
 */
export async function cropsToRgb(crops: tf.Tensor4D, arch: Pick<CaffeNetArch, 'channelOrder' | 'mean'>): Promise<Uint8Array> {
  const t = tf.tidy(() => {
    let x: tf.Tensor = tf.add(crops, tf.tensor1d(arch.mean));
    if (arch.channelOrder === 'BGR') x = tf.reverse(x, 3);
    return tf.cast(tf.clipByValue(tf.round(x), 0, 255), 'int32');
  });
  const data = await t.data();
  t.dispose();
  return Uint8Array.from(data);
}
