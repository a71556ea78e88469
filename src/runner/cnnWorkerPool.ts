/**
 * Several CNN workers sharing one extraction: tfjs-wasm runs single-threaded (its threaded build
 * broke in production builds and gave nothing here), so on a multi-core CPU the way to use the
 * cores is one single-threaded worker per core, each with its own copy of the model. Chunks of
 * proposals are handed out from a shared queue, so a worker slowed by other load simply takes
 * fewer chunks. `rcnn bench cnn` measures the same arrangement in Node (worker threads) against
 * onnxruntime-web's own threads.
 *
 * GPU backends gain nothing from this (one device): the pool then uses its first worker only.
 * Memory: every worker holds the model (about 250 MB for full CaffeNet, 16 MB at width 0.25).
 *
 * Batches reach onBatch in completion order, not proposal order: place them by `start`.
 */
import type { RgbImage } from '../core/image/raster';
import { rasterFingerprint } from '../core/image/raster';
import type { BackendInfo, BackendName } from '../model/backend';
import type { FeatureBatch } from '../model/extract';
import type { ExtractOptions, ModelSource, TfMemory } from '../workers/cnnProtocol';
import type { ModelInfo } from '../model/modelInfo';
import { CnnWorkerClient, type ExtractSummary, type Progress } from './cnnWorkerClient';

export class CnnWorkerPool {
  private active: CnnWorkerClient[];
  private backend: BackendInfo | null = null;

  constructor(readonly clients: CnnWorkerClient[]) {
    if (clients.length === 0) throw new Error('a CNN pool needs at least one worker');
    this.active = clients;
  }

  /** One worker per core, at most `max` (browser: navigator.hardwareConcurrency). */
  static create(max = 4): CnnWorkerPool {
    const cores = (globalThis.navigator as { hardwareConcurrency?: number } | undefined)?.hardwareConcurrency ?? 1;
    const n = Math.max(1, Math.min(max, cores));
    return new CnnWorkerPool(Array.from({ length: n }, () => CnnWorkerClient.create()));
  }

  get size(): number {
    return this.active.length;
  }

  /** Chooses the backend in the first worker, then puts the others on the same one (CPU backends only). */
  async init(backend: BackendName | 'auto' = 'auto', benchmark = false): Promise<BackendInfo> {
    const info = await this.clients[0].init(backend, benchmark);
    this.backend = info;
    if (info.name === 'wasm' || info.name === 'cpu') {
      await Promise.all(this.clients.slice(1).map((c) => c.init(info.name)));
      this.active = this.clients;
    } else {
      this.active = [this.clients[0]];
    }
    return info;
  }

  async setBackend(backend: BackendName | 'auto', benchmark = false): Promise<BackendInfo> {
    const info = await this.clients[0].setBackend(backend, benchmark);
    this.backend = info;
    const cpuLike = info.name === 'wasm' || info.name === 'cpu';
    this.active = cpuLike ? this.clients : [this.clients[0]];
    if (cpuLike) await Promise.all(this.clients.slice(1).map((c) => c.setBackend(info.name)));
    return info;
  }

  /**
   * Loads the model in every active worker. Progress is the first worker's; byte sources are
   * copied per worker (a transferred buffer can go to one worker only). `spares` are copies of a
   * 'bytes' source made elsewhere (the download worker makes them for the original R-CNN's 230
   * MB model: one slice of it took 4.3 s on the page's main thread on the loaded test machine);
   * the page slices only when there are too few.
   */
  async loadModel(source: ModelSource, onProgress?: (p: Progress) => void, signal?: AbortSignal, spares: ArrayBuffer[] = []): Promise<ModelInfo> {
    if (!this.backend) await this.init();
    const pool = [...spares];
    const copy = (s: ModelSource): ModelSource =>
      s.kind === 'bytes' ? { ...s, bytes: pool.pop() ?? s.bytes.slice(0) } : s.kind === 'files' ? { kind: 'files', files: s.files.map((f) => ({ name: f.name, bytes: f.bytes.slice(0) })) } : s;
    if (source.kind === 'bytes' && source.testSets?.length) {
      // A model checked against its test data: the first worker imports and checks it; only if it
      // passes do the others load it (without running the check again), so a refused model
      // leaves every worker with the previous one.
      const rest = this.active.slice(1);
      const info = await this.active[0].loadModel(rest.length ? copy(source) : source, onProgress, signal);
      const plain: ModelSource = { ...source, testSets: undefined };
      await Promise.all(rest.map((c, i) => c.loadModel(i === rest.length - 1 ? plain : copy(plain), undefined, signal)));
      return info;
    }
    const others = this.active.slice(1).map((c) => c.loadModel(copy(source), undefined, signal));
    // Wait for all so that no worker's failure is left as an unhandled rejection.
    const [info] = await Promise.all([this.active[0].loadModel(source, onProgress, signal), ...others]);
    return info;
  }

