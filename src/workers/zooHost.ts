/**
 * The original R-CNN's file in the download worker: downloaded with resume (core/resume.ts),
 * written to the browser's store as it arrives (core/modelStore.ts over OPFS), and read through
 * model/zoo.ts's checks in the same pass (SHA-256, gunzip, tar: model.onnx and the test sets
 * kept, the rest skipped). Stored files and dropped files go through the same reader. The page
 * gets model.onnx's bytes (transferred) and the test sets; the CNN worker imports them and runs
 * the test data on the active backend. Separate from the worker entry so Node tests run it with
 * an in-memory store.
 */
import { abortError } from '../core/download';
import { type ExpectedFile, type StoreBackend, beginDownload, listStored, markVerified, readEntry, removeStored, restartDownload } from '../core/modelStore';
import { RestartDownload, resumableBody } from '../core/resume';
import { type ByteSource, iterate } from '../core/tar';
import { type ModelDownload, type PublishedFile, ZooFileError, claimedFile, readModelDownload } from '../model/zoo';
import type { DownloadResponse, StoreListing, ZooFacts, ZooLoaded, ZooPhase, ZooRequest } from './downloadProtocol';
import type { DataAppender } from './opfsStore';

/** What the host needs of a store: the logic's backend plus the data file's bytes in and out. */
export interface ZooStore extends StoreBackend {
  readData(id: string): Promise<Blob>;
  appender(id: string): Promise<DataAppender>;
}

export interface ZooHostOptions {
  openStore: () => Promise<ZooStore | null>;
  estimate?: () => Promise<{ usage: number; quota: number } | null>;
  fetch?: typeof fetch;
  /** Reconnection waits and stall limit (tests shorten them). */
  retryDelaysMs?: number[];
  stallMs?: number;
  progressIntervalMs?: number;
}

type Post = (msg: DownloadResponse, transfer?: Transferable[]) => void;

const expectedOf = (f: PublishedFile): ExpectedFile => ({ name: f.name, kind: f.kind, bytes: f.bytes, sha256: f.sha256, opset: f.opset });

/** Most clean restarts (the server would not continue) before giving up: each re-downloads everything. */
const MAX_RESTARTS = 2;

export class ZooHost {
  private readonly running = new Map<number, AbortController>();
  /** Copies of model.onnx wanted per request ('zoo-copies'). */
  private readonly copies = new Map<number, number>();
  private store: Promise<ZooStore | null> | null = null;

  constructor(private readonly post: Post, private readonly opts: ZooHostOptions) {}

  private getStore(): Promise<ZooStore | null> {
    return (this.store ??= this.opts.openStore().catch(() => null));
  }

  cancel(id: number): boolean {
    const c = this.running.get(id);
    c?.abort();
    return !!c;
  }

  handle(msg: ZooRequest): void {
    if (msg.type === 'zoo-copies') {
      if (this.running.has(msg.target)) this.copies.set(msg.target, Math.max(1, Math.min(16, Math.floor(msg.copies))));
      return;
    }
    const ctl = new AbortController();
    this.running.set(msg.id, ctl);
    void this.run(msg, ctl.signal).finally(() => {
      this.running.delete(msg.id);
      this.copies.delete(msg.id);
    });
  }

  private async run(msg: ZooRequest, signal: AbortSignal): Promise<void> {
    try {
      switch (msg.type) {
        case 'zoo-get':
          return this.done(msg.id, await this.get(msg, signal));
        case 'zoo-open':
          return this.done(msg.id, await this.open(msg.id, msg.storeId, msg.maxModelBytes, signal));
        case 'zoo-file':
          return this.done(msg.id, await this.file(msg, signal));
        case 'zoo-copies':
          return;
        case 'store-list':
          return this.post({ type: 'store-list', id: msg.id, listing: await this.list() });
        case 'store-remove': {
          const s = await this.getStore();
          if (s) await removeStored(s, msg.storeId);
          return this.post({ type: 'store-removed', id: msg.id });
        }
      }
    } catch (e) {
      const err = e as Error & { kind?: string; partial?: { stored: number; total: number } };
      this.post({ type: 'error', id: msg.id, name: signal.aborted ? 'AbortError' : (err?.name ?? 'Error'), message: err?.message ?? String(e), kind: err?.kind, partial: err?.partial });
    }
  }

  private done(id: number, r: ZooLoaded): void {
    // One copy of model.onnx per CNN worker, made here rather than on the page's main thread.
    for (let i = 1; i < (this.copies.get(id) ?? 1); i++) r.copies.push(r.model.slice(0));
    this.post({ type: 'zoo-done', id, result: r }, [r.model, ...r.copies]);
  }

  async list(): Promise<StoreListing> {
    const s = await this.getStore();
    return { entries: s ? await listStored(s) : [], estimate: (await this.opts.estimate?.()) ?? null, available: !!s };
  }

