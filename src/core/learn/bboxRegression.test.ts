import { describe, expect, it } from 'vitest';
import { encodeBoxes, iou } from '../geometry';
import {
  fitTargetWhitening,
  predictBoxDeltas,
  regressBoxes,
  trainClassBoxRegressor,
  unwhitenTargets,
  whitenTargets,
} from './bboxRegression';
import { ridgeRegression } from './ridge';
import { mulberry32 } from './random';

describe('target standardisation (release: mean, covariance + 0.001)', () => {
  // Four targets with orthogonal +-patterns: tx = 0.5 +- 0.1, ty = +-0.2, tw = +-0.3, th = 0.2 fixed.
  // Population covariance diag(0.01, 0.04, 0.09, 0); mean (0.5, 0, 0, 0.2).
  const t = Float64Array.from([
    0.6, 0.2, 0.3, 0.2,
    0.6, -0.2, -0.3, 0.2,
    0.4, 0.2, -0.3, 0.2,
    0.4, -0.2, 0.3, 0.2,
  ]);
  const w = fitTargetWhitening(t, 4);

  it('hand-computed mean, eigenvalues and T = diag(1 / sqrt(var + 0.001))', () => {
    expect(Array.from(w.mean).map((v) => +v.toFixed(12))).toEqual([0.5, 0, 0, 0.2]);
    expect(Array.from(w.eigenvalues).map((v) => +v.toFixed(12))).toEqual([0, 0.01, 0.04, 0.09]);
    const diag = [0.011, 0.041, 0.091, 0.001].map((v) => 1 / Math.sqrt(v));
    for (let a = 0; a < 4; a++)
      for (let b = 0; b < 4; b++) {
        expect(w.T[a * 4 + b]).toBeCloseTo(a === b ? diag[a] : 0, 9);
        expect(w.Tinv[a * 4 + b]).toBeCloseTo(a === b ? 1 / diag[a] : 0, 9);
      }
    // Whitened tx of the first target: (0.6 - 0.5) / sqrt(0.011)
    expect(whitenTargets(t, 4, w)[0]).toBeCloseTo(0.1 / Math.sqrt(0.011), 9);
  });

  it('round trip: unwhiten(whiten(t)) = t, also for correlated random targets', () => {
    const r = mulberry32(9);
    const n = 50;
    const u = new Float64Array(4 * n);
    for (let i = 0; i < n; i++) {
      const a = r() - 0.5, b = r() - 0.5;
      u.set([a, a + 0.1 * b, 0.3 * b, -a + b], 4 * i);
    }
    for (const [data, m] of [[t, 4], [u, n]] as const) {
      const ww = fitTargetWhitening(data, m);
      const back = unwhitenTargets(whitenTargets(data, m, ww), m, ww);
      for (let k = 0; k < 4 * m; k++) expect(back[k]).toBeCloseTo(data[k], 12);
    }
  });
});

