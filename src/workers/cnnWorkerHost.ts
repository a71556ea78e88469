/**
 * The CNN worker's logic, separate from the worker entry so it runs under Node in tests (a
 * MessagePort stands in for the worker boundary). See cnnProtocol.ts for the messages.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ModelInfo, describeModel } from '../model/modelInfo';
import { type BackendInfo, type BackendName, type ChooseOptions, chooseBackend } from '../model/backend';
import { type FeatureBatch, extractFeatures } from '../model/extract';
import { RcnnModel } from '../model/rcnnModel';
import { importOnnx } from '../model/onnx/import';
import { type ModelPackage, PackageError, decodeBundle, encodeBundle, fetchBytes, fetchPackage, isBundle, packageFromFiles } from '../model/package';
import { type WarpSource, createWarpSource } from '../model/warp';
import { sniffModelFile } from '../model/modelSniff';
import { type CnnRequest, type CnnResponse, type ModelSource, type ProgressPhase, batchTransferables } from './cnnProtocol';

export type Post = (msg: CnnResponse, transfer?: ArrayBuffer[]) => void;

export interface HostOptions {
  /** Backend selection in this environment (browser: wasm URLs from Vite; Node tests: a fixed backend). */
  chooseBackend?: (prefer: BackendName | 'auto', benchmark: boolean) => Promise<BackendInfo>;
  wasmPaths?: ChooseOptions['wasmPaths'];
  fetch?: typeof fetch;
}

