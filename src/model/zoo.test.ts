import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { gzipBytes, writeTar } from '../core/tar';
import { encodeOnnxTensor, floatTensor } from './onnx/proto';
import { packZooArchive } from './onnx/zooReplica';
import { type ZooReplica, buildZooReplica } from './onnx/zooReplicaNode';
import { type PublishedFile, RCNN_ILSVRC13, RCNN_ILSVRC13_FILES, ZooFileError, claimedFile, readModelDownload } from './zoo';

let replica: ZooReplica;
/** The replica's facts, standing in for the published file's (same checks, a file we can make). */
let facts: PublishedFile;

beforeAll(async () => {
  replica = await buildZooReplica({ width: 0.125, seed: 8, testSets: 2 });
  facts = {
    ...RCNN_ILSVRC13_FILES[0],
    name: 'replica-9.tar.gz',
    bytes: replica.tarGz.length,
    sha256: createHash('sha256').update(replica.tarGz).digest('hex'),
  };
});

async function* chunks(b: Uint8Array, size = 50_000) {
  for (let o = 0; o < b.length; o += size) yield b.subarray(o, o + size);
}

async function zooError(p: Promise<unknown>): Promise<ZooFileError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ZooFileError) return e;
    throw e;
  }
  throw new Error('expected a ZooFileError');
}

describe('the published rcnn-ilsvrc13 files', () => {
  it('are described once, with the zoo\'s git-lfs sizes and SHA-256, URLs, licence and stated mAP', () => {
    const [tar, onnx] = RCNN_ILSVRC13_FILES;
    expect(tar).toMatchObject({ name: 'rcnn-ilsvrc13-9.tar.gz', bytes: 214_642_550, sha256: 'ef3f40805e4257213440401536e28ad3aa6404ebce5a6cf9d7fcdb44fee09f37', opset: 9 });
    expect(onnx).toMatchObject({ name: 'rcnn-ilsvrc13-3.onnx', bytes: 230_753_133, sha256: 'bc0f63a5f40bad37092c456cac821a99ee63a0f5a453f045e4b39d25823ddbdb', opset: 3 });
    expect(tar.url).toBe('https://github.com/onnx/models/raw/main/validated/vision/classification/rcnn_ilsvrc13/model/rcnn-ilsvrc13-9.tar.gz');
    expect(tar.mediaUrl).toBe('https://media.githubusercontent.com/media/onnx/models/main/validated/vision/classification/rcnn_ilsvrc13/model/rcnn-ilsvrc13-9.tar.gz');
    expect(onnx.url).toBe('https://github.com/onnx/models/raw/main/validated/vision/classification/rcnn_ilsvrc13/model/rcnn-ilsvrc13-3.onnx');
    for (const f of RCNN_ILSVRC13_FILES) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(RCNN_ILSVRC13.licence).toBe('BSD-3-Clause');
    expect(RCNN_ILSVRC13.mAP.percent).toBe(31.4);
    expect(RCNN_ILSVRC13.mAP.note).toMatch(/bounding-box regression/);
    expect(RCNN_ILSVRC13.recommended).toBe(tar);
  });

  it('a download claims to be one by its exact size, else by its name', () => {
    expect(claimedFile('anything.bin', 214_642_550).map((f) => f.sha256)).toEqual([RCNN_ILSVRC13_FILES[0].sha256]);
    expect(claimedFile('/tmp/dl/rcnn-ilsvrc13-9.tar.gz', 1000).map((f) => f.bytes)).toEqual([214_642_550, 218_957_598]);
    expect(claimedFile('rcnn-ilsvrc13-3.onnx', undefined)).toEqual([RCNN_ILSVRC13_FILES[1]]);
    expect(claimedFile('my-replica.tar.gz', 12345)).toEqual([]);
  });
});

