/**
 * Model files kept in the browser (the download worker keeps them in the Origin Private File
 * System; see workers/opfsStore.ts), so a 215 MB download happens once and later visits, offline
 * too, read the file from disk. What is kept is the downloaded file itself, byte for byte (the
 * zoo's .tar.gz), not the package imported from it: every load then runs the same verified path
 * as the first one (size, SHA-256, the file's own test data on the active backend), so a file
 * damaged on disk, or a backend that computes differently, is caught on the visit it happens.
 * Re-reading costs about what importing costs (measured in the e2e and the report): the SHA-256
 * and gunzip stream at hundreds of MB/s.
 *
 * Each entry is a folder named by the expected file's SHA-256 with `data` (the bytes, complete
 * or as far as a download got) and `meta.json` (this module's StoredFileMeta). This module is the
 * logic over any StoreBackend: what a listing shows, where a download resumes, what is damaged.
 * No DOM: unit-tested in Node over an in-memory backend.
 */

/** What a stored file must be: the published facts it was (or is being) checked against. */
export interface ExpectedFile {
  name: string;
  kind: 'tar.gz' | 'onnx';
  bytes: number;
  sha256: string;
  opset: number;
}

export interface StoredFileMeta {
  version: 1;
  id: string;
  /** The file's name as published (what the reader's checks name). */
  fileName: string;
  /** Where it was downloaded from; null for a file the user dropped. */
  url: string | null;
  expected: ExpectedFile;
  /** 'partial': a download in progress or interrupted (data holds its first bytes). */
  state: 'partial' | 'verified';
  storedAt: string;
  verifiedAt?: string;
  /** Facts given for a loopback test server rather than the published ones (see runner/zooSource.ts). */
  standIn?: boolean;
}

export type StoredStatus = 'verified' | 'partial' | 'damaged';

export interface StoredEntry {
  id: string;
  meta: StoredFileMeta | null;
  /** Bytes on disk. */
  size: number;
  status: StoredStatus;
  /** Why a 'damaged' entry cannot be used (it can only be removed). */
  problem?: string;
}

/** Where the entries live: OPFS in the browser, a Map in the tests. */
export interface StoreBackend {
  ids(): Promise<string[]>;
  readMeta(id: string): Promise<string | null>;
  writeMeta(id: string, json: string): Promise<void>;
  /** Bytes in the entry's data file; null when it has none. */
  dataSize(id: string): Promise<number | null>;
  /** Cuts the data file to `size` bytes (creating it empty when missing). */
  truncateData(id: string, size: number): Promise<void>;
  remove(id: string): Promise<void>;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** One folder per expected file: its SHA-256 names it (the same published file is stored once). */
export function storeIdFor(expected: Pick<ExpectedFile, 'sha256'>): string {
  if (!HEX64.test(expected.sha256)) throw new Error(`not a SHA-256: ${expected.sha256}`);
  return `sha256-${expected.sha256.slice(0, 16)}`;
}

function parseMeta(json: string | null, id: string): StoredFileMeta | string {
  if (json === null) return 'no meta.json';
  let m: StoredFileMeta;
  try {
    m = JSON.parse(json) as StoredFileMeta;
  } catch {
    return 'meta.json is not JSON';
  }
  const e = m?.expected;
  if (m?.version !== 1 || m.id !== id || (m.state !== 'partial' && m.state !== 'verified') || !e || !Number.isSafeInteger(e.bytes) || e.bytes <= 0 || !HEX64.test(e.sha256)) {
    return 'meta.json does not describe this entry';
  }
  return m;
}

/** One entry as it is on disk: a verified file must be exactly its size; a partial one at most. */
export async function readEntry(b: StoreBackend, id: string): Promise<StoredEntry> {
  const size = (await b.dataSize(id)) ?? -1;
  const meta = parseMeta(await b.readMeta(id), id);
  if (typeof meta === 'string') return { id, meta: null, size: Math.max(0, size), status: 'damaged', problem: meta };
  if (size < 0) return { id, meta, size: 0, status: 'damaged', problem: 'its data file is missing' };
  const want = meta.expected.bytes;
  if (meta.state === 'verified' && size !== want) return { id, meta, size, status: 'damaged', problem: `the stored file is ${size} bytes, not ${want}` };
  if (meta.state === 'partial' && size > want) return { id, meta, size, status: 'damaged', problem: `the partial file is ${size} bytes, more than the whole file's ${want}` };
  return { id, meta, size, status: meta.state };
}

/** Every entry, verified ones first, then by name. */
export async function listStored(b: StoreBackend): Promise<StoredEntry[]> {
  const entries = await Promise.all((await b.ids()).map((id) => readEntry(b, id)));
  const rank: Record<StoredStatus, number> = { verified: 0, partial: 1, damaged: 2 };
  return entries.sort((x, y) => rank[x.status] - rank[y.status] || (x.meta?.fileName ?? x.id).localeCompare(y.meta?.fileName ?? y.id));
}

export function storedBytes(entries: StoredEntry[]): number {
  return entries.reduce((s, e) => s + e.size, 0);
}

export type DownloadStart =
  /** Already stored and verified: read it from disk instead. */
  | { id: string; complete: true; size: number }
  /** Download from `offset` (> 0: the bytes before it are on disk from an earlier try). */
  | { id: string; complete: false; offset: number; resumed: boolean };

/**
 * Where a download of `expected` from `url` starts. A partial entry for the same file and URL
 * continues where it stopped; anything else in its place (damaged, another URL) starts from
 * byte 0 with a fresh meta.json.
 */
export async function beginDownload(b: StoreBackend, expected: ExpectedFile, url: string | null, now = new Date(), standIn = false): Promise<DownloadStart> {
  const id = storeIdFor(expected);
  const e = (await b.ids()).includes(id) ? await readEntry(b, id) : null;
  if (e?.status === 'verified') return { id, complete: true, size: e.size };
  if (e?.status === 'partial' && e.meta!.url === url && url !== null && e.meta!.expected.sha256 === expected.sha256 && e.meta!.expected.bytes === expected.bytes) {
    return { id, complete: false, offset: e.size, resumed: e.size > 0 };
  }
  await b.truncateData(id, 0);
  const meta: StoredFileMeta = { version: 1, id, fileName: expected.name, url, expected, state: 'partial', storedAt: now.toISOString(), ...(standIn ? { standIn } : {}) };
  await b.writeMeta(id, JSON.stringify(meta));
  return { id, complete: false, offset: 0, resumed: false };
}

/** The server could not continue: the partial bytes go, the entry stays (for the fresh start). */
export async function restartDownload(b: StoreBackend, id: string): Promise<void> {
  await b.truncateData(id, 0);
}

/** The file on disk passed the size and SHA-256 check: later visits read it. */
export async function markVerified(b: StoreBackend, id: string, now = new Date()): Promise<StoredFileMeta> {
  const e = await readEntry(b, id);
  if (!e.meta) throw new Error(`stored entry ${id}: ${e.problem}`);
  if (e.size !== e.meta.expected.bytes) throw new Error(`stored entry ${id} is ${e.size} bytes, not ${e.meta.expected.bytes}`);
  const meta: StoredFileMeta = { ...e.meta, state: 'verified', verifiedAt: now.toISOString() };
  await b.writeMeta(id, JSON.stringify(meta));
  return meta;
}

export async function removeStored(b: StoreBackend, id: string): Promise<void> {
  await b.remove(id);
}
