/**
 * A model the user loads that turns out broken must leave the loaded one working: the worker
 * replaces its model only after the new one is parsed, checked and uploaded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useNodeBackend } from '../model/node';
import { caffeNetArch } from '../model/architecture';
import { randomWeights } from '../model/caffenet';
import { type ModelPackage, encodeBundle } from '../model/package';
import { CnnWorkerClient, type WorkerLike } from '../runner/cnnWorkerClient';
import type { BackendInfo } from '../model/backend';
import type { FeatureBatch } from '../model/extract';
import { CnnWorkerHost } from './cnnWorkerHost';
import type { CnnRequest, CnnResponse } from './cnnProtocol';

const arch = caffeNetArch({ width: 0.125, inputSize: 99, numClasses: 0 });
const pkg = (name: string, seed: number): ModelPackage => ({ name, architecture: arch, classes: null, weights: randomWeights(arch, { seed }), provenance: { createdBy: 'test', createdAt: '' } });
const image = { width: 64, height: 48, data: Uint8Array.from({ length: 64 * 48 * 3 }, (_, i) => (i * 29) & 255) };
const boxes = new Float32Array([0, 0, 40, 30, 10, 8, 60, 44]);

let host: CnnWorkerHost;
let client: CnnWorkerClient;
let ports: MessagePort[] = [];

beforeAll(async () => {
  await useNodeBackend('wasm');
  const ch = new MessageChannel();
  ports = [ch.port1, ch.port2];
  host = new CnnWorkerHost((msg: CnnResponse, transfer?: ArrayBuffer[]) => ch.port1.postMessage(msg, transfer ?? []), {
    chooseBackend: async () => ({ name: 'wasm', requested: 'wasm', fellBack: false, software: false, notes: [] }) satisfies BackendInfo,
  });
  ch.port1.onmessage = (e: MessageEvent<CnnRequest>) => host.handle(e.data);
  const port = ch.port2 as unknown as WorkerLike & { start(): void };
  client = new CnnWorkerClient(port);
  port.start();
});
afterAll(() => ports.forEach((p) => p.close()));

async function fc7(): Promise<number[]> {
  const out: FeatureBatch[] = [];
  await client.extract(image, boxes, { fc7: true, pool5: false }, { onBatch: (b) => out.push(b) });
  return out.flatMap((b) => Array.from(b.fc7!));
}

describe('loading a broken model keeps the previous one', () => {
  it('after unreadable bytes, a truncated bundle and a failed upload', async () => {
    await client.init();
    const good = await encodeBundle(pkg('good', 1));
    expect((await client.loadModel({ kind: 'bytes', name: 'good.rcnn', bytes: good.slice().buffer })).name).toBe('good');
    const before = await fc7();

    await expect(client.loadModel({ kind: 'bytes', name: 'junk.onnx', bytes: new TextEncoder().encode('not a model').buffer })).rejects.toThrow();
    await expect(client.loadModel({ kind: 'bytes', name: 'cut.rcnn', bytes: good.slice(0, good.length >> 1).buffer })).rejects.toThrow(/truncated/);
    expect(await fc7()).toEqual(before);

    // A package that parses but cannot be uploaded (e.g. out of device memory).
    const proto = Object.getPrototypeOf(host) as { uploadModel: () => void };
    const upload = proto.uploadModel;
    let calls = 0;
    proto.uploadModel = function (this: unknown) {
      if (calls++ === 0) throw new Error('out of memory (simulated)');
      return upload.call(this);
    };
    try {
      const other = await encodeBundle(pkg('other', 2));
      await expect(client.loadModel({ kind: 'bytes', name: 'other.rcnn', bytes: other.slice().buffer })).rejects.toThrow(/simulated/);
    } finally {
      proto.uploadModel = upload;
    }
    expect(await fc7()).toEqual(before);
    const bundle = await client.exportBundle();
    expect(bundle.name).toBe('good.rcnn');
  });
});

describe('a zoo file checked against its own test data in the worker', () => {
  it('passes with the numbers in the model info, and a file whose test outputs differ is refused, keeping the previous model', async () => {
    const { buildZooReplica } = await import('../model/onnx/zooReplicaNode');
    const { floatTensor, tensorToFloat32 } = await import('../model/onnx/proto');
    await client.init();
    const good = await encodeBundle(pkg('good', 1));
    await client.loadModel({ kind: 'bytes', name: 'good.rcnn', bytes: good.slice().buffer });
    const before = await fc7();
    const r = await buildZooReplica({ width: 0.0625, seed: 5, testSets: 2 });
    const verified = { name: 'rcnn-ilsvrc13-9.tar.gz', bytes: r.tarGz.length, sha256: 'f'.repeat(64), published: 'rcnn-ilsvrc13-9.tar.gz', standIn: true, from: 'downloaded' as const, storeId: null };
    const phases: string[] = [];
    const info = await client.loadModel({ kind: 'bytes', name: 'model.onnx', bytes: r.onnx.slice().buffer, testSets: r.sets.map((s, i) => ({ name: `test_data_set_${i}`, ...s })), verified }, (p) => phases.push(p.phase));
    expect(info.name).toBe('rcnn-ilsvrc13-9');
    expect(info.svmClasses?.length).toBe(200);
    expect(phases).toContain('verify');
    const p = info.verification!.parity!;
    expect(p).toMatchObject({ pass: true, tolerance: 1e-3, backend: 'wasm', inputShape: [1, 3, 224, 224], outputName: 'fc-rcnn_1' });
    expect(p.sets.map((s) => s.name)).toEqual(['test_data_set_0', 'test_data_set_1']);
    expect(p.maxRelativeError).toBeLessThan(1e-3);
    expect(info.verification!.file).toEqual(verified);
    expect(info.provenance.notes?.some((n) => n.startsWith('verified: rcnn-ilsvrc13-9.tar.gz'))).toBe(true);

    // The same file with one stored output nudged by 1 %: refused with the numbers.
    await client.loadModel({ kind: 'bytes', name: 'good.rcnn', bytes: good.slice().buffer });
    const o = r.sets[1].output;
    const nudged = floatTensor(o.name, o.dims, tensorToFloat32(o).map((v) => v * 1.01));
    const err = await client
      .loadModel({ kind: 'bytes', name: 'model.onnx', bytes: r.onnx.slice().buffer, testSets: [{ name: 'test_data_set_0', ...r.sets[0] }, { name: 'test_data_set_1', input: r.sets[1].input, output: nudged }], verified })
      .catch((e) => e);
    expect(err.name).toBe('TestDataMismatch');
    expect(err.message).toMatch(/^refused: the imported network does not reproduce rcnn-ilsvrc13-9\.tar\.gz's own test data: max relative error (\d\.\d\de-\d+) \(test_data_set_1\) against the tolerance 0\.001 on tfjs-wasm\. test_data_set_0: max relative error \d\.\d\de-\d+ .*; test_data_set_1: max relative error \1/);
    expect(await fc7()).toEqual(before);
  }, 60_000);
});
