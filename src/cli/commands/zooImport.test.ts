import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../main';
import { gzipBytes, writeTar } from '../../core/tar';
import { ILSVRC13_DET_CLASSES } from '../../model/onnx/ilsvrc13';
import { decodeOnnxModel, encodeOnnxModel } from '../../model/onnx/proto';
import { packZooArchive } from '../../model/onnx/zooReplica';
import { type ZooReplica, buildZooReplica } from '../../model/onnx/zooReplicaNode';
import { loadPackageDir } from '../../model/packageNode';

let dir: string;
let replica: ZooReplica;

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (t) => ((out += t), true), stderr: (t) => ((err += t), true) });
  return { code, out, err };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rcnn-zoo-'));
  replica = await buildZooReplica({ width: 0.125, seed: 21, testSets: 3 });
  await writeFile(join(dir, 'replica.tar.gz'), replica.tarGz);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('rcnn import of a model-zoo archive, then rcnn detect', () => {
  it('imports the replica tar.gz, printing the test-data parity, and detect names ILSVRC13 classes', async () => {
    const r = await run(['import', join(dir, 'replica.tar.gz'), '--out', join(dir, 'pkg')]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/note: replica\.tar\.gz is not the published rcnn-ilsvrc13 file \([\d,]+ bytes\): checksum not checked; its own test data decides/);
    expect(r.err.match(/^test data: test_data_set_\d: max relative error \d\.\d\de-\d+ /gm)).toHaveLength(3);
    expect(r.err).toMatch(/^test data: pass: max relative error .* against the tolerance 0\.001, 3 test sets of 1x3x224x224 on tfjs-wasm, output "fc-rcnn_1"$/m);
    const s = JSON.parse(r.out);
    expect(s.input).toMatch(/^227x227x3 BGR/);
    expect(s.caffeCeilPools).toEqual(['pool1', 'pool2', 'pool5']);
    expect(s.file).toMatchObject({ kind: 'tar.gz', published: null, model: 'bvlc_reference_rcnn_ilsvrc13/model.onnx' });
    expect(s.testData.pass).toBe(true);
    expect(s.testData.maxRelativeError).toBeLessThan(1e-4);
    const pkg = await loadPackageDir(join(dir, 'pkg'));
    expect(pkg.provenance.metrics!['test data max relative error']).toBe(s.testData.maxRelativeError);
    expect(pkg.architecture.pool1.pads).toEqual([0, 0, 0, 0]);

    const d = await run(['detect', 'public/samples/dog.jpg', '--model', join(dir, 'pkg'), '--proposals', '30']);
    expect(d.code, d.err).toBe(0);
    const det = JSON.parse(d.out);
    expect(det.model).toBe('replica');
    expect(det.detections.length).toBeGreaterThan(0);
    for (const x of det.detections) expect(ILSVRC13_DET_CLASSES).toContain(x.class);
  });

  it('refuses a replica with one corrupted weight with the numbers, writing nothing', async () => {
    const m = decodeOnnxModel(replica.onnx);
    const w = m.graph.initializer.find((t) => t.name === 'conv1_w_0')!;
    const raw = w.rawData!.slice();
    const dv = new DataView(raw.buffer);
    dv.setFloat32(0, dv.getFloat32(0, true) + 0.5, true);
    w.rawData = raw;
    await writeFile(join(dir, 'corrupt.tar.gz'), await gzipBytes(packZooArchive(encodeOnnxModel(m), replica.sets)));
    const r = await run(['import', join(dir, 'corrupt.tar.gz'), '--out', join(dir, 'bad-pkg')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^test data: FAIL: max relative error \d\.\d\de\+0 /m);
    expect(r.err).toMatch(/^rcnn import: .*corrupt\.tar\.gz: refused: the imported network does not reproduce the file's own test data: max relative error \d\.\d\de\+0 \(test_data_set_\d\) against the tolerance 0\.001; nothing was written$/m);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'bad-pkg'))).toBe(false);
  });

  it('names a truncated published file and an archive without model.onnx, in one line each', async () => {
    const cut = join(dir, 'rcnn-ilsvrc13-9.tar.gz');
    await writeFile(cut, replica.tarGz.subarray(0, 100_000));
    const r = await run(['import', cut, '--out', join(dir, 'x')]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`rcnn import: ${cut}: truncated: 100,000 bytes of the published rcnn-ilsvrc13-9.tar.gz's 214,642,550 (0.0 %); download it again\n`);
    await writeFile(join(dir, 'empty.tar.gz'), await gzipBytes(writeTar([{ name: 'readme.txt', data: new Uint8Array(1) }])));
    const e = await run(['import', join(dir, 'empty.tar.gz'), '--out', join(dir, 'x')]);
    expect(e.code).toBe(1);
    expect(e.err).toBe(`rcnn import: ${join(dir, 'empty.tar.gz')}: wrong member: the archive has no model.onnx (it holds 1 entries: readme.txt)\n`);
    const f = await run(['import', dir, '--out', join(dir, 'x')]);
    expect(f.err).toBe(`rcnn import: ${dir} is a folder; give the .onnx or .tar.gz file\n`);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});
