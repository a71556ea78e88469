import { CnnWorkerClient } from '../../src/runner/cnnWorkerClient';
import { caffeNetArch } from '../../src/model/architecture';
import { randomWeights } from '../../src/model/caffenet';
import { encodeBundle } from '../../src/model/package';

const w = window as unknown as Record<string, unknown>;
w.runCheck = async (opts: { width: number; backends: string[]; cap?: number; n: number }) => {
  const arch = caffeNetArch({ width: opts.width, numClasses: 0 });
  const pkg = { name: 'check', architecture: arch, classes: null, weights: randomWeights(arch, { seed: 1 }), provenance: { createdBy: 'check', createdAt: '' } };
  const bundle = await encodeBundle(pkg);
  const image = { width: 320, height: 240, data: Uint8Array.from({ length: 320 * 240 * 3 }, (_, i) => (i * 13 + (i >> 9)) & 255) };
  const boxes = new Float32Array(4 * opts.n);
  for (let i = 0; i < opts.n; i++) boxes.set([10 * i, 5 * i, 100 + 12 * i, 80 + 9 * i], 4 * i);
  const results: Record<string, unknown> = {};
  for (const b of opts.backends) {
    const c = CnnWorkerClient.create();
    const t0 = performance.now();
    const info = await c.init(b as 'wasm', false, opts.cap);
    const m = await c.loadModel({ kind: 'bytes', name: 'check.rcnn', bytes: bundle.slice().buffer });
    const fc7 = new Float32Array(opts.n * arch.fc7);
    const pool5: number[] = [];
    const s = await c.extract(image, boxes, { batchSize: 4 }, { onBatch: (x) => { fc7.set(x.fc7!, x.start * arch.fc7); if (x.start === 0) pool5.push(...Array.from(x.pool5!.slice(0, 5))); } });
    results[b] = { info, split: m.splitFcLayers, cap: m.maxBindingBytes, fc7, s, ms: performance.now() - t0, pool5 };
    c.terminate();
  }
  return results;
};
w.ready = true;
(document.getElementById('out') as HTMLElement).textContent = 'ready';
