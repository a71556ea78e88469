/**
 * Per-class bounding-box regressors on pool5 features (docs/algorithm.md section 6;
 * rcnn_train_bbox_regressor.m and rcnn_predict_bbox_regressor.m).
 *
 * Training pairs (P, G) are the proposals with IoU > 0.6 to their best ground truth of the class
 * (sampling.ts); the targets are the box transform t = encodeBoxes(P, G) (geometry.ts). What the
 * release does, and so do we:
 *
 * 1. Features are pool5 scaled so their average L2 norm is 20 (featureScale.ts); lambda = 1000
 *    was chosen for that scale. We take the raw features and the scale and apply it on the fly.
 * 2. Targets are centred and whitened: mu = mean(t); S = (t - mu)^T (t - mu) / n (population
 *    covariance, 4 x 4); S = V D V^T; T = V diag(1 / sqrt(D + 0.001)) V^T (ZCA whitening, the
 *    0.001 keeps it finite when a target barely varies); the regression is fitted to (t - mu) T.
 *    T_inv = V diag(sqrt(D + 0.001)) V^T undoes it at test time: t = (s x W + b) T_inv + mu.
 *    Note: each target column is an independent ridge problem with the same X and lambda, so the
 *    whitening rotation cancels exactly in the predictions (up to rounding); the centring does
 *    not, because the bias is regularised: without it lambda would pull predictions towards
 *    t = 0 (no move) instead of towards the mean move of the class.
 * 3. Ridge regression with a constant feature 1 whose weight is regularised too (ridge.ts).
 * 4. At test time the predicted transform is applied once to the proposal (decodeBoxes), no
 *    iteration (the paper found iterating does not help), and clipped to the image.
 */
import { clipBoxesInPlace, decodeBoxes, encodeBoxes } from '../geometry';
import { symmetricEigen } from './linalg';
import { type RidgeMethod, ridgeRegression } from './ridge';

/** The release's eigenvalue floor in the target whitening. */
export const TARGET_WHITENING_EPSILON = 0.001;

export interface TargetWhitening {
  /** Mean of the 4 targets (tx, ty, tw, th). */
  mean: Float64Array;
  /** Whitening matrix T (4 x 4 row-major, symmetric): z = (t - mean) T. */
  T: Float64Array;
  /** Its inverse: t = z T_inv + mean. */
  Tinv: Float64Array;
  /** Eigenvalues of the target covariance (ascending). */
  eigenvalues: Float64Array;
}

/** Fit the release's target standardisation to n targets (4n values). */
export function fitTargetWhitening(targets: ArrayLike<number>, n: number, epsilon = TARGET_WHITENING_EPSILON): TargetWhitening {
  const mean = new Float64Array(4);
  for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) mean[j] += targets[4 * i + j];
  for (let j = 0; j < 4; j++) mean[j] /= Math.max(n, 1);
  const S = new Float64Array(16);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < 4; a++) {
      const da = targets[4 * i + a] - mean[a];
      for (let b = 0; b < 4; b++) S[a * 4 + b] += da * (targets[4 * i + b] - mean[b]);
    }
  for (let k = 0; k < 16; k++) S[k] /= Math.max(n, 1);
  const { values, vectors: V } = symmetricEigen(S, 4);
  const T = new Float64Array(16);
  const Tinv = new Float64Array(16);
  for (let a = 0; a < 4; a++)
    for (let b = 0; b < 4; b++) {
      let t = 0;
      let ti = 0;
      for (let k = 0; k < 4; k++) {
        // Rounding can leave a tiny negative eigenvalue; the floor keeps the root real.
        const dk = Math.max(values[k], 0) + epsilon;
        const vv = V[a * 4 + k] * V[b * 4 + k];
        t += vv / Math.sqrt(dk);
        ti += vv * Math.sqrt(dk);
      }
      T[a * 4 + b] = t;
      Tinv[a * 4 + b] = ti;
    }
  return { mean, T, Tinv, eigenvalues: values };
}

/** z = (t - mean) T for n targets. */
export function whitenTargets(targets: ArrayLike<number>, n: number, w: TargetWhitening, out = new Float64Array(4 * n)): Float64Array {
  for (let i = 0; i < n; i++) {
    const c0 = targets[4 * i] - w.mean[0], c1 = targets[4 * i + 1] - w.mean[1];
    const c2 = targets[4 * i + 2] - w.mean[2], c3 = targets[4 * i + 3] - w.mean[3];
    for (let j = 0; j < 4; j++) out[4 * i + j] = c0 * w.T[j] + c1 * w.T[4 + j] + c2 * w.T[8 + j] + c3 * w.T[12 + j];
  }
  return out;
}

/** t = z T_inv + mean for n whitened targets (in place allowed: out may be z). */
export function unwhitenTargets(z: ArrayLike<number>, n: number, w: TargetWhitening, out = new Float64Array(4 * n)): Float64Array {
  for (let i = 0; i < n; i++) {
    const z0 = z[4 * i], z1 = z[4 * i + 1], z2 = z[4 * i + 2], z3 = z[4 * i + 3];
    for (let j = 0; j < 4; j++) out[4 * i + j] = z0 * w.Tinv[j] + z1 * w.Tinv[4 + j] + z2 * w.Tinv[8 + j] + z3 * w.Tinv[12 + j] + w.mean[j];
  }
  return out;
}

