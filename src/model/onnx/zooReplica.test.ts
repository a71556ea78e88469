import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { caffeCeilEndPad, caffeNetArch, caffePoolOut, pool5Length, withCaffeCeilPools, withoutIdlePoolPads } from '../architecture';
import { CaffeNet } from '../caffenet';
import { useNodeBackend } from '../node';
import { readModelDownload } from '../zoo';
import { gzipBytes } from '../../core/tar';
import { importOnnx } from './import';
import { ILSVRC13_DET_CLASSES } from './ilsvrc13';
import { decodeOnnxModel, encodeOnnxModel } from './proto';
import { checkTestData, describeParity } from './testData';
import { exportZooLayout, packZooArchive, replicaPackage, replicaTestInputs } from './zooReplica';
import { type ZooReplica, buildZooReplica, referenceOutputs } from './zooReplicaNode';

let replica: ZooReplica;

beforeAll(async () => {
  await useNodeBackend('wasm');
  // Width 0.125: the published names, ops and geometry with 512-wide fc layers (about 3 MB).
  replica = await buildZooReplica({ width: 0.125, seed: 4, testSets: 3 });
});

async function* chunks(b: Uint8Array, size = 65536) {
  for (let o = 0; o < b.length; o += size) yield b.subarray(o, o + size);
}

describe('zoo replica layout', () => {
  it('has the published file\'s names, ops, attributes, opset and declared shapes', () => {
    const m = decodeOnnxModel(replica.onnx);
    const g = m.graph;
    expect(m.opsetImport).toEqual([{ domain: '', version: 9 }]);
    expect(g.input[0]).toEqual({ name: 'data_0', elemType: 1, shape: [1, 3, 224, 224] });
    expect(g.output).toEqual([{ name: 'fc-rcnn_1', elemType: 1, shape: [1, 200] }]);
    expect(g.node.map((n) => n.opType).join(' ')).toBe(
      'Conv Relu MaxPool LRN Conv Relu MaxPool LRN Conv Relu Conv Relu Conv Relu MaxPool Reshape Gemm Relu Dropout Gemm Relu Dropout Gemm',
    );
    expect(g.node.every((n) => n.name === '')).toBe(true);
    expect(g.node.map((n) => n.output.join('+')).join(' ')).toBe(
      'conv1_1 conv1_2 pool1_1 norm1_1 conv2_1 conv2_2 pool2_1 norm2_1 conv3_1 conv3_2 conv4_1 conv4_2 conv5_1 conv5_2 pool5_1 OC2_DUMMY_0 ' +
        'fc6_1 fc6_2 fc6_3+_fc6_mask_1 fc7_1 fc7_2 fc7_3+_fc7_mask_1 fc-rcnn_1',
    );
    const layers = ['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc6', 'fc7', 'fc-rcnn'];
    expect(g.initializer.map((t) => t.name)).toEqual([...layers.slice(0, 5).flatMap((l) => [`${l}_w_0`, `${l}_b_0`]), 'OC2_DUMMY_1', ...layers.slice(5).flatMap((l) => [`${l}_w_0`, `${l}_b_0`])]);
    // The old converter listed every initializer as a graph input too.
    expect(g.input.map((i) => i.name)).toEqual(['data_0', ...g.initializer.map((t) => t.name)]);
    expect(g.initializer.find((t) => t.name === 'OC2_DUMMY_1')!.int64Data).toEqual([1, 32 * 36]);
    expect(g.initializer.find((t) => t.name === 'fc-rcnn_w_0')!.dims).toEqual([200, 512]);
    const attrs = (i: number) => Object.fromEntries(g.node[i].attribute.map((a) => [a.name, a.ints ?? a.i ?? a.f]));
    // Caffe's ceil-mode pools as Caffe2's exporter pads them for 224.
    expect([attrs(2).pads, attrs(6).pads, attrs(14).pads]).toEqual([[0, 0, 2, 2], [0, 0, 1, 1], [0, 0, 1, 1]]);
    expect(attrs(0)).toEqual({ kernel_shape: [11, 11], strides: [4, 4], pads: [0, 0, 0, 0] });
    expect(attrs(4)).toEqual({ kernel_shape: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2], group: 2 });
    expect(attrs(16)).toEqual({ transB: 1 });
    expect(attrs(18)).toEqual({ ratio: 0.5 });
    // onnxruntime agrees that this is a network for 224: it ran it to make the test data.
    expect(replica.sets[0].output.dims).toEqual([1, 200]);
  });
});

