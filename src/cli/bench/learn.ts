/**
 * `rcnn bench svm` and `rcnn bench ridge`: time the learning solvers at R-CNN sizes on synthetic
 * CNN-like features (post-ReLU, about one third non-zero, scaled to mean norm 20 as the release
 * does), so solver changes can be measured. The data are synthetic because only the arithmetic
 * is timed; the solvers' correctness is covered by the unit tests.
 */
import { type BenchTarget, benchNumber, formatTable } from './types';
import { mulberry32 } from '../../core/learn/random';
import { featureScaleFactor, meanFeatureNorm, scaleFeaturesInPlace } from '../../core/learn/featureScale';
import { HardNegativeMiner, trainLinearSvm } from '../../core/learn/svm';
import { type RidgeMethod, ridgeObjective, ridgeRegression } from '../../core/learn/ridge';


/** n rows of d post-ReLU features; rows flagged `shifted` get +shift on a fixed 10 % of dims. */
function reluFeatures(n: number, d: number, seed: number, shifted: (i: number) => number): Float32Array {
  const r = mulberry32(seed);
  const pattern = mulberry32(12345);
  const hot = new Uint8Array(d);
  for (let k = 0; k < d; k++) hot[k] = pattern() < 0.1 ? 1 : 0;
  const X = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const s = shifted(i);
    for (let k = 0; k < d; k++) {
      // Box–Muller, one normal per pair of uniforms is enough here.
      const g = Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(6.283185307179586 * r());
      const v = g - 0.5 + (hot[k] ? s : 0);
      X[i * d + k] = v > 0 ? v : 0;
    }
  }
  return X;
}

function scaleToNorm20(X: Float32Array, n: number, d: number): number {
  const f = featureScaleFactor(meanFeatureNorm(X, n, d));
  scaleFeaturesInPlace(X, f);
  return f;
}

export const svmBench: BenchTarget = {
  name: 'svm',
  summary: 'liblinear-type-3 dual coordinate descent (C 0.001, B 10, w+ 2) on fc7-sized rows, and the hard-negative miner.',
  optionsHelp: '--pos 500 --neg 19500 --dim 4096 --seed 1',
  async run({ options, stdout, stderr }) {
    const np = benchNumber(options, 'pos', 500, { min: 1, integer: true });
    const nn = benchNumber(options, 'neg', 19500, { min: 1, integer: true });
    const d = benchNumber(options, 'dim', 4096, { min: 1, integer: true });
    const seed = benchNumber(options, 'seed', 1, { integer: true });
    stderr(`generating ${np} + ${nn} rows x ${d}\n`);
    const P = reluFeatures(np, d, seed, () => 0.6);
    // One negative in five is "hard": partly shifted towards the positives.
    const N = reluFeatures(nn, d, seed + 1, (i) => (i % 5 === 0 ? 0.3 : 0));
    const all = new Float32Array((np + nn) * d);
    all.set(P);
    all.set(N, np * d);
    const f = scaleToNorm20(all, np + nn, d);
    scaleFeaturesInPlace(P, f);
    scaleFeaturesInPlace(N, f);
    const rows: Array<Array<string | number>> = [['run', 'rows', 'seconds', 'sweeps', 'primal', 'dual', 'SVs']];
    for (const eps of [0.1, 0.01]) {
      const t0 = performance.now();
      const s = trainLinearSvm({ dim: d, positives: P, numPositives: np, negatives: N, numNegatives: nn }, { epsilon: eps });
      rows.push([`solve eps ${eps}`, np + nn, (performance.now() - t0) / 1000, s.iterations, s.primal, s.dual, s.supportVectors]);
    }
    // Mining: the negatives offered in images of 2000 candidates.
    const t0 = performance.now();
    const miner = new HardNegativeMiner(d, P, np);
    const per = 2000;
    for (let i = 0; i * per < nn; i++) {
      const m = Math.min(per, nn - i * per);
      miner.offerImage(N.subarray(i * per * d, (i * per + m) * d), m, i, Int32Array.from({ length: m }, (_, j) => j));
    }
    const last = miner.finish();
    rows.push([
      `mining (${miner.stats.length} retrains)`,
      np + (last?.numNegatives ?? 0),
      (performance.now() - t0) / 1000,
      miner.stats.reduce((a, s) => a + s.iterations, 0),
      last?.primal ?? NaN,
      last?.dual ?? NaN,
      (last?.positiveSupportVectors ?? 0) + (last?.negativeSupportVectors ?? 0),
    ]);
    stdout(formatTable(rows));
    return 0;
  },
};

export const ridgeBench: BenchTarget = {
  name: 'ridge',
  summary: 'ridge regression (lambda 1000, 4 targets) on pool5-sized rows: dual Cholesky, primal Cholesky, CG.',
  optionsHelp: '--n 5000 --dim 9216 --methods dual,cg --seed 1',
  async run({ options, stdout, stderr }) {
    const n = benchNumber(options, 'n', 5000, { min: 1, integer: true });
    const d = benchNumber(options, 'dim', 9216, { min: 1, integer: true });
    const seed = benchNumber(options, 'seed', 1, { integer: true });
    const methods = String(options.methods ?? 'dual,cg').split(',') as RidgeMethod[];
    stderr(`generating ${n} rows x ${d}\n`);
    const X = reluFeatures(n, d, seed, (i) => (i % 3) * 0.2);
    const r = mulberry32(seed + 7);
    const Y = new Float64Array(4 * n);
    // Targets: a linear function of a few features plus noise, like standardised box deltas.
    for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) Y[4 * i + j] = 0.3 * X[i * d + j * 7] + (r() - 0.5);
    const f = featureScaleFactor(meanFeatureNorm(X, n, d));
    const rows: Array<Array<string | number>> = [['method', 'n', 'dim', 'seconds', 'CG iterations', 'objective']];
    for (const method of methods) {
      const s = ridgeRegression(X, n, d, Y, 4, { lambda: 1000, scale: f, method });
      rows.push([method, n, d, s.seconds, s.iterations, ridgeObjective(s, X, n, d, Y, 4, 1000, f)]);
    }
    stdout(formatTable(rows));
    return 0;
  },
};
