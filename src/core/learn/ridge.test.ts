import { describe, expect, it } from 'vitest';
import { chooseRidgeMethod, ridgeObjective, ridgePredict, ridgeRegression, type RidgeMethod } from './ridge';
import {
  choleskyInPlace,
  choleskySolveInPlace,
  gramLower,
  NotPositiveDefiniteError,
  symmetricEigen,
  symmetrizeFromLower,
  transpose,
} from './linalg';
import { mulberry32 } from './random';

function randomMatrix(n: number, d: number, seed: number, sparse = 0): Float32Array {
  const r = mulberry32(seed);
  const X = new Float32Array(n * d);
  for (let i = 0; i < X.length; i++) X[i] = r() < sparse ? 0 : r() * 2 - 1;
  return X;
}

/** Gradient of |X~ beta - Y|^2 + lambda |beta|^2, i.e. X~^T (X~ beta - Y) + lambda beta, max-abs. */
function optimalityResidual(
  X: Float32Array,
  n: number,
  d: number,
  Y: Float64Array,
  m: number,
  w: Float64Array,
  b: Float64Array,
  lambda: number,
  s: number,
): number {
  let worst = 0;
  const res = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let p = b[j];
      for (let k = 0; k < d; k++) p += s * X[i * d + k] * w[k * m + j];
      res[i * m + j] = p - Y[i * m + j];
    }
  for (let j = 0; j < m; j++) {
    for (let k = 0; k < d; k++) {
      let g = lambda * w[k * m + j];
      for (let i = 0; i < n; i++) g += s * X[i * d + k] * res[i * m + j];
      worst = Math.max(worst, Math.abs(g));
    }
    let gb = lambda * b[j];
    for (let i = 0; i < n; i++) gb += res[i * m + j];
    worst = Math.max(worst, Math.abs(gb));
  }
  return worst;
}

