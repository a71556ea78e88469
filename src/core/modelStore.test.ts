import { describe, expect, it } from 'vitest';
import { MemoryBackend } from './modelStoreMemory';
import { type ExpectedFile, beginDownload, listStored, markVerified, readEntry, removeStored, restartDownload, storeIdFor, storedBytes } from './modelStore';

const FILE: ExpectedFile = { name: 'rcnn-ilsvrc13-9.tar.gz', kind: 'tar.gz', bytes: 1000, sha256: 'ef3f40805e4257213440401536e28ad3aa6404ebce5a6cf9d7fcdb44fee09f37', opset: 9 };
const URL1 = 'https://media.example/rcnn-ilsvrc13-9.tar.gz';
const T = new Date('2026-11-20T10:00:00Z');

describe('model store', () => {
  it('names an entry by the expected SHA-256 and refuses anything else', () => {
    expect(storeIdFor(FILE)).toBe('sha256-ef3f40805e425721');
    expect(() => storeIdFor({ sha256: 'abc' })).toThrow('not a SHA-256: abc');
  });

  it('a fresh download starts at 0 as a partial entry; an interrupted one resumes where its bytes end', async () => {
    const b = new MemoryBackend();
    const s = await beginDownload(b, FILE, URL1, T);
    expect(s).toEqual({ id: 'sha256-ef3f40805e425721', complete: false, offset: 0, resumed: false });
    b.append(s.id, 400);
    expect(await listStored(b)).toEqual([{ id: s.id, meta: expect.objectContaining({ state: 'partial', fileName: FILE.name, url: URL1, storedAt: T.toISOString() }), size: 400, status: 'partial' }]);
    expect(await beginDownload(b, FILE, URL1, T)).toEqual({ id: s.id, complete: false, offset: 400, resumed: true });
    // The same file from another address does not splice two servers' bytes: it starts over.
    expect(await beginDownload(b, FILE, 'https://mirror.example/x.tar.gz', T)).toMatchObject({ offset: 0, resumed: false });
    expect(await b.dataSize(s.id)).toBe(0);
  });

  it('a server that cannot continue empties the part; a verified file is read from disk, not downloaded', async () => {
    const b = new MemoryBackend();
    const { id } = await beginDownload(b, FILE, URL1, T);
    b.append(id, 300);
    await restartDownload(b, id);
    expect((await readEntry(b, id)).size).toBe(0);
    b.append(id, 999);
    await expect(markVerified(b, id)).rejects.toThrow(`stored entry ${id} is 999 bytes, not 1000`);
    b.append(id, 1);
    const meta = await markVerified(b, id, T);
    expect(meta).toMatchObject({ state: 'verified', verifiedAt: T.toISOString() });
    expect(await beginDownload(b, FILE, URL1, T)).toEqual({ id, complete: true, size: 1000 });
    expect(storedBytes(await listStored(b))).toBe(1000);
  });

  it('reports damaged entries with what is wrong, lists verified first, and removes them', async () => {
    const b = new MemoryBackend();
    const other: ExpectedFile = { ...FILE, name: 'rcnn-ilsvrc13-3.onnx', kind: 'onnx', bytes: 2000, sha256: 'bc0f63a5f40bad37092c456cac821a99ee63a0f5a453f045e4b39d25823ddbdb', opset: 3 };
    const a = await beginDownload(b, other, URL1, T);
    b.append(a.id, 2000);
    await markVerified(b, a.id, T);
    const p = await beginDownload(b, FILE, URL1, T);
    b.append(p.id, 10);
    // A verified file that shrank on disk, a folder with no meta.json, one whose meta is garbage.
    b.data.set('sha256-0000000000000001', new Uint8Array(5));
    b.meta.set('sha256-0000000000000002', '{not json');
    b.data.set('sha256-0000000000000002', new Uint8Array(0));
    const list = await listStored(b);
    expect(list.map((e) => [e.status, e.meta?.fileName ?? e.id, e.size, e.problem])).toEqual([
      ['verified', 'rcnn-ilsvrc13-3.onnx', 2000, undefined],
      ['partial', 'rcnn-ilsvrc13-9.tar.gz', 10, undefined],
      ['damaged', 'sha256-0000000000000001', 5, 'no meta.json'],
      ['damaged', 'sha256-0000000000000002', 0, 'meta.json is not JSON'],
    ]);
    b.data.set(a.id, new Uint8Array(1500));
    expect(await readEntry(b, a.id)).toMatchObject({ status: 'damaged', problem: 'the stored file is 1500 bytes, not 2000' });
    for (const e of list) await removeStored(b, e.id);
    expect(await listStored(b)).toEqual([]);
    expect(b.data.size + b.meta.size).toBe(0);
  });
});
