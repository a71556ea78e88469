/**
 * Ridge regression with several targets, as the release's box regressor solves it
 * (rcnn_train_bbox_regressor.m, method 'ridge_reg_chol'):
 *
 *   beta = argmin |X~ beta - Y|^2 + lambda |beta|^2,   X~ = [s X, 1]
 *
 * The constant column 1 is the bias, and it is regularised like every other weight (the
 * release appends a column of ones and adds lambda * eye(d + 1)). `scale` s multiplies the
 * features on the fly, so callers pass raw features and the stored feature scale (mean norm
 * 20, see featureScale.ts) without copying a large matrix.
 *
 * Three exact solvers of the same problem, chosen by size:
 * - primal: (X~^T X~ + lambda I) beta = X~^T Y, a (d+1)^2 system, Cholesky (the release's way);
 * - dual:   (X~ X~^T + lambda I) a = Y, beta = X~^T a, an n^2 system: cheaper when n < d + 1,
 *           which is the common case with pool5 (d = 9216) and a few thousand samples per class;
 * - cg:     conjugate gradients on the primal normal equations without forming any Gram matrix,
 *           preconditioned by the diagonal plus the mean direction, all targets at once; memory
 *           O(n d) only. Used when both n and d + 1 exceed `directLimit`: forming the n x n
 *           kernel costs n^2 d (96 s for 5000 x 9216 on one core of the dev machine) while each
 *           CG iteration costs about 8 n d (0.7 s there), and 20-30 iterations were enough on
 *           post-ReLU features.
 * The primal and dual answers agree to rounding (push-through identity), and CG is run to a
 * relative residual of 1e-10 by default.
 */
import {
  choleskyInPlace,
  choleskySolveInPlace,
  gramLower,
  multiplyXtU,
  multiplyXW,
  transpose,
} from './linalg';

export type RidgeMethod = 'auto' | 'primal' | 'dual' | 'cg';

export interface RidgeOptions {
  /** Regularisation weight (release: 1000). */
  lambda?: number;
  /** Features are multiplied by this before solving (the stored feature scale). Default 1. */
  scale?: number;
  /** Append the (regularised) constant column. Default true. */
  bias?: boolean;
  method?: RidgeMethod;
  /** 'auto' solves directly when min(n, d + 1) is at most this, else by CG. Default 2048. */
  directLimit?: number;
  /** CG stops when every target's residual is below this times its right-hand side. Default 1e-10. */
  cgTolerance?: number;
  cgMaxIterations?: number;
}

