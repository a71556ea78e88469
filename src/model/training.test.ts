import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend } from './node';
import { caffeNetArch } from './architecture';
import { CaffeNet, randomWeights } from './caffenet';
import { maxRelativeError } from './cpuReference';
import { applySgd, createSgdState, trainStep } from './training';
import { FINE_TUNE_RECIPE } from './finetune/recipe';

beforeAll(async () => {
  await useNodeBackend('wasm');
});

const arch = caffeNetArch({ width: 0.125, inputSize: 99, numClasses: 5 });
arch.conv.conv1.pads = [1, 2, 2, 0]; // exercise asymmetric pads in the filter gradient too

/** Gradients of a deterministic (dropout-free) loss with respect to every variable. */
async function gradients(backend: 'wasm' | 'cpu'): Promise<Map<string, Float32Array>> {
  await useNodeBackend(backend);
  const net = new CaffeNet(arch, randomWeights(arch, { seed: 21 }));
  const x = tf.tensor4d(tf.randomNormal([3, 99, 99, 3], 0, 40, 'float32', 5).dataSync(), [3, 99, 99, 3]);
  const y = tf.oneHot(tf.tensor1d([0, 3, 1], 'int32'), 5);
  const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, net.forward(x, { outputs: ['fc8'] }).fc8!) as tf.Scalar, net.variables);
  const out = new Map<string, Float32Array>();
  for (const v of net.variables) {
    const name = v.name.slice(v.name.indexOf('/') + 1);
    out.set(name, (await grads[v.name].data()) as Float32Array);
  }
  tf.dispose([x, y, ...Object.values(grads)]);
  net.dispose();
  return out;
}

describe('wasm training kernels', () => {
  it('give the same gradients as the cpu backend for every layer (grouped, strided, padded convs; fc)', async () => {
    const wasm = await gradients('wasm');
    const cpu = await gradients('cpu');
    await useNodeBackend('wasm');
    expect([...wasm.keys()]).toEqual([...cpu.keys()]);
    for (const [name, g] of wasm) expect(maxRelativeError(g, cpu.get(name)!), name).toBeLessThan(1e-3);
  });

  it('transposed matmuls equal the untransposed product', async () => {
    const a = tf.randomNormal([7, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
    const b = tf.randomNormal([5, 9], 0, 1, 'float32', 2) as tf.Tensor2D;
    const ref = await tf.matMul(a, b).data();
    const at = tf.transpose(a);
    const bt = tf.transpose(b);
    for (const [x, y, ta, tb] of [[at, b, true, false], [a, bt, false, true], [at, bt, true, true]] as const) {
      const r = tf.matMul(x, y, ta, tb);
      expect(r.shape).toEqual([7, 9]);
      expect(maxRelativeError(await r.data(), ref)).toBeLessThan(1e-5);
      r.dispose();
    }
    // A big "a" with a small transposed "b": the other branch (transpose a and the result).
    const big = tf.randomNormal([40, 5], 0, 1, 'float32', 3) as tf.Tensor2D;
    const small = tf.randomNormal([2, 5], 0, 1, 'float32', 4) as tf.Tensor2D;
    const r = tf.matMul(big, small, false, true);
    const r2 = tf.matMul(big, tf.transpose(small));
    expect(maxRelativeError(await r.data(), await r2.data())).toBeLessThan(1e-5);
    tf.dispose([a, b, at, bt, big, small, r, r2]);
  });

  it('SGD with momentum lowers the loss on a fixed batch and leaves no tensors behind', async () => {
    const net = new CaffeNet(arch, randomWeights(arch, { seed: 2 }));
    const x = tf.randomNormal([8, 99, 99, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const labels = Int32Array.from([0, 1, 2, 3, 4, 0, 1, 2]);
    const sgd = createSgdState(net.variables);
    const o = { momentum: 0.9, weightDecay: 0.0005 };
    const first = trainStep(net, sgd, x, labels, 0.01, o);
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 15; i++) last = trainStep(net, sgd, x, labels, 0.01, o);
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first * 0.5);
    tf.dispose(sgd.velocity);
    x.dispose();
    net.dispose();
  });

  it("applies Caffe's update: V = m V + lr (lr_mult g + decay W), W -= V; biases x2 without decay, conv1's weights / inputStd^2", async () => {
    const net = new CaffeNet(arch, randomWeights(arch, { seed: 4 }));
    const vars = net.variables;
    const W0 = vars.map((v) => v.dataSync().slice() as Float32Array);
    const g1 = vars.map((v, i) => Float32Array.from({ length: v.size }, (_, k) => Math.sin(k + i)));
    const g2 = vars.map((v, i) => Float32Array.from({ length: v.size }, (_, k) => Math.cos(2 * k + i)));
    // A checkpoint's momentum (flat, variables in order), so resuming is covered too.
    const total = vars.reduce((a, v) => a + v.size, 0);
    const V0 = Float32Array.from({ length: total }, (_, k) => 1e-3 * Math.sin(3 * k));
    const sgd = createSgdState(vars, V0);
    const o = { momentum: 0.9, weightDecay: 0.01 };
    applySgd(sgd, g1, 0.1, o);
    applySgd(sgd, g2, 0.05, o);
    let offset = 0;
    const seen = new Set<number>();
    vars.forEach((v, i) => {
      const name = v.name.split('/').pop()!;
      const bias = name.includes('.bias');
      const mult = (bias ? FINE_TUNE_RECIPE.biasLrMult : 1) / (name.startsWith('conv1.weight') ? FINE_TUNE_RECIPE.inputStd ** 2 : 1);
      seen.add(mult);
      const decay = bias ? 0 : o.weightDecay;
      const got = v.dataSync();
      for (let k = 0; k < v.size; k += Math.max(1, Math.floor(v.size / 50))) {
        let w = W0[i][k];
        let m = V0[offset + k];
        for (const [g, lr] of [[g1[i][k], 0.1], [g2[i][k], 0.05]]) {
          m = o.momentum * m + lr * (mult * g + decay * w);
          w -= m;
        }
        expect(Math.abs(got[k] - w), `${name}[${k}]`).toBeLessThan(1e-5 * Math.max(1, Math.abs(w)));
      }
      offset += v.size;
    });
    expect([...seen].sort()).toEqual([1 / 3600, 1, 2]);
    tf.dispose(sgd.velocity);
    net.dispose();
  });
});