describe('per-class box regression', () => {
  const G = [100, 100, 200, 200];

  /** Proposals around G (shifted and resized); the features are the true transforms themselves. */
  function training(n: number, seed: number) {
    const r = mulberry32(seed);
    const P = new Float32Array(4 * n);
    const GT = new Float32Array(4 * n);
    for (let i = 0; i < n; i++) {
      const dx = (r() - 0.5) * 30, dy = (r() - 0.5) * 30, sw = 0.8 + 0.4 * r(), sh = 0.8 + 0.4 * r();
      const cx = 150 + dx, cy = 150 + dy, w = 100 * sw, h = 100 * sh;
      P.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 4 * i);
      GT.set(G, 4 * i);
    }
    const X = Float32Array.from(encodeBoxes(P, GT));
    return { P, GT, X };
  }

  it('moves a shifted proposal onto its ground truth (noiseless, tiny lambda)', () => {
    const { P, GT, X } = training(40, 1);
    const reg = trainClassBoxRegressor(X, 40, 4, P, GT, { lambda: 1e-9 })!;
    // A proposal not seen in training: 12 px right, 8 px up, 10 % too wide.
    const p = Float32Array.from([112 - 5, 92, 212 + 5, 192]);
    const x = Float32Array.from(encodeBoxes(p, G));
    const out = regressBoxes(reg, x, p, 640, 480);
    for (let k = 0; k < 4; k++) expect(out[k]).toBeCloseTo(G[k], 3);
    expect(iou(p, G)).toBeLessThan(0.8);
  });

  it('with the release lambda (1000) and norm-20 features the boxes still improve', () => {
    const n = 300;
    const { P, GT, X: T } = training(n, 2);
    // 64-d features that carry the transform linearly plus nuisance dimensions, scaled to norm 20.
    const r = mulberry32(3);
    const d = 64;
    const X = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < d; k++) X[i * d + k] = r();
      for (let j = 0; j < 4; j++) X[i * d + j] += 10 * T[4 * i + j];
    }
    let norm = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += X[i * d + k] ** 2;
      norm += Math.sqrt(s) / n;
    }
    const reg = trainClassBoxRegressor(X, n, d, P, GT, { lambda: 1000, featureScale: 20 / norm })!;
    const out = regressBoxes(reg, X, P, 1000, 1000);
    let before = 0;
    let after = 0;
    for (let i = 0; i < n; i++) {
      before += iou(P.subarray(4 * i, 4 * i + 4), G) / n;
      after += iou(out.subarray(4 * i, 4 * i + 4), G) / n;
    }
    expect(after).toBeGreaterThan(before + 0.05);
    expect(reg.numSamples).toBe(n);
    expect(reg.method).toBe('primal'); // 300 samples > 65 unknowns
  });

  it('standardisation: a huge lambda predicts the class mean move, not "no move"', () => {
    const { P, GT, X } = training(40, 4);
    const t = encodeBoxes(P, GT);
    const mean = [0, 1, 2, 3].map((j) => t.filter((_, k) => k % 4 === j).reduce((a, b) => a + b, 0) / 40);
    const std = trainClassBoxRegressor(X, 40, 4, P, GT, { lambda: 1e12 })!;
    const raw = trainClassBoxRegressor(X, 40, 4, P, GT, { lambda: 1e12, standardize: false })!;
    const dStd = predictBoxDeltas(std, X.subarray(0, 4), 1);
    const dRaw = predictBoxDeltas(raw, X.subarray(0, 4), 1);
    for (let j = 0; j < 4; j++) {
      expect(dStd[j]).toBeCloseTo(mean[j], 6);
      expect(dRaw[j]).toBeCloseTo(0, 6);
    }
  });

  it('the whitening rotation cancels: same predictions as ridge on centred targets', () => {
    const { P, GT, X } = training(60, 5);
    const reg = trainClassBoxRegressor(X, 60, 4, P, GT, { lambda: 5 })!;
    const t = encodeBoxes(P, GT);
    const mean = reg.whitening.mean;
    const centred = t.map((v, k) => v - mean[k % 4]);
    const plain = ridgeRegression(X, 60, 4, centred, 4, { lambda: 5 });
    const a = predictBoxDeltas(reg, X, 60);
    for (let i = 0; i < 60; i++)
      for (let j = 0; j < 4; j++) {
        let p = plain.bias[j];
        for (let k = 0; k < 4; k++) p += X[i * 4 + k] * plain.weights[k * 4 + j];
        expect(a[4 * i + j]).toBeCloseTo(p + mean[j], 5);
      }
  });

  it('no samples: no regressor; output boxes are clipped to the image', () => {
    expect(trainClassBoxRegressor(new Float32Array(0), 0, 4, [], [])).toBeNull();
    const { P, GT, X } = training(20, 6);
    const reg = trainClassBoxRegressor(X, 20, 4, P, GT, { lambda: 1e-9 })!;
    const p = Float32Array.from([100, 100, 200, 200]);
    // Ask for a box that would extend to x2 = 400 in an image 150 px wide.
    const x = Float32Array.from(encodeBoxes(p, [200, 100, 400, 200]));
    const out = regressBoxes(reg, x, p, 150, 480);
    expect(out[0]).toBeCloseTo(150, 3);
    expect(out[2]).toBe(150);
    expect(() => trainClassBoxRegressor(X, 1, 4, [0, 0, 0, 10], [0, 0, 10, 10])).toThrow(/empty/);
  });
});
