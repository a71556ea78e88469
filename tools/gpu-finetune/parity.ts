/**
 * Parity of finetune.py with the app's own CNN: warps the first N windows of export.ts's
 * validation sample from the exported JPEGs with warpBoxInto and runs the package's CaffeNet
 * (tfjs, wasm) on them, then compares fc8 with `finetune.py --parity N`'s parity-fc8.npy.
 * Usage: tsx tools/gpu-finetune/parity.ts DATA_DIR MODEL_DIR PARITY_DIR [N]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import * as tf from '@tensorflow/tfjs-core';
import { loadModelPath } from '../../src/model/packageNode';
import { useNodeBackend } from '../../src/model/node';
import { CaffeNet } from '../../src/model/caffenet';
import { warpBoxInto } from '../../src/model/finetune/cpuWarp';

const [dataDir, modelDir, parityDir, nArg] = process.argv.slice(2);
const N = Number(nArg ?? 8);
const meta = JSON.parse(readFileSync(join(dataDir, 'meta.json'), 'utf8'));
const u16 = (f: string) => { const b = readFileSync(join(dataDir, f)); return new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2); };
const boxes = u16('val-boxes.u16');
const image = u16('val-image.u16');
const sb = readFileSync(join(dataDir, 'val-sample.i32'));
const sample = new Int32Array(sb.buffer, sb.byteOffset, sb.byteLength / 4);
const pkg = await loadModelPath(modelDir);
await useNodeBackend('wasm');
const net = new CaffeNet(pkg.architecture, pkg.weights);
const S = 227;
const x = new Float32Array(N * S * S * 3);
for (let k = 0; k < N; k++) {
  const w = sample[k];
  const im = meta.images[image[w]];
  const d = jpeg.decode(readFileSync(join(dataDir, im.file)), { useTArray: true, formatAsRGBA: false });
  const box = Array.from(boxes.subarray(4 * w, 4 * w + 4), (v) => v / 8);
  warpBoxInto({ width: d.width, height: d.height, data: d.data }, box, pkg.architecture.mean as [number, number, number], x, k * S * S * 3, S, 16);
}
const fc8 = (net.forward(tf.tensor4d(x, [N, S, S, 3]), { outputs: ['fc8'] }).fc8 as tf.Tensor2D).arraySync();
// parity-fc8.npy: numpy v1 header then float32 little-endian.
const npy = readFileSync(join(parityDir, 'parity-fc8.npy'));
const hl = npy.readUInt16LE(8);
const ref = new Float32Array(npy.buffer.slice(npy.byteOffset + 10 + hl, npy.byteOffset + npy.byteLength));
let maxDiff = 0, maxAbs = 0;
fc8.forEach((row, i) => row.forEach((v, j) => { maxDiff = Math.max(maxDiff, Math.abs(v - ref[i * row.length + j])); maxAbs = Math.max(maxAbs, Math.abs(v)); }));
for (let i = 0; i < Math.min(N, 4); i++) console.log('tfjs', fc8[i].map((v) => v.toFixed(3)).join(' '), '| torch', Array.from(ref.subarray(i * fc8[i].length, (i + 1) * fc8[i].length), (v) => v.toFixed(3)).join(' '));
console.log(`fc8 of ${N} windows: max |tfjs - torch| = ${maxDiff.toFixed(4)} (max |fc8| ${maxAbs.toFixed(2)})`);
process.exitCode = maxDiff < 0.05 * Math.max(1, maxAbs) ? 0 : 1;
