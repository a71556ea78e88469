import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend } from '../model/node';
import { caffeNetArch } from '../model/architecture';
import { gaussian, randomWeights } from '../model/caffenet';
import { extractAll } from '../model/extract';
import { RcnnModel } from '../model/rcnnModel';
import { type ModelPackage, decodeBundle, encodeBundle, encodePackage } from '../model/package';
import { exportOnnx } from '../model/onnx/export';
import { CnnWorkerClient, type WorkerLike } from '../runner/cnnWorkerClient';
import type { BackendInfo } from '../model/backend';
import type { FeatureBatch } from '../model/extract';
import { CnnWorkerHost } from './cnnWorkerHost';
import type { CnnRequest, CnnResponse } from './cnnProtocol';

const arch = caffeNetArch({ width: 0.125, inputSize: 99, numClasses: 3 });
function pkg(): ModelPackage {
  const g = gaussian(1);
  return {
    name: 'tiny',
    architecture: arch,
    classes: ['background', 'cat', 'dog'],
    weights: randomWeights(arch, { seed: 3 }),
    svm: { classes: ['cat', 'dog'], featureLayer: 'fc7', featureScale: 1, weights: Float32Array.from({ length: 2 * arch.fc7 }, () => g()), bias: new Float32Array(2) },
    provenance: { createdBy: 'test', createdAt: '' },
  };
}
const image = { width: 80, height: 60, data: Uint8Array.from({ length: 80 * 60 * 3 }, (_, i) => (i * 37) & 255) };
const boxes = new Float32Array([0, 0, 40, 30, 10, 10, 70, 50, 5, 20, 30, 58, 50, 0, 80, 60, 20, 20, 25, 25]);

let hostPort: MessagePort;
let client: CnnWorkerClient;
let clientPort: MessagePort;

beforeAll(async () => {
  await useNodeBackend('wasm');
  const ch = new MessageChannel();
  hostPort = ch.port1;
  clientPort = ch.port2;
  const host = new CnnWorkerHost((msg: CnnResponse, transfer?: ArrayBuffer[]) => hostPort.postMessage(msg, transfer ?? []), {
    chooseBackend: async (prefer) => {
      const name = prefer === 'cpu' ? 'cpu' : 'wasm';
      await useNodeBackend(name);
      return { name, requested: name, fellBack: false, software: false, notes: ['node test backend'] } satisfies BackendInfo;
    },
  });
  hostPort.onmessage = (e: MessageEvent<CnnRequest>) => host.handle(e.data);
  const port = clientPort as unknown as WorkerLike & { start(): void };
  client = new CnnWorkerClient(port);
  port.start();
});

afterAll(() => {
  hostPort.close();
  clientPort.close();
});