  /** Progress at most every 250 ms (plus the first and the last), as core/download.ts does. */
  private progress(id: number, phase: ZooPhase) {
    const interval = this.opts.progressIntervalMs ?? 250;
    let last = -Infinity;
    return (loaded: number, total: number | null, force = false, extra: { resumedAt?: number; note?: string } = {}) => {
      const t = performance.now();
      if (!force && t - last < interval) return;
      last = t;
      this.post({ type: 'zoo-progress', id, phase, loaded, total, ...extra });
    };
  }

  private async get(msg: Extract<ZooRequest, { type: 'zoo-get' }>, signal: AbortSignal): Promise<ZooLoaded> {
    const t0 = performance.now();
    const { file, published, standIn = false } = msg.facts;
    const fileName = file?.name ?? (decodeURIComponent(new URL(msg.url, 'http://x/').pathname.split('/').pop() ?? '') || 'model.tar.gz');
    // Only a published file is stored (a typed address of another file is read, not kept).
    const store = file ? await this.getStore() : null;
    let storeProblem: string | undefined;
    let start = store && file ? await beginDownload(store, expectedOf(file), msg.url, new Date(), standIn).catch((e) => ((storeProblem = `could not store the file: ${(e as Error).message}`), null)) : null;
    if (start?.complete) return this.open(msg.id, start.id, msg.maxModelBytes, signal, msg.facts);
    const total = file?.bytes ?? null;
    let restarts = 0;
    let resumes = 0;
    const resumedFrom = start && !start.complete ? start.offset : 0;
    for (;;) {
      const offset = start && !start.complete ? start.offset : 0;
      const storeId: string | null = start?.id ?? null;
      const report = this.progress(msg.id, offset > 0 ? 'disk' : 'download');
      const net = this.progress(msg.id, 'download');
      let appender: DataAppender | null = null;
      let delivered = 0;
      let known = total;
      const self = this;
      // The file's bytes in order: the part already on disk, then the network from there on; each
      // network chunk is on disk before the reader sees it, so the part always ends where the
      // download stopped.
      const source: AsyncIterable<Uint8Array> = {
        async *[Symbol.asyncIterator]() {
          try {
            if (offset > 0 && store && storeId) {
              const it = iterate((await store.readData(storeId)).slice(0, offset).stream() as ReadableStream<Uint8Array>);
              for (let r = await it.next(); !r.done; r = await it.next()) {
                delivered += r.value.length;
                report(delivered, total);
                yield r.value;
              }
            }
            if (store && storeId) appender = await store.appender(storeId);
            for await (const c of resumableBody(msg.url, {
              offset,
              expectedBytes: total ?? undefined,
              signal,
              fetch: self.opts.fetch,
              label: fileName,
              retryDelaysMs: self.opts.retryDelaysMs,
              stallMs: self.opts.stallMs,
              maxBytes: total !== null ? total * 1.05 + 1e6 : undefined,
              onTotal: (t) => (known = t),
              onResume: (at, attempt, why) => {
                resumes++;
                net(at, known, true, { resumedAt: at, note: `connection dropped (${why}); continuing at byte ${at} (attempt ${attempt})` });
              },
            })) {
              appender?.write(c);
              delivered += c.length;
              net(delivered, known);
              yield c;
            }
            net(delivered, known, true);
          } finally {
            (appender as DataAppender | null)?.close();
          }
        },
      };
      try {
        const d = await readModelDownload(source, { fileName, published, signal, maxModelBytes: msg.maxModelBytes });
        let stored: string | null = null;
        if (store && storeId && d.published) {
          await markVerified(store, storeId).then(
            () => (stored = storeId),
            (e) => (storeProblem = `the verified file could not be kept: ${(e as Error).message}`),
          );
        } else if (store && storeId) {
          await removeStored(store, storeId);
        }
        return this.loaded(d, fileName, stored, 'downloaded', { resumes, restarts, resumedFrom, t0, standIn, storeProblem });
      } catch (e) {
        if (signal.aborted) throw abortError('download cancelled');
        if (e instanceof RestartDownload && restarts < MAX_RESTARTS && store && storeId) {
          restarts++;
          await restartDownload(store, storeId);
          start = { id: storeId, complete: false, offset: 0, resumed: false };
          continue;
        }
        if (e instanceof RestartDownload && restarts < MAX_RESTARTS && !store) {
          restarts++;
          continue;
        }
        // A file that is not the published one (or cut short by the server) must not be resumed into.
        if (e instanceof ZooFileError && store && storeId) await removeStored(store, storeId);
        else if (store && storeId) {
          const size = (await readEntry(store, storeId)).size;
          if (size > 0 && total !== null) Object.assign(e as object, { partial: { stored: size, total } });
        }
        throw e;
      }
    }
  }

