import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend } from './node';
import { caffeNetArch, pool5Length } from './architecture';
import { CaffeNet, gaussian, randomWeights } from './caffenet';
import { maxRelativeError, refWarp } from './cpuReference';
import { type FeatureBatch, chooseBatchSize, extractAll, extractFeatures, isOutOfMemory } from './extract';
import { RcnnModel } from './rcnnModel';
import type { ModelPackage } from './package';
import type { RgbImage } from '../core/image/raster';

beforeAll(async () => {
  await useNodeBackend('wasm');
});

const arch = caffeNetArch({ width: 0.125, inputSize: 99, numClasses: 4 });
const D5 = pool5Length(arch);
const C = 3;

function pkgWithHeads(): ModelPackage {
  const g = gaussian(8);
  const T = new Float32Array(C * 16);
  for (let c = 0; c < C; c++) for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) T[c * 16 + i * 4 + j] = (i === j ? 0.1 * (c + 1) : 0.01 * g());
  return {
    name: 'heads',
    architecture: arch,
    classes: ['background', 'a', 'b', 'c'],
    weights: randomWeights(arch, { seed: 5 }),
    svm: { classes: ['a', 'b', 'c'], featureLayer: 'fc7', featureScale: 0.3, weights: Float32Array.from({ length: C * arch.fc7 }, () => g()), bias: Float32Array.from({ length: C }, () => g()) },
    boxRegressor: {
      classes: ['a', 'b', 'c'],
      featureLayer: 'pool5',
      featureScale: 0.2,
      weights: Float32Array.from({ length: C * D5 * 4 }, () => g() * 0.01),
      bias: Float32Array.from({ length: C * 4 }, () => g() * 0.1),
      targetMean: Float32Array.from({ length: C * 4 }, () => g() * 0.05),
      targetTransform: T,
    },
    provenance: { createdBy: 'test', createdAt: '' },
  };
}

function image(w: number, h: number): RgbImage {
  const g = gaussian(2);
  return { width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, (_, i) => Math.max(0, Math.min(255, 128 + 60 * g() + ((i / 3) % w)))) };
}

function boxes(n: number, w: number, h: number): Float32Array {
  const g = gaussian(4);
  const b = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const x = Math.abs(g()) * w * 0.5, y = Math.abs(g()) * h * 0.5;
    b.set([x, y, x + 10 + Math.abs(g()) * w * 0.5, y + 10 + Math.abs(g()) * h * 0.5], 4 * i);
  }
  return b;
}

