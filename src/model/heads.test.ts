/**
 * The heads (model/heads.ts), the one place SVM scores, the fine-tuned softmax of appendix B and
 * box-regression deltas are computed: checked by hand, against the network's own fc8 on a small
 * random CaffeNet, and against a loop-by-loop reading of the package format (tfjs, wasm).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { RcnnHeads } from './heads';
import { caffeNetArch } from './architecture';
import { CaffeNet, randomWeights } from './caffenet';
import { useNodeBackend } from './node';
import { mulberry32 } from '../core/learn/random';
import type { BoxRegressorHead } from './package';

describe('RcnnHeads', () => {
  it('softmax scores are the softmax of the network\'s fc8 without the background column', async () => {
    await useNodeBackend('wasm');
    const arch = caffeNetArch({ width: 0.1, numClasses: 4 });
    const weights = randomWeights(arch, { seed: 5 });
    const net = new CaffeNet(arch, weights);
    const rand = mulberry32(9);
    const n = 3;
    const x = tf.tensor4d(Float32Array.from({ length: n * 227 * 227 * 3 }, () => (rand() - 0.5) * 200), [n, 227, 227, 3]);
    const out = net.forward(x, { outputs: ['fc7', 'fc8'] });
    const fc7 = out.fc7!.dataSync() as Float32Array;
    const fc8 = out.fc8!.dataSync() as Float32Array;
    tf.dispose([x, out.fc7!, out.fc8!]);
    net.dispose();
    const K = arch.fc8;
    expect(K).toBe(4);
    const heads = new RcnnHeads({ svm: { kind: 'softmax', classes: ['a', 'b', 'c'], weight: weights['fc8.weight']!.data, bias: weights['fc8.bias']!.data } }, { fc7: arch.fc7, pool5: 0 });
    const before = tf.memory().numTensors;
    const { scores } = await heads.applyToArrays(fc7, null, n);
    expect(tf.memory().numTensors).toBe(before);
    heads.dispose();
    expect(scores!.length).toBe(n * (K - 1));
    for (let i = 0; i < n; i++) {
      const z = Array.from(fc8.subarray(i * K, (i + 1) * K));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const sum = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < K - 1; c++) expect(scores![i * (K - 1) + c]).toBeCloseTo(e[c + 1] / sum, 5);
    }
  });

  it('SVM scores are (fc7 x scale) . w + b per class', async () => {
    await useNodeBackend('wasm');
    const fc7 = Float32Array.from([1, 0, 2, 0.5, 3, 0]);
    const svm = { classes: ['a', 'b'], featureLayer: 'fc7' as const, featureScale: 2, weights: Float32Array.from([1, 1, 1, -1, 0, 2]), bias: Float32Array.from([0.5, -1]) };
    const heads = new RcnnHeads({ svm }, { fc7: 3, pool5: 0 });
    const { scores, deltas } = await heads.applyToArrays(fc7, null, 2);
    heads.dispose();
    expect(Array.from(scores!)).toEqual([2 * 3 + 0.5, 2 * 3 - 1, 2 * 3.5 + 0.5, 2 * -0.5 - 1]);
    expect(deltas).toBeNull();
  });

  it('box deltas are ((pool5 x s) . W_c + b_c) . T_c + mean_c, read loop by loop from the package layout, also in column blocks', async () => {
    await useNodeBackend('wasm');
    const rand = mulberry32(3);
    const C = 3, D = 7, n = 5;
    const r = (k: number) => Float32Array.from({ length: k }, () => rand() * 2 - 1);
    const head: BoxRegressorHead = { classes: ['a', 'b', 'c'], featureLayer: 'pool5', featureScale: 0.5, weights: r(C * D * 4), bias: r(C * 4), targetMean: r(C * 4), targetTransform: r(C * 16) };
    const pool5 = Float32Array.from(r(n * D), (v) => Math.max(0, v));
    const expected = new Float32Array(n * C * 4);
    for (let i = 0; i < n; i++)
      for (let c = 0; c < C; c++) {
        const raw = [0, 1, 2, 3].map((j) => {
          let s = 0;
          for (let k = 0; k < D; k++) s += pool5[i * D + k] * head.featureScale * head.weights[(c * D + k) * 4 + j];
          return s + head.bias[4 * c + j];
        });
        for (let j = 0; j < 4; j++) {
          let t = head.targetMean[4 * c + j];
          for (let q = 0; q < 4; q++) t += raw[q] * head.targetTransform[c * 16 + q * 4 + j];
          expected[(i * C + c) * 4 + j] = t;
        }
      }
    // A binding cap below the weight's size splits it into column blocks, as on a small GPU.
    for (const maxBindingBytes of [Infinity, 64]) {
      const heads = new RcnnHeads({ boxRegressor: head }, { fc7: 0, pool5: D, maxBindingBytes });
      const { deltas, scores } = await heads.applyToArrays(null, pool5, n);
      heads.dispose();
      expect(scores).toBeNull();
      for (let k = 0; k < expected.length; k++) expect(deltas![k]).toBeCloseTo(expected[k], 5);
    }
  });

  it('refuses heads whose weights do not match the network\'s feature widths, and frees what it made', async () => {
    await useNodeBackend('wasm');
    const before = tf.memory().numTensors;
    const svm = { classes: ['a'], featureLayer: 'fc7' as const, featureScale: 1, weights: new Float32Array(4), bias: new Float32Array(1) };
    const bad: BoxRegressorHead = { classes: ['a'], featureLayer: 'pool5', featureScale: 1, weights: new Float32Array(12), bias: new Float32Array(4), targetMean: new Float32Array(4), targetTransform: new Float32Array(16) };
    expect(() => new RcnnHeads({ svm, boxRegressor: bad }, { fc7: 4, pool5: 5 })).toThrow(/box regressor: weights hold 12 values, expected 1 x 5 x 4/);
    expect(() => new RcnnHeads({ svm }, { fc7: 3, pool5: 0 })).toThrow(/SVM head: weights hold 4 values, expected 1 x 3/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
