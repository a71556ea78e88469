/**
 * The shared-convolution path's geometry and arithmetic, without tfjs (the page's main thread
 * uses it for the comparison panels; sharedConv.ts runs the path): how big the photo is when
 * conv1 sees it, and how many multiply-adds each path costs.
 */
import { searchSize } from '../core/selectiveSearch/plan';
import { type CaffeNetArch, type LayerInfo, describeArch } from './architecture';

/**
 * How the photo is resized before conv1:
 * - 'fast-rcnn': shorter side 600 px, longer side at most 1000 px (Fast R-CNN's test scale);
 * - 'search': 500 px wide, the image selective search segments (its proposals' own pixels);
 * - 'pyramid': SPPnet's five scales (shorter side 480, 576, 688, 864 and 1200 px, longer side at
 *   most 2000, Fast R-CNN's multi-scale setting), each RoI pooled from the scale at which its area
 *   is closest to 224 x 224 (Fast R-CNN's _project_im_rois), so that every proposal reaches conv5
 *   about as large as a warped crop's object does.
 */
export type RoiScale = 'fast-rcnn' | 'search' | 'pyramid';
export const ROI_SCALES: readonly RoiScale[] = ['fast-rcnn', 'search', 'pyramid'];
export const DEFAULT_ROI_SCALE: RoiScale = 'fast-rcnn';

export const PYRAMID_SHORT_SIDES = [480, 576, 688, 864, 1200] as const;
export const PYRAMID_MAX_SIDE = 2000;

export const ROI_SCALE_TEXT: Record<RoiScale, string> = {
  'fast-rcnn': 'shorter side 600 px, longer side at most 1000 px (Fast R-CNN\'s single test scale)',
  search: '500 px wide (the image selective search segments)',
  pyramid: 'five scales, shorter side 480-1200 px, each proposal pooled from the one where it is closest to 224 x 224 px (SPPnet, Fast R-CNN multi-scale)',
};

/**
 * Every size conv1 sees for the photo: one for the single-scale modes, the pyramid's levels
 * (smallest first, repeats dropped) for 'pyramid'.
 */
export function roiImageSizes(width: number, height: number, scale: RoiScale, minSide = 0): Array<{ width: number; height: number; scale: number }> {
  if (scale !== 'pyramid') return [roiImageSize(width, height, scale, minSide)];
  const out: Array<{ width: number; height: number; scale: number }> = [];
  for (const side of PYRAMID_SHORT_SIDES) {
    let s = side / Math.min(width, height);
    if (s * Math.max(width, height) > PYRAMID_MAX_SIDE) s = PYRAMID_MAX_SIDE / Math.max(width, height);
    if (s * Math.min(width, height) < minSide) s = minSide / Math.min(width, height);
    const size = { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)), scale: s };
    if (!out.some((o) => o.width === size.width && o.height === size.height)) out.push(size);
  }
  return out;
}

/**
 * Fast R-CNN's _project_im_rois for a pyramid: per box, the level whose scale brings its area
 * closest to 224 x 224 (the first on a tie). Box width x2 - x1 is the release's inclusive x2 - x1 + 1.
 */
export function roiLevels(boxes: ArrayLike<number>, scales: readonly number[]): Uint8Array {
  const n = boxes.length >> 2;
  const out = new Uint8Array(n);
  if (scales.length < 2) return out;
  const target = 224 * 224;
  for (let i = 0; i < n; i++) {
    const area = (boxes[4 * i + 2] - boxes[4 * i]) * (boxes[4 * i + 3] - boxes[4 * i + 1]);
    let best = 0;
    let bestDiff = Infinity;
    for (let l = 0; l < scales.length; l++) {
      const d = Math.abs(area * scales[l] * scales[l] - target);
      if (d < bestDiff) [best, bestDiff] = [l, d];
    }
    out[i] = best;
  }
  return out;
}

/**
 * The size conv1 sees for a photo of width x height, and the factor from the photo's pixels to
 * it. The shorter side is kept at least `minSide` (the network's input side, so that conv5 is at
 * least the 13 x 13 cells a crop gives it).
 */
export function roiImageSize(width: number, height: number, scale: Exclude<RoiScale, 'pyramid'>, minSide = 0): { width: number; height: number; scale: number } {
  let s: number;
  if (scale === 'fast-rcnn') {
    s = 600 / Math.min(width, height);
    if (s * Math.max(width, height) > 1000) s = 1000 / Math.max(width, height);
  } else {
    s = searchSize(width, height).width / width;
  }
  if (s * Math.min(width, height) < minSide) s = minSide / Math.min(width, height);
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)), scale: s };
}

/** Multiply-adds of the shared-convolution path for n RoIs on a photo of width x height (conv once, fc per RoI). */
export function sharedConvMacs(arch: CaffeNetArch, width: number, height: number, n: number, scale: RoiScale = DEFAULT_ROI_SCALE): { conv: number; fc: number } {
  let conv = 0;
  for (const size of roiImageSizes(width, height, scale, Math.max(arch.inputHeight, arch.inputWidth))) {
    conv += describeArch({ ...arch, inputHeight: size.height, inputWidth: size.width }).filter((l) => l.kind === 'conv').reduce((s, l) => s + l.macs, 0);
  }
  const fc = describeArch(arch).filter((l) => l.kind === 'fc' && l.name !== 'fc8').reduce((s, l) => s + l.macs, 0);
  return { conv, fc: fc * n };
}


/**
 * Per layer, multiply-adds of one photo with n proposals on each path: R-CNN runs every layer on
 * every crop (n x the crop's count); the shared path runs the conv layers once on the photo at
 * its RoI scale and the fc layers per proposal. fc8 is left out (R-CNN scores fc7 with SVMs).
 */
export function perLayerMacs(arch: CaffeNetArch, width: number, height: number, n: number, scale: RoiScale): Array<{ name: string; kind: LayerInfo['kind']; perCrop: number; warp: number; shared: number }> {
  const levels = roiImageSizes(width, height, scale, Math.max(arch.inputHeight, arch.inputWidth)).map((size) => new Map(describeArch({ ...arch, inputHeight: size.height, inputWidth: size.width }).map((l) => [l.name, l])));
  return describeArch(arch)
    .filter((l) => (l.kind === 'conv' || l.kind === 'fc') && l.name !== 'fc8')
    .map((l) => ({ name: l.name, kind: l.kind, perCrop: l.macs, warp: n * l.macs, shared: l.kind === 'conv' ? levels.reduce((s, m) => s + m.get(l.name)!.macs, 0) : n * l.macs }));
}
