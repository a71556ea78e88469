import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { useNodeBackend } from '../node';
import { type CaffeNetArch, caffeNetArch } from '../architecture';
import { gaussian, randomWeights } from '../caffenet';
import type { ModelPackage } from '../package';
import { type ExportOptions, exportOnnx } from './export';
import { OnnxImportError, importOnnx } from './import';
import { ILSVRC13_DET_CLASSES } from './ilsvrc13';
import { attr, decodeOnnxModel, encodeOnnxModel, floatTensor } from './proto';
import { ortParity } from './ortParity';

beforeAll(async () => {
  await useNodeBackend('wasm');
});

function makePackage(arch: CaffeNetArch, seed: number, svmClasses = 0): ModelPackage {
  const pkg: ModelPackage = { name: 'parity', architecture: arch, classes: null, weights: randomWeights(arch, { seed, scheme: 'caffe' }), provenance: { createdBy: 'test', createdAt: '' } };
  // Caffe's filler (std 0.01) keeps activations in a realistic range for 0..255-scale input;
  // scale the first layer up a little so the deeper layers are not all near zero.
  const g = gaussian(seed + 100);
  for (const n of ['conv2', 'conv3', 'conv4', 'conv5'] as const) {
    const w = pkg.weights[`${n}.weight`]!;
    const fanIn = w.shape[0] * w.shape[1] * w.shape[2];
    for (let i = 0; i < w.data.length; i++) w.data[i] = g() * Math.sqrt(2 / fanIn);
  }
  if (svmClasses > 0) {
    const d = arch.fc7;
    pkg.svm = {
      classes: Array.from({ length: svmClasses }, (_, i) => `c${i}`),
      featureLayer: 'fc7',
      featureScale: 0.5,
      weights: Float32Array.from({ length: svmClasses * d }, () => g() * 0.05),
      bias: Float32Array.from({ length: svmClasses }, () => g()),
    };
  }
  return pkg;
}

interface Case {
  name: string;
  arch: () => CaffeNetArch;
  opts: ExportOptions;
  svm?: number;
  /** Opset of the imported ("published") file when onnxruntime cannot run that opset (< 7). */
  publishedOpset?: number;
}

// Tiny widths at the real 227-pixel geometry (the zoo models' kernels, strides and pads).
const cases: Case[] = [
  { name: 'caffenet (opset 9, pool then LRN, Reshape, Dropout, Softmax)', arch: () => caffeNetArch({ width: 0.125, numClasses: 10 }), opts: { opset: 9, dropout: true, softmax: true } },
  {
    name: 'bvlc_alexnet (opset 7, LRN then pool, Flatten)',
    arch: () => ({ ...caffeNetArch({ width: 0.125, numClasses: 12 }), normOrder: 'lrn-then-pool' }),
    opts: { opset: 7, flatten: 'flatten', dropout: true, softmax: true },
  },
  {
    // onnxruntime no longer implements opset-3 Relu, so it runs the opset-8 export of the same
    // weights while the importer reads the opset-3 file (Reshape with a shape attribute).
    name: 'rcnn-ilsvrc13 (opset 3 import, fc-rcnn as 200 SVMs)',
    arch: () => caffeNetArch({ width: 0.125, numClasses: 0 }),
    opts: { opset: 8, dropout: true, svmAsLayer: true },
    svm: 200,
    publishedOpset: 3,
  },
  {
    name: 'grouped convs written as Split -> Conv -> Relu -> Concat (opset 9)',
    arch: () => caffeNetArch({ width: 0.125, numClasses: 6 }),
    opts: { opset: 9, groups: 'split' },
  },
  {
    name: 'unusual geometry: asymmetric pads, stride-3 conv1, padded pools, 4 groups, no LRN in block 2',
    arch: () => {
      const a = caffeNetArch({ width: 0.25, numClasses: 5 });
      a.conv.conv1 = { ...a.conv.conv1, kernel: [7, 7], stride: [3, 3], pads: [1, 2, 0, 1] };
      a.conv.conv4.group = 4;
      a.pool2 = { kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1] };
      a.norm1 = { size: 3, alpha: 0.002, beta: 0.6, k: 1.5 };
      a.norm2 = null;
      a.inputHeight = a.inputWidth = 131;
      return a;
    },
    opts: { opset: 8, flatten: 'flatten' },
  },
];

