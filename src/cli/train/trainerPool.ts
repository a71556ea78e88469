/**
 * The main-thread side of the training/eval CNN workers: starts them, initialises identical
 * replicas, and offers the operations the stages need (data-parallel gradient steps, evaluation,
 * per-image features).
 */
import { Worker } from 'node:worker_threads';
import type { CaffeNetArch } from '../../model/architecture';
import type { NamedWeights } from '../../model/caffenet';
import type { DatasetImage } from './data';
import type { FeatureAugment, InitRequest, SharedRasters, SharedWindows, WorkerRequest, WorkerResponse } from './protocol';
import type { FeatureSource } from '../../pipeline/train/source';

export function packRasters(images: readonly DatasetImage[]): SharedRasters {
  let total = 0;
  const offsets: number[] = [];
  for (const im of images) {
    offsets.push(total);
    total += im.raster.data.length;
  }
  const buffer = new SharedArrayBuffer(Math.max(1, total));
  const view = new Uint8Array(buffer);
  images.forEach((im, i) => view.set(im.raster.data, offsets[i]));
  return { buffer, offsets, widths: images.map((i) => i.raster.width), heights: images.map((i) => i.raster.height) };
}

export interface WindowSet {
  shared: SharedWindows;
  boxes: Float32Array;
  image: Int32Array;
  label: Int32Array;
  count: number;
}

export function packWindows(boxes: number[], image: number[], label: number[]): WindowSet {
  const n = label.length;
  const sb = new SharedArrayBuffer(Math.max(16, 16 * n));
  const si = new SharedArrayBuffer(Math.max(4, 4 * n));
  const sl = new SharedArrayBuffer(Math.max(4, 4 * n));
  const b = new Float32Array(sb);
  b.set(boxes);
  const im = new Int32Array(si);
  im.set(image);
  const l = new Int32Array(sl);
  l.set(label);
  return { shared: { boxes: sb, image: si, label: sl }, boxes: b, image: im, label: l, count: n };
}

/** What every replica starts from: the init request without its per-worker fields. */
export type PoolInit = Omit<InitRequest, 'type' | 'workerIndex' | 'gradSlots'>;

