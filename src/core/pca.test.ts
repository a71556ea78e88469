import { describe, expect, it } from 'vitest';
import { pca, orthonormalizeColumns } from './pca';
import { symmetricEigen } from './learn/linalg';
import { mulberry32 } from './learn/random';

/** Exact PCA through the full covariance (small d only): eigenvalues descending, axes as rows. */
function exactPca(X: Float32Array, n: number, d: number) {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) mean[c] += X[i * d + c] / n;
  const C = new Float64Array(d * d);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++) {
      const xa = X[i * d + a] - mean[a];
      for (let b = 0; b < d; b++) C[a * d + b] += (xa * (X[i * d + b] - mean[b])) / (n - 1);
    }
  const e = symmetricEigen(C, d);
  const values = Array.from(e.values).reverse();
  const axes = values.map((_, j) => Array.from({ length: d }, (_, r) => e.vectors[r * d + (d - 1 - j)]));
  return { values, axes, mean };
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

describe('pca', () => {
  it('finds the direction of points on a line, with all the variance on it', () => {
    // (t, 2t): axis (1, 2) / sqrt(5), variance 5 var(t), nothing left for the second axis.
    const ts = [-3, -1, 0, 2, 5, 7];
    const X = new Float32Array(ts.flatMap((t) => [t, 2 * t]));
    const r = pca(X, ts.length, 2);
    const mt = ts.reduce((a, b) => a + b) / ts.length;
    const varT = ts.reduce((a, t) => a + (t - mt) ** 2, 0) / (ts.length - 1);
    expect(r.variances[0]).toBeCloseTo(5 * varT, 4);
    expect(r.variances[1]).toBeCloseTo(0, 4);
    expect(r.totalVariance).toBeCloseTo(5 * varT, 4);
    expect(Math.abs(r.components[0])).toBeCloseTo(1 / Math.sqrt(5), 5);
    expect(Math.abs(r.components[1])).toBeCloseTo(2 / Math.sqrt(5), 5);
    // Coordinates are the centred points projected on the axis: (t - mean t) * sqrt(5), up to sign.
    for (let i = 0; i < ts.length; i++) expect(Math.abs(r.coords[2 * i])).toBeCloseTo(Math.abs(ts[i] - mt) * Math.sqrt(5), 4);
    // Sign rule: the largest-magnitude coordinate is positive (t = 7 is the farthest from the mean).
    expect(r.coords[2 * 5]).toBeGreaterThan(0);
  });

  it('matches the exact eigen-decomposition of the covariance on correlated data', () => {
    const n = 400, d = 24;
    const random = mulberry32(7);
    // Latent factors with decreasing scales mixed by a random matrix, plus noise.
    const A = Array.from({ length: 5 * d }, () => gaussian(random));
    const scales = [9, 5, 2, 1, 0.5];
    const X = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const z = scales.map((s) => s * gaussian(random));
      for (let c = 0; c < d; c++) {
        let v = 3 + 0.1 * gaussian(random);
        for (let f = 0; f < 5; f++) v += z[f] * A[f * d + c];
        X[i * d + c] = v;
      }
    }
    const ex = exactPca(X, n, d);
    const r = pca(X, n, d, { components: 3, tolerance: 1e-10 });
    expect(r.converged).toBe(true);
    for (let j = 0; j < 3; j++) {
      expect(Math.abs(r.variances[j] - ex.values[j]) / ex.values[j]).toBeLessThan(1e-6);
      let dot = 0;
      for (let c = 0; c < d; c++) dot += r.components[j * d + c] * ex.axes[j][c];
      expect(Math.abs(dot)).toBeGreaterThan(1 - 1e-6);
      // Coordinates are the projections of the centred rows on the returned axes.
      for (const i of [0, 17, 399]) {
        let p = 0;
        for (let c = 0; c < d; c++) p += (X[i * d + c] - ex.mean[c]) * r.components[j * d + c];
        expect(r.coords[i * 3 + j]).toBeCloseTo(p, 2);
      }
    }
    const total = ex.values.reduce((a, b) => a + b, 0);
    expect(r.totalVariance).toBeCloseTo(total, 2);
  });

  it('handles wide, sparse, non-negative rows (fc7-like: fewer rows than features)', () => {
    const n = 60, d = 300;
    const random = mulberry32(3);
    const X = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const cluster = i % 3;
      for (let c = 0; c < d; c++) {
        const v = (c % 3 === cluster ? 2 : 0) + gaussian(random) * 0.7 - 0.5;
        X[i * d + c] = Math.max(0, v); // ReLU: about half the entries are exactly zero
      }
    }
    // Exact top eigenvalues through the n x n Gram matrix of the centred rows.
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) mean[c] += X[i * d + c] / n;
    const G = new Float64Array(n * n);
    for (let a = 0; a < n; a++)
      for (let b = 0; b < n; b++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += (X[a * d + c] - mean[c]) * (X[b * d + c] - mean[c]);
        G[a * n + b] = s / (n - 1);
      }
    const top = Array.from(symmetricEigen(G, n).values).reverse();
    const r = pca(X, n, d, { tolerance: 1e-10 });
    expect(r.variances[0] / top[0]).toBeCloseTo(1, 6);
    expect(r.variances[1] / top[1]).toBeCloseTo(1, 6);
    // Three clusters: the first two components separate them (the means differ by cluster).
    const centroid = (k: number) => {
      let x = 0, y = 0;
      for (let i = k; i < n; i += 3) {
        x += r.coords[2 * i];
        y += r.coords[2 * i + 1];
      }
      return [x / (n / 3), y / (n / 3)];
    };
    const cs = [0, 1, 2].map(centroid);
    const dist = (p: number[], q: number[]) => Math.hypot(p[0] - q[0], p[1] - q[1]);
    expect(Math.min(dist(cs[0], cs[1]), dist(cs[1], cs[2]), dist(cs[0], cs[2]))).toBeGreaterThan(5);
  });

  it('is deterministic for a seed and copes with degenerate input', () => {
    const random = mulberry32(11);
    const X = Float32Array.from({ length: 50 * 40 }, () => random());
    const a = pca(X, 50, 40);
    const b = pca(X, 50, 40);
    expect(Array.from(a.coords)).toEqual(Array.from(b.coords));
    // One row: no variance, coordinates zero, no NaN.
    const one = pca(new Float32Array([1, 2, 3]), 1, 3);
    expect(Array.from(one.coords).every((v) => v === 0)).toBe(true);
    // Identical rows.
    const same = pca(new Float32Array(12).fill(2), 4, 3);
    expect(Array.from(same.coords).every((v) => Number.isFinite(v) && Math.abs(v) < 1e-9)).toBe(true);
    expect(same.totalVariance).toBe(0);
  });

  it('orthonormalises a block of columns', () => {
    const random = mulberry32(5);
    const d = 30, l = 5;
    const V = Float64Array.from({ length: d * l }, () => random());
    orthonormalizeColumns(V, d, l, random);
    for (let a = 0; a < l; a++)
      for (let b = 0; b < l; b++) {
        let s = 0;
        for (let r = 0; r < d; r++) s += V[r * l + a] * V[r * l + b];
        expect(s).toBeCloseTo(a === b ? 1 : 0, 10);
      }
  });
});
