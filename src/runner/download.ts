/**
 * The download worker's client (src/workers/download.worker.ts): model downloads by URL with
 * core/download.ts's limits (a size cap, progress four times a second, cancel at once), and the
 * original R-CNN's file (workers/zooHost.ts: download with resume, the browser's store, the
 * zoo's checks) for runner/zooActions.ts.
 */
import { abortError } from '../core/download';
import type { DownloadRequest, DownloadResponse, StoreListing, ZooLoaded, ZooRequest } from '../workers/downloadProtocol';

type Progress = Extract<DownloadResponse, { type: 'progress' | 'zoo-progress' }>;

interface Pending {
  resolve: (m: DownloadResponse) => void;
  reject: (e: Error) => void;
  onProgress?: (m: Progress) => void;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();

/** The worker's error as an Error with its name and, for an interrupted download, what is kept. */
export type WorkerError = Error & { kind?: string; partial?: { stored: number; total: number } };

function getWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL('../workers/download.worker.ts', import.meta.url), { type: 'module', name: 'download' });
    worker.onmessage = (ev: MessageEvent<DownloadResponse>) => {
      const m = ev.data;
      const p = pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress' || m.type === 'zoo-progress') return p.onProgress?.(m);
      pending.delete(m.id);
      if (m.type === 'error') p.reject(Object.assign(new Error(m.message), { name: m.name, kind: m.kind, partial: m.partial }) as WorkerError);
      else p.resolve(m);
    };
  }
  return worker;
}

type Body<R> = R extends { id: number } ? Omit<R, 'id'> : never;

function send(msg: Body<DownloadRequest>, opts: { signal?: AbortSignal; onProgress?: (m: Progress) => void } = {}): Promise<DownloadResponse> {
  if (opts.signal?.aborted) return Promise.reject(abortError());
  const id = nextId++;
  const w = getWorker();
  return new Promise<DownloadResponse>((resolve, reject) => {
    const onAbort = () => {
      pending.delete(id);
      w.postMessage({ type: 'cancel', id } satisfies DownloadRequest);
      reject(abortError());
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => opts.signal?.removeEventListener('abort', onAbort);
    pending.set(id, {
      resolve: (m) => (done(), resolve(m)),
      reject: (e) => (done(), reject(e)),
      onProgress: opts.onProgress,
    });
    w.postMessage({ ...msg, id } as DownloadRequest);
  });
}

export interface WorkerDownloadOptions {
  signal?: AbortSignal;
  onProgress?: (loaded: number, total: number | null) => void;
  maxBytes?: number;
}

/** GETs `url` in the download worker. Aborting `signal` rejects at once with an AbortError and closes the connection. */
export async function downloadInWorker(url: string, opts: WorkerDownloadOptions = {}): Promise<ArrayBuffer> {
  const m = await send({ type: 'start', url, maxBytes: opts.maxBytes }, { signal: opts.signal, onProgress: (p) => p.type === 'progress' && opts.onProgress?.(p.loaded, p.total) });
  if (m.type !== 'done') throw new Error(`unexpected answer ${m.type}`);
  return m.bytes;
}

export type ZooProgress = Extract<DownloadResponse, { type: 'zoo-progress' }>;

/** A request for the zoo reader: a download, a stored entry or a dropped file. */
export type ZooCall = Body<Extract<ZooRequest, { type: 'zoo-get' | 'zoo-open' | 'zoo-file' }>>;

/**
 * Gets the file (download, stored copy or dropped file) through the zoo reader in the worker.
 * `copies`: how many copies of model.onnx to send back (one per CNN worker), once known.
 */
export async function zooInWorker(msg: ZooCall, opts: { signal?: AbortSignal; onProgress?: (p: ZooProgress) => void; copies?: Promise<number> } = {}): Promise<ZooLoaded> {
  const target = nextId; // the id send() gives this request
  const sent = send(msg, { signal: opts.signal, onProgress: (p) => p.type === 'zoo-progress' && opts.onProgress?.(p) });
  void opts.copies?.then((copies) => worker?.postMessage({ type: 'zoo-copies', id: nextId++, target, copies } satisfies DownloadRequest), () => undefined);
  const m = await sent;
  if (m.type !== 'zoo-done') throw new Error(`unexpected answer ${m.type}`);
  return m.result;
}

export async function listStoredInWorker(): Promise<StoreListing> {
  const m = await send({ type: 'store-list' });
  if (m.type !== 'store-list') throw new Error(`unexpected answer ${m.type}`);
  return m.listing;
}

export async function removeStoredInWorker(storeId: string): Promise<void> {
  await send({ type: 'store-remove', storeId });
}
