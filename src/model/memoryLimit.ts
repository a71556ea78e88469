/**
 * How much memory an imported model's weights may take in the browser, checked by importOnnx
 * (maxWeightBytes) from the declared tensor shapes before anything is allocated. Every CNN
 * worker holds its own copy (runner/cnnWorkerPool.ts: one per core, up to 4, on CPU backends),
 * so the budget is half the device's memory shared by the workers, and never more than the
 * importer's 1 GiB default (3.6 times what full CaffeNet with its 200 SVMs needs: the original
 * R-CNN needs about 380 MB including its largest fc layer's transposed copy).
 * navigator.deviceMemory (Chromium; rounded to a power of two and capped at 8 GiB) is all the
 * page can know; where it is missing the default stands.
 */
import { DEFAULT_MAX_WEIGHT_BYTES } from './onnx/import';

export function browserMaxWeightBytes(deviceMemoryGiB: number | undefined, workers: number): number {
  if (!(typeof deviceMemoryGiB === 'number' && deviceMemoryGiB > 0)) return DEFAULT_MAX_WEIGHT_BYTES;
  return Math.min(DEFAULT_MAX_WEIGHT_BYTES, Math.floor((deviceMemoryGiB * 2 ** 30) / 2 / Math.max(1, workers)));
}

/** The limit for this page or worker (navigator.deviceMemory, the pool's worker count as CnnWorkerPool.create picks it). */
export function hereMaxWeightBytes(maxWorkers = 4): number {
  const nav = globalThis.navigator as { deviceMemory?: number; hardwareConcurrency?: number } | undefined;
  return browserMaxWeightBytes(nav?.deviceMemory, Math.max(1, Math.min(maxWorkers, nav?.hardwareConcurrency ?? 1)));
}