describe("Caffe's ceil-mode pooling as pads", () => {
  it('follows Caffe (pooling_layer.cpp) and Caffe2\'s exporter formula', () => {
    // CaffeNet at 224: conv1 gives 54, pool1 keeps a last partial window: 27, not floor's 26.
    expect(caffePoolOut(54, 3, 2, 0)).toBe(27);
    expect(caffeCeilEndPad(54, 3, 2, 0)).toBe(2);
    expect(caffeCeilEndPad(27, 3, 2, 0)).toBe(1);
    expect(caffeCeilEndPad(13, 3, 2, 0)).toBe(1);
    // At 227 (conv1 55) ceil and floor agree: 27.
    expect(caffePoolOut(55, 3, 2, 0)).toBe(27);
    expect(Math.floor((55 - 3) / 2) + 1).toBe(27);
    // GoogLeNet's pool1 (112 -> 56, 3x3 stride 2): [0, 0, 2, 2] as in the zoo's GoogLeNet-3.
    expect(caffeCeilEndPad(112, 3, 2, 0)).toBe(2);
    // Caffe drops a last window that would start in the padding.
    expect(caffePoolOut(5, 2, 2, 1)).toBe(3);
  });
});

describe('importing the replica', () => {
  it('runs detection at 227 with the pools padded as Caffe pads them there, and keeps the file\'s 224 network for the test data', () => {
    const { pkg, report } = importOnnx(replica.onnx, { source: 'model.onnx' });
    const a = pkg.architecture;
    expect(report.inputSize).toBe(227);
    // Caffe's ceil mode at 227 needs [0, 0, 1, 1], which starts no window: plain CaffeNet remains.
    expect([a.pool1.pads, a.pool2.pads, a.pool5.pads]).toEqual([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]);
    expect(a.conv).toEqual(caffeNetArch({ width: 0.125 }).conv);
    expect(report.graphArch.inputHeight).toBe(224);
    expect([report.graphArch.pool1.pads, report.graphArch.pool2.pads, report.graphArch.pool5.pads]).toEqual([[0, 0, 2, 2], [0, 0, 1, 1], [0, 0, 1, 1]]);
    expect(report.caffeCeilPools).toEqual(['pool1', 'pool2', 'pool5']);
    expect(report.notes.join('\n')).toMatch(/pool1, pool2, pool5: end pads that are Caffe's ceil-mode pooling .* declared 224x224 input; the package runs at 227x227 .*pool1 \[0,0,2,2\] -> \[0,0,0,0\]/);
    // The file's pads taken literally at 227 would give pool1 28x28 and pool5 7x7: another network.
    expect(pool5Length({ ...report.graphArch, inputHeight: 227, inputWidth: 227 })).toBe(32 * 7 * 7);
    expect(pool5Length(a)).toBe(32 * 6 * 6);
    expect(pkg.svm!.classes).toEqual(ILSVRC13_DET_CLASSES);
    expect(report.outputValue).toBe('fc-rcnn_1');
    expect(report.svmValue).toBe('fc-rcnn_1');
  });

  it('at 227 the [0, 0, 1, 1] pads Caffe\'s ceil mode needs change nothing: every layer equals CaffeNet without them', async () => {
    const { pkg } = importOnnx(replica.onnx);
    const ceil = withCaffeCeilPools(pkg.architecture, ['pool1', 'pool2', 'pool5']);
    expect([ceil.pool1.pads, ceil.pool2.pads, ceil.pool5.pads]).toEqual([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]]);
    expect(withoutIdlePoolPads(ceil)).toEqual(pkg.architecture);
    const padded = new CaffeNet(ceil, pkg.weights, { trainable: false });
    const unpadded = new CaffeNet(pkg.architecture, pkg.weights, { trainable: false });
    const x = tf.randomNormal([2, 227, 227, 3], 0, 60, 'float32', 3) as tf.Tensor4D;
    const layers = ['pool1', 'pool2', 'pool5', 'fc7'] as const;
    const a = padded.forward(x, { outputs: layers });
    const b = unpadded.forward(x, { outputs: layers });
    for (const l of layers) {
      expect(a[l]!.shape, l).toEqual(b[l]!.shape);
      const d = Array.from(await tf.sub(a[l]!, b[l]!).abs().max().data())[0];
      expect(d, l).toBe(0);
    }
    expect(Array.from(await a.pool5!.abs().max().data())[0]).toBeGreaterThan(1);
    tf.dispose([x, ...Object.values(a), ...Object.values(b)]);
    padded.dispose();
    unpadded.dispose();
  });

  it('passes the test-data parity at 224 on the active backend (tfjs-wasm), read from the tar.gz as it streams', async () => {
    const dl = await readModelDownload(chunks(replica.tarGz), { fileName: 'replica.tar.gz', size: replica.tarGz.length });
    expect(dl.kind).toBe('tar.gz');
    expect(dl.modelPath).toBe('bvlc_reference_rcnn_ilsvrc13/model.onnx');
    expect(dl.testSets.map((s) => s.name)).toEqual(['test_data_set_0', 'test_data_set_1', 'test_data_set_2']);
    expect(dl.published).toBeNull();
    expect(dl.notes.join(' ')).toMatch(/not the published rcnn-ilsvrc13 file .* checksum not checked; its own test data decides/);
    const { pkg, report } = importOnnx(dl.model);
    const p = await checkTestData(pkg, report, dl.testSets);
    if (process.env.PARITY_LOG) console.log(describeParity(p).join('\n'));
    expect(p.pass, describeParity(p).join('\n')).toBe(true);
    expect(p.maxRelativeError).toBeLessThan(1e-4);
    expect(p.inputShape).toEqual([1, 3, 224, 224]);
    expect(p.backend).toBe('wasm');
    // Real numbers: scores of several units, the same top class as onnxruntime.
    for (const s of p.sets) {
      expect(s.refMax).toBeGreaterThan(0.5);
      expect(s.top1[0]).toBe(s.top1[1]);
    }
  });

  it('refuses a replica with one corrupted weight, with the numbers', async () => {
    const m = decodeOnnxModel(replica.onnx);
    const w = m.graph.initializer.find((t) => t.name === 'conv1_w_0')!;
    const raw = w.rawData!.slice();
    new DataView(raw.buffer).setFloat32(0, new DataView(raw.buffer).getFloat32(0, true) + 0.5, true); // one of 34,848 conv1 weights
    w.rawData = raw;
    const tarGz = await gzipBytes(packZooArchive(encodeOnnxModel(m), replica.sets));
    const dl = await readModelDownload(chunks(tarGz), { fileName: 'corrupt.tar.gz' });
    const { pkg, report } = importOnnx(dl.model);
    const p = await checkTestData(pkg, report, dl.testSets);
    if (process.env.PARITY_LOG) console.log(describeParity(p).join('\n'));
    expect(p.pass).toBe(false);
    expect(p.maxRelativeError).toBeGreaterThan(1e-3);
    expect(describeParity(p).at(-1)).toMatch(/^FAIL: max relative error \d\.\d\de[-+]\d+ \(test_data_set_\d\) against the tolerance 0\.001, 3 test sets of 1x3x224x224 on tfjs-wasm, output "fc-rcnn_1"$/);
  });
});

