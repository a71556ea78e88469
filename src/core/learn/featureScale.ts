/**
 * Feature scaling of the release (rcnn_feature_stats.m, rcnn_scale_features.m): CNN features are
 * multiplied by one constant so that their *average* L2 norm on the training set is 20. Both the
 * SVMs (fc7) and the box regressors (pool5) see scaled features; the scale matters because the
 * regularisation constants (SVM C = 0.001, ridge lambda = 1000) were tuned for norm-20 features.
 *
 * The release measures the mean norm on up to 200 random training images x 200 random boxes
 * each (seeded); the factor is computed once, stored with the model, and applied to every feature
 * at training and test time.
 */

/** The release's target average norm. */
export const TARGET_FEATURE_NORM = 20;

/** Running mean and standard deviation of feature-vector L2 norms (Welford). */
export class FeatureNormAccumulator {
  count = 0;
  private meanAcc = 0;
  private m2 = 0;

  /** Add n row-major feature vectors of dimension d. */
  add(features: ArrayLike<number>, n: number, d: number): this {
    for (let i = 0; i < n; i++) {
      let s = 0;
      const o = i * d;
      for (let k = 0; k < d; k++) {
        const v = features[o + k];
        s += v * v;
      }
      this.addNorm(Math.sqrt(s));
    }
    return this;
  }

  addNorm(norm: number): this {
    this.count++;
    const delta = norm - this.meanAcc;
    this.meanAcc += delta / this.count;
    this.m2 += delta * (norm - this.meanAcc);
    return this;
  }

  get mean(): number {
    return this.count > 0 ? this.meanAcc : NaN;
  }

  /** Sample standard deviation (MATLAB std, n - 1), as the release records it. */
  get std(): number {
    return this.count > 1 ? Math.sqrt(this.m2 / (this.count - 1)) : 0;
  }
}

export function meanFeatureNorm(features: ArrayLike<number>, n: number, d: number): number {
  return new FeatureNormAccumulator().add(features, n, d).mean;
}

/**
 * The multiplier that brings features of the given average norm to `target` (20). Throws on a
 * zero or non-finite mean norm: all-zero features cannot be scaled and signal a broken network.
 */
export function featureScaleFactor(meanNorm: number, target = TARGET_FEATURE_NORM): number {
  if (!(meanNorm > 0) || !Number.isFinite(meanNorm)) {
    throw new Error(`cannot scale features: their mean L2 norm is ${meanNorm}`);
  }
  return target / meanNorm;
}

export function scaleFeaturesInPlace<T extends Float32Array | Float64Array>(features: T, factor: number): T {
  for (let i = 0; i < features.length; i++) features[i] *= factor;
  return features;
}