describe('reading a model download as it streams', () => {
  it('verifies a file that claims to be a published one (size, then SHA-256) and keeps only model.onnx and the test data', async () => {
    const progress: number[] = [];
    const dl = await readModelDownload(chunks(replica.tarGz), {
      fileName: 'replica-9.tar.gz',
      size: replica.tarGz.length,
      published: [facts],
      onProgress: (n) => progress.push(n),
    });
    expect(dl.published).toBe(facts);
    expect(dl.sha256).toBe(facts.sha256);
    expect(dl.bytes).toBe(replica.tarGz.length);
    expect(dl.notes).toEqual([]);
    expect(Buffer.from(dl.model).equals(Buffer.from(replica.onnx))).toBe(true);
    expect(dl.testSets.map((s) => [s.name, s.input.dims, s.output.dims])).toEqual([
      ['test_data_set_0', [1, 3, 224, 224], [1, 200]],
      ['test_data_set_1', [1, 3, 224, 224], [1, 200]],
    ]);
    expect(progress.at(-1)).toBe(replica.tarGz.length);
    expect(progress.length).toBeGreaterThan(5);
  });

  it('names a truncated download, before reading it when the size is known, and after when it is not', async () => {
    const cut = replica.tarGz.subarray(0, Math.floor(replica.tarGz.length * 0.6));
    const early = await zooError(readModelDownload(chunks(cut), { fileName: 'replica-9.tar.gz', size: cut.length, published: [facts] }));
    expect(early.kind).toBe('truncated');
    expect(early.message).toMatch(/^replica-9\.tar\.gz: truncated: [\d,]+ bytes of the published replica-9\.tar\.gz's [\d,]+ \(60\.0 %\); download it again$/);
    // A stream of unknown length: the gzip data ends early; the byte count says why.
    const late = await zooError(readModelDownload(chunks(cut), { fileName: 'replica-9.tar.gz', published: [facts] }));
    expect(late.kind).toBe('truncated');
    expect(late.message).toMatch(/truncated: [\d,]+ bytes of the published/);
    // The real published file, cut short, by its own name.
    const real = await zooError(readModelDownload(chunks(cut), { fileName: 'rcnn-ilsvrc13-9.tar.gz', size: cut.length }));
    expect(real.message).toMatch(/truncated: [\d,]+ bytes of the published rcnn-ilsvrc13-9\.tar\.gz's 214,642,550/);
  });

  it('names a wrong file: the published size with another SHA-256, or more bytes than published', async () => {
    const other = replica.tarGz.slice();
    other[other.length - 9] ^= 0xff; // inside the gzip trailer's CRC
    const e = await zooError(readModelDownload(chunks(other), { fileName: 'replica-9.tar.gz', published: [facts] }));
    expect(e.kind).toBe('wrong-file');
    expect(e.message).toMatch(new RegExp(`wrong file: it has the published replica-9.tar.gz's size \\([\\d,]+ bytes\\) but SHA-256 [0-9a-f]{64}, not ${facts.sha256}`));
    const longer = new Uint8Array(replica.tarGz.length + 10);
    longer.set(replica.tarGz);
    const e2 = await zooError(readModelDownload(chunks(longer), { fileName: 'replica-9.tar.gz', published: [facts] }));
    expect(e2.message).toMatch(/wrong file: [\d,]+ bytes, more than the published replica-9\.tar\.gz's [\d,]+/);
  });

  it('names a wrong member: no model.onnx, two of them, a test set without its output', async () => {
    const noModel = await gzipBytes(writeTar([{ name: 'x/readme.txt', data: new Uint8Array(3) }, { name: 'x/test_data_set_0/input_0.pb', data: new Uint8Array(0) }]));
    const e = await zooError(readModelDownload(chunks(noModel), { fileName: 'other.tar.gz' }));
    expect(e.kind).toBe('wrong-member');
    expect(e.message).toBe('other.tar.gz: wrong member: the archive has no model.onnx (it holds 2 entries: x/readme.txt, x/test_data_set_0/input_0.pb)');
    const two = await gzipBytes(writeTar([{ name: 'a/model.onnx', data: replica.onnx }, { name: 'b/model.onnx', data: replica.onnx }]));
    expect((await zooError(readModelDownload(chunks(two), { fileName: 'two.tar.gz' }))).message).toMatch(/holds 2 model\.onnx files \(a\/model\.onnx, b\/model\.onnx\)/);
    const input = encodeOnnxTensor(floatTensor('data_0', [1, 3, 2, 2], new Float32Array(12)));
    const half = await gzipBytes(writeTar([{ name: 'm/model.onnx', data: replica.onnx }, { name: 'm/test_data_set_0/input_0.pb', data: input }]));
    expect((await zooError(readModelDownload(chunks(half), { fileName: 'half.tar.gz' }))).message).toBe('half.tar.gz: m/test_data_set_0 has no output_0.pb');
    const junk = await gzipBytes(writeTar([{ name: 'm/model.onnx', data: replica.onnx }, { name: 'm/test_data_set_0/input_0.pb', data: input }, { name: 'm/test_data_set_0/output_0.pb', data: new Uint8Array([0x0a, 0xff]) }]));
    const j = await zooError(readModelDownload(chunks(junk), { fileName: 'junk.tar.gz' }));
    expect(j.kind).toBe('wrong-member');
    expect(j.message).toMatch(/^junk\.tar\.gz: test_data_set_0\/output_0\.pb is not a readable TensorProto: truncated/);
    // A published archive must bring its test data.
    const bare = await gzipBytes(packZooArchive(replica.onnx, []));
    const bareFacts = { ...facts, bytes: bare.length, sha256: createHash('sha256').update(bare).digest('hex') };
    const b = await zooError(readModelDownload(chunks(bare), { fileName: 'replica-9.tar.gz', published: [bareFacts] }));
    expect(b.message).toBe('replica-9.tar.gz: the archive has no test_data_set_* folders, which the published one has');
  });

  it('passes a file that is not a published one with a note, and reads a bare .onnx', async () => {
    const dl = await readModelDownload(chunks(replica.onnx), { fileName: 'my.onnx', size: replica.onnx.length });
    expect(dl.kind).toBe('onnx');
    expect(dl.published).toBeNull();
    expect(Buffer.from(dl.model).equals(Buffer.from(replica.onnx))).toBe(true);
    expect(dl.testSets).toEqual([]);
    expect(dl.notes).toEqual([`my.onnx is not the published rcnn-ilsvrc13 file (${replica.onnx.length.toLocaleString('en-US')} bytes): checksum not checked`]);
    const unknownSize = await readModelDownload(chunks(replica.onnx, 777), { fileName: 'my.onnx' });
    expect(Buffer.from(unknownSize.model).equals(Buffer.from(replica.onnx))).toBe(true);
  });

  it('refuses damaged gzip data and oversized members before holding them, and stops when aborted', async () => {
    const bad = replica.tarGz.slice();
    bad[bad.length - 8] ^= 0xff; // the gzip trailer's CRC-32 of the data
    const d = await zooError(readModelDownload(chunks(bad), { fileName: 'bad.tar.gz' }));
    expect(d.kind).toBe('damaged');
    expect(d.message).toMatch(/^bad\.tar\.gz: the gzip data is damaged or cut short \(incorrect data check\)$/);
    // Damage that still inflates shows up in the tar headers.
    const garbled = replica.tarGz.slice();
    garbled[200] ^= 0xff;
    const g = await zooError(readModelDownload(chunks(garbled), { fileName: 'garbled.tar.gz' }));
    expect(g.kind).toBe('damaged');
    expect(g.message).toMatch(/^garbled\.tar\.gz: bad header checksum at byte \d+/);
    const big = await zooError(readModelDownload(chunks(replica.tarGz), { fileName: 'r.tar.gz', maxModelBytes: 1000 }));
    expect(big.kind).toBe('too-large');
    expect(big.message).toMatch(/^r\.tar\.gz: bvlc_reference_rcnn_ilsvrc13\/model\.onnx: a model of [\d,]+ bytes is more than the 1,000 allowed in memory; refused$/);
    const ac = new AbortController();
    ac.abort();
    await expect(readModelDownload(chunks(replica.tarGz), { fileName: 'r.tar.gz', signal: ac.signal })).rejects.toThrow(/abort/i);
  });
});
