/**
 * Principal components of a feature matrix (e.g. every proposal's fc7), for the 2-D map of the
 * CNN-features panel.
 *
 * R-CNN's matrices are wide and short (2000 proposals x 4096 fc7 units), so neither the 4096 x 4096
 * covariance (33 G multiply-adds) nor the 2000 x 2000 Gram matrix (8 G) is worth forming for two
 * components. Block subspace iteration with Rayleigh-Ritz (Golub & Van Loan, section 8.2.4) only
 * multiplies X by a thin d x l block: one pass over X per iteration computes both Y = Xc V and
 * W = Xc^T Y, the l x l Ritz problem Y^T Y gives the current eigenvalue estimates, and V = orth(W)
 * moves on. With l = k + 6 the error shrinks like (lambda_{l+1} / lambda_k)^iteration, a handful of
 * iterations on real fc7 features. Centering is folded into the products (X is never copied), and
 * fc7 is post-ReLU, so zero entries (most of them) are skipped.
 */
import { symmetricEigen } from './learn/linalg';
import { mulberry32 } from './learn/random';

export interface PcaOptions {
  /** Components wanted (default 2). */
  components?: number;
  /** Extra block columns that speed up convergence (default 6). */
  oversample?: number;
  /** Stop when every wanted eigenvalue changes by less than this, relative (default 1e-6). */
  tolerance?: number;
  maxIterations?: number;
  seed?: number;
}

export interface PcaResult {
  /** n x k row-major: each row's coordinates along the components. */
  coords: Float32Array;
  /** k x d row-major unit vectors (the principal axes). */
  components: Float32Array;
  /** Variance along each component (eigenvalues of the covariance, divisor n - 1). */
  variances: Float64Array;
  /** Total variance (trace of the covariance): variances[i] / totalVariance is the share explained. */
  totalVariance: number;
  mean: Float64Array;
  iterations: number;
  converged: boolean;
  ms: number;
}

/** Orthonormalise the l columns of a d x l row-major block in place (modified Gram-Schmidt, twice). */
export function orthonormalizeColumns(V: Float64Array, d: number, l: number, random: () => number = Math.random): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < l; j++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let r = 0; r < d; r++) dot += V[r * l + j] * V[r * l + p];
        for (let r = 0; r < d; r++) V[r * l + j] -= dot * V[r * l + p];
      }
      let norm = 0;
      for (let r = 0; r < d; r++) norm += V[r * l + j] * V[r * l + j];
      norm = Math.sqrt(norm);
      if (!(norm > 1e-12)) {
        // A column collapsed (rank-deficient data): restart it at random, orthogonal to the others.
        for (let r = 0; r < d; r++) V[r * l + j] = random() - 0.5;
        j--;
        continue;
      }
      for (let r = 0; r < d; r++) V[r * l + j] /= norm;
    }
  }
}

/**
 * One row of the fused pass for the default block of 8 columns: y = x V - m, W += x^T y, with
 * scalar accumulators (about twice as fast as the generic loop in V8).
 */
function passRow8(X: Float32Array | Float64Array, o: number, d: number, V: Float64Array, W: Float64Array, Y: Float64Array, yo: number, m: Float64Array): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  for (let c = 0; c < d; c++) {
    const x = X[o + c];
    if (x === 0) continue;
    const v = c << 3;
    a0 += x * V[v]; a1 += x * V[v + 1]; a2 += x * V[v + 2]; a3 += x * V[v + 3];
    a4 += x * V[v + 4]; a5 += x * V[v + 5]; a6 += x * V[v + 6]; a7 += x * V[v + 7];
  }
  const y0 = a0 - m[0], y1 = a1 - m[1], y2 = a2 - m[2], y3 = a3 - m[3];
  const y4 = a4 - m[4], y5 = a5 - m[5], y6 = a6 - m[6], y7 = a7 - m[7];
  Y[yo] = y0; Y[yo + 1] = y1; Y[yo + 2] = y2; Y[yo + 3] = y3;
  Y[yo + 4] = y4; Y[yo + 5] = y5; Y[yo + 6] = y6; Y[yo + 7] = y7;
  for (let c = 0; c < d; c++) {
    const x = X[o + c];
    if (x === 0) continue;
    const w = c << 3;
    W[w] += x * y0; W[w + 1] += x * y1; W[w + 2] += x * y2; W[w + 3] += x * y3;
    W[w + 4] += x * y4; W[w + 5] += x * y5; W[w + 6] += x * y6; W[w + 7] += x * y7;
  }
}

/**
 * The top principal components of n rows of d features (row-major). Deterministic for a seed;
 * each axis's sign is chosen so that its largest-magnitude coordinate is positive.
 */