describe('opset 3 forms (rcnn-ilsvrc13-3.onnx)', () => {
  it('reads Reshape\'s shape attribute, Gemm\'s broadcast and Dropout\'s is_test, as the same network as opset 9', async () => {
    const m3 = exportZooLayout(replica.pkg, 3);
    const g = m3.model.graph;
    const byOp = (op: string) => g.node.filter((n) => n.opType === op);
    expect(byOp('Reshape')[0].input).toEqual(['pool5_1']);
    expect(byOp('Reshape')[0].attribute).toEqual([expect.objectContaining({ name: 'shape', ints: [1, 1152] })]);
    expect(g.initializer.some((t) => t.name === 'OC2_DUMMY_1')).toBe(false);
    for (const gemm of byOp('Gemm')) expect(gemm.attribute.map((a) => [a.name, a.i])).toEqual([['transB', 1], ['broadcast', 1]]);
    for (const d of byOp('Dropout')) expect(d.attribute.map((a) => [a.name, a.i ?? a.f])).toEqual([['ratio', 0.5], ['is_test', 1]]);
    expect(m3.model.irVersion).toBe(3);
    const three = importOnnx(m3.bytes);
    const nine = importOnnx(replica.onnx);
    expect(three.report.opset).toBe(3);
    expect(three.pkg.architecture).toEqual(nine.pkg.architecture);
    expect(three.report.graphArch).toEqual(nine.report.graphArch);
    const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    for (const [k, v] of Object.entries(nine.pkg.weights)) expect(same(three.pkg.weights[k as 'fc6.weight']!.data, v.data), k).toBe(true);
    expect(same(three.pkg.svm!.weights, nine.pkg.svm!.weights)).toBe(true);
    // onnxruntime no longer runs opset-3 Relu: the opset-3 import is checked against the test
    // data onnxruntime computed from the opset-9 file of the same weights.
    const p = await checkTestData(three.pkg, three.report, replica.sets.map((s, i) => ({ name: `test_data_set_${i}`, ...s })));
    expect(p.pass, describeParity(p).join('\n')).toBe(true);
  });

  it('reads is_test = 0 and broadcast = 0 as inference with a per-output bias, saying so', () => {
    const m = exportZooLayout(replica.pkg, 3).model;
    for (const n of m.graph.node) {
      if (n.opType === 'Dropout') n.attribute.find((a) => a.name === 'is_test')!.i = 0;
      if (n.opType === 'Gemm') n.attribute = n.attribute.filter((a) => a.name !== 'broadcast');
    }
    const { report } = importOnnx(encodeOnnxModel(m));
    expect(report.notes.filter((t) => /Dropout node producing "fc[67]_3" has is_test = 0 \(training mode\); read as inference/.test(t))).toHaveLength(2);
    expect(report.notes.filter((t) => /Gemm node producing "(fc6|fc7|fc-rcnn)_1": bias of shape \[\d+\] without broadcast \(opset 3\) read as a per-output bias/.test(t))).toHaveLength(3);
  });

  it('matches onnxruntime on the opset-9 file at 224 for a fresh set of inputs (the check itself is sound)', async () => {
    const sets = await referenceOutputs(replica.onnx, replicaTestInputs(2, 99));
    const { pkg, report } = importOnnx(replica.onnx);
    const p = await checkTestData(pkg, report, sets.map((s, i) => ({ name: `fresh_${i}`, ...s })));
    expect(p.pass).toBe(true);
    // A different package (other weights) with the same layout fails the same data.
    const other = importOnnx(exportZooLayout(replicaPackage({ width: 0.125, seed: 5 })).bytes);
    const q = await checkTestData(other.pkg, other.report, sets.map((s, i) => ({ name: `fresh_${i}`, ...s })));
    expect(q.pass).toBe(false);
  });
});
