/**
 * `rcnn bench warp`: R-CNN's warp (dilate by 227/195, bilinear to 227 x 227, the mean outside the
 * image, mean-subtracted BGR floats) on the tfjs wasm backend, two ways: tfjs ops
 * (cropAndResize and a mask, what GPU backends run) and JavaScript straight into the batch (what
 * the CPU backends run since it was measured here), against OpenCV's warpAffine in Python on the
 * same images and proposal-shaped boxes, one thread each, interleaved rounds. Also prints how far
 * the three agree on the first image's crops.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from '../../core/learn/random';
import type { RgbImage } from '../../core/image/raster';
import { IMAGENET_MEAN_BGR } from '../../model/architecture';
import { useNodeBackend } from '../../model/node';
import { RCNN_WARP, type WarpMethod, createWarpSource, warpProposals } from '../../model/warp';
import { loadImageFile } from '../io';
import { PYTHON, REPO_ROOT, defaultDataset, proposalLikeBoxes, writePpm } from './shared';
import { type BenchTarget, benchNumber, formatTable, median } from './types';

const SCRIPT = join(REPO_ROOT, 'scripts/bench/opencv_warp.py');
const BATCH = 16;

/** All crops of one image, in batches of 16, each read back (the work done, not just queued). */
function warpImage(img: RgbImage, boxes: Float32Array, method: WarpMethod, keepFirst = false): Float32Array | null {
  const src = createWarpSource(img, { channelOrder: 'BGR', mean: IMAGENET_MEAN_BGR });
  const n = boxes.length >> 2;
  const S = RCNN_WARP.size;
  const kept = keepFirst ? new Float32Array(n * S * S * 3) : null;
  for (let s = 0; s < n; s += BATCH) {
    const t = warpProposals(src, boxes.subarray(4 * s, 4 * Math.min(n, s + BATCH)), RCNN_WARP, method);
    const d = t.dataSync() as Float32Array;
    kept?.set(d, s * S * S * 3);
    t.dispose();
  }
  src.dispose();
  return kept;
}

function diffStats(a: Float32Array, b: Float32Array): { mean: number; p99: number } {
  const d = new Float32Array(a.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += d[i] = Math.abs(a[i] - b[i]);
  d.sort();
  return { mean: sum / a.length, p99: d[Math.floor(0.99 * (d.length - 1))] };
}

export const warpBench: BenchTarget = {
  name: 'warp',
  summary: "R-CNN's warp of proposals to 227 x 227 crops/s, 1 thread: tfjs-wasm ops (cropAndResize + mask) and JavaScript into the batch vs OpenCV warpAffine (Python), on the same images and boxes.",
  optionsHelp: '--images N (default 8) --boxes N per image (default 256) --rounds 3 --dataset DIR (default ../shared/datasets/fruit-animals) --no-opencv',
  async run({ options, stdout, stderr }) {
    const nImages = benchNumber(options, 'images', 8, { min: 1, integer: true });
    const nBoxes = benchNumber(options, 'boxes', 256, { min: 1, integer: true });
    const rounds = benchNumber(options, 'rounds', 3, { min: 1, integer: true });
    const dataset = String(options.dataset ?? defaultDataset());
    await useNodeBackend('wasm');
    const files = readdirSync(join(dataset, 'JPEGImages')).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().slice(0, nImages);
    const rand = mulberry32(1);
    const images = files.map((f) => loadImageFile(join(dataset, 'JPEGImages', f)).image);
    const boxes = images.map((img) => proposalLikeBoxes(nBoxes, rand, img.width, img.height));
    const crops = nBoxes * images.length;

    const dir = mkdtempSync(join(tmpdir(), 'rcnn-warp-bench-'));
    try {
      const opencvRuns: number[] = [];
      let opencvNote = '';
      const runOpenCv = options['no-opencv'] === undefined;
      if (runOpenCv) {
        const items = images.map((img, i) => {
          writePpm(join(dir, `${i}.ppm`), img);
          writeFileSync(join(dir, `${i}.f32`), boxes[i]);
          return { ppm: join(dir, `${i}.ppm`), boxes: join(dir, `${i}.f32`) };
        });
        writeFileSync(join(dir, 'images.json'), JSON.stringify(items));
      }
      const times: Record<WarpMethod, number[]> = { tensor: [], cpu: [] };
      const timeTfjs = (m: WarpMethod) => {
        const t0 = performance.now();
        images.forEach((img, i) => warpImage(img, boxes[i], m));
        times[m].push(performance.now() - t0);
      };
      timeTfjs('tensor'); // warm-up (kernels, JIT)
      timeTfjs('cpu');
      times.tensor.length = times.cpu.length = 0;
      for (let r = 0; r < rounds; r++) {
        stderr(`  round ${r + 1}/${rounds}\n`);
        timeTfjs('tensor');
        timeTfjs('cpu');
        if (runOpenCv) {
          const p = spawnSync(PYTHON, [SCRIPT, dir, '--rounds', '1'], { encoding: 'utf8' });
          if (p.status !== 0) {
            opencvNote = `OpenCV peer failed: ${(p.stderr || p.error?.message || '').trim().split('\n').pop()}`;
            break;
          }
          const res = JSON.parse(p.stdout.trim().split('\n').pop()!) as { ms: number[]; opencv: string };
          opencvRuns.push(res.ms[0]);
          opencvNote = `OpenCV ${res.opencv} cv2.warpAffine (INTER_LINEAR, inverse map, constant border = mean), 1 thread, timed inside Python`;
        }
      }
      const ocv = median(opencvRuns);
      const rows: Array<Array<string | number>> = [['warp', 'crops/s', 'ms per batch of 16', 'vs OpenCV']];
      const row = (name: string, ms: number) => rows.push([name, crops / (ms / 1000), (ms / crops) * BATCH, opencvRuns.length ? `${(ocv / ms).toFixed(2)}x` : '']);
      row('tfjs-wasm ops (cropAndResize + mask)', median(times.tensor));
      row('JavaScript into the batch', median(times.cpu));
      if (opencvRuns.length) row('OpenCV warpAffine', ocv);
      stdout(formatTable(rows));

      // Agreement on the first image's crops (0-255 pixel values, mean subtracted).
      const js = warpImage(images[0], boxes[0], 'cpu', true)!;
      const ops = warpImage(images[0], boxes[0], 'tensor', true)!;
      const agree: Array<Array<string | number>> = [['compared with JavaScript', 'mean |diff|', '99th percentile |diff|']];
      const a1 = diffStats(js, ops);
      agree.push(['tfjs-wasm ops', a1.mean, a1.p99]);
      if (opencvRuns.length) {
        const raw = readFileSync(join(dir, 'opencv_first.f32'));
        const a2 = diffStats(js, new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4));
        agree.push(['OpenCV warpAffine', a2.mean, a2.p99]);
      }
      stdout('\n' + formatTable(agree));
      stdout(`- ${images.length} images of ${dataset.split('/').pop()}, ${nBoxes} proposal-shaped boxes each (seed 1), batches of ${BATCH}; medians of ${rounds} interleaved rounds; tfjs ${tf.version_core} wasm, 1 thread; each tfjs batch read back\n`);
      if (opencvNote) stdout(`- ${opencvNote}; it differs from R-CNN's warp by its fixed-point interpolation (1/32-pixel positions) and in the half pixel at the image border (blending towards the mean instead of holding the border pixel)\n`);
      return 0;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
