/**
 * The original R-CNN as the ONNX Model Zoo publishes it (rcnn-ilsvrc13: CaffeNet fine-tuned for
 * ILSVRC2013 detection, its 200 linear SVMs folded into the last layer `fc-rcnn`), and a reader
 * that takes the download as it streams in (a file, a fetch body), checks it against the
 * published size and SHA-256 and keeps only model.onnx and the test data. Browser-safe: the app's
 * download dialog and `rcnn import` share it.
 *
 * Facts from onnx/models: validated/vision/classification/rcnn_ilsvrc13/README.md and the git-lfs
 * pointers of validated/vision/classification/rcnn_ilsvrc13/model/ (the `oid sha256:` and `size`
 * lines); the earlier revision of the -9 archive is the pointer once at
 * vision/classification/rcnn_ilsvrc13/model/rcnn-ilsvrc13-9.tar.gz (commit 7301ce1e).
 */
import { type Hasher, Sha256 } from '../core/sha256';
import { type ByteSource, TarError, gunzip, isGzip, iterate, readTar } from '../core/tar';
import { type OnnxTestSet, TestDataError, decodeTestSet } from './onnx/testSet';

export interface PublishedFile {
  name: string;
  kind: 'tar.gz' | 'onnx';
  /** github.com "raw" URL (redirects to the git-lfs media URL). */
  url: string;
  /** The git-lfs media URL, served with CORS headers (what a browser fetch can read). */
  mediaUrl: string;
  bytes: number;
  sha256: string;
  opset: number;
  /** Set for a file the zoo once published under the same name and has since replaced. */
  supersededBy?: string;
}

const ZOO = 'onnx/models';
const DIR = 'validated/vision/classification/rcnn_ilsvrc13/model';
const raw = (path: string) => `https://github.com/${ZOO}/raw/main/${path}`;
const media = (path: string, ref = 'main') => `https://media.githubusercontent.com/media/${ZOO}/${ref}/${path}`;

export const RCNN_ILSVRC13_FILES: readonly PublishedFile[] = [
  {
    name: 'rcnn-ilsvrc13-9.tar.gz',
    kind: 'tar.gz',
    url: raw(`${DIR}/rcnn-ilsvrc13-9.tar.gz`),
    mediaUrl: media(`${DIR}/rcnn-ilsvrc13-9.tar.gz`),
    bytes: 214_642_550,
    sha256: 'ef3f40805e4257213440401536e28ad3aa6404ebce5a6cf9d7fcdb44fee09f37',
    opset: 9,
  },
  {
    name: 'rcnn-ilsvrc13-3.onnx',
    kind: 'onnx',
    url: raw(`${DIR}/rcnn-ilsvrc13-3.onnx`),
    mediaUrl: media(`${DIR}/rcnn-ilsvrc13-3.onnx`),
    bytes: 230_753_133,
    sha256: 'bc0f63a5f40bad37092c456cac821a99ee63a0f5a453f045e4b39d25823ddbdb',
    opset: 3,
  },
  {
    name: 'rcnn-ilsvrc13-9.tar.gz',
    kind: 'tar.gz',
    url: `https://github.com/${ZOO}/raw/7301ce1e16891ed5f75dd15a6a53a643001288f0/vision/classification/rcnn_ilsvrc13/model/rcnn-ilsvrc13-9.tar.gz`,
    mediaUrl: media('vision/classification/rcnn_ilsvrc13/model/rcnn-ilsvrc13-9.tar.gz', '7301ce1e16891ed5f75dd15a6a53a643001288f0'),
    bytes: 218_957_598,
    sha256: 'f3f300570508439f538f7ae7325b1b121b69fd539a775087c59e0fcc4d363951',
    opset: 9,
    supersededBy: 'ef3f40805e4257213440401536e28ad3aa6404ebce5a6cf9d7fcdb44fee09f37',
  },
];