export interface ClassBoxRegressor {
  /** Feature dimension d. */
  dim: number;
  /** d x 4 weights (row-major) on scaled features, predicting whitened targets. */
  weights: Float32Array;
  /** 4 biases, whitened space. */
  bias: Float64Array;
  whitening: TargetWhitening;
  /** The feature scale the weights expect (multiply raw features by this). */
  featureScale: number;
  lambda: number;
  numSamples: number;
  method: 'primal' | 'dual' | 'cg';
  /** False if the CG solve hit its iteration limit. */
  converged: boolean;
  seconds: number;
}

/** The release's ridge lambda. */
export const BBOX_LAMBDA_DEFAULT = 1000;

export interface BoxRegressorOptions {
  /** Ridge lambda (release: 1000). */
  lambda?: number;
  /** Feature scale (mean-norm-20 factor) applied to the raw features. Default 1. */
  featureScale?: number;
  method?: RidgeMethod;
  /** Centre and whiten the targets (release: yes). */
  standardize?: boolean;
}

/**
 * Train one class's regressor from n pairs: raw features (n x d), proposals P and ground truths
 * G (flat boxes, paired by index). Returns null when n = 0: the class then keeps its boxes.
 */
export function trainClassBoxRegressor(
  features: Float32Array,
  n: number,
  d: number,
  proposals: ArrayLike<number>,
  groundTruth: ArrayLike<number>,
  opts: BoxRegressorOptions = {},
): ClassBoxRegressor | null {
  if (n === 0) return null;
  if (proposals.length < 4 * n || groundTruth.length < 4 * n) throw new Error('box regression: fewer boxes than samples');
  const lambda = opts.lambda ?? BBOX_LAMBDA_DEFAULT;
  const featureScale = opts.featureScale ?? 1;
  const P = Float64Array.from({ length: 4 * n }, (_, k) => proposals[k]);
  const G = Float64Array.from({ length: 4 * n }, (_, k) => groundTruth[k]);
  const targets = encodeBoxes(P, G);
  for (let k = 0; k < targets.length; k++) {
    if (!Number.isFinite(targets[k])) throw new Error(`box regression: pair ${k >> 2} has an empty proposal or target box`);
  }
  const whitening = opts.standardize === false ? identityWhitening() : fitTargetWhitening(targets, n);
  const Z = whitenTargets(targets, n, whitening);
  const sol = ridgeRegression(features, n, d, Z, 4, { lambda, scale: featureScale, method: opts.method });
  return {
    dim: d,
    weights: Float32Array.from(sol.weights),
    bias: sol.bias,
    whitening,
    featureScale,
    lambda,
    numSamples: n,
    method: sol.method,
    converged: sol.converged,
    seconds: sol.seconds,
  };
}

export function identityWhitening(): TargetWhitening {
  const I = Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  return { mean: new Float64Array(4), T: I, Tinv: Float64Array.from(I), eigenvalues: Float64Array.from([1, 1, 1, 1]) };
}

/** Predicted transforms (tx, ty, tw, th) for n proposals from their raw features (n x d). */
export function predictBoxDeltas(reg: ClassBoxRegressor, features: Float32Array, n: number, out = new Float64Array(4 * n)): Float64Array {
  const d = reg.dim;
  if (features.length < n * d) throw new Error(`box regression: features hold ${features.length / d} rows, expected ${n}`);
  const W = reg.weights;
  const s = reg.featureScale;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    let z0 = 0, z1 = 0, z2 = 0, z3 = 0;
    for (let k = 0; k < d; k++) {
      const x = features[xo + k];
      if (x === 0) continue; // pool5 is post-ReLU: mostly zeros
      const w = 4 * k;
      z0 += x * W[w];
      z1 += x * W[w + 1];
      z2 += x * W[w + 2];
      z3 += x * W[w + 3];
    }
    out[4 * i] = s * z0 + reg.bias[0];
    out[4 * i + 1] = s * z1 + reg.bias[1];
    out[4 * i + 2] = s * z2 + reg.bias[2];
    out[4 * i + 3] = s * z3 + reg.bias[3];
  }
  return unwhitenTargets(out, n, reg.whitening, out);
}

/**
 * The regressed boxes of n proposals: transform predicted from the features, applied once,
 * clipped to the image (width x height, continuous convention).
 */
export function regressBoxes(
  reg: ClassBoxRegressor,
  features: Float32Array,
  proposals: ArrayLike<number>,
  imageWidth: number,
  imageHeight: number,
): Float32Array {
  const n = proposals.length >> 2;
  const deltas = predictBoxDeltas(reg, features, n);
  return clipBoxesInPlace(decodeBoxes(proposals, deltas), imageWidth, imageHeight);
}