describe('ONNX parity with onnxruntime-node', () => {
  it('onnxruntime-node runs a tiny model (sanity check of the reference)', async () => {
    const model = {
      irVersion: 4,
      opsetImport: [{ domain: '', version: 9 }],
      producerName: 't', producerVersion: '', domain: '', modelVersion: 0, docString: '',
      graph: {
        name: 'g', node: [{ opType: 'Relu', name: 'r', input: ['x'], output: ['y'], attribute: [], domain: '', docString: '' }],
        initializer: [], input: [{ name: 'x', elemType: 1, shape: [2] }], output: [{ name: 'y', elemType: 1, shape: [2] }], valueInfo: [], docString: '',
      },
    };
    const s = await ort.InferenceSession.create(encodeOnnxModel(model));
    const r = await s.run({ x: new ort.Tensor('float32', new Float32Array([-1, 2]), [2]) });
    expect(Array.from(r.y.data as Float32Array)).toEqual([0, 2]);
  });

  for (const c of cases) {
    for (const backend of ['wasm', 'cpu'] as const) {
      it(`${c.name} on tfjs-${backend}: max relative error < 1e-4 at every layer`, async () => {
        await useNodeBackend(backend);
        const pkg = makePackage(c.arch(), 31, c.svm);
        const forOrt = exportOnnx(pkg, { ...c.opts, exposeLayers: true, declaredInputSize: 'S' }).bytes;
        // What gets imported is the model as published: layers not exposed, input declared 224.
        const published = exportOnnx(pkg, { ...c.opts, opset: c.publishedOpset ?? c.opts.opset, declaredInputSize: 224, batch: 1 }).bytes;
        const { errors } = await ortParity(forOrt, published, backend === 'cpu' ? 1 : 2, 5);
        const expected = c.svm ? ['svm', 'fc7'] : ['fc8'];
        for (const l of expected) expect(Object.keys(errors)).toContain(l);
        if (process.env.PARITY_LOG) console.log(c.name, backend, JSON.stringify(Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, Number(v.toExponential(1))]))));
        for (const [layer, e] of Object.entries(errors)) expect(e, `${layer}: ${e}`).toBeLessThan(1e-4);
        await useNodeBackend('wasm');
      });
    }
  }
});