  /**
   * Runs the proposals across the workers. Each batch's `start` and `total` are global (indices
   * into `boxes`). Aborting cancels every worker.
   */
  async extract(
    image: RgbImage,
    boxes: Float32Array,
    options: ExtractOptions = {},
    hooks: { onBatch?: (b: FeatureBatch) => void; onProgress?: (p: Progress) => void; signal?: AbortSignal } = {},
  ): Promise<ExtractSummary> {
    const total = boxes.length >> 2;
    const key = rasterFingerprint(image);
    const t0 = performance.now();
    if (this.active.length === 1) return this.active[0].extract(image, boxes, options, { ...hooks, imageKey: key });
    // Chunks of a few batches: small enough to balance, large enough to keep batches full. On the
    // RoI path a proposal costs about a twentieth of a crop, so chunks are a quarter of the
    // proposals each (two per worker): each worker computes the photo's conv5 once and keeps it.
    const roi = options.features === 'roi';
    const batch = options.batchSize ?? (roi ? 128 : 16);
    const chunk = roi ? Math.max(batch, Math.ceil(total / (2 * this.active.length))) : Math.max(batch, Math.min(2 * batch, Math.ceil(total / (2 * this.active.length))));
    let next = 0;
    let done = 0;
    const inner = new AbortController();
    const onAbort = () => inner.abort();
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    if (hooks.signal?.aborted) inner.abort();
    const memory = new Map<CnnWorkerClient, TfMemory>(); // each worker's state after its last chunk
    const work = async (c: CnnWorkerClient) => {
      while (next < total && !inner.signal.aborted) {
        const start = next;
        const count = Math.min(chunk, total - start);
        next += count;
        const s = await c.extract(image, boxes.subarray(4 * start, 4 * (start + count)), options, {
          imageKey: key,
          signal: inner.signal,
          onBatch: (b) => {
            done += b.count;
            hooks.onBatch?.({ ...b, start: b.start + start, total });
            hooks.onProgress?.({ phase: 'extract', loaded: done, total });
          },
        });
        memory.set(c, s.memory);
      }
    };
    try {
      // Two chunks in flight per worker: the worker starts the second as soon as the first ends,
      // instead of idling while its result reaches this thread and the next request comes back
      // (which waits behind whatever this thread is rendering).
      await Promise.all(this.active.flatMap((c) => [c, c]).map((c) =>
        work(c).catch((e) => {
          inner.abort(); // one failure stops the others
          throw e;
        }),
      ));
      if (inner.signal.aborted) throw Object.assign(new Error('feature extraction cancelled'), { name: 'AbortError' });
    } finally {
      hooks.signal?.removeEventListener('abort', onAbort);
    }
    const ms = performance.now() - t0;
    const mem = [...memory.values()];
    return {
      total,
      ms,
      cropsPerSecond: total / (ms / 1000),
      memory: { numTensors: mem.reduce((s, m) => s + m.numTensors, 0), numBytes: mem.reduce((s, m) => s + m.numBytes, 0), workers: mem.length },
    };
  }

  /**
   * Forward-only throughput of the pool (every active worker at once, as `rcnn bench cnn-browser`
   * measures a pool): crops done by all workers over the longest wall time.
   */
  async benchForward(batch: number, ms: number): Promise<{ cropsPerSecond: number; workers: number }> {
    const r = await Promise.all(this.active.map((c) => c.benchForward(batch, ms)));
    const wall = Math.max(...r.map((x) => x.ms));
    return { cropsPerSecond: (r.reduce((s, x) => s + x.passes, 0) * batch) / (wall / 1000), workers: r.length };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.dispose()));
  }

  terminate(): void {
    for (const c of this.clients) c.terminate();
  }
}