export class CnnWorkerHost {
  private backend: BackendInfo | null = null;
  private pkg: ModelPackage | null = null;
  private model: RcnnModel | null = null;
  private bytes = 0;
  private bindingCap: number | undefined;
  private importNotes: string[] = [];
  private source: { key: string; warp: WarpSource } | null = null;
  private readonly aborts = new Map<number, AbortController>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly post: Post, private readonly opts: HostOptions = {}) {}

  /** Entry point for every incoming message. */
  handle(msg: CnnRequest): void {
    if (msg.type === 'cancel') {
      this.aborts.get(msg.target)?.abort();
      return;
    }
    if (msg.type === 'extract' || msg.type === 'loadModel') this.aborts.set(msg.id, new AbortController());
    this.queue = this.queue.then(() => this.run(msg)).catch(() => undefined);
  }

  private async run(msg: CnnRequest): Promise<void> {
    try {
      switch (msg.type) {
        case 'init':
        case 'setBackend':
          this.bindingCap = msg.maxBindingBytes;
          await this.selectBackend(msg.backend ?? 'auto', msg.benchmark ?? false);
          this.post({ type: 'backend', id: msg.id, info: this.backend! });
          break;
        case 'loadModel':
          await this.loadModel(msg.id, msg.source);
          break;
        case 'extract':
          await this.extract(msg);
          break;
        case 'getWeights': {
          if (!this.pkg) throw new Error('no model loaded');
          const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
          const transfer: ArrayBuffer[] = [];
          for (const n of msg.names) {
            const w = this.pkg.weights[n];
            if (!w) throw new Error(`no weight ${n}`);
            const data = w.data.slice();
            tensors[n] = { shape: w.shape, data };
            transfer.push(data.buffer);
          }
          this.post({ type: 'weights', id: msg.id, tensors }, transfer);
          break;
        }
        case 'exportBundle': {
          if (!this.pkg) throw new Error('no model loaded');
          const b = await encodeBundle(this.pkg, { float16: msg.float16 });
          const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
          this.post({ type: 'bundle', id: msg.id, bytes: buf, name: `${this.pkg.name.replace(/[^\w.-]+/g, '_')}.rcnn` }, [buf]);
          break;
        }
        case 'dispose':
          this.releaseModel();
          this.pkg = null;
          this.post({ type: 'disposed', id: msg.id });
          break;
      }
    } catch (e) {
      const err = e as Error & { file?: string };
      this.post({ type: 'error', id: msg.id, name: err.name ?? 'Error', message: err.message ?? String(e), file: err instanceof PackageError ? err.file : undefined });
    } finally {
      this.aborts.delete(msg.id);
    }
  }

  private async selectBackend(prefer: BackendName | 'auto', benchmark: boolean): Promise<void> {
    // Tensors belong to a backend: re-upload the model on the new one.
    this.releaseModel();
    this.backend = this.opts.chooseBackend
      ? await this.opts.chooseBackend(prefer, benchmark)
      : await chooseBackend({ prefer: prefer === 'auto' ? undefined : prefer, benchmark, wasmPaths: this.opts.wasmPaths });
    if (this.pkg) this.uploadModel();
  }

  private progress(id: number, phase: ProgressPhase, loaded: number, total: number) {
    this.post({ type: 'progress', id, phase, loaded, total });
  }

  private async loadModel(id: number, source: ModelSource): Promise<void> {
    if (!this.backend) await this.selectBackend('auto', false);
    const signal = this.aborts.get(id)?.signal;
    const onProgress = (l: number, t: number) => this.progress(id, 'download', l, t);
    let pkg: ModelPackage;
    const notes: string[] = [];
    let bytes = 0;
    const fromBytes = async (b: Uint8Array, name: string): Promise<ModelPackage> => {
      bytes += b.byteLength;
      if (isBundle(b)) {
        this.progress(id, 'verify', 0, b.byteLength);
        return decodeBundle(b, name);
      }
      explainNotOnnx(b, name);
      this.progress(id, 'import', 0, b.byteLength);
      const r = importOnnx(b, { source: name });
      notes.push(...(r.pkg.provenance.notes ?? []));
      return r.pkg;
    };
    if (source.kind === 'url') {
      const f = this.opts.fetch ?? globalThis.fetch.bind(globalThis);
      if (/\.(onnx|rcnn)(\?|#|$)/i.test(source.url)) {
        const b = await fetchBytes(f, source.url, { signal, onProgress }, 0, 0, source.url);
        pkg = await fromBytes(b, source.url.split('/').pop() || source.url);
      } else {
        pkg = await fetchPackage(source.url, { fetch: f, signal, onProgress: (l, t) => ((bytes = t), onProgress(l, t)) });
      }
    } else if (source.kind === 'bytes') {
      pkg = await fromBytes(new Uint8Array(source.bytes), source.name);
    } else {
      const files = source.files.map((x) => ({ name: x.name, bytes: new Uint8Array(x.bytes) }));
      bytes = files.reduce((s, x) => s + x.bytes.byteLength, 0);
      const single = files.length === 1 ? files[0] : files.find((x) => /\.onnx$/i.test(x.name));
      pkg = single && (files.length === 1 || !files.some((x) => x.name.endsWith('model.json'))) ? await fromBytes(single.bytes, single.name) : await packageFromFiles(files);
    }
    if (signal?.aborted) throw Object.assign(new Error('model loading cancelled'), { name: 'AbortError' });
    const previous = { pkg: this.pkg, bytes: this.bytes, importNotes: this.importNotes };
    this.releaseModel();
    this.pkg = pkg;
    this.bytes = bytes;
    this.importNotes = notes;
    this.progress(id, 'upload', 0, 1);
    try {
      this.uploadModel();
    } catch (e) {
      // E.g. out of device memory: keep serving the model that was loaded before.
      this.releaseModel();
      Object.assign(this, previous);
      if (this.pkg) this.uploadModel();
      throw e;
    }
    this.progress(id, 'upload', 1, 1);
    this.post({ type: 'model', id, info: this.modelInfo() });
  }

  private uploadModel(): void {
    const device = this.backend?.name === 'webgpu' ? this.backend.limits?.maxStorageBufferBindingSize : undefined;
    const caps = [device, this.bindingCap].filter((c): c is number => c !== undefined);
    this.model = new RcnnModel(this.pkg!, { maxBindingBytes: caps.length ? Math.min(...caps) : undefined });
  }

  private modelInfo(): ModelInfo {
    return describeModel(this.pkg!, this.model, { bytes: this.bytes, importNotes: this.importNotes, backend: tf.getBackend() });
  }

  private async extract(msg: Extract<CnnRequest, { type: 'extract' }>): Promise<void> {
    if (!this.model) throw new Error('no model loaded: send loadModel first');
    const { image } = msg;
    if (!this.source || this.source.key !== image.key || image.data) {
      if (!image.data) throw new Error(`image ${image.key} is not cached in the worker; send its data`);
      this.source?.warp.dispose();
      this.source = null;
      const warp = createWarpSource({ width: image.width, height: image.height, data: new Uint8Array(image.data) }, this.model.arch);
      this.source = { key: image.key, warp };
    }
    const total = msg.boxes.length >> 2;
    const signal = this.aborts.get(msg.id)!.signal;
    const t0 = performance.now();
    let done = 0;
    this.progress(msg.id, 'extract', 0, total);
    for await (const b of extractFeatures(this.model, this.source.warp, { boxes: msg.boxes, signal, ...msg.options })) {
      done += b.count;
      this.post({ type: 'batch', id: msg.id, batch: b as FeatureBatch }, batchTransferables(b));
      this.progress(msg.id, 'extract', done, total);
      // Let a 'cancel' message in before the next batch.
      await new Promise((r) => setTimeout(r, 0));
    }
    const ms = performance.now() - t0;
    const { numTensors, numBytes } = tf.memory();
    this.post({ type: 'done', id: msg.id, total, ms, cropsPerSecond: total / (ms / 1000), memory: { numTensors, numBytes } });
  }

  private releaseModel(): void {
    this.model?.dispose();
    this.model = null;
    this.source?.warp.dispose();
    this.source = null;
  }
}

/**
 * One file that is neither a bundle nor meant to be ONNX gets a message about what it is, not an
 * ONNX parser error: a package's model.json or .bin picked alone, or a .rcnn that is not a bundle.
 */
function explainNotOnnx(b: Uint8Array, name: string): void {
  const kind = sniffModelFile(b, name);
  if (kind === 'manifest') {
    throw new Error(`${name} is a package manifest (JSON), which needs its weight files: pick model.json together with its .bin files (cnn.bin, heads.bin), or drop the whole folder.`);
  }
  if (kind === 'package-binary') throw new Error(`${name} is one weight file of a model package: pick model.json together with all its .bin files, or drop the whole folder.`);
  if (kind === 'not-a-bundle') throw new Error(`${name} is not an R-CNN Explorer bundle (a .rcnn file starts with RCNNPKG1; this one does not): it may be truncated or another kind of file. Download the bundle again.`);
}