describe('ONNX import', () => {
  it('derives the input size from fc6 rather than the declared 224, and reads the graph', () => {
    const pkg = makePackage(caffeNetArch({ width: 0.125, numClasses: 10 }), 1);
    const { pkg: got, report } = importOnnx(exportOnnx(pkg, { declaredInputSize: 224, dropout: true, softmax: true }).bytes);
    expect(report.inputSize).toBe(227);
    expect(report.notes.join(' ')).toMatch(/declared input .*224.* using 227x227/);
    expect(got.architecture.conv).toEqual(pkg.architecture.conv);
    expect(got.architecture.normOrder).toBe('pool-then-lrn');
    expect(got.architecture.norm1).toEqual({ size: 5, alpha: expect.closeTo(1e-4, 10), beta: 0.75, k: 1 });
    expect(got.architecture.fc8).toBe(10);
    for (const [k, v] of Object.entries(pkg.weights)) expect(Array.from(got.weights[k as 'fc6.weight']!.data), k).toEqual(Array.from(v.data));
  });

  it('keeps a 200-way last layer without softmax as the SVM head with the ILSVRC13 classes', () => {
    expect(ILSVRC13_DET_CLASSES.length).toBe(200);
    expect(new Set(ILSVRC13_DET_CLASSES).size).toBe(200);
    expect(ILSVRC13_DET_CLASSES.slice(0, 4)).toEqual(['accordion', 'airplane', 'ant', 'antelope']);
    expect(ILSVRC13_DET_CLASSES[199]).toBe('zebra');
    const pkg = makePackage(caffeNetArch({ width: 0.125, numClasses: 0 }), 2, 200);
    const { pkg: got } = importOnnx(exportOnnx(pkg, { opset: 9, svmAsLayer: true }).bytes);
    expect(got.architecture.fc8).toBe(0);
    expect(got.svm!.classes).toEqual(ILSVRC13_DET_CLASSES);
    expect(got.svm!.featureScale).toBe(1);
    // Scale folded into the weights: w' = w * 0.5.
    expect(got.svm!.weights[7]).toBeCloseTo(pkg.svm!.weights[7] * 0.5, 6);
    expect(got.provenance.notes!.join(' ')).toMatch(/SVM head with the 200 ILSVRC2013/);
  });

  it('refuses unsupported graphs naming the node', () => {
    const pkg = makePackage(caffeNetArch({ width: 0.125, numClasses: 10 }), 3);
    const m = exportOnnx(pkg, { opset: 9 }).model;
    // A BatchNormalization-free AlexNet is required: swap the second Relu for a Sigmoid.
    const bad = structuredClone(m);
    bad.graph.node.find((n) => n.name === 'conv2_relu')!.opType = 'Sigmoid';
    expect(() => importOnnx(encodeOnnxModel(bad))).toThrow(/unsupported op Sigmoid node "conv2_relu"/);
    // A residual-style branch.
    const branch = structuredClone(m);
    branch.graph.node.push({ opType: 'Relu', name: 'side', input: ['conv3_2'], output: ['side_out'], attribute: [], domain: '', docString: '' });
    expect(() => importOnnx(encodeOnnxModel(branch))).toThrow(/feeds 2 nodes/);
    // Dilated convolution.
    const dil = structuredClone(m);
    dil.graph.node.find((n) => n.name === 'conv3')!.attribute.push(attr.ints('dilations', [2, 2]));
    dil.graph.node.find((n) => n.name === 'conv3')!.attribute = dil.graph.node.find((n) => n.name === 'conv3')!.attribute.filter((a, i, all) => a.name !== 'dilations' || i === all.length - 1);
    expect(() => importOnnx(encodeOnnxModel(dil))).toThrow(/Conv node "conv3": dilated/);
    // Not ONNX at all, and truncated.
    expect(() => importOnnx(new TextEncoder().encode('hello world'), { source: 'x.onnx' })).toThrow(OnnxImportError);
    const bytes = exportOnnx(pkg).bytes;
    expect(() => importOnnx(bytes.subarray(0, bytes.length - 1000), { source: 'cut.onnx' })).toThrow(/cut\.onnx is not a readable ONNX model: truncated/);
    // A missing layer (no conv5).
    const short = structuredClone(m);
    const i5 = short.graph.node.findIndex((n) => n.name === 'conv5');
    short.graph.node.splice(i5, 2);
    short.graph.node.find((n) => n.name === 'pool5')!.input[0] = 'conv4_2';
    expect(() => importOnnx(encodeOnnxModel(short))).toThrow(/expected conv5 \(Conv\) but found MaxPool node "pool5"/);
  });

  it('refuses a file whose declared weights need more memory than allowed, before decoding any', () => {
    const m = exportOnnx(makePackage(caffeNetArch({ width: 0.125, numClasses: 3 }), 5), { opset: 9 }).model;
    const init = (name: string) => m.graph.initializer.find((t) => t.name === name)!;
    // fc6 declared 262144 wide (fc7 to match): 1.7 GB of float32, with only a few bytes of data.
    init('fc6_w_0').dims = [262144, 1152];
    init('fc6_b_0').dims = [262144];
    init('fc7_w_0').dims = [512, 262144];
    const bytes = encodeOnnxModel(m);
    expect(bytes.length).toBeLessThan(5e6);
    expect(() => importOnnx(bytes)).toThrow(/the model's weights need 2955 MB as float32 \(Gemm node "fc6"'s "fc6_w_0" alone 1208 MB\), more than the 1074 MB allowed; refused before reading them/);
    // The limit is the caller's (the app passes what the device can hold).
    const small = exportOnnx(makePackage(caffeNetArch({ width: 0.125, numClasses: 3 }), 5), { opset: 9 }).bytes;
    expect(() => importOnnx(small, { maxWeightBytes: 1e6 })).toThrow(/more than the 1.0 MB allowed/);
    expect(importOnnx(small, { maxWeightBytes: 1e8 }).pkg.architecture.fc6).toBe(512);
  });

  it('judges the graph before reading any weight: a non-AlexNet graph is refused by its structure', () => {
    const m = exportOnnx(makePackage(caffeNetArch({ width: 0.125, numClasses: 3 }), 6), { opset: 9 }).model;
    // conv1's weight data is cut short (decoding it would fail) and conv2 is followed by a Sigmoid.
    const w = m.graph.initializer.find((t) => t.name === 'conv1_w_0')!;
    w.rawData = w.rawData!.subarray(0, 16);
    m.graph.node.find((n) => n.name === 'conv2_relu')!.opType = 'Sigmoid';
    expect(() => importOnnx(encodeOnnxModel(m))).toThrow(/unsupported op Sigmoid node "conv2_relu"/);
    // With the structure right, the short data is what is wrong, and it is named.
    m.graph.node.find((n) => n.name === 'conv2_relu')!.opType = 'Relu';
    expect(() => importOnnx(encodeOnnxModel(m), { source: 'cut.onnx' })).toThrow('cut.onnx: tensor conv1_w_0 declares 16 x 3 x 11 x 11 = 5808 values (23232 bytes) but holds 16 bytes: the file is truncated or corrupt');
  });

  it('reads float_data written packed (as Caffe2\'s exporter writes weights) without unpacking it into JS numbers', () => {
    const pkg = makePackage(caffeNetArch({ width: 0.125, numClasses: 3 }), 7);
    const m = exportOnnx(pkg, { opset: 9 }).model;
    for (const t of m.graph.initializer) {
      if (t.dataType !== 1) continue;
      t.packedFloats = t.rawData;
      t.rawData = undefined;
    }
    const back = decodeOnnxModel(encodeOnnxModel(m));
    const fc6 = back.graph.initializer.find((t) => t.name === 'fc6_w_0')!;
    expect(fc6.packedFloats!.length).toBe(4 * 1152 * 512);
    expect(fc6.floatData).toBeUndefined();
    const { pkg: got } = importOnnx(encodeOnnxModel(m));
    expect(Array.from(got.weights['conv3.weight']!.data.subarray(0, 50))).toEqual(Array.from(pkg.weights['conv3.weight']!.data.subarray(0, 50)));
  });

  it('round-trips protobuf fields including negative int64 and packed/unpacked repeats', () => {
    const m = exportOnnx(makePackage(caffeNetArch({ width: 0.125, numClasses: 3 }), 4), { opset: 9, reshapeShape: [-1, 1152] }).model;
    const back = decodeOnnxModel(encodeOnnxModel(m));
    const shape = back.graph.initializer.find((t) => t.name === 'OC2_DUMMY_1')!;
    expect(shape.int64Data).toEqual([-1, 1152]);
    expect(back.graph.node.map((n) => n.opType)).toEqual(m.graph.node.map((n) => n.opType));
    const w = back.graph.initializer.find((t) => t.name === 'conv1_w_0')!;
    expect(w.dims).toEqual([16, 3, 11, 11]);
    expect(floatTensor('x', [1], new Float32Array([1.5])).rawData!.length).toBe(4);
  });

  it('reads a parameter through an Identity alias of an initializer, as PyTorch writes shared values', () => {
    const pkg = makePackage(caffeNetArch({ width: 0.125, numClasses: 3 }), 4);
    const m = exportOnnx(pkg, { opset: 9 }).model;
    const gemm8 = m.graph.node.filter((n) => n.opType === 'Gemm').at(-1)!;
    const biasName = gemm8.input[2];
    m.graph.node.unshift({ opType: 'Identity', name: 'Identity_0', input: [biasName], output: ['fc8_bias_alias'], attribute: [], domain: '', docString: '' });
    gemm8.input[2] = 'fc8_bias_alias';
    const { pkg: back } = importOnnx(encodeOnnxModel(m), { source: 'alias.onnx' });
    expect(Array.from(back.weights['fc8.bias']!.data)).toEqual(Array.from(pkg.weights['fc8.bias']!.data));
    // An Identity of something that is not a constant stays a node of the chain (or off it).
    gemm8.input[2] = biasName;
    m.graph.node[0] = { ...m.graph.node[0], input: ['data_0'], output: ['stray'] };
    expect(() => importOnnx(encodeOnnxModel(m))).toThrow(/value "data_0" feeds 2 nodes/);
  });

  it('skips unknown length-delimited fields whose length takes one or two varint bytes', () => {
    // Newer producers write fields this reader does not know (it skips them).
    // A skipped field must land exactly after its payload, whatever the length's varint size.
    const m = exportOnnx(makePackage(caffeNetArch({ width: 0.125, numClasses: 3 }), 4), { opset: 9 }).model;
    const plain = encodeOnnxModel(m);
    const unknown = (len: number) => {
      const lenBytes = len < 128 ? [len] : [(len & 127) | 128, len >> 7];
      return [(14 << 3) | 2, ...lenBytes, ...new Array(len).fill(0x5f)]; // ModelProto field 14, wire 2, '_' x len
    };
    for (const len of [5, 127, 128, 300]) {
      const bytes = new Uint8Array([...unknown(len), ...plain, ...unknown(len)]);
      const back = decodeOnnxModel(bytes);
      expect(back.graph.node.map((n) => n.name), `length ${len}`).toEqual(m.graph.node.map((n) => n.name));
      expect(back.graph.initializer.length).toBe(m.graph.initializer.length);
      expect(back.irVersion).toBe(m.irVersion);
    }
  });
});
