/**
 * Messages between `rcnn train` / `rcnn eval` (main thread) and its CNN worker threads. Each
 * worker runs its own single-threaded tfjs-wasm instance (wasm threads do not work here, see
 * docs/platform-notes.md), so data parallelism over worker threads is how training uses every
 * core. Images and windows live in SharedArrayBuffers: no worker copies the dataset.
 */
import type { CaffeNetArch } from '../../model/architecture';
import type { NamedWeights } from '../../model/caffenet';
import type { FeatureMode } from '../../model/extract';
import type { RoiScale } from '../../model/sharedConv';

export type FineTuneStrategy = 'all' | 'upper' | 'fc';

/**
 * Fine-tuning augmentation: none; `window` = Caffe window layer (mirror + small per-channel colour
 * jitter); `colour` = window plus a photometric transform (cpuWarp's COLOUR_AUGMENT: hue, saturation, brightness).
 */
export type AugmentMode = 'none' | 'window' | 'colour';

/** The variables each fine-tuning strategy updates (the others stay as initialised). */
export const STRATEGY_LAYERS: Record<FineTuneStrategy, readonly string[]> = {
  all: ['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc6', 'fc7', 'fc8'],
  upper: ['conv3', 'conv4', 'conv5', 'fc6', 'fc7', 'fc8'],
  fc: ['fc6', 'fc7', 'fc8'],
};

export interface SharedRasters {
  buffer: SharedArrayBuffer;
  offsets: number[];
  widths: number[];
  heights: number[];
}

export interface SharedWindows {
  /** 4 floats per window, raster pixels. */
  boxes: SharedArrayBuffer;
  image: SharedArrayBuffer;
  label: SharedArrayBuffer;
}

export interface InitRequest {
  type: 'init';
  arch: CaffeNetArch;
  /** Initial weights; null: He-initialised from `seed` (identical in every worker). */
  weights: NamedWeights | null;
  /** Momentum buffers to resume from (flat, trainable variables in order). */
  velocity: Float32Array | null;
  seed: number;
  workerIndex: number;
  rasters: SharedRasters;
  windows: SharedWindows | null;
  /** One gradient slot per worker, each holding the flat gradient of the trainable variables. */
  gradSlots: SharedArrayBuffer[];
  trainableLayers: readonly string[];
  weightDecay: number;
  momentum: number;
  augment: AugmentMode;
  /** Half-range of the per-channel gain jitter (0.08: the window layer's 0.92-1.08). */
  gainJitter: number;
  /** Fraction of training crops blurred (Gaussian, sigma uniform in [0, 2) px). */
  blur: number;
  /**
   * How 'features' requests compute fc7 / pool5: warped crops (R-CNN, default) or RoI pooling
   * out of the photo's conv5 (model/sharedConv.ts), at roiScale.
   */
  features?: FeatureMode;
  roiScale?: RoiScale;
}

/** Augmentation of a features request: defined with the shell-neutral trainer. */
export type { FeatureAugment } from '../../pipeline/train/source';
import type { FeatureAugment } from '../../pipeline/train/source';

export type WorkerRequest =
  | InitRequest
  | { type: 'grad'; id: number; windows: Int32Array; iteration: number }
  | { type: 'apply'; id: number; lr: number; slots: number }
  | { type: 'eval'; id: number; windows: Int32Array }
  | { type: 'features'; id: number; image: number; boxes: Float32Array; pool5Rows: Int32Array; augment?: FeatureAugment }
  | { type: 'state'; id: number };

export type WorkerResponse =
  | { type: 'ready'; trainableCount: number; backend: string }
  | { type: 'grad'; id: number; loss: number; correct: number; n: number; ms: number }
  | { type: 'applied'; id: number }
  | { type: 'eval'; id: number; predicted: Int32Array; loss: number }
  | { type: 'features'; id: number; fc7: Float32Array; pool5: Float32Array; ms: number }
  | { type: 'state'; id: number; weights: NamedWeights; velocity: Float32Array }
  | { type: 'error'; id?: number; message: string };