export interface RidgeSolution {
  /** d x m weights, row-major (weights[k * m + j]). */
  weights: Float64Array;
  /** m biases (zeros when bias is off). */
  bias: Float64Array;
  method: 'primal' | 'dual' | 'cg';
  /** CG iterations (0 for direct solves). */
  iterations: number;
  /** False when CG stopped at cgMaxIterations before reaching its tolerance. */
  converged: boolean;
  seconds: number;
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export function chooseRidgeMethod(n: number, d: number, opts: RidgeOptions = {}): 'primal' | 'dual' | 'cg' {
  const method = opts.method ?? 'auto';
  if (method !== 'auto') return method;
  const p = d + (opts.bias === false ? 0 : 1);
  const limit = opts.directLimit ?? 2048;
  if (Math.min(n, p) > limit) return 'cg';
  return n < p ? 'dual' : 'primal';
}

/**
 * Solve ridge regression for n samples (rows of X, n x d) and m targets (Y, n x m row-major).
 */
export function ridgeRegression(
  X: Float32Array | Float64Array,
  n: number,
  d: number,
  Y: ArrayLike<number>,
  m: number,
  opts: RidgeOptions = {},
): RidgeSolution {
  const lambda = opts.lambda ?? 1000;
  const s = opts.scale ?? 1;
  const withBias = opts.bias !== false;
  if (!(lambda >= 0)) throw new Error(`ridge: lambda must be >= 0, got ${lambda}`);
  if (X.length < n * d) throw new Error('ridge: X is shorter than n x d');
  if (Y.length < n * m) throw new Error('ridge: Y is shorter than n x m');
  if (n === 0) return { weights: new Float64Array(d * m), bias: new Float64Array(m), method: 'primal', iterations: 0, converged: true, seconds: 0 };
  const t0 = now();
  const method = chooseRidgeMethod(n, d, opts);
  let weights: Float64Array;
  let bias: Float64Array;
  let iterations = 0;
  let converged = true;
  if (method === 'dual') {
    // K = s^2 X X^T + 1 1^T + lambda I; the all-ones term is the bias column's contribution.
    const K = new Float64Array(n * n);
    gramLower(X, n, d, K, n, s * s);
    for (let i = 0; i < n; i++) {
      const r = i * n;
      for (let j = 0; j <= i; j++) K[r + j] += withBias ? 1 : 0;
      K[r + i] += lambda;
    }
    choleskyInPlace(K, n);
    const A = Float64Array.from({ length: n * m }, (_, k) => Y[k]);
    choleskySolveInPlace(K, n, A, m);
    weights = multiplyXtU(X, n, d, A, m, undefined, s);
    bias = new Float64Array(m);
    if (withBias) for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) bias[j] += A[i * m + j];
  } else if (method === 'primal') {
    const p = d + (withBias ? 1 : 0);
    const G = new Float64Array(p * p);
    const Xt = transpose(X.subarray(0, n * d) as Float32Array | Float64Array, n, d);
    gramLower(Xt, d, n, G, p, s * s);
    const rhs = multiplyXtU(X, n, d, Y, m, new Float64Array(p * m), s);
    if (withBias) {
      // Last row: s 1^T X and n; last rhs row: 1^T Y.
      const row = d * p;
      for (let k = 0; k < d; k++) {
        let sum = 0;
        const xo = k * n;
        for (let i = 0; i < n; i++) sum += Xt[xo + i];
        G[row + k] = s * sum;
      }
      G[row + d] = n;
      for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) rhs[d * m + j] += Y[i * m + j];
    }
    for (let k = 0; k < p; k++) G[k * p + k] += lambda;
    choleskyInPlace(G, p);
    choleskySolveInPlace(G, p, rhs, m);
    weights = rhs.slice(0, d * m);
    bias = withBias ? rhs.slice(d * m, p * m) : new Float64Array(m);
  } else {
    const r = ridgeCg(X, n, d, Y, m, lambda, s, withBias, opts.cgTolerance ?? 1e-10, opts.cgMaxIterations ?? 5000);
    weights = r.weights;
    bias = r.bias;
    iterations = r.iterations;
    converged = r.converged;
  }
  return { weights, bias, method, iterations, converged, seconds: (now() - t0) / 1000 };
}

/**
 * Preconditioned conjugate gradients on (X~^T X~ + lambda I) beta = X~^T Y, one independent CG
 * per target but sharing every pass over X (the cost is the passes, not the bookkeeping).
 */
