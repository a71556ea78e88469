/**
 * heads.py (the SVMs, box regressors and validation mAP of R-CNN on a GPU, for comparing CNNs)
 * against the project's own solvers on the same problems, and end to end on the tiny synthetic
 * dataset on this machine's CPU. Needs Python 3 with PyTorch, NumPy and Pillow (as finetune.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainLinearSvm, svmObjective } from '../../src/core/learn/svm';
import { predictBoxDeltas, trainClassBoxRegressor } from '../../src/core/learn/bboxRegression';
import { mulberry32 } from '../../src/core/learn/random';
import { exportSyntheticData } from './testData';
import { caffeNetArch } from '../../src/model/architecture';
import { randomWeights } from '../../src/model/caffenet';
import { savePackageDir } from '../../src/model/packageNode';
import { python } from './python';

/** Gaussian rows around +-mu (overlapping classes, so the hinge is active on both sides). */
function gaussianRows(n: number, d: number, mu: number, rand: () => number): Float32Array {
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) {
    const u = Math.max(rand(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand()) + (i % d < 3 ? mu : 0);
  }
  return out;
}

describe('tools/gpu-finetune/heads.py', () => {
  it('solves the SVM objective of svm.ts and the ridge of bboxRegression.ts on the same problems', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'heads-'));
    const rand = mulberry32(5);
    const d = 12, np = 60, nn = 900;
    const pos = gaussianRows(np, d, 1.2, rand);
    const neg = gaussianRows(nn, d, -0.6, rand);
    writeFileSync(join(tmp, 'pos.f32'), pos);
    writeFileSync(join(tmp, 'neg.f32'), neg);
    // Box regression: 200 pairs of features and proposal / ground-truth boxes.
    const n = 200, D = 20;
    const feats = gaussianRows(n, D, 0, rand).map((v) => Math.max(0, v + 0.5)); // post-ReLU-like
    const P = new Float32Array(4 * n), G = new Float32Array(4 * n);
    for (let i = 0; i < n; i++) {
      const x = 50 * rand(), y = 50 * rand(), w = 20 + 60 * rand(), h = 20 + 60 * rand();
      P.set([x, y, x + w, y + h], 4 * i);
      const dx = (rand() - 0.5) * 0.2 * w + feats[i * D] * 2, dy = (rand() - 0.5) * 0.2 * h;
      G.set([x + dx, y + dy, x + dx + w * (0.9 + 0.2 * rand()), y + dy + h * (0.9 + 0.2 * rand())], 4 * i);
    }
    writeFileSync(join(tmp, 'feats.f32'), feats);
    writeFileSync(join(tmp, 'P.f32'), P);
    writeFileSync(join(tmp, 'G.f32'), G);

    for (const C of [0.01, 0.1, 1]) {
      const ts = trainLinearSvm({ dim: d, positives: pos, numPositives: np, negatives: neg, numNegatives: nn }, { C, epsilon: 1e-3, maxIterations: 100000 });
      expect(ts.primal - ts.dual, `C ${C}: duality gap of svm.ts`).toBeLessThan(0.01 * ts.primal);
      const out = python([
        '-c',
        `import sys, json, numpy as np, torch
sys.path.insert(0, 'tools/gpu-finetune')
import heads
t = sys.argv[1]
pos = torch.from_numpy(np.fromfile(t + '/pos.f32', dtype='<f4').reshape(-1, ${d}))
neg = torch.from_numpy(np.fromfile(t + '/neg.f32', dtype='<f4').reshape(-1, ${d}))
X = torch.cat([pos, neg])
mask = torch.arange(len(X)) >= len(pos)
w, b, st = heads.train_svm(X, torch.arange(len(pos)), mask, ${C}, 0.01, 500)
print(json.dumps(dict(w=w.tolist(), b=b, objective=st['objective'])))`,
        tmp,
      ]);
      const py = JSON.parse(out) as { w: number[]; b: number; objective: number };
      // The TypeScript objective of the Python solution, and how close it is to the optimum (the
      // dual objective bounds it from below).
      const atPy = svmObjective({ dim: d, positives: pos, numPositives: np, negatives: neg, numNegatives: nn }, py.w, py.b, { C });
      expect(Math.abs(atPy.primal - py.objective) / ts.primal, `C ${C}: objective as computed in Python ${py.objective}, in svm.ts ${atPy.primal}`).toBeLessThan(1e-5);
      expect(atPy.primal, `C ${C}: L-BFGS on the smoothed hinge ${atPy.primal}, dual coordinate descent ${ts.primal} (dual ${ts.dual})`).toBeLessThan(ts.primal * 1.002);
      expect(atPy.primal).toBeGreaterThanOrEqual(ts.dual * (1 - 1e-9));
    }

    const reg = trainClassBoxRegressor(feats, n, D, P, G, { lambda: 100, featureScale: 1.7 })!;
    const tsDeltas = predictBoxDeltas(reg, feats, n);
    const pyOut = python([
      '-c',
      `import sys, json, numpy as np, torch
sys.path.insert(0, 'tools/gpu-finetune')
import heads
t = sys.argv[1]
f = lambda n, k: torch.from_numpy(np.fromfile(t + '/' + n + '.f32', dtype='<f4').reshape(-1, k))
X, P, G = f('feats', ${D}) * 1.7, f('P', 4), f('G', 4)
W, b, mu = heads.train_ridge(X, P, G, 100.0)
print(json.dumps(((X @ W + b + mu).flatten()).tolist()))`,
      tmp,
    ]);
    const pyDeltas = JSON.parse(pyOut) as number[];
    let maxDiff = 0, maxAbs = 0;
    for (let k = 0; k < 4 * n; k++) {
      maxDiff = Math.max(maxDiff, Math.abs(pyDeltas[k] - tsDeltas[k]));
      maxAbs = Math.max(maxAbs, Math.abs(tsDeltas[k]));
    }
    expect(maxAbs).toBeGreaterThan(0.05);
    expect(maxDiff, `box deltas: max |torch - TS| ${maxDiff} of max ${maxAbs}`).toBeLessThan(1e-4);
  }, 120_000);

  it('trains SVMs and box regressors on a CNN and reports the validation mAP with and without regression', async () => {
    const { tmp, data, meta } = exportSyntheticData('heads-e2e-', 12, 40);
    const arch = caffeNetArch({ width: 0.1, numClasses: 3 });
    const pkg = join(tmp, 'pkg');
    await savePackageDir({ name: 'random', architecture: arch, classes: ['background', 'blue', 'red'], weights: randomWeights(arch, { seed: 2 }), provenance: { createdBy: 'heads.test.ts', createdAt: new Date(0).toISOString() } }, pkg);
    const out = join(tmp, 'out');
    python(['tools/gpu-finetune/heads.py', '--data', data, '--cnn', pkg, '--out', out, '--svm-c', '0.01,0.1', '--nms', '0.3,0.5', '--proposals', '40', '--device', 'cpu']);
    const rep = JSON.parse(readFileSync(join(out, 'heads-eval.json'), 'utf8'));
    const run = rep.runs[0];
    expect(run.trainImages).toBe(meta.trainImages);
    expect(run.valImages).toBe(meta.valImages);
    // Every training image's ground truth plus its first 40 proposals (of its fine-tuning windows).
    const train = meta.trainEval;
    const imageOf = readFileSync(join(data, 'train-image.u16'));
    const windowsOf = new Map<number, number>();
    for (let k = 0; k < imageOf.length; k += 2) windowsOf.set(imageOf.readUInt16LE(k), (windowsOf.get(imageOf.readUInt16LE(k)) ?? 0) + 1);
    expect(run.trainWindows).toBe(train.reduce((a, e) => a + e.gtLabels.length + Math.min(40, windowsOf.get(e.image)! - e.gtLabels.length), 0));
    // Positives: the training ground truth of each class.
    for (const [c, name] of [[1, 'blue'], [2, 'red']] as const) {
      const gt = train.reduce((a, e) => a + e.gtLabels.filter((l) => l === c).length, 0);
      expect(gt).toBeGreaterThan(0);
      for (const C of ['0.01', '0.1']) {
        const st = run.svm[C].find((s: { cls: string }) => s.cls === name);
        expect(st.positives).toBe(gt);
        expect(st.negatives).toBeGreaterThan(st.positives);
        expect(Number.isFinite(st.objective)).toBe(true);
      }
      expect(run.bboxPairs[name]).toBeGreaterThan(0);
    }
    expect(run.fc7Scale).toBeGreaterThan(0);
    for (const C of ['0.01', '0.1'])
      for (const key of ['nms0.3', 'nms0.3-bbox', 'nms0.5', 'nms0.5-bbox']) {
        const r = run.results[C][key];
        expect(Object.keys(r.ap)).toEqual(['blue', 'red']);
        expect(r.map).toBeGreaterThanOrEqual(0);
        expect(r.map).toBeLessThanOrEqual(1);
      }
  }, 300_000);
});
