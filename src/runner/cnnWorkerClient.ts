/**
 * Main-thread client of the CNN worker: promises and callbacks over the message protocol of
 * src/workers/cnnProtocol.ts. One client owns one worker; requests are answered in order.
 *
 *   const cnn = CnnWorkerClient.create();
 *   const backend = await cnn.init();                       // { name: 'wasm', notes: [...] }
 *   const model = await cnn.loadModel({ kind: 'url', url: 'models/caffenet-025' }, (p) => ...);
 *   const summary = await cnn.extract(image, boxes, { crops: true }, { onBatch, signal });
 */
import type { RgbImage } from '../core/image/raster';
import { rasterFingerprint } from '../core/image/raster';
import type { BackendInfo, BackendName } from '../model/backend';
import type { WeightName } from '../model/caffenet';
import type { FeatureBatch } from '../model/extract';
import type { CnnRequest, CnnResponse, ExtractOptions, ModelSource, ProgressPhase, TfMemory } from '../workers/cnnProtocol';
import type { ModelInfo } from '../model/modelInfo';

/** What the client needs of a Worker (a MessagePort works too, for tests). */
export interface WorkerLike {
  postMessage(msg: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', fn: (e: MessageEvent) => void): void;
  terminate?(): void;
}

export interface Progress {
  phase: ProgressPhase;
  loaded: number;
  total: number;
}

export interface ExtractSummary {
  total: number;
  ms: number;
  cropsPerSecond: number;
  /** tf.memory() after the run, summed over the workers that ran it. */
  memory: TfMemory & { workers: number };
}

export class CnnError extends Error {
  constructor(name: string, message: string, readonly file?: string) {
    super(message);
    this.name = name;
  }
}

/** A request without its id (distributes over the union). */
type RequestBody = CnnRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

interface Pending {
  resolve: (v: CnnResponse) => void;
  reject: (e: Error) => void;
  onProgress?: (p: Progress) => void;
  onBatch?: (b: FeatureBatch) => void;
  /** Message type that completes the request. */
  final: CnnResponse['type'];
}

export class CnnWorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Key of the image the worker has cached (sent once per image). */
  private cachedImage: string | null = null;

  constructor(private readonly worker: WorkerLike) {
    worker.addEventListener('message', (e: MessageEvent<CnnResponse>) => this.receive(e.data));
  }

  /** Starts the module worker (Vite bundles it). */
  static create(): CnnWorkerClient {
    return new CnnWorkerClient(new Worker(new URL('../workers/cnn.worker.ts', import.meta.url), { type: 'module', name: 'cnn' }));
  }

