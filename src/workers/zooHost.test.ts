import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listStored } from '../core/modelStore';
import { MemoryBackend } from '../core/modelStoreMemory';
import type { PublishedFile } from '../model/zoo';
import { type ZooReplica, buildZooReplica } from '../model/onnx/zooReplicaNode';
import type { DownloadResponse, ZooLoaded } from './downloadProtocol';
import type { DataAppender } from './opfsStore';
import { ZooHost, type ZooStore } from './zooHost';

/** The store's files in memory, with the reads and appends the download worker makes (OPFS is the browser's; core/modelStore.test.ts tests the logic). */
class MemoryStore extends MemoryBackend implements ZooStore {
  async readData(id: string) {
    return new Blob([this.data.get(id)!.slice()]);
  }
  async appender(id: string): Promise<DataAppender> {
    const store = this;
    return {
      get size() {
        return store.data.get(id)?.length ?? 0;
      },
      write(c: Uint8Array) {
        const d = store.data.get(id) ?? new Uint8Array(0);
        const out = new Uint8Array(d.length + c.length);
        out.set(d);
        out.set(c, d.length);
        store.data.set(id, out);
      },
      close() {},
    };
  }
}

let replica: ZooReplica;
let server: Server;
let base = '';
/** Per request: the Range header, and the server's behaviour for it. */
let requests: Array<string | undefined> = [];
let behave: (n: number) => { dropAfter?: number; stallAfter?: number } = () => ({});

