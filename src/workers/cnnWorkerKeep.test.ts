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
