/**
 * Stage 1 of R-CNN training, fine-tuning the CNN on warped proposals (docs/algorithm.md section 4):
 * its constants, defined once.
 *
 * `rcnn train` reads them here (src/cli/train/finetune.ts's FINE_TUNE_DEFAULTS, trainerWorker.ts's
 * initialisation and SGD, cpuWarp.ts's warp augmentation). tools/gpu-finetune/export.ts writes
 * this object into the exported data folder's meta.json as "recipe", and
 * tools/gpu-finetune/finetune.py (the PyTorch port for a GPU) and heads.py read it from there
 * (finetune.py's `Recipe`) instead of keeping copies of their own. Change a value here and
 * re-export: both trainers follow.
 */
export const FINE_TUNE_RECIPE = {
  /**
   * Each mini-batch: 32 positive windows (over all classes) and 96 background ones, drawn
   * uniformly with replacement (R-CNN biases the sampling towards positives, which are rare).
   */
  positivesPerBatch: 32,
  backgroundPerBatch: 96,
  /** Caffe's SGD (CaffeNet's solver): V = m V + lr (mult g + decay W); W -= V. */
  momentum: 0.9,
  /** L2 decay on weights, not biases (CaffeNet's 0.0005). */
  weightDecay: 0.0005,
  /** Learning rate from scratch (He initialisation). */
  baseLr: 0.01,
  /** Learning rate when fine-tuning a given network: a tenth, as R-CNN fine-tunes ImageNet's CaffeNet. */
  initLr: 0.001,
  /** Caffe "multistep": the rate is multiplied by lrStepFactor at these fractions of the iterations. */
  lrSteps: [0.6, 0.85],
  lrStepFactor: 0.1,
  /**
   * From scratch only: a linear warm-up from warmupStart x lr over min(warmup, iterations / 10)
   * iterations (helps the first iterations from random weights stay stable).
   */
  warmup: 200,
  warmupStart: 0.1,
  /** Caffe's lr_mult for biases (weights 1). */
  biasLrMult: 2,
  /**
   * Standard deviation of CaffeNet's mean-subtracted 0..255 inputs on natural images: He
   * initialisation divides conv1's weights by it, and conv1's weight lr_mult is 1 / inputStd^2,
   * which trains as if the inputs had unit variance (trainerWorker.ts; `lrMult` in model/training.ts).
   */
  inputStd: 60,
  /** Context around each window, in warped pixels (docs/algorithm.md section 2). */
  warpPadding: 16,
  /** The window layer's augmentation, drawn per window (cpuWarp.ts `randomAugment`). */
  augment: {
    /** Probability of a left-right mirror. */
    mirror: 0.5,
    /** Per-channel gain 1 +- gainJitter (Caffe's window layer: 0.92-1.08); `--wb` overrides. */
    gainJitter: 0.08,
    /** Brightness offset uniform in +-offset, added after the gains. */
    offset: 8,
    /** `--augment colour`: hue rotation, saturation and brightness, each uniform in its range. */
    colour: { hueDegrees: 15, saturation: [0.7, 1.3], brightness: [0.85, 1.15] },
    /** `--blur P`: sigma uniform in [0, blurMaxSigma) px, a 2 x blurRadius + 1 tap kernel. */
    blurMaxSigma: 2,
    blurRadius: 4,
  },
  /** The fixed validation sample fine-tuning reports on: the batch's 1:3 ratio, seed + seedOffset. */
  validationSample: { positives: 256, background: 768, seedOffset: 99 },
} as const;

export type FineTuneRecipe = typeof FINE_TUNE_RECIPE;