describe('CNN worker protocol (host + client over a MessageChannel)', () => {
  it('initialises, loads a bundle, streams batches that match direct extraction, and exports', async () => {
    const info = await client.init();
    expect(info.name).toBe('wasm');
    const p = pkg();
    const bundle = await encodeBundle(p);
    const progress: string[] = [];
    const m = await client.loadModel({ kind: 'bytes', name: 'tiny.rcnn', bytes: bundle.slice().buffer }, (x) => progress.push(x.phase));
    expect(m.name).toBe('tiny');
    expect(m.layers.map((l) => l.name)).toContain('pool5');
    expect(m.svmClasses).toEqual(['cat', 'dog']);
    expect(progress).toContain('upload');
    const batches: FeatureBatch[] = [];
    const s = await client.extract(image, boxes, { batchSize: 2, crops: true }, { onBatch: (b) => batches.push(b) });
    expect(s.total).toBe(5);
    expect(batches.map((b) => b.count)).toEqual([2, 2, 1]);
    expect(batches[0].crops!.length).toBe(2 * 99 * 99 * 3);
    const direct = new RcnnModel(p);
    const ref = await extractAll(direct, image, { boxes });
    direct.dispose();
    const fc7 = Float32Array.from(batches.flatMap((b) => Array.from(b.fc7!)));
    expect(Array.from(fc7)).toEqual(Array.from(ref.fc7!));
    expect(Array.from(batches[2].svmScores!)).toEqual(Array.from(ref.svmScores!.subarray(8)));
    // Same image again: served from the worker's cache.
    const again: FeatureBatch[] = [];
    await client.extract(image, boxes.subarray(0, 4), { pool5: false }, { onBatch: (b) => again.push(b) });
    expect(Array.from(again[0].fc7!)).toEqual(Array.from(ref.fc7!.subarray(0, arch.fc7)));
    const w = await client.getWeights(['conv1.weight']);
    expect(w['conv1.weight']!.shape).toEqual([11, 11, 3, 16]);
    const exported = await client.exportBundle();
    expect(exported.name).toBe('tiny.rcnn');
    expect((await decodeBundle(new Uint8Array(exported.bytes))).classes).toEqual(p.classes);
  });

  it('cancels an extraction at a batch boundary with an AbortError', async () => {
    const ac = new AbortController();
    let got = 0;
    const run = client.extract(image, boxes, { batchSize: 1 }, {
      signal: ac.signal,
      onBatch: () => {
        got++;
        ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(got).toBeLessThan(5);
    // The worker still serves requests afterwards.
    const s = await client.extract(image, boxes.subarray(0, 8), {});
    expect(s.total).toBe(2);
  });

  it('loads dropped package files and an .onnx model, and names a corrupt file', async () => {
    const p = pkg();
    const { manifest, files } = await encodePackage(p);
    const dropped = [{ name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(manifest)).buffer as ArrayBuffer }];
    for (const [n, b] of files) dropped.push({ name: n, bytes: b.slice().buffer });
    expect((await client.loadModel({ kind: 'files', files: dropped })).svmClasses).toEqual(['cat', 'dog']);
    const onnx = exportOnnx({ ...p, svm: undefined }, { declaredInputSize: 224 }).bytes;
    const m = await client.loadModel({ kind: 'bytes', name: 'alexnet.onnx', bytes: onnx.slice().buffer });
    expect(m.architecture.inputHeight).toBe(99);
    expect(m.importNotes.join(' ')).toMatch(/using 99x99/);
    const cnn = files.get('cnn.bin')!.slice();
    cnn[100] ^= 0xff;
    const bad = [{ name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(manifest)).buffer as ArrayBuffer }, { name: 'cnn.bin', bytes: cnn.buffer }, { name: 'heads.bin', bytes: files.get('heads.bin')!.slice().buffer }];
    await expect(client.loadModel({ kind: 'files', files: bad })).rejects.toMatchObject({ file: 'cnn.bin', message: expect.stringMatching(/cnn\.bin is corrupt/) });
    // One file of a package, or a broken .rcnn: said what it is, not "not a readable ONNX model".
    const alone = (name: string, bytes: Uint8Array) => client.loadModel({ kind: 'bytes', name, bytes: bytes.slice().buffer as ArrayBuffer });
    const json = new TextEncoder().encode(JSON.stringify(manifest));
    await expect(alone('model.json', json)).rejects.toThrow(/model\.json is a package manifest \(JSON\), which needs its weight files/);
    await expect(alone('manifest.txt', json.subarray(0, 40))).rejects.toThrow(/is a package manifest/);
    await expect(alone('cnn.bin', files.get('cnn.bin')!)).rejects.toThrow(/cnn\.bin is one weight file of a model package/);
    await expect(alone('model.rcnn', new TextEncoder().encode('not a bundle at all'))).rejects.toThrow(/model\.rcnn is not an R-CNN Explorer bundle/);
    await expect(alone('junk.onnx', new TextEncoder().encode('junk'))).rejects.toThrow(/junk\.onnx is not a readable ONNX model/);
    // The model loaded before is still the one served.
    const probe: FeatureBatch[] = [];
    await client.extract(image, boxes.subarray(0, 4), {}, { onBatch: (b) => probe.push(b) });
    expect(probe[0].fc7!.length).toBe(arch.fc7); // the .onnx model, loaded last before the failures
  });

  it('switches backend keeping the model, and releases everything on dispose', async () => {
    const before = tf.memory().numTensors;
    const info = await client.setBackend('cpu');
    expect(info.name).toBe('cpu');
    const s = await client.extract(image, boxes.subarray(0, 4), {});
    expect(s.total).toBe(1);
    await client.setBackend('wasm');
    await client.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
    await expect(client.extract(image, boxes, {})).rejects.toThrow(/no model loaded/);
  });
});

describe('CnnWorkerPool', () => {
  it('shared-convolution features: each worker computes conv5 of the photo once and pools its chunks from it', async () => {
    const { CnnWorkerPool } = await import('../runner/cnnWorkerPool');
    const ports: MessagePort[] = [];
    const clients = [0, 1].map(() => {
      const ch = new MessageChannel();
      const host = new CnnWorkerHost((msg: CnnResponse, transfer?: ArrayBuffer[]) => ch.port1.postMessage(msg, transfer ?? []), {
        chooseBackend: async () => ({ name: 'wasm', requested: 'wasm', fellBack: false, software: false, notes: [] }) satisfies BackendInfo,
      });
      ch.port1.onmessage = (e: MessageEvent<CnnRequest>) => host.handle(e.data);
      const port = ch.port2 as unknown as WorkerLike & { start(): void };
      const c = new CnnWorkerClient(port);
      port.start();
      ports.push(ch.port1, ch.port2);
      return c;
    });
    const pool = new CnnWorkerPool(clients);
    await pool.init();
    const a227 = caffeNetArch({ width: 0.125, numClasses: 3 });
    const p = { ...pkg(), architecture: a227, weights: randomWeights(a227, { seed: 3 }), svm: { ...pkg().svm!, weights: Float32Array.from({ length: 2 * a227.fc7 }, (_, i) => Math.sin(i)) } };
    await pool.loadModel({ kind: 'bytes', name: 'tiny227.rcnn', bytes: (await encodeBundle(p)).slice().buffer });
    const many = new Float32Array(4 * 40);
    for (let i = 0; i < 40; i++) many.set([i, i % 7, 30 + i, 20 + (i % 7) * 5], 4 * i);
    const got = new Float32Array(40 * 2);
    let convRuns = 0;
    await pool.extract(image, many, { batchSize: 4, features: 'roi', roi: { scale: 'search' } }, {
      onBatch: (b) => {
        got.set(b.svmScores!, b.start * 2);
        if (b.timing?.conv) convRuns++;
      },
    });
    // 40 proposals in chunks of 10: five chunks per worker, one conv5 per worker.
    expect(convRuns).toBe(2);
    const direct = new RcnnModel(p);
    const ref = await extractAll(direct, image, { boxes: many, features: 'roi', roi: { scale: 'search' } });
    direct.dispose();
    expect(Array.from(got)).toEqual(Array.from(ref.svmScores!));
    await pool.dispose();
    for (const port of ports) port.close();
  });

  it('spreads proposals over workers and returns the same features with global indices', async () => {
    const { CnnWorkerPool } = await import('../runner/cnnWorkerPool');
    const ports: MessagePort[] = [];
    const clients = [0, 1].map(() => {
      const ch = new MessageChannel();
      const host = new CnnWorkerHost((msg: CnnResponse, transfer?: ArrayBuffer[]) => ch.port1.postMessage(msg, transfer ?? []), {
        chooseBackend: async () => {
          await useNodeBackend('wasm');
          return { name: 'wasm', requested: 'wasm', fellBack: false, software: false, notes: [] } satisfies BackendInfo;
        },
      });
      ch.port1.onmessage = (e: MessageEvent<CnnRequest>) => host.handle(e.data);
      const port = ch.port2 as unknown as WorkerLike & { start(): void };
      const c = new CnnWorkerClient(port);
      port.start();
      ports.push(ch.port1, ch.port2);
      return c;
    });
    const pool = new CnnWorkerPool(clients);
    expect((await pool.init()).name).toBe('wasm');
    expect(pool.size).toBe(2);
    const p = pkg();
    await pool.loadModel({ kind: 'bytes', name: 'tiny.rcnn', bytes: (await encodeBundle(p)).slice().buffer });
    const many = new Float32Array(4 * 23);
    for (let i = 0; i < 23; i++) many.set([i, i % 7, 30 + i, 20 + (i % 7) * 5], 4 * i);
    const got = new Float32Array(23 * arch.fc7);
    const seen = new Set<number>();
    const s = await pool.extract(image, many, { batchSize: 2 }, {
      onBatch: (b) => {
        got.set(b.fc7!, b.start * arch.fc7);
        for (let i = 0; i < b.count; i++) seen.add(b.start + i);
        expect(b.total).toBe(23);
      },
    });
    expect(s.total).toBe(23);
    expect(seen.size).toBe(23);
    const direct = new RcnnModel(p);
    const ref = await extractAll(direct, image, { boxes: many });
    direct.dispose();
    expect(Array.from(got)).toEqual(Array.from(ref.fc7!));
    const ac = new AbortController();
    const run = pool.extract(image, many, { batchSize: 1 }, { signal: ac.signal, onBatch: () => ac.abort() });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    await pool.dispose();
    for (const port of ports) port.close();
  });
});
