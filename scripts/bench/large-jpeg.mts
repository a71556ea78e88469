/**
 * Time and memory of decoding a very large JPEG to the working size, reduced-scale (what the app
 * and CLI do) or at full size with jpeg-js (what they did). One decode per process, so RSS is the
 * decode's own:
 *   npx tsx scripts/bench/large-jpeg.mts scaled [photo.jpg]
 *   npx tsx scripts/bench/large-jpeg.mts full [photo.jpg]
 * Without a photo it encodes the e2e's 12000 x 9000 fixture (two flat halves) first.
 */
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { decodeAndPrepare, decodeImageBytes, prepareImage } from '../../src/core/image/decode';

const [mode = 'scaled', path] = process.argv.slice(2);
let bytes: Uint8Array;
if (path) bytes = new Uint8Array(readFileSync(path));
else {
  const W = 12000, H = 9000;
  const rgba = new Uint8Array(W * H * 4);
  for (let i = 0; i < W * H; i++) {
    const left = i % W < W / 2;
    rgba.set([left ? 200 : 30, 90, left ? 40 : 190, 255], 4 * i);
  }
  bytes = new Uint8Array(jpeg.encode({ width: W, height: H, data: rgba }, 70).data);
}
const rss0 = process.memoryUsage().rss;
let peak = rss0;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const t0 = performance.now();
const p = mode === 'full' ? prepareImage(decodeImageBytes(bytes, 'photo'), 'photo') : decodeAndPrepare(bytes, 'photo');
const ms = performance.now() - t0;
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
console.log(`${mode}: ${p.originalWidth} x ${p.originalHeight} -> ${p.image.width} x ${p.image.height} in ${ms.toFixed(0)} ms; RSS ${(rss0 / 2 ** 20).toFixed(0)} MB before, ${(peak / 2 ** 20).toFixed(0)} MB after`);