/** The model card's facts. */
export const RCNN_ILSVRC13 = {
  id: 'rcnn-ilsvrc13',
  title: 'R-CNN ILSVRC13 (the original R-CNN, ONNX Model Zoo)',
  readme: `https://github.com/${ZOO}/tree/main/validated/vision/classification/rcnn_ilsvrc13`,
  licence: 'BSD-3-Clause',
  source: 'Caffe BVLC R-CNN ILSVRC13 -> Caffe2 -> ONNX (the R-CNN release\'s CaffeNet, fine-tuned for detection)',
  classes: 200,
  /** As the zoo's README states it; the paper's 31.4 % is with bounding-box regression, which the file does not carry. */
  mAP: { percent: 31.4, dataset: 'ILSVRC2013 detection', note: 'reported by the paper with bounding-box regression; the published file has no box regressors' },
  svmsFolded: 'the 200 per-class linear SVMs are folded into the last layer fc-rcnn (fc7 -> 200 scores)',
  input: { name: 'data_0', declared: [1, 3, 224, 224] },
  output: { name: 'fc-rcnn_1', shape: [1, 200] },
  /** The recommended download: the archive with the zoo's own test data. */
  recommended: RCNN_ILSVRC13_FILES[0],
  files: RCNN_ILSVRC13_FILES,
} as const;

export type ZooFileErrorKind = 'truncated' | 'wrong-file' | 'wrong-member' | 'damaged' | 'too-large';

/** A download that is not what it should be; the message names the file and what is wrong. */
export class ZooFileError extends Error {
  override name = 'ZooFileError';
  constructor(readonly kind: ZooFileErrorKind, message: string) {
    super(message);
  }
}

export interface ReadLimits {
  /** Largest model.onnx kept in memory (default 1 GiB; the published one is 231 MB). */
  maxModelBytes?: number;
  /** Largest test_data_set_N/*.pb (default 64 MB; the zoo's are 602 KB and 0.8 KB). */
  maxTestFileBytes?: number;
  /** Most test sets read (default 64; the zoo has 6). */
  maxTestSets?: number;
}

export interface ReadOptions extends ReadLimits {
  /** The file's name (local file or last URL segment): with its size, says which published file it claims to be. */
  fileName: string;
  /** Total bytes when known in advance (file size, Content-Length): a short file is refused before it is read. */
  size?: number;
  /** The files to check against (default RCNN_ILSVRC13_FILES). */
  published?: readonly PublishedFile[];
  /** A streaming hash (default: Sha256 from src/core; the CLI passes node:crypto's, 15x faster). */
  hasher?: () => Hasher;
  onProgress?: (bytesRead: number, totalBytes: number | undefined) => void;
  signal?: AbortSignal;
}

export interface ModelDownload {
  kind: 'tar.gz' | 'tar' | 'onnx';
  /** model.onnx's bytes. */
  model: Uint8Array;
  /** Its path inside the archive (the file name for a bare .onnx). */
  modelPath: string;
  testSets: OnnxTestSet[];
  bytes: number;
  sha256: string;
  /** The published file it was verified to be, or null (not one of them: no checksum to check). */
  published: PublishedFile | null;
  notes: string[];
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** The published file a download claims to be: the same name, or exactly a published size. */
export function claimedFile(fileName: string, size: number | undefined, published: readonly PublishedFile[] = RCNN_ILSVRC13_FILES): PublishedFile[] {
  const base = fileName.split(/[\\/]/).pop()!;
  const bySize = size === undefined ? [] : published.filter((f) => f.bytes === size);
  if (bySize.length > 0) return bySize;
  return published.filter((f) => f.name === base);
}

/** Counts and hashes every chunk exactly once, whoever pulls it. */
class Tap {
  bytes = 0;
  private inFlight: Promise<unknown> | null = null;
  private done = false;

  constructor(
    private readonly it: AsyncIterator<Uint8Array>,
    readonly hasher: Hasher,
    private readonly total: number | undefined,
    private readonly opts: ReadOptions,
  ) {}

  async next(): Promise<IteratorResult<Uint8Array>> {
    this.opts.signal?.throwIfAborted();
    if (this.done) return { done: true, value: undefined };
    const p = this.it.next().then((r) => {
      if (r.done) this.done = true;
      else {
        this.hasher.update(r.value);
        this.bytes += r.value.length;
        this.opts.onProgress?.(this.bytes, this.total);
      }
      return r;
    });
    this.inFlight = p;
    return p;
  }

  /** Reads to the end (to hash the whole file after the archive inside it failed). */
  async drain(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
    while (!(await this.next()).done);
  }

