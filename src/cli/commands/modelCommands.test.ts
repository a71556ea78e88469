import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { main } from '../main';
import { encodeNpy, parseNpy } from '../npy';
import { caffeNetArch } from '../../model/architecture';
import { gaussian, randomWeights } from '../../model/caffenet';
import { maxRelativeError } from '../../model/cpuReference';
import { exportOnnx } from '../../model/onnx/export';
import { loadPackageDir } from '../../model/packageNode';
import type { ModelPackage } from '../../model/package';

let dir: string;
const arch = caffeNetArch({ width: 0.125, numClasses: 0 });
const g = gaussian(9);
const pkg: ModelPackage = {
  name: 'rcnn-tiny',
  architecture: arch,
  classes: null,
  weights: randomWeights(arch, { seed: 2, scheme: 'caffe' }),
  svm: { classes: Array.from({ length: 200 }, (_, i) => `c${i}`), featureLayer: 'fc7', featureScale: 1, weights: Float32Array.from({ length: 200 * arch.fc7 }, () => g()), bias: new Float32Array(200) },
  provenance: { createdBy: 'test', createdAt: '' },
};

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (t) => ((out += t), true), stderr: (t) => ((err += t), true) });
  return { code, out, err };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rcnn-cli-'));
  // As the zoo publishes it: declared 224 input, fc-rcnn on fc7.
  await writeFile(join(dir, 'rcnn.onnx'), exportOnnx(pkg, { opset: 9, dropout: true, svmAsLayer: true, declaredInputSize: 224, batch: 1 }).bytes);
  await writeFile(join(dir, 'rcnn-ort.onnx'), exportOnnx(pkg, { opset: 9, svmAsLayer: true, exposeLayers: true }).bytes);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('rcnn import / forward', () => {
  it('imports an ONNX file into a package folder and a bundle, printing a summary', async () => {
    const r = await run(['import', join(dir, 'rcnn.onnx'), '--out', join(dir, 'pkg'), '--bundle', join(dir, 'm.rcnn')]);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.input).toMatch(/^227x227x3 BGR/);
    expect(summary.svm.classes).toBe(200);
    expect(r.err).toMatch(/declared input .*224/);
    const loaded = await loadPackageDir(join(dir, 'pkg'));
    expect(loaded.svm!.classes[0]).toBe('accordion');
  });

  it('measures and records the effect of float16 storage', async () => {
    const r = await run(['import', join(dir, 'rcnn.onnx'), '--out', join(dir, 'pkg16'), '--float16']);
    expect(r.code, r.err).toBe(0);
    const e = JSON.parse(r.out).float16Effect;
    expect(e.crops).toBe(16);
    expect(e.fc7RelativeError).toBeLessThan(5e-3);
    expect(e.fc7RelativeError).toBeGreaterThan(0);
    const loaded = await loadPackageDir(join(dir, 'pkg16'));
    expect(loaded.provenance.metrics!['float16 top-1 agreement']).toBe(e.top1Agreement);
  });

  it('runs a layer on an NCHW .npy and matches onnxruntime', async () => {
    const n = 3;
    const x = Float32Array.from({ length: n * 3 * 227 * 227 }, () => g() * 50);
    await writeFile(join(dir, 'in.npy'), encodeNpy({ shape: [n, 3, 227, 227], data: x }));
    const s = await ort.InferenceSession.create(await readFile(join(dir, 'rcnn-ort.onnx')));
    const ref = await s.run({ data_0: new ort.Tensor('float32', x, [n, 3, 227, 227]) });
    for (const [layer, value, model] of [
      ['conv2', 'conv2_2', 'pkg'],
      ['pool5', 'pool5_1', 'm.rcnn'],
      [undefined, 'fc-rcnn_1', 'rcnn.onnx'], // default: the SVM head, as the ONNX graph's output
      ['fc7_2', 'fc7_2', 'rcnn.onnx'], // ONNX value names work for .onnx models
    ] as const) {
      const args = ['forward', '--model', join(dir, model), '--input', join(dir, 'in.npy'), '--output', join(dir, 'out.npy'), '--batch', '2'];
      if (layer) args.push('--layer', layer);
      const r = await run(args);
      expect(r.code, r.err).toBe(0);
      const out = parseNpy(new Uint8Array(await readFile(join(dir, 'out.npy'))));
      expect(out.shape, String(layer)).toEqual(ref[value].dims.map(Number));
      expect(maxRelativeError(out.data, ref[value].data as Float32Array), String(layer)).toBeLessThan(1e-4);
    }
    await s.release();
  });

  it('explains bad input', async () => {
    await writeFile(join(dir, 'bad.npy'), encodeNpy({ shape: [1, 3, 224, 224], data: new Float32Array(3 * 224 * 224) }));
    const r = await run(['forward', '--model', join(dir, 'pkg'), '--input', join(dir, 'bad.npy'), '--output', join(dir, 'o.npy')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/shape \(1, 3, 224, 224\); this network takes \(N, 3, 227, 227\)/);
    const r2 = await run(['forward', '--model', join(dir, 'pkg'), '--input', join(dir, 'in.npy'), '--output', join(dir, 'o.npy'), '--layer', 'fc9']);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/unknown layer "fc9"/);
    const r3 = await run(['import', join(dir, 'in.npy'), '--out', join(dir, 'x')]);
    expect(r3.code).toBe(1);
    expect(r3.err).toMatch(/not a readable ONNX model/);
  });
});