  private async open(id: number, storeId: string, maxModelBytes: number | undefined, signal: AbortSignal, facts?: ZooFacts): Promise<ZooLoaded> {
    const t0 = performance.now();
    const store = await this.getStore();
    if (!store) throw new Error('this browser offers no file storage (OPFS): nothing is stored');
    const e = await readEntry(store, storeId);
    if (e.status !== 'verified' || !e.meta) throw new Error(`the stored file ${e.meta?.fileName ?? storeId} cannot be used: ${e.problem ?? 'its download did not finish'}`);
    const meta = e.meta;
    // Checked against the facts it was verified with (the published ones; a stand-in for a loopback test).
    const fact: PublishedFile = facts?.published.find((f) => f.sha256 === meta.expected.sha256) ?? { ...meta.expected, url: meta.url ?? '', mediaUrl: meta.url ?? '' };
    const report = this.progress(id, 'disk');
    const blob = await store.readData(storeId);
    let d: ModelDownload;
    try {
      d = await readModelDownload(blob.stream() as ReadableStream<Uint8Array>, {
        fileName: meta.fileName,
        size: blob.size,
        published: [fact],
        signal,
        maxModelBytes,
        onProgress: (n) => report(n, blob.size),
      });
    } catch (err) {
      if (signal.aborted) throw abortError('loading cancelled');
      if (err instanceof ZooFileError) throw new ZooFileError(err.kind, `the stored copy is damaged (${err.message}); remove it and get the file again`);
      throw err;
    }
    report(blob.size, blob.size, true);
    return this.loaded(d, meta.fileName, storeId, 'disk', { resumes: 0, restarts: 0, resumedFrom: 0, t0, standIn: !!meta.standIn });
  }

  private async file(msg: Extract<ZooRequest, { type: 'zoo-file' }>, signal: AbortSignal): Promise<ZooLoaded> {
    const t0 = performance.now();
    const f = msg.file;
    const claims = claimedFile(f.name, f.size, msg.published);
    const claim = claims.find((c) => c.bytes === f.size && !c.supersededBy) ?? claims.find((c) => c.bytes === f.size);
    const store = claim ? await this.getStore() : null;
    let storeProblem: string | undefined;
    // Only a file of a published size is kept (the check below decides whether it is that file).
    const start = store && claim ? await beginDownload(store, expectedOf(claim), null, new Date(), !!msg.standIn).catch((e) => ((storeProblem = `could not store the file: ${(e as Error).message}`), null)) : null;
    const storeId = start && !start.complete ? start.id : null;
    const appender = store && storeId ? await store.appender(storeId) : null;
    const report = this.progress(msg.id, 'file');
    let n = 0;
    const source: ByteSource = {
      async *[Symbol.asyncIterator]() {
        const it = iterate(f.stream() as ReadableStream<Uint8Array>);
        for (let r = await it.next(); !r.done; r = await it.next()) {
          appender?.write(r.value);
          n += r.value.length;
          report(n, f.size);
          yield r.value;
        }
      },
    };
    try {
      const d = await readModelDownload(source, { fileName: f.name, size: f.size, published: msg.published, signal, maxModelBytes: msg.maxModelBytes });
      appender?.close();
      let stored: string | null = start?.complete && d.published ? start.id : null;
      if (store && storeId) {
        if (d.published) await markVerified(store, storeId).then(() => (stored = storeId), (e) => (storeProblem = `the verified file could not be kept: ${(e as Error).message}`));
        else await removeStored(store, storeId);
      }
      return this.loaded(d, f.name, stored, 'file', { resumes: 0, restarts: 0, resumedFrom: 0, t0, standIn: !!msg.standIn, storeProblem });
    } catch (e) {
      appender?.close();
      if (store && storeId) await removeStored(store, storeId).catch(() => undefined);
      if (signal.aborted) throw abortError('reading cancelled');
      throw e;
    }
  }

  private loaded(
    d: ModelDownload,
    fileName: string,
    storeId: string | null,
    from: ZooLoaded['from'],
    x: { resumes: number; restarts: number; resumedFrom: number; t0: number; standIn: boolean; storeProblem?: string },
  ): ZooLoaded {
    const m = d.model;
    const model = m.byteOffset === 0 && m.byteLength === m.buffer.byteLength ? (m.buffer as ArrayBuffer) : (m.slice().buffer as ArrayBuffer);
    return {
      ...d,
      model,
      copies: [],
      fileName,
      storeId,
      from,
      resumes: x.resumes,
      restarts: x.restarts,
      resumedFrom: x.resumedFrom,
      ms: performance.now() - x.t0,
      standIn: x.standIn,
      ...(x.storeProblem ? { storeProblem: x.storeProblem } : {}),
    };
  }
}