  async close(): Promise<void> {
    if (!this.done) await this.it.return?.();
  }
}

/**
 * Reads a downloaded rcnn-ilsvrc13 file (or any AlexNet-family .onnx / .tar.gz) as it streams
 * in: hashes it, unpacks a tar.gz on the fly, keeps model.onnx and the test sets. A file whose
 * name or size is a published file's must be that file (size, then SHA-256); others pass with a
 * note. Throws ZooFileError naming what is wrong.
 */
export async function readModelDownload(source: ByteSource, opts: ReadOptions): Promise<ModelDownload> {
  const claims = claimedFile(opts.fileName, opts.size, opts.published);
  if (opts.size !== undefined && claims.length > 0 && claims.every((c) => opts.size! < c.bytes)) {
    throw truncated(opts.fileName, opts.size, claims[0]);
  }
  const tap = new Tap(iterate(source), opts.hasher?.() ?? new Sha256(), opts.size, opts);
  try {
    const first = await tap.next();
    const head = first.done ? new Uint8Array(0) : first.value;
    const kind = isGzip(head) ? 'tar.gz' : isTar(head) ? 'tar' : 'onnx';
    // The rest of the stream, with the first chunk put back.
    let replayed = first.done;
    const rest: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          if (!replayed) {
            replayed = true;
            return { done: false, value: head };
          }
          return tap.next();
        },
      }),
    };
    let content: { model: Uint8Array; modelPath: string; testSets: OnnxTestSet[] };
    try {
      content = kind === 'onnx' ? await readBareModel(rest, opts) : await readArchive(kind === 'tar.gz' ? gunzip(rest) : rest, opts);
    } catch (e) {
      if (!(e instanceof TarError || e instanceof TestDataError || e instanceof ZooFileError || isDecompressionError(e))) throw e;
      // Say what the file is first: a truncated or different download explains a broken archive.
      await tap.drain();
      verify(opts.fileName, tap.bytes, tap.hasher.hex(), claims);
      throw asZooError(opts.fileName, e);
    }
    await tap.drain();
    const sha256 = tap.hasher.hex();
    const published = verify(opts.fileName, tap.bytes, sha256, claims);
    const notes: string[] = [];
    if (published?.supersededBy) notes.push(`${opts.fileName} is the zoo's earlier revision of ${published.name} (SHA-256 ${sha256.slice(0, 12)}...); accepted`);
    if (!published) notes.push(`${opts.fileName} is not the published rcnn-ilsvrc13 file (${fmt(tap.bytes)} bytes): checksum not checked${content.testSets.length ? '; its own test data decides' : ''}`);
    if (kind === 'tar.gz' && published && content.testSets.length === 0) throw new ZooFileError('wrong-member', `${opts.fileName}: the archive has no test_data_set_* folders, which the published one has`);
    return { kind, ...content, bytes: tap.bytes, sha256, published, notes };
  } finally {
    await tap.close();
  }
}

/** The published file this is, or null when it claims none; throws when it claims one and is not it. */
function verify(fileName: string, bytes: number, sha256: string, claims: PublishedFile[]): PublishedFile | null {
  if (claims.length === 0) return null;
  const hit = claims.find((c) => c.bytes === bytes && c.sha256 === sha256);
  if (hit) return hit;
  const sameSize = claims.find((c) => c.bytes === bytes);
  if (sameSize) {
    throw new ZooFileError('wrong-file', `${fileName}: wrong file: it has the published ${sameSize.name}'s size (${fmt(bytes)} bytes) but SHA-256 ${sha256}, not ${sameSize.sha256}`);
  }
  const c = claims[0];
  if (bytes < c.bytes) throw truncated(fileName, bytes, c);
  throw new ZooFileError('wrong-file', `${fileName}: wrong file: ${fmt(bytes)} bytes, more than the published ${c.name}'s ${fmt(c.bytes)}`);
}

function truncated(fileName: string, bytes: number, c: PublishedFile): ZooFileError {
  return new ZooFileError('truncated', `${fileName}: truncated: ${fmt(bytes)} bytes of the published ${c.name}'s ${fmt(c.bytes)} (${((100 * bytes) / c.bytes).toFixed(1)} %); download it again`);
}

function isTar(head: Uint8Array): boolean {
  return head.length >= 262 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar';
}

/** Node's zlib and browsers' DecompressionStream report a broken gzip stream as a TypeError or a zlib error. */
function isDecompressionError(e: unknown): boolean {
  const err = e as { code?: string; name?: string } | null;
  return Boolean(err && ((typeof err.code === 'string' && err.code.startsWith('Z_')) || err.name === 'TypeError'));
}

