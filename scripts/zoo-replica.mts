// Write an exact-layout replica of the ONNX Model Zoo's rcnn-ilsvrc13 files (random weights; see
// src/model/onnx/zooReplica.ts for what "exact" rests on), for end-to-end tests and measurements:
//   npx tsx scripts/zoo-replica.mts OUT_DIR [--width 0.125 | --full] [--sets 6] [--seed 1]
// writes OUT_DIR/rcnn-ilsvrc13-replica-9.tar.gz (model.onnx + test_data_set_N, outputs computed
// by onnxruntime-node), OUT_DIR/rcnn-ilsvrc13-replica-3.onnx (the opset-3 form, no test data) and
// OUT_DIR/replica.json (their sizes and SHA-256, to stand in for the published facts in a test).
// --full is the published size (4096-wide fc layers: about 230 MB per file, 2 GB of memory to build).
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportZooLayout } from '../src/model/onnx/zooReplica';
import { buildZooReplica } from '../src/model/onnx/zooReplicaNode';

const { values, positionals } = parseArgs({
  options: { width: { type: 'string' }, full: { type: 'boolean' }, sets: { type: 'string' }, seed: { type: 'string' } },
  allowPositionals: true,
});
if (positionals.length !== 1) throw new Error('usage: npx tsx scripts/zoo-replica.mts OUT_DIR [--width W | --full] [--sets N] [--seed S]');
const out = positionals[0];
const width = values.full ? 1 : Number(values.width ?? 0.125);
const sets = Number(values.sets ?? 6);
const seed = Number(values.seed ?? 1);
if (!(width > 0 && width <= 1) || !Number.isInteger(sets) || sets < 0 || !Number.isInteger(seed)) throw new Error('--width must be in (0, 1], --sets and --seed integers');
mkdirSync(out, { recursive: true });
const t0 = performance.now();
const r = await buildZooReplica({ width, seed, testSets: sets });
const opset3 = exportZooLayout(r.pkg, 3).bytes;
const files = { 'rcnn-ilsvrc13-replica-9.tar.gz': r.tarGz, 'rcnn-ilsvrc13-replica-3.onnx': opset3 };
const facts: Record<string, { bytes: number; sha256: string }> = {};
for (const [name, bytes] of Object.entries(files)) {
  writeFileSync(join(out, name), bytes);
  facts[name] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}
writeFileSync(join(out, 'replica.json'), JSON.stringify({ width, seed, testSets: sets, files: facts }, null, 1) + '\n');
console.log(`wrote ${Object.keys(files).map((f) => `${join(out, f)} (${(facts[f].bytes / 1e6).toFixed(1)} MB)`).join(', ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