export function pca(X: Float32Array | Float64Array, n: number, d: number, opts: PcaOptions = {}): PcaResult {
  const t0 = performance.now();
  if (X.length < n * d) throw new Error(`pca: ${X.length} values for ${n} x ${d}`);
  const k = Math.max(1, Math.min(opts.components ?? 2, n, d));
  const l = Math.max(k, Math.min(k + (opts.oversample ?? 6), n, d));
  const tol = opts.tolerance ?? 1e-6;
  const maxIter = opts.maxIterations ?? 100;
  const random = mulberry32(opts.seed ?? 1);

  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let c = 0; c < d; c++) mean[c] += X[o + c];
  }
  for (let c = 0; c < d; c++) mean[c] /= Math.max(1, n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let c = 0; c < d; c++) {
      const v = X[o + c] - mean[c];
      total += v * v;
    }
  }
  const denom = Math.max(1, n - 1);

  const V = new Float64Array(d * l);
  for (let i = 0; i < V.length; i++) V[i] = random() - 0.5;
  orthonormalizeColumns(V, d, l, random);
  const Y = new Float64Array(n * l);
  const W = new Float64Array(d * l);
  const m = new Float64Array(l);
  const ySum = new Float64Array(l);
  const acc = new Float64Array(l);
  const H = new Float64Array(l * l);
  let prev = new Float64Array(k).fill(NaN);
  let values = new Float64Array(l);
  let U = new Float64Array(l * l);
  let iterations = 0;
  let converged = false;

  while (iterations < maxIter) {
    iterations++;
    // m = mean^T V: centering folded into Y = X V - 1 m^T.
    m.fill(0);
    for (let c = 0; c < d; c++) {
      const mc = mean[c];
      if (mc === 0) continue;
      for (let j = 0; j < l; j++) m[j] += mc * V[c * l + j];
    }
    W.fill(0);
    ySum.fill(0);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      const yo = i * l;
      if (l === 8) passRow8(X, o, d, V, W, Y, yo, m);
      else {
        acc.fill(0);
        for (let c = 0; c < d; c++) {
          const x = X[o + c];
          if (x === 0) continue;
          const vo = c * l;
          for (let j = 0; j < l; j++) acc[j] += x * V[vo + j];
        }
        for (let j = 0; j < l; j++) Y[yo + j] = acc[j] - m[j];
        // W += x_i^T y_i (the row is still in cache).
        for (let c = 0; c < d; c++) {
          const x = X[o + c];
          if (x === 0) continue;
          const wo = c * l;
          for (let j = 0; j < l; j++) W[wo + j] += x * Y[yo + j];
        }
      }
      for (let j = 0; j < l; j++) ySum[j] += Y[yo + j];
    }
    // W = Xc^T Y = X^T Y - mean ySum^T.
    for (let c = 0; c < d; c++) {
      const mc = mean[c];
      if (mc === 0) continue;
      for (let j = 0; j < l; j++) W[c * l + j] -= mc * ySum[j];
    }
    // Rayleigh-Ritz: H = Y^T Y = V^T (Xc^T Xc) V, scaled to unit trace so Jacobi's threshold is relative.
    H.fill(0);
    for (let i = 0; i < n; i++) {
      const yo = i * l;
      for (let a = 0; a < l; a++) {
        const ya = Y[yo + a];
        for (let b = 0; b <= a; b++) H[a * l + b] += ya * Y[yo + b];
      }
    }
    let trace = 0;
    for (let a = 0; a < l; a++) trace += H[a * l + a];
    const s = trace > 0 ? 1 / trace : 1;
    for (let a = 0; a < l; a++)
      for (let b = 0; b <= a; b++) {
        H[a * l + b] *= s;
        H[b * l + a] = H[a * l + b];
      }
    const eig = symmetricEigen(H, l);
    // Descending order.
    values = new Float64Array(l);
    U = new Float64Array(l * l);
    for (let j = 0; j < l; j++) {
      values[j] = (eig.values[l - 1 - j] * trace) / denom;
      for (let r = 0; r < l; r++) U[r * l + j] = eig.vectors[r * l + (l - 1 - j)];
    }
    let change = 0;
    for (let j = 0; j < k; j++) change = Math.max(change, Math.abs(values[j] - prev[j]) / Math.max(values[j], 1e-30 * total, 1e-300));
    prev = values.slice(0, k);
    if (change < tol || trace === 0) {
      converged = true;
      break;
    }
    if (iterations === maxIter) break;
    V.set(W);
    orthonormalizeColumns(V, d, l, random);
  }

  // Ritz vectors of the last block: components = V U, coordinates = Y U (Y = Xc V).
  const components = new Float32Array(k * d);
  const coords = new Float32Array(n * k);
  for (let j = 0; j < k; j++) {
    for (let c = 0; c < d; c++) {
      let v = 0;
      for (let r = 0; r < l; r++) v += V[c * l + r] * U[r * l + j];
      components[j * d + c] = v;
    }
    let best = 0;
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let r = 0; r < l; r++) v += Y[i * l + r] * U[r * l + j];
      coords[i * k + j] = v;
      if (Math.abs(v) > Math.abs(best)) best = v;
    }
    if (best < 0) {
      for (let i = 0; i < n; i++) coords[i * k + j] = -coords[i * k + j];
      for (let c = 0; c < d; c++) components[j * d + c] = -components[j * d + c];
    }
  }
  return {
    coords,
    components,
    variances: values.slice(0, k),
    totalVariance: total / denom,
    mean,
    iterations,
    converged,
    ms: performance.now() - t0,
  };
}