describe('linear algebra kernels', () => {
  it('blocked Gram matrix equals plain dot products (sizes not multiples of 4, several k tiles)', () => {
    const n = 11, d = 2100;
    const X = randomMatrix(n, d, 1);
    const G = symmetrizeFromLower(gramLower(X, n, d, new Float64Array(n * n)), n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += X[i * d + k] * X[j * d + k];
        expect(G[i * n + j]).toBeCloseTo(s, 9);
      }
  });

  it('Cholesky of a hand-made matrix and its solve', () => {
    // A = L L^T with L = [[2,0,0],[1,3,0],[-1,2,1]] -> A = [[4,2,-2],[2,10,5],[-2,5,6]]
    const A = Float64Array.from([4, 2, -2, 2, 10, 5, -2, 5, 6]);
    choleskyInPlace(A, 3);
    expect([A[0], A[3], A[4], A[6], A[7], A[8]]).toEqual([2, 1, 3, -1, 2, 1]);
    // Solve A x = b for x = (1, -1, 2): b = A x = (4-2-4, 2-10+10, -2-5+12) = (-2, 2, 5)
    const b = Float64Array.from([-2, 2, 5]);
    choleskySolveInPlace(A, 3, b, 1);
    expect(b[0]).toBeCloseTo(1, 12);
    expect(b[1]).toBeCloseTo(-1, 12);
    expect(b[2]).toBeCloseTo(2, 12);
    expect(() => choleskyInPlace(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(NotPositiveDefiniteError);
  });

  it('blocked Cholesky on a 23 x 23 SPD matrix reproduces it', () => {
    const n = 23;
    const X = randomMatrix(n, 30, 2);
    const A = symmetrizeFromLower(gramLower(X, n, 30, new Float64Array(n * n)), n);
    for (let i = 0; i < n; i++) A[i * n + i] += 0.5;
    const L = choleskyInPlace(Float64Array.from(A), n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = 0; k <= j; k++) s += L[i * n + k] * L[j * n + k];
        expect(s).toBeCloseTo(A[i * n + j], 10);
      }
  });

  it('Jacobi eigen-decomposition of a symmetric 4 x 4', () => {
    // Block-diagonal [[2,1],[1,2]] (eigenvalues 1, 3) and [[5,0],[0,-1]].
    const S = [2, 1, 0, 0, 1, 2, 0, 0, 0, 0, 5, 0, 0, 0, 0, -1];
    const { values, vectors } = symmetricEigen(S, 4);
    expect(Array.from(values).map((v) => Math.round(v * 1e12) / 1e12)).toEqual([-1, 1, 3, 5]);
    // S V = V diag(values)
    for (let c = 0; c < 4; c++)
      for (let r = 0; r < 4; r++) {
        let sv = 0;
        for (let k = 0; k < 4; k++) sv += S[r * 4 + k] * vectors[k * 4 + c];
        expect(sv).toBeCloseTo(values[c] * vectors[r * 4 + c], 12);
      }
  });

  it('transpose', () => {
    const A = Float32Array.from([1, 2, 3, 4, 5, 6]);
    expect(Array.from(transpose(A, 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe('ridge regression', () => {
  it('hand case: x = (1,2,3), y = 2x; no bias beta = sum xy / (sum x^2 + lambda); with bias by 2 x 2 solve', () => {
    const X = Float32Array.from([1, 2, 3]);
    const Y = [2, 4, 6];
    for (const method of ['primal', 'dual', 'cg'] as RidgeMethod[]) {
      // lambda = 0 is plain least squares; the dual (3 x 3 kernel of rank 1) is then singular.
      if (method !== 'dual') expect(ridgeRegression(X, 3, 1, Y, 1, { lambda: 0, bias: false, method }).weights[0]).toBeCloseTo(2, 9);
      else expect(() => ridgeRegression(X, 3, 1, Y, 1, { lambda: 0, bias: false, method })).toThrow(NotPositiveDefiniteError);
      // 28 / (14 + 14) = 1: lambda equal to sum x^2 halves the slope.
      expect(ridgeRegression(X, 3, 1, Y, 1, { lambda: 14, bias: false, method }).weights[0]).toBeCloseTo(1, 9);
      // With the regularised bias and lambda 1: [[15, 6], [6, 4]] [w; b] = [28; 12] -> w = 5/3, b = 1/2.
      const s = ridgeRegression(X, 3, 1, Y, 1, { lambda: 1, method });
      expect(s.weights[0]).toBeCloseTo(5 / 3, 9);
      expect(s.bias[0]).toBeCloseTo(0.5, 9);
    }
  });

  it('recovers exact weights and biases from noiseless data with a tiny lambda (all solvers)', () => {
    const n = 60, d = 12, m = 4;
    const X = randomMatrix(n, d, 3);
    const r = mulberry32(4);
    const W = Float64Array.from({ length: d * m }, () => r() * 2 - 1);
    const b = Float64Array.from([0.5, -1, 2, 0.25]);
    const Y = ridgePredict({ weights: W, bias: b }, X, n, d, m);
    for (const method of ['primal', 'dual', 'cg'] as RidgeMethod[]) {
      const s = ridgeRegression(X, n, d, Y, m, { lambda: 1e-9, method });
      expect(s.method).toBe(method);
      for (let k = 0; k < d * m; k++) expect(s.weights[k]).toBeCloseTo(W[k], 5);
      for (let j = 0; j < m; j++) expect(s.bias[j]).toBeCloseTo(b[j], 5);
    }
  });

  it('primal, dual and CG agree and satisfy the optimality condition (d > n and n > d, with a feature scale)', () => {
    for (const [n, d] of [
      [37, 90],
      [150, 21],
    ]) {
      const m = 4;
      const X = randomMatrix(n, d, 10 + n, 0.5);
      const r = mulberry32(n);
      const Y = Float64Array.from({ length: n * m }, () => r() - 0.5);
      const opts = { lambda: 3, scale: 2.5 };
      const sols = (['primal', 'dual', 'cg'] as RidgeMethod[]).map((method) => ridgeRegression(X, n, d, Y, m, { ...opts, method }));
      for (const s of sols) {
        expect(optimalityResidual(X, n, d, Y, m, s.weights, s.bias, 3, 2.5)).toBeLessThan(1e-7);
        for (let k = 0; k < d * m; k++) expect(s.weights[k]).toBeCloseTo(sols[0].weights[k], 8);
        for (let j = 0; j < m; j++) expect(s.bias[j]).toBeCloseTo(sols[0].bias[j], 8);
      }
      expect(sols[2].iterations).toBeGreaterThan(0);
      expect(sols.every((x) => x.converged)).toBe(true);
      // Cut short, CG says so.
      expect(ridgeRegression(X, n, d, Y, m, { ...opts, method: 'cg', cgMaxIterations: 2 }).converged).toBe(false);
    }
  });

  it('larger lambda shrinks the weights and raises the training error, never lowers the objective', () => {
    const n = 80, d = 10, m = 4;
    const X = randomMatrix(n, d, 5);
    const r = mulberry32(6);
    const Y = Float64Array.from({ length: n * m }, () => r() - 0.5);
    let lastNorm = Infinity;
    let lastErr = -Infinity;
    for (const lambda of [0.01, 1, 100, 10000]) {
      const s = ridgeRegression(X, n, d, Y, m, { lambda });
      let norm = 0;
      for (const w of s.weights) norm += w * w;
      for (const b of s.bias) norm += b * b;
      const err = ridgeObjective(s, X, n, d, Y, m, 0);
      expect(norm).toBeLessThan(lastNorm);
      expect(err).toBeGreaterThan(lastErr);
      lastNorm = norm;
      lastErr = err;
      // Optimality: perturbing the solution never lowers the objective.
      const base = ridgeObjective(s, X, n, d, Y, m, lambda);
      const w2 = Float64Array.from(s.weights);
      w2[3] += 1e-3;
      expect(ridgeObjective({ weights: w2, bias: s.bias }, X, n, d, Y, m, lambda)).toBeGreaterThan(base);
    }
  });

  it('auto picks the smaller system, and CG when both are large', () => {
    expect(chooseRidgeMethod(500, 9216)).toBe('dual');
    expect(chooseRidgeMethod(20000, 256)).toBe('primal');
    expect(chooseRidgeMethod(20000, 9216)).toBe('cg');
    expect(chooseRidgeMethod(20000, 9216, { method: 'dual' })).toBe('dual');
  });
});