function ridgeCg(
  X: Float32Array | Float64Array,
  n: number,
  d: number,
  Y: ArrayLike<number>,
  m: number,
  lambda: number,
  s: number,
  withBias: boolean,
  tol: number,
  maxIter: number,
): { weights: Float64Array; bias: Float64Array; iterations: number; converged: boolean } {
  const p = d + (withBias ? 1 : 0);
  // Operator application: out = X~^T (X~ v) + lambda v, v and out p x m.
  const U = new Float64Array(n * m);
  const tmp = new Float64Array(d * m);
  const apply = (v: Float64Array, out: Float64Array) => {
    multiplyXW(X, n, d, v, m, U, s, withBias ? v.subarray(d * m, p * m) : undefined);
    multiplyXtU(X, n, d, U, m, tmp, s);
    out.set(tmp, 0);
    if (withBias) {
      for (let j = 0; j < m; j++) {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += U[i * m + j];
        out[d * m + j] = sum;
      }
    }
    for (let k = 0; k < p * m; k++) out[k] += lambda * v[k];
  };
  // Preconditioner M = D + n u u^T, u = [s mean(x); 1] the mean row of X~, D = lambda I +
  // diag(X~c^T X~c) with X~c the centred rows. CNN features are non-negative, so the mean
  // direction carries by far the largest eigenvalue of X~^T X~ (about n |u|^2); a plain Jacobi
  // preconditioner leaves it in, this one removes it (applied by Sherman–Morrison, O(p)).
  const u = new Float64Array(p);
  const dinv = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    for (let k = 0; k < d; k++) {
      const x = X[xo + k];
      if (x === 0) continue;
      u[k] += x;
      dinv[k] += x * x;
    }
  }
  for (let k = 0; k < d; k++) {
    u[k] = (s * u[k]) / n;
    dinv[k] = 1 / (Math.max(s * s * dinv[k] - n * u[k] * u[k], 0) + lambda);
  }
  if (withBias) {
    u[d] = 1;
    dinv[d] = 1 / lambda;
  }
  let uDu = 0;
  for (let k = 0; k < p; k++) uDu += u[k] * u[k] * dinv[k];
  const smGain = n / (1 + n * uDu);
  const dot = new Float64Array(m);
  /** z = M^{-1} r for the active targets. */
  const precondition = (r: Float64Array, z: Float64Array) => {
    dot.fill(0);
    for (let k = 0; k < p; k++) {
      const w = u[k] * dinv[k];
      for (let j = 0; j < m; j++) dot[j] += w * r[k * m + j];
    }
    for (let k = 0; k < p; k++) {
      const di = dinv[k];
      const ud = u[k] * di;
      for (let j = 0; j < m; j++) z[k * m + j] = di * r[k * m + j] - ud * smGain * dot[j];
    }
  };

  const b = new Float64Array(p * m);
  b.set(multiplyXtU(X, n, d, Y, m, tmp, s), 0);
  if (withBias) for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) b[d * m + j] += Y[i * m + j];

  const x = new Float64Array(p * m);
  const r = Float64Array.from(b);
  const z = new Float64Array(p * m);
  const dir = new Float64Array(p * m);
  const q = new Float64Array(p * m);
  const rz = new Float64Array(m);
  const bnorm = new Float64Array(m);
  const active = new Uint8Array(m).fill(1);
  precondition(r, z);
  for (let k = 0; k < p; k++) {
    for (let j = 0; j < m; j++) {
      const idx = k * m + j;
      dir[idx] = z[idx];
      rz[j] += r[idx] * z[idx];
      bnorm[j] += b[idx] * b[idx];
    }
  }
  for (let j = 0; j < m; j++) {
    bnorm[j] = Math.sqrt(bnorm[j]);
    if (bnorm[j] === 0) active[j] = 0;
  }
  let it = 0;
  const pq = new Float64Array(m);
  const rnorm = new Float64Array(m);
  const rzNew = new Float64Array(m);
  for (; it < maxIter; it++) {
    let any = 0;
    for (let j = 0; j < m; j++) any |= active[j];
    if (!any) break;
    apply(dir, q);
    pq.fill(0);
    for (let k = 0; k < p * m; k++) pq[k % m] += dir[k] * q[k];
    rnorm.fill(0);
    rzNew.fill(0);
    for (let k = 0; k < p; k++) {
      for (let j = 0; j < m; j++) {
        if (!active[j]) continue;
        const idx = k * m + j;
        const alpha = rz[j] / pq[j];
        x[idx] += alpha * dir[idx];
        r[idx] -= alpha * q[idx];
        rnorm[j] += r[idx] * r[idx];
      }
    }
    precondition(r, z);
    for (let k = 0; k < p; k++) for (let j = 0; j < m; j++) if (active[j]) rzNew[j] += r[k * m + j] * z[k * m + j];
    for (let j = 0; j < m; j++) {
      if (!active[j]) continue;
      if (Math.sqrt(rnorm[j]) <= tol * bnorm[j]) {
        active[j] = 0;
        continue;
      }
      const beta = rzNew[j] / rz[j];
      rz[j] = rzNew[j];
      for (let k = 0; k < p; k++) dir[k * m + j] = z[k * m + j] + beta * dir[k * m + j];
    }
  }
  return {
    weights: x.slice(0, d * m),
    bias: withBias ? x.slice(d * m, p * m) : new Float64Array(m),
    iterations: it,
    converged: !active.some((a) => a === 1),
  };
}

/** Predictions s X W + bias (n x m). */
export function ridgePredict(
  sol: Pick<RidgeSolution, 'weights' | 'bias'>,
  X: Float32Array | Float64Array,
  n: number,
  d: number,
  m: number,
  scale = 1,
  out?: Float64Array,
): Float64Array {
  return multiplyXW(X, n, d, sol.weights, m, out, scale, sol.bias);
}

/** The ridge objective |X~ beta - Y|^2 + lambda |beta|^2 (for checks and logs). */
export function ridgeObjective(
  sol: Pick<RidgeSolution, 'weights' | 'bias'>,
  X: Float32Array | Float64Array,
  n: number,
  d: number,
  Y: ArrayLike<number>,
  m: number,
  lambda: number,
  scale = 1,
): number {
  const P = ridgePredict(sol, X, n, d, m, scale);
  let o = 0;
  for (let k = 0; k < n * m; k++) o += (P[k] - Y[k]) ** 2;
  for (let k = 0; k < d * m; k++) o += lambda * sol.weights[k] ** 2;
  for (let j = 0; j < m; j++) o += lambda * sol.bias[j] ** 2;
  return o;
}
