import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend } from './node';
import { CAFFE_LRN, caffeNetArch, describeArch, pool5Length, totalMacs, totalParams } from './architecture';
import { CaffeNet, caffeLrnToTfjs, createCaffeNet, gaussian, lrn, randomWeights, weightShapes } from './caffenet';
import { hwioToOihw, maxRelativeError, nchw, nhwcToNchw, refConv, refFc, refLrn, refMaxPool } from './cpuReference';

beforeAll(async () => {
  await useNodeBackend('wasm');
});

function randn(n: number, seed: number, scale = 1): Float32Array {
  const g = gaussian(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = g() * scale;
  return out;
}

describe('architecture', () => {
  it('full CaffeNet has the shapes, parameters and multiply-adds of docs/algorithm.md section 3', () => {
    const a = caffeNetArch();
    const info = Object.fromEntries(describeArch(a).map((l) => [l.name, l]));
    expect(info.conv1.shape).toEqual([96, 55, 55]);
    expect(info.pool1.shape).toEqual([96, 27, 27]);
    expect(info.conv2.shape).toEqual([256, 27, 27]);
    expect(info.norm2.shape).toEqual([256, 13, 13]);
    expect(info.conv5.shape).toEqual([256, 13, 13]);
    expect(info.pool5.shape).toEqual([256, 6, 6]);
    expect(pool5Length(a)).toBe(9216);
    expect(info.fc7.shape).toEqual([4096]);
    // Caffe's CaffeNet: 60,965,224 parameters; ~0.72 G multiply-adds per 227x227 crop.
    expect(totalParams(a)).toBe(60965224);
    expect(totalMacs(a) / 1e9).toBeCloseTo(0.724, 2);
    expect(info.fc6.params).toBe(9216 * 4096 + 4096);
  });

  it('scales channels and fc width with the width multiplier, keeping groups valid', () => {
    const a = caffeNetArch({ width: 0.375, numClasses: 21 });
    expect(Object.values(a.conv).map((c) => c.filters)).toEqual([40, 96, 144, 144, 96]);
    expect(a.fc6).toBe(1536);
    expect(a.fc8).toBe(21);
    expect(() => caffeNetArch({ convFilters: [96, 255, 384, 384, 256] })).toThrow(/group 2/);
    expect(() => caffeNetArch({ inputSize: 50 })).toThrow(/empty output/);
  });
});

describe('LRN', () => {
  it('maps Caffe numbers onto tfjs (alpha / size, radius (size - 1) / 2)', () => {
    expect(caffeLrnToTfjs(CAFFE_LRN)).toEqual({ depthRadius: 2, bias: 1, alpha: 2e-5, beta: 0.75 });
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`matches a direct implementation of Caffe's formula on ${backend}`, async () => {
      await useNodeBackend(backend);
      const [n, c, h, w] = [2, 11, 3, 4];
      // Large alpha and values so the normaliser is far from 1 and a wrong mapping shows.
      for (const spec of [CAFFE_LRN, { size: 5, alpha: 0.5, beta: 0.75, k: 2 }, { size: 3, alpha: 1, beta: 0.6, k: 1 }]) {
        const data = randn(n * h * w * c, 7, 20);
        const x = tf.tensor4d(data, [n, h, w, c]);
        const y = lrn(x, spec);
        const got = nhwcToNchw(await y.data(), n, h, w, c);
        const ref = refLrn(nchw(n, c, h, w, nhwcToNchw(data, n, h, w, c)), spec);
        expect(maxRelativeError(got, ref.data)).toBeLessThan(1e-5);
        tf.dispose([x, y]);
      }
      await useNodeBackend('wasm');
    });
  }
});

/** Runs the whole network through the loop-by-loop reference and compares every layer. */
async function compareWithReference(net: CaffeNet, batch: number, seed: number): Promise<Record<string, number>> {
  const a = net.arch;
  const [H, W] = [a.inputHeight, a.inputWidth];
  const input = randn(batch * H * W * 3, seed, 50);
  const w = await net.getWeights();
  const x = tf.tensor4d(input, [batch, H, W, 3]);
  const outs = net.forward(x, { outputs: net.layers });
  const errors: Record<string, number> = {};
  let r = nchw(batch, 3, H, W, nhwcToNchw(input, batch, H, W, 3));
  const check = async (name: string, ref: typeof r) => {
    const t = outs[name as keyof typeof outs]!;
    const got = t.rank === 4 ? nhwcToNchw(await t.data(), batch, t.shape[1]!, t.shape[2]!, t.shape[3]!) : await t.data();
    errors[name] = maxRelativeError(got, ref.data);
  };
  const conv = (name: 'conv1' | 'conv2' | 'conv3' | 'conv4' | 'conv5', inp: typeof r) => {
    const s = a.conv[name];
    const wt = w[`${name}.weight`]!;
    return refConv(inp, hwioToOihw(wt.data, wt.shape), w[`${name}.bias`]!.data, s.filters, s.kernel, s.stride, s.pads, s.group);
  };
  r = conv('conv1', r);
  await check('conv1', r);
  for (const i of [1, 2] as const) {
    if (i === 2) {
      r = conv('conv2', r);
      await check('conv2', r);
    }
    const p = i === 1 ? a.pool1 : a.pool2;
    const nspec = (i === 1 ? a.norm1 : a.norm2)!;
    if (a.normOrder === 'pool-then-lrn') {
      r = refMaxPool(r, p.kernel, p.stride, p.pads);
      await check(`pool${i}`, r);
      r = refLrn(r, nspec);
      await check(`norm${i}`, r);
    } else {
      r = refLrn(r, nspec);
      await check(`norm${i}`, r);
      r = refMaxPool(r, p.kernel, p.stride, p.pads);
      await check(`pool${i}`, r);
    }
  }
  for (const c of ['conv3', 'conv4', 'conv5'] as const) {
    r = conv(c, r);
    await check(c, r);
  }
  r = refMaxPool(r, a.pool5.kernel, a.pool5.stride, a.pool5.pads);
  await check('pool5', r);
  r = refFc(r, w['fc6.weight']!.data, w['fc6.bias']!.data, a.fc6, true);
  await check('fc6', r);
  r = refFc(r, w['fc7.weight']!.data, w['fc7.bias']!.data, a.fc7, true);
  await check('fc7', r);
  r = refFc(r, w['fc8.weight']!.data, w['fc8.bias']!.data, a.fc8, false);
  await check('fc8', r);
  tf.dispose([x, ...Object.values(outs)]);
  return errors;
}

describe('CaffeNet graph', () => {
  const small = caffeNetArch({ width: 0.125, inputSize: 99, numClasses: 7 });

  it('matches the direct CPU implementation at every layer (grouped convs, LRN after pool)', async () => {
    const net = createCaffeNet(small, { seed: 3 });
    const errors = await compareWithReference(net, 2, 11);
    for (const [layer, e] of Object.entries(errors)) expect(e, layer).toBeLessThan(1e-4);
    net.dispose();
  });

  it('inference nets keep conv3 as conv4\'s input groups and still match the reference at every layer', async () => {
    const w = randomWeights(small, { seed: 12 });
    const net = new CaffeNet(small, w, { trainable: false });
    expect(net.convGroups.conv3!.length).toBe(2);
    expect(net.convGroups.conv3![0].weight.shape).toEqual([3, 3, small.conv.conv2.filters, small.conv.conv3.filters / 2]);
    const errors = await compareWithReference(net, 2, 13);
    for (const [layer, e] of Object.entries(errors)) expect(e, layer).toBeLessThan(1e-4);
    expect(Array.from((await net.getWeights())['conv3.weight']!.data)).toEqual(Array.from(w['conv3.weight']!.data));
    expect(createCaffeNet(small).convGroups.conv3!.length).toBe(1);
    net.dispose();
  });

  it('matches with the AlexNet order (LRN before pool) and asymmetric pads', async () => {
    const a = caffeNetArch({ width: 0.125, inputSize: 99, numClasses: 5 });
    a.normOrder = 'lrn-then-pool';
    a.conv.conv1.pads = [1, 2, 0, 1];
    a.pool5.pads = [0, 0, 1, 1];
    const net = createCaffeNet(a, { seed: 4, scheme: 'caffe' });
    const errors = await compareWithReference(net, 1, 12);
    for (const [layer, e] of Object.entries(errors)) expect(e, layer).toBeLessThan(1e-4);
    net.dispose();
  });

  it('pool5 is flattened in C,H,W order (Caffe/ONNX feature order)', async () => {
    const net = createCaffeNet(small, { seed: 5 });
    const x = tf.randomNormal([1, 99, 99, 3], 0, 50, 'float32', 1) as tf.Tensor4D;
    const o = net.forward(x, { outputs: ['pool5'] });
    const p = o.pool5!;
    const [, h, w, c] = p.shape;
    const flatRef = nhwcToNchw(await p.data(), 1, h, w, c);
    const { flattenChw } = await import('./caffenet');
    const flat = flattenChw(p as tf.Tensor4D);
    expect(Array.from(await flat.data())).toEqual(Array.from(flatRef));
    tf.dispose([x, p, flat]);
    net.dispose();
  });

  it('splits fc matmuls into column blocks under a binding cap with identical results', async () => {
    const w = randomWeights(small, { seed: 9 });
    const whole = new CaffeNet(small, w);
    // fc6 here is 128 x 512 floats (262 KB); a 100 KB cap forces 3 column blocks.
    const split = new CaffeNet(small, w, { maxBindingBytes: 100_000 });
    expect(pool5Length(small)).toBe(128);
    expect(split.splitFcLayers).toEqual(['fc6', 'fc7']);
    expect(split.fcBlocks.fc6!.length).toBe(3);
    const x = tf.randomNormal([3, 99, 99, 3], 0, 50, 'float32', 2) as tf.Tensor4D;
    const a = whole.forward(x, { outputs: ['fc6', 'fc7', 'fc8'] });
    const b = split.forward(x, { outputs: ['fc6', 'fc7', 'fc8'] });
    for (const k of ['fc6', 'fc7', 'fc8'] as const) {
      expect(maxRelativeError(await b[k]!.data(), await a[k]!.data())).toBeLessThan(1e-6);
    }
    const back = await split.getWeights();
    expect(Array.from(back['fc6.weight']!.data)).toEqual(Array.from(w['fc6.weight']!.data));
    tf.dispose([x, ...Object.values(a), ...Object.values(b)]);
    whole.dispose();
    split.dispose();
  });

  it('inference nets on wasm run big fc layers as (W^T x^T)^T from batch 5 with the same results', async () => {
    await useNodeBackend('wasm');
    const w = randomWeights(small, { seed: 10 });
    const train = new CaffeNet(small, w);
    const before = tf.memory().numTensors;
    const infer = new CaffeNet(small, w, { trainable: false });
    const saved = CaffeNet.wasmSwappedFc;
    // fc6 here is 128 x 512 floats (256 KiB) and fc7 512 x 512 (1 MiB): only fc7 passes this bar.
    CaffeNet.wasmSwappedFc = { minBatch: 5, minBytes: 512 * 1024 };
    try {
      for (const batch of [4, 5]) {
        const x = tf.randomNormal([batch, 99, 99, 3], 0, 50, 'float32', 4) as tf.Tensor4D;
        const a = train.forward(x, { outputs: ['fc6', 'fc7', 'fc8'] });
        const b = infer.forward(x, { outputs: ['fc6', 'fc7', 'fc8'] });
        for (const k of ['fc6', 'fc7', 'fc8'] as const) expect(maxRelativeError(await b[k]!.data(), await a[k]!.data()), `${k} batch ${batch}`).toBeLessThan(1e-5);
        // Up to 4 rows keep x . W; the first batch of 5 or more builds W^T once, for big layers only.
        expect(infer.fcBlocks.fc7![0].weightT !== undefined, `batch ${batch}`).toBe(batch >= 5);
        expect(infer.fcBlocks.fc6![0].weightT).toBeUndefined();
        expect(train.fcBlocks.fc7![0].weightT).toBeUndefined();
        tf.dispose([x, ...Object.values(a), ...Object.values(b)]);
      }
    } finally {
      CaffeNet.wasmSwappedFc = saved;
    }
    infer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    train.dispose();
  });

  it('stops at the deepest requested layer, applies dropout only in training, and leaks nothing', async () => {
    const net = createCaffeNet(small, { seed: 6 });
    const x = tf.randomNormal([4, 99, 99, 3], 0, 50, 'float32', 3) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const o1 = net.forward(x, { outputs: ['pool5', 'fc7'] });
    expect(Object.keys(o1).sort()).toEqual(['fc7', 'pool5']);
    const o2 = net.forward(x, { outputs: ['fc7'] });
    expect(Array.from(await o2.fc7!.data())).toEqual(Array.from(await o1.fc7!.data()));
    const o3 = net.forward(x, { outputs: ['fc7'], training: true });
    const d = await o3.fc7!.data();
    const zerosTrain = d.filter((v) => v === 0).length;
    const zerosTest = (await o1.fc7!.data()).filter((v) => v === 0).length;
    expect(zerosTrain).toBeGreaterThan(zerosTest);
    tf.dispose([...Object.values(o1), ...Object.values(o2), ...Object.values(o3)]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => net.forward(x, { outputs: ['fc8', 'nope' as 'fc8'] })).toThrow(/not in this network/);
    tf.dispose(x);
    net.dispose();
  });

  it('rejects weights of the wrong shape with the weight name', () => {
    const w = randomWeights(small);
    w['conv3.weight'] = { shape: [3, 3, 32, 40], data: new Float32Array(3 * 3 * 32 * 40) };
    expect(() => new CaffeNet(small, w)).toThrow(/conv3\.weight has shape 3x3x32x40/);
    expect(weightShapes(small).map((s) => s.name)).toContain('fc8.bias');
  });
});