/** Omit distributed over a union (plain Omit collapses the union to its common keys). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

type Pending = { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void };

class TrainerWorkerHandle {
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private readyWaiter: Pending | null = null;
  constructor(readonly worker: Worker) {
    worker.on('message', (m: WorkerResponse) => {
      if (m.type === 'ready') {
        this.readyWaiter?.resolve(m);
        this.readyWaiter = null;
        return;
      }
      if (m.type === 'error') {
        const err = new Error(`CNN worker: ${m.message}`);
        if (m.id !== undefined && this.pending.has(m.id)) {
          this.pending.get(m.id)!.reject(err);
          this.pending.delete(m.id);
        } else {
          this.failAll(err);
        }
        return;
      }
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m);
    });
    worker.on('error', (e) => this.failAll(e));
    worker.on('exit', (code) => {
      if (code !== 0) this.failAll(new Error(`CNN worker exited with code ${code}`));
    });
  }
  private failAll(e: Error): void {
    this.readyWaiter?.reject(e);
    this.readyWaiter = null;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
  ready(req: WorkerRequest): Promise<WorkerResponse> {
    return new Promise((resolve, reject) => {
      this.readyWaiter = { resolve, reject };
      this.worker.postMessage(req);
    });
  }
  call<T extends WorkerResponse['type']>(req: WithoutId<Extract<WorkerRequest, { id: number }>>, transfer: ArrayBuffer[] = []): Promise<Extract<WorkerResponse, { type: T }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: WorkerResponse) => void, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }
}

export class TrainerPool {
  readonly workers: TrainerWorkerHandle[] = [];
  private gradSlots: SharedArrayBuffer[] = [];
  trainableCount = 0;

  constructor(readonly size: number) {}

  async start(init: PoolInit): Promise<void> {
    for (let i = 0; i < this.size; i++) {
      this.workers.push(new TrainerWorkerHandle(new Worker(new URL('./trainerWorker.mjs', import.meta.url), { name: `cnn-${i}` })));
    }
    // The flat gradient length is known only after the first worker built the network.
    const first = await this.workers[0].ready({ type: 'init', ...init, workerIndex: 0, gradSlots: [] });
    this.trainableCount = first.type === 'ready' ? first.trainableCount : 0;
    this.gradSlots = this.workers.map(() => new SharedArrayBuffer(Math.max(4, 4 * this.trainableCount)));
    await Promise.all(this.workers.map((w, i) => w.ready({ type: 'init', ...init, workerIndex: i, gradSlots: this.gradSlots })));
  }

  /** One data-parallel SGD step over `windows` (split evenly); returns mean loss and accuracy. */
  async step(windows: Int32Array, iteration: number, lr: number): Promise<{ loss: number; accuracy: number; ms: number }> {
    const parts = splitEven(windows, this.workers.length);
    const t0 = performance.now();
    const res = await Promise.all(parts.map((p, i) => this.workers[i].call<'grad'>({ type: 'grad', windows: p, iteration })));
    await Promise.all(this.workers.map((w) => w.call<'applied'>({ type: 'apply', lr, slots: parts.length })));
    const n = res.reduce((s, r) => s + r.n, 0);
    return {
      loss: res.reduce((s, r) => s + r.loss * r.n, 0) / n,
      accuracy: res.reduce((s, r) => s + r.correct, 0) / n,
      ms: performance.now() - t0,
    };
  }

  async predict(windows: Int32Array): Promise<{ predicted: Int32Array; loss: number }> {
    const parts = splitEven(windows, this.workers.length);
    const res = await Promise.all(parts.map((p, i) => this.workers[i].call<'eval'>({ type: 'eval', windows: p })));
    const predicted = new Int32Array(windows.length);
    let o = 0;
    let loss = 0;
    res.forEach((r, i) => {
      predicted.set(r.predicted, o);
      o += r.predicted.length;
      loss += r.loss * parts[i].length;
    });
    return { predicted, loss: loss / Math.max(1, windows.length) };
  }

  /** Features of one image on a given worker (with `augment`: each box randomly augmented, see FeatureAugment). */
  features(worker: number, image: number, boxes: Float32Array, pool5Rows: Int32Array, augment?: FeatureAugment): Promise<{ fc7: Float32Array; pool5: Float32Array; ms: number }> {
    return this.workers[worker].call<'features'>({ type: 'features', image, boxes, pool5Rows, augment });
  }

  /** Weights and momentum of replica 0 (all replicas are identical). */
  async state(): Promise<{ weights: NamedWeights; velocity: Float32Array }> {
    const r = await this.workers[0].call<'state'>({ type: 'state' });
    return { weights: r.weights, velocity: r.velocity };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.workers.length = 0;
  }
}

/**
 * A pool that only extracts features (no training state) over the given images, warped crops
 * (R-CNN) or RoI-pooled out of each photo's conv5 (`features: { features: 'roi', roiScale }`).
 */
export async function startFeaturePool(threads: number, arch: CaffeNetArch, weights: NamedWeights, images: readonly DatasetImage[], features: Pick<PoolInit, 'features' | 'roiScale'> = {}): Promise<TrainerPool> {
  const pool = new TrainerPool(threads);
  await pool.start({
    arch,
    weights,
    velocity: null,
    seed: 1,
    rasters: packRasters(images),
    windows: null,
    trainableLayers: [],
    weightDecay: 0,
    momentum: 0,
    augment: 'none',
    gainJitter: 0,
    blur: 0,
    ...features,
  });
  return pool;
}

function splitEven(a: Int32Array, parts: number): Int32Array[] {
  const out: Int32Array[] = [];
  const n = Math.min(parts, Math.max(1, a.length));
  for (let i = 0; i < n; i++) out.push(a.slice(Math.floor((i * a.length) / n), Math.floor(((i + 1) * a.length) / n)));
  return out;
}

/**
 * The pool as the shell-neutral trainer's FeatureSource (src/pipeline/train/source.ts). It reads
 * `pool.features` at each call, so a FeatureCache wrapped around it later is used.
 */
export function poolSource(pool: TrainerPool): FeatureSource {
  return { lanes: pool.workers.length, features: (w, i, boxes, rows, augment) => pool.features(w, i, boxes, rows, augment) };
}

export { forEachOnWorkers } from '../../pipeline/train/source';