function asZooError(fileName: string, e: unknown): ZooFileError {
  if (e instanceof ZooFileError) return e;
  if (e instanceof TestDataError) return new ZooFileError('wrong-member', `${fileName}: ${e.message}`);
  if (e instanceof TarError) return new ZooFileError(e.kind === 'truncated' ? 'truncated' : 'damaged', `${fileName}: ${e.message}`);
  return new ZooFileError('damaged', `${fileName}: the gzip data is damaged or cut short (${(e as Error).message})`);
}

async function readBareModel(source: AsyncIterable<Uint8Array>, opts: ReadOptions) {
  const max = opts.maxModelBytes ?? 2 ** 30;
  if (opts.size !== undefined && opts.size > max) throw tooLarge(opts.fileName, opts.size, max);
  // With the size known the model is read into one buffer; else (or if the file grew) chunks
  // are joined at the end.
  let buf: Uint8Array | null = opts.size !== undefined ? new Uint8Array(opts.size) : null;
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of source) {
    if (n + c.length > max) throw tooLarge(opts.fileName, n + c.length, max);
    if (buf && n + c.length <= buf.length) {
      buf.set(c, n);
    } else {
      if (buf) {
        parts.push(buf.subarray(0, n));
        buf = null;
      }
      parts.push(c.slice());
    }
    n += c.length;
  }
  let model: Uint8Array;
  if (buf) {
    model = n === buf.length ? buf : buf.subarray(0, n);
  } else {
    model = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      model.set(p, o);
      o += p.length;
    }
  }
  return { model, modelPath: opts.fileName, testSets: [] };
}

function tooLarge(fileName: string, bytes: number, max: number): ZooFileError {
  return new ZooFileError('too-large', `${fileName}: a model of ${fmt(bytes)} bytes is more than the ${fmt(max)} allowed in memory; refused`);
}

const TEST_FILE = /(?:^|\/)(test_data_set_\d+)\/(input|output)_0\.pb$/;

/** model.onnx and test_data_set_N/{input,output}_0.pb out of a tar stream; every other member is skipped unread. */
async function readArchive(tar: ByteSource, opts: ReadOptions) {
  const maxModel = opts.maxModelBytes ?? 2 ** 30;
  const maxTest = opts.maxTestFileBytes ?? 64 * 2 ** 20;
  const maxSets = opts.maxTestSets ?? 64;
  const models: Array<{ path: string; bytes: Uint8Array }> = [];
  const tests = new Map<string, { input?: Uint8Array; output?: Uint8Array }>();
  const names: string[] = [];
  for await (const m of readTar(tar, { drain: true })) {
    names.push(m.name);
    if (m.type !== 'file') continue;
    const path = m.name.replace(/^\.\//, '');
    const t = TEST_FILE.exec(path);
    if (/(?:^|\/)model\.onnx$/.test(path)) {
      if (m.size > maxModel) throw tooLarge(`${opts.fileName}: ${path}`, m.size, maxModel);
      models.push({ path, bytes: await m.bytes() });
    } else if (t) {
      if (m.size > maxTest) throw new ZooFileError('too-large', `${opts.fileName}: ${path} is ${fmt(m.size)} bytes; a test tensor over ${fmt(maxTest)} is refused`);
      const key = path.slice(0, t.index + t[0].indexOf(t[1])) + t[1];
      if (!tests.has(key) && tests.size >= maxSets) throw new ZooFileError('too-large', `${opts.fileName}: more than ${maxSets} test sets`);
      const entry = tests.get(key) ?? {};
      entry[t[2] as 'input' | 'output'] = await m.bytes();
      tests.set(key, entry);
    }
  }
  if (models.length === 0) {
    throw new ZooFileError('wrong-member', `${opts.fileName}: wrong member: the archive has no model.onnx (it holds ${names.length} entries${names.length ? `: ${names.slice(0, 6).join(', ')}${names.length > 6 ? ', ...' : ''}` : ''})`);
  }
  if (models.length > 1) throw new ZooFileError('wrong-member', `${opts.fileName}: the archive holds ${models.length} model.onnx files (${models.map((x) => x.path).join(', ')}); which one is meant is unclear`);
  const testSets: OnnxTestSet[] = [];
  for (const [key, v] of [...tests].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    const name = key.split('/').pop()!;
    if (!v.input || !v.output) throw new ZooFileError('wrong-member', `${opts.fileName}: ${key} has no ${v.input ? 'output_0.pb' : 'input_0.pb'}`);
    testSets.push(decodeTestSet(name, v.input, v.output));
  }
  return { model: models[0].bytes, modelPath: models[0].path, testSets };
}
