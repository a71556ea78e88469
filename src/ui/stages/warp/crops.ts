import type { RgbImage } from '../../../core/image/raster';
import { warpBoxInto } from '../../../model/finetune/cpuWarp';

/** The mean R-CNN fills outside the image with (Caffe's BGR 104, 117, 123). */
export const WARP_MEAN_BGR: [number, number, number] = [104, 117, 123];

/**
 * One proposal warped exactly as the CNN sees it (16 px context, anisotropic, bilinear, mean
 * outside the image), as displayable RGBA. Same arithmetic as the network's input, with the mean
 * added back.
 */
export function warpedCropRgba(img: RgbImage, box: ArrayLike<number>, size = 227, padding = 16, mean = WARP_MEAN_BGR): ImageData {
  const f = new Float32Array(size * size * 3);
  warpBoxInto(img, box, mean, f, 0, size, padding);
  const out = new ImageData(size, size);
  const d = out.data;
  for (let i = 0; i < size * size; i++) {
    d[4 * i] = f[3 * i + 2] + mean[2];
    d[4 * i + 1] = f[3 * i + 1] + mean[1];
    d[4 * i + 2] = f[3 * i] + mean[0];
    d[4 * i + 3] = 255;
  }
  return out;
}

/** The dilated box (what the warp samples, context included) of one proposal. */
export function contextBox(box: ArrayLike<number>, size = 227, padding = 16): [number, number, number, number] {
  // Scaled about the centre by size / (size - 2 padding), as model/warp.ts dilateBoxes does
  // (kept local so the page's bundle does not pull in tfjs).
  const s = size / (size - 2 * padding);
  const cx = 0.5 * (box[0] + box[2]), cy = 0.5 * (box[1] + box[3]);
  const hw = 0.5 * (box[2] - box[0]) * s, hh = 0.5 * (box[3] - box[1]) * s;
  return [cx - hw, cy - hh, cx + hw, cy + hh];
}