beforeAll(async () => {
  replica = await buildZooReplica({ width: 0.0625, seed: 3, testSets: 1 });
  const file = replica.tarGz;
  server = createServer((req, res) => {
    requests.push(req.headers.range);
    const b = behave(requests.length);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (m) res.writeHead(206, { 'Content-Range': `bytes ${start}-${file.length - 1}/${file.length}`, 'Content-Length': String(file.length - start) });
    else res.writeHead(200, { 'Content-Length': String(file.length) });
    const body = Buffer.from(file.subarray(start));
    const cut = b.dropAfter ?? b.stallAfter;
    if (cut === undefined) return void res.end(body);
    res.write(body.subarray(0, cut), () => {
      if (b.dropAfter !== undefined) setTimeout(() => res.destroy(), 20);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function facts(): PublishedFile {
  const sha = createHash('sha256').update(replica.tarGz).digest('hex');
  return { name: 'rcnn-ilsvrc13-9.tar.gz', kind: 'tar.gz', url: `${base}/r.tar.gz`, mediaUrl: `${base}/r.tar.gz`, bytes: replica.tarGz.length, sha256: sha, opset: 9 };
}

function host(store: MemoryStore) {
  const got: DownloadResponse[] = [];
  const h = new ZooHost((m) => got.push(m), { openStore: async () => store, retryDelaysMs: [0], stallMs: 500, progressIntervalMs: 0 });
  const run = async (msg: Parameters<ZooHost['handle']>[0]) => {
    h.handle(msg);
    for (;;) {
      const m = got.find((x) => x.id === msg.id && (x.type === 'zoo-done' || x.type === 'error'));
      if (m) return m;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { h, got, run };
}

describe('the zoo file in the download worker (real HTTP server, in-memory store)', () => {
  it('downloads, survives a dropped connection with a Range request, verifies, stores; the next get reads the disk', async () => {
    const store = new MemoryStore();
    const { run, got, h } = host(store);
    requests = [];
    behave = (n) => (n === 1 ? { dropAfter: 700_000 } : {});
    const f = facts();
    const m = await run({ type: 'zoo-get', id: 1, url: f.mediaUrl, facts: { file: f, published: [f], standIn: true } });
    expect(m.type).toBe('zoo-done');
    const r = (m as { result: ZooLoaded }).result;
    expect(r).toMatchObject({ from: 'downloaded', resumes: 1, restarts: 0, bytes: f.bytes, sha256: f.sha256, standIn: true, kind: 'tar.gz', modelPath: 'bvlc_reference_rcnn_ilsvrc13/model.onnx' });
    expect(r.published?.sha256).toBe(f.sha256);
    expect(Buffer.compare(Buffer.from(new Uint8Array(r.model)), Buffer.from(replica.onnx))).toBe(0);
    expect(r.testSets.map((s) => s.name)).toEqual(['test_data_set_0']);
    expect(requests.length).toBe(2);
    expect(requests[1]).toMatch(/^bytes=\d+-$/);
    const resumed = got.find((x) => x.type === 'zoo-progress' && x.resumedAt !== undefined);
    expect(resumed).toMatchObject({ phase: 'download', total: f.bytes });
    // The stored file is the file, byte for byte, and marked verified.
    const [entry] = await listStored(store);
    expect(entry).toMatchObject({ status: 'verified', size: f.bytes, meta: { fileName: 'rcnn-ilsvrc13-9.tar.gz', standIn: true } });
    expect(createHash('sha256').update(store.data.get(entry.id)!).digest('hex')).toBe(f.sha256);

    requests = [];
    // The page asks for one copy of model.onnx per CNN worker (three here), made in this worker.
    const pending = run({ type: 'zoo-get', id: 2, url: f.mediaUrl, facts: { file: f, published: [f], standIn: true } });
    h.handle({ type: 'zoo-copies', id: 3, target: 2, copies: 3 });
    const again = (await pending) as { result: ZooLoaded };
    expect(again.result).toMatchObject({ from: 'disk', sha256: f.sha256, storeId: entry.id });
    expect(again.result.copies.length).toBe(2);
    for (const c of [again.result.model, ...again.result.copies]) expect(Buffer.compare(Buffer.from(new Uint8Array(c)), Buffer.from(replica.onnx))).toBe(0);
    expect(new Set([again.result.model, ...again.result.copies]).size).toBe(3);
    expect(requests).toEqual([]);
  }, 60_000);

  it('Cancel keeps what arrived; the next get continues from the stored part with its first request', async () => {
    const store = new MemoryStore();
    const { run, h, got } = host(store);
    requests = [];
    behave = (n) => (n === 1 ? { stallAfter: 500_000 } : {});
    const f = facts();
    const pending = run({ type: 'zoo-get', id: 1, url: f.mediaUrl, facts: { file: f, published: [f] } });
    // Cancelled once most of what the server sent has been read (the rest of the file never comes).
    while (!got.some((m) => m.type === 'zoo-progress' && m.loaded >= 300_000)) await new Promise((r) => setTimeout(r, 5));
    h.cancel(1);
    const m = await pending;
    expect(m).toMatchObject({ type: 'error', name: 'AbortError' });
    const [part] = await listStored(store);
    expect(part.status).toBe('partial');
    expect(part.size).toBeGreaterThanOrEqual(300_000);
    expect(part.size).toBeLessThanOrEqual(500_000);

    requests = [];
    behave = () => ({});
    const done = await run({ type: 'zoo-get', id: 2, url: f.mediaUrl, facts: { file: f, published: [f] } });
    expect((done as { result: ZooLoaded }).result).toMatchObject({ from: 'downloaded', resumedFrom: part.size, sha256: f.sha256 });
    expect(requests).toEqual([`bytes=${part.size}-`]);
  }, 60_000);

  it('a file that is not the published one is refused, naming it, and nothing of it is kept', async () => {
    const store = new MemoryStore();
    const { run } = host(store);
    requests = [];
    behave = () => ({});
    const f = { ...facts(), sha256: '0'.repeat(64) };
    const m = await run({ type: 'zoo-get', id: 1, url: f.mediaUrl, facts: { file: f, published: [f] } });
    expect(m).toMatchObject({ type: 'error', name: 'ZooFileError' });
    expect((m as { message: string }).message).toMatch(/^rcnn-ilsvrc13-9\.tar\.gz: wrong file: it has the published rcnn-ilsvrc13-9\.tar\.gz's size \([\d,]+ bytes\) but SHA-256 [0-9a-f]{64}, not 0{64}$/);
    expect(await listStored(store)).toEqual([]);
  }, 60_000);
});