  private receive(msg: CnnResponse) {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'progress') p.onProgress?.({ phase: msg.phase, loaded: msg.loaded, total: msg.total });
    else if (msg.type === 'batch') p.onBatch?.(msg.batch);
    else if (msg.type === 'error') {
      this.pending.delete(msg.id);
      p.reject(new CnnError(msg.name, msg.message, msg.file));
    } else if (msg.type === p.final) {
      this.pending.delete(msg.id);
      p.resolve(msg);
    }
  }

  private request<T extends CnnResponse['type']>(
    req: RequestBody,
    final: T,
    hooks: { onProgress?: (p: Progress) => void; onBatch?: (b: FeatureBatch) => void } = {},
    transfer: Transferable[] = [],
  ): { id: number; done: Promise<Extract<CnnResponse, { type: T }>> } {
    const id = this.nextId++;
    const done = new Promise<Extract<CnnResponse, { type: T }>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: CnnResponse) => void, reject, final, ...hooks });
    });
    this.worker.postMessage({ ...req, id }, transfer);
    return { id, done };
  }

  /** Chooses the backend ('auto': WebGPU > WebGL > wasm > cpu, software GPUs not preferred). */
  async init(backend: BackendName | 'auto' = 'auto', benchmark = false, maxBindingBytes?: number): Promise<BackendInfo> {
    return (await this.request({ type: 'init', backend, benchmark, maxBindingBytes }, 'backend').done).info;
  }

  /** Switches backend; the loaded model is re-uploaded and the image cache dropped. */
  async setBackend(backend: BackendName | 'auto', benchmark = false, maxBindingBytes?: number): Promise<BackendInfo> {
    this.cachedImage = null;
    return (await this.request({ type: 'setBackend', backend, benchmark, maxBindingBytes }, 'backend').done).info;
  }

  /** Loads a package or ONNX model; bytes given as ArrayBuffers are transferred (not copied). */
  async loadModel(source: ModelSource, onProgress?: (p: Progress) => void, signal?: AbortSignal): Promise<ModelInfo> {
    const transfer = source.kind === 'bytes' ? [source.bytes] : source.kind === 'files' ? source.files.map((f) => f.bytes) : [];
    this.cachedImage = null;
    const r = this.request({ type: 'loadModel', source }, 'model', { onProgress }, transfer);
    const off = this.cancelOn(signal, r.id);
    try {
      return (await r.done).info;
    } finally {
      off();
    }
  }

  /**
   * Warps and runs the proposals; onBatch receives each batch as it completes (typed arrays
   * owned by the caller). Aborting the signal cancels at the next batch boundary and rejects
   * with an AbortError.
   */
  async extract(
    image: RgbImage,
    boxes: Float32Array,
    options: ExtractOptions = {},
    hooks: { onBatch?: (b: FeatureBatch) => void; onProgress?: (p: Progress) => void; signal?: AbortSignal; imageKey?: string } = {},
  ): Promise<ExtractSummary> {
    const key = hooks.imageKey ?? rasterFingerprint(image);
    const send = this.cachedImage !== key;
    const data = send ? image.data.slice().buffer : undefined;
    const copy = boxes.slice();
    const r = this.request(
      { type: 'extract', image: { width: image.width, height: image.height, key, data }, boxes: copy, options },
      'done',
      { onBatch: hooks.onBatch, onProgress: hooks.onProgress },
      data ? [data, copy.buffer] : [copy.buffer],
    );
    this.cachedImage = key;
    const off = this.cancelOn(hooks.signal, r.id);
    try {
      const d = await r.done;
      return { total: d.total, ms: d.ms, cropsPerSecond: d.cropsPerSecond, memory: { ...d.memory, workers: 1 } };
    } catch (e) {
      if (send) this.cachedImage = null;
      throw e;
    } finally {
      off();
    }
  }

  /** CNN weights in the package's canonical layout (e.g. conv1.weight for the filter panel). */
  async getWeights(names: WeightName[]): Promise<Partial<Record<WeightName, { shape: number[]; data: Float32Array }>>> {
    return (await this.request({ type: 'getWeights', names }, 'weights').done).tensors;
  }

  /** The loaded model as a one-file .rcnn bundle (for download). */
  async exportBundle(float16 = false): Promise<{ bytes: ArrayBuffer; name: string }> {
    const r = await this.request({ type: 'exportBundle', float16 }, 'bundle').done;
    return { bytes: r.bytes, name: r.name };
  }

  /** Forward-only passes of `batch` crops for `ms` (cnnProtocol.ts benchForward). */
  async benchForward(batch: number, ms: number): Promise<{ passes: number; ms: number }> {
    const r = await this.request({ type: 'benchForward', batch, ms }, 'benchForward').done;
    return { passes: r.passes, ms: r.ms };
  }

  async dispose(): Promise<void> {
    this.cachedImage = null;
    await this.request({ type: 'dispose' }, 'disposed').done;
  }

  terminate(): void {
    this.worker.terminate?.();
    for (const p of this.pending.values()) p.reject(new CnnError('AbortError', 'CNN worker terminated'));
    this.pending.clear();
  }

  private cancelOn(signal: AbortSignal | undefined, target: number): () => void {
    if (!signal) return () => {};
    const fn = () => this.worker.postMessage({ type: 'cancel', id: this.nextId++, target });
    if (signal.aborted) fn();
    signal.addEventListener('abort', fn, { once: true });
    return () => signal.removeEventListener('abort', fn);
  }
}
