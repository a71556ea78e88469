import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfjs from '@tensorflow/tfjs';
import { useNodeBackend } from './node';
import { caffeNetArch } from './architecture';
import { CaffeNet, randomWeights } from './caffenet';
import { maxRelativeError } from './cpuReference';
import { trainStep } from './training';

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
    const labels = [0, 1, 2, 3, 4, 0, 1, 2];
    const opt = tfjs.train.momentum(0.01, 0.9);
    const first = trainStep(net, opt, x, labels, { weightDecay: 0.0005 });
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 15; i++) last = trainStep(net, opt, x, labels, { weightDecay: 0.0005 });
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first * 0.5);
    opt.dispose();
    x.dispose();
    net.dispose();
  });
});