describe('RcnnModel / extractFeatures', () => {
  const img = image(120, 90);
  const props = boxes(11, 120, 90);

  it('computes pool5 and fc7 of the warped crops, and the SVM scores and de-standardised box deltas from them', async () => {
    const pkg = pkgWithHeads();
    const model = new RcnnModel(pkg);
    const r = await extractAll(model, img, { boxes: props, batchSize: 4 });
    expect(r.batches).toBe(3);
    // Features: the network on the CPU-reference warp of the same boxes.
    const crops = refWarp(img, props, arch.mean, 99, 16);
    const x = tf.tensor4d(crops, [11, 99, 99, 3]);
    const net = new CaffeNet(arch, pkg.weights);
    const o = net.forward(x, { outputs: ['fc7'] });
    expect(maxRelativeError(r.fc7!, await o.fc7!.data())).toBeLessThan(2e-3); // warp coordinates differ by float32 rounding
    tf.dispose([x, o.fc7!]);
    net.dispose();
    // Heads, recomputed on the host from the returned features.
    const s = pkg.svm!;
    for (let b = 0; b < 11; b++)
      for (let c = 0; c < C; c++) {
        let v = s.bias[c];
        for (let d = 0; d < arch.fc7; d++) v += r.fc7![b * arch.fc7 + d] * s.featureScale * s.weights[c * arch.fc7 + d];
        expect(r.svmScores![b * C + c]).toBeCloseTo(v, 3);
      }
    const reg = pkg.boxRegressor!;
    for (let b = 0; b < 11; b++)
      for (let c = 0; c < C; c++) {
        const raw = [0, 1, 2, 3].map((k) => {
          let v = reg.bias[c * 4 + k];
          for (let d = 0; d < D5; d++) v += r.pool5![b * D5 + d] * reg.featureScale * reg.weights[(c * D5 + d) * 4 + k];
          return v;
        });
        for (let j = 0; j < 4; j++) {
          let v = reg.targetMean[c * 4 + j];
          for (let k = 0; k < 4; k++) v += raw[k] * reg.targetTransform[c * 16 + k * 4 + j];
          expect(r.bboxDeltas![(b * C + c) * 4 + j]).toBeCloseTo(v, 4);
        }
      }
    model.dispose();
  });

  it('gives the same results for any batch size, with fc6 split into blocks, and backs off when a batch does not fit', async () => {
    const pkg = pkgWithHeads();
    const whole = new RcnnModel(pkg);
    const ref = await extractAll(whole, img, { boxes: props, batchSize: 16 });
    whole.dispose();
    // 262 KB fc6 weight, 117 KB per crop: a 240 KB "binding" splits fc6 and fits 2 crops.
    const capped = new RcnnModel(pkg, { maxBindingBytes: 240_000 });
    expect(capped.net.splitFcLayers).toContain('fc6');
    const sizes: number[] = [];
    const parts: FeatureBatch[] = [];
    for await (const b of extractFeatures(capped, img, { boxes: props, batchSize: 8 })) {
      sizes.push(b.count);
      parts.push(b);
    }
    expect(sizes).toEqual([2, 2, 2, 2, 2, 1]);
    const fc7 = new Float32Array(parts.flatMap((p) => Array.from(p.fc7!)));
    expect(maxRelativeError(fc7, ref.fc7!)).toBeLessThan(1e-5);
    const scores = new Float32Array(parts.flatMap((p) => Array.from(p.svmScores!)));
    expect(maxRelativeError(scores, ref.svmScores!)).toBeLessThan(1e-5);
    expect(chooseBatchSize(arch, 'webgpu', 240_000)).toBe(2);
    expect(chooseBatchSize(caffeNetArch(), 'webgpu', 128 * 2 ** 20)).toBe(64);
    expect(chooseBatchSize(caffeNetArch(), 'webgpu', 32 * 2 ** 20)).toBe(28);
    expect(isOutOfMemory(new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded'))).toBe(true);
    expect(isOutOfMemory(new Error('Requested texture size [70000x1] greater than WebGL maximum'))).toBe(true);
    expect(isOutOfMemory(new Error('shape mismatch'))).toBe(false);
    capped.dispose();
  });

  it('returns extra layers in NCHW and crops as RGB', async () => {
    const model = new RcnnModel({ ...pkgWithHeads(), svm: undefined, boxRegressor: undefined });
    const it = extractFeatures(model, img, { boxes: props.subarray(0, 8), batchSize: 2, layers: ['conv1', 'norm2'], crops: true, pool5: false });
    const first = (await it.next()).value as FeatureBatch;
    expect(first.layers!.conv1!.shape).toEqual([2, 16, 23, 23]);
    expect(first.layers!.norm2!.shape).toEqual([2, 32, 5, 5]);
    expect(first.crops!.length).toBe(2 * 99 * 99 * 3);
    expect(first.pool5).toBeUndefined();
    expect(first.svmScores).toBeUndefined();
    await it.return(undefined);
    model.dispose();
  });

  it('stops on abort and leaks no tensors across runs', async () => {
    const model = new RcnnModel(pkgWithHeads());
    await extractAll(model, img, { boxes: props, batchSize: 4 }); // warm-up (kernels, caches)
    const before = tf.memory().numTensors;
    await extractAll(model, img, { boxes: props, batchSize: 4 });
    expect(tf.memory().numTensors).toBe(before);
    const ac = new AbortController();
    let seen = 0;
    const run = (async () => {
      for await (const b of extractFeatures(model, img, { boxes: props, batchSize: 2, signal: ac.signal })) {
        seen += b.count;
        ac.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
