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
 * - 'search': 500 px wide, the image selective search segments (its proposals' own pixels).
 */
export type RoiScale = 'fast-rcnn' | 'search';
export const ROI_SCALES: readonly RoiScale[] = ['fast-rcnn', 'search'];
export const DEFAULT_ROI_SCALE: RoiScale = 'fast-rcnn';

export const ROI_SCALE_TEXT: Record<RoiScale, string> = {
  'fast-rcnn': 'shorter side 600 px, longer side at most 1000 px (Fast R-CNN\'s single test scale)',
  search: '500 px wide (the image selective search segments)',
};

/**
 * The size conv1 sees for a photo of width x height, and the factor from the photo's pixels to
 * it. The shorter side is kept at least `minSide` (the network's input side, so that conv5 is at
 * least the 13 x 13 cells a crop gives it).
 */
export function roiImageSize(width: number, height: number, scale: RoiScale, minSide = 0): { width: number; height: number; scale: number } {
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
  const size = roiImageSize(width, height, scale, Math.max(arch.inputHeight, arch.inputWidth));
  const layers = describeArch({ ...arch, inputHeight: size.height, inputWidth: size.width });
  const conv = layers.filter((l) => l.kind === 'conv').reduce((s, l) => s + l.macs, 0);
  const fc = describeArch(arch).filter((l) => l.kind === 'fc' && l.name !== 'fc8').reduce((s, l) => s + l.macs, 0);
  return { conv, fc: fc * n };
}


/**
 * Per layer, multiply-adds of one photo with n proposals on each path: R-CNN runs every layer on
 * every crop (n x the crop's count); the shared path runs the conv layers once on the photo at
 * its RoI scale and the fc layers per proposal. fc8 is left out (R-CNN scores fc7 with SVMs).
 */
export function perLayerMacs(arch: CaffeNetArch, width: number, height: number, n: number, scale: RoiScale): Array<{ name: string; kind: LayerInfo['kind']; perCrop: number; warp: number; shared: number }> {
  const size = roiImageSize(width, height, scale, Math.max(arch.inputHeight, arch.inputWidth));
  const photo = new Map(describeArch({ ...arch, inputHeight: size.height, inputWidth: size.width }).map((l) => [l.name, l]));
  return describeArch(arch)
    .filter((l) => (l.kind === 'conv' || l.kind === 'fc') && l.name !== 'fc8')
    .map((l) => ({ name: l.name, kind: l.kind, perCrop: l.macs, warp: n * l.macs, shared: l.kind === 'conv' ? photo.get(l.name)!.macs : n * l.macs }));
}
