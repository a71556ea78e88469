/**
 * Model downloads by URL for the page, run in the download worker (src/workers/download.worker.ts)
 * with core/download.ts's limits: a size cap, progress four times a second, cancel at once.
 */
import { abortError } from '../core/download';
import type { DownloadRequest, DownloadResponse } from '../workers/downloadProtocol';

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (b: ArrayBuffer) => void; reject: (e: Error) => void; onProgress?: (loaded: number, total: number | null) => void }>();

function getWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL('../workers/download.worker.ts', import.meta.url), { type: 'module', name: 'download' });
    worker.onmessage = (ev: MessageEvent<DownloadResponse>) => {
      const m = ev.data;
      const p = pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') return p.onProgress?.(m.loaded, m.total);
      pending.delete(m.id);
      if (m.type === 'done') p.resolve(m.bytes);
      else p.reject(Object.assign(new Error(m.message), { name: m.name }));
    };
  }
  return worker;
}

export interface WorkerDownloadOptions {
  signal?: AbortSignal;
  onProgress?: (loaded: number, total: number | null) => void;
  maxBytes?: number;
}

/** GETs `url` in the download worker. Aborting `signal` rejects at once with an AbortError and closes the connection. */
export function downloadInWorker(url: string, opts: WorkerDownloadOptions = {}): Promise<ArrayBuffer> {
  if (opts.signal?.aborted) return Promise.reject(abortError());
  const id = nextId++;
  const w = getWorker();
  return new Promise<ArrayBuffer>((resolve, reject) => {
    const onAbort = () => {
      pending.delete(id);
      w.postMessage({ type: 'cancel', id } satisfies DownloadRequest);
      reject(abortError());
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => opts.signal?.removeEventListener('abort', onAbort);
    pending.set(id, {
      resolve: (b) => (done(), resolve(b)),
      reject: (e) => (done(), reject(e)),
      onProgress: opts.onProgress,
    });
    w.postMessage({ type: 'start', id, url, maxBytes: opts.maxBytes } satisfies DownloadRequest);
  });
}
