/**
 * finetune.py (the PyTorch trainer that made the bundled CNN on a GPU) on this machine's CPU, on
 * the tiny synthetic dataset: a short run from scratch writes a cnn.bin that import.ts turns into
 * a package the app loads, and on the same windows and pixels PyTorch and the app (cpuWarp's
 * warpBoxInto, CaffeNet on tfjs-wasm) agree to float precision, crops and fc8.
 *
 * Needs Python 3 with PyTorch, NumPy and Pillow (Debian: apt-get install python3-torch
 * python3-numpy python3-pil; .ci/run installs them). PYTHON names the interpreter (default
 * /usr/bin/python3 where it exists, else python3).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import * as tf from '@tensorflow/tfjs-core';
import { exportSyntheticData } from './testData';
import { caffeNetArch } from '../../src/model/architecture';
import { CaffeNet, randomWeights } from '../../src/model/caffenet';
import { loadModelPath, savePackageDir } from '../../src/model/packageNode';
import { useNodeBackend } from '../../src/model/node';
import { warpBoxInto } from '../../src/model/finetune/cpuWarp';
import { parseNpy } from '../../src/cli/npy';
import { PYTHON, python } from './python';

const ROOT = new URL('../../', import.meta.url).pathname;
const S = 227;

describe('tools/gpu-finetune/finetune.py on the CPU', () => {
  it('trains, imports into a package, and matches the app\'s warp and CaffeNet on the same windows', async () => {
    const probe = (() => {
      try {
        return execFileSync(PYTHON, ['-c', 'import torch, numpy, PIL; print(torch.__version__)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
      } catch {
        return null;
      }
    })();
    expect(probe, `${PYTHON} cannot import torch, numpy and PIL: install them (Debian: apt-get install python3-torch python3-numpy python3-pil) or set PYTHON`).not.toBeNull();

    const { tmp, data } = exportSyntheticData('gpu-finetune-', 9, 50);
    // A small layout to take the architecture from (finetune.py sizes fc8 for the data's classes).
    const arch = caffeNetArch({ width: 0.1, numClasses: 6 });
    const layout = join(tmp, 'layout');
    await savePackageDir({ name: 'layout', architecture: arch, classes: ['background', 'a', 'b', 'c', 'd', 'e'], weights: randomWeights(arch, { seed: 1 }), provenance: { createdBy: 'finetune.test.ts', createdAt: new Date(0).toISOString() } }, layout);

    // 1. Four iterations from scratch.
    const run = join(tmp, 'run');
    python(['tools/gpu-finetune/finetune.py', '--data', data, '--arch-from', layout, '--out', run, '--iterations', '4', '--eval-every', '4', '--device', 'cpu', '--seed', '3']);
    const log = JSON.parse(readFileSync(join(run, 'finetune-log.json'), 'utf8'));
    expect(log.iterations).toBe(4);
    expect(log.classes).toEqual(['background', 'blue', 'red']);
    expect(log.shapes['fc8.weight']).toEqual([arch.fc7, 3]);
    const losses = (log.log as Array<{ loss?: number }>).map((e) => e.loss).filter((v): v is number => v !== undefined);
    expect(losses.length).toBeGreaterThan(0);
    for (const l of losses) expect(Number.isFinite(l)).toBe(true);
    expect(log.softmaxMap).toBeGreaterThanOrEqual(0);

    // 1b. The same run stopped after iteration 2 (checkpoint) and resumed by the same command:
    //     it draws the same mini-batches and dropout masks, so it ends on the same bytes.
    const resumed = join(tmp, 'resumed');
    const again = ['tools/gpu-finetune/finetune.py', '--data', data, '--arch-from', layout, '--out', resumed, '--iterations', '4', '--eval-every', '4', '--device', 'cpu', '--seed', '3', '--checkpoint-every', '2'];
    expect(python([...again, '--stop-after', '2'])).toContain('stopping after iteration 2 of 4');
    expect(existsSync(join(resumed, 'cnn.bin'))).toBe(false);
    expect(python(again)).toContain('resuming from the checkpoint at iteration 2 of 4');
    expect(readFileSync(join(resumed, 'cnn.bin')).equals(readFileSync(join(run, 'cnn.bin')))).toBe(true);

    // 2. import.ts: a package for the data's classes that the app's loader accepts.
    const pkgDir = join(tmp, 'pkg');
    execFileSync('node', ['--import', 'tsx', 'tools/gpu-finetune/import.ts', run, layout, pkgDir], { cwd: ROOT, stdio: 'pipe' });
    const pkg = await loadModelPath(pkgDir);
    expect(pkg.classes).toEqual(['background', 'blue', 'red']);
    expect(pkg.architecture.fc8).toBe(3);
    expect(pkg.weights['fc8.weight']!.shape).toEqual([arch.fc7, 3]);
    const bin = readFileSync(join(run, 'cnn.bin'));
    const head = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + 16));
    expect(Array.from(pkg.weights['conv1.weight']!.data.subarray(0, 4))).toEqual(Array.from(head));

    // 2b. Another layout from the same --arch-from (--conv-filters, --fc) and another weight decay:
    //     the log records the layout, and import.ts builds the package in it, not in ARCH_MODEL's.
    const wide = join(tmp, 'wide');
    python(['tools/gpu-finetune/finetune.py', '--data', data, '--arch-from', layout, '--out', wide, '--iterations', '2', '--eval-every', '2', '--device', 'cpu', '--conv-filters', '12,16,24,24,16', '--fc', '32', '--weight-decay', '0.002']);
    const wideLog = JSON.parse(readFileSync(join(wide, 'finetune-log.json'), 'utf8'));
    expect(wideLog.weightDecay).toBe(0.002);
    expect(wideLog.architecture.conv.conv1.filters).toBe(12);
    expect(wideLog.architecture.conv.conv5.filters).toBe(16);
    expect(wideLog.shapes['fc6.weight']).toEqual([16 * 6 * 6, 32]);
    const widePkgDir = join(tmp, 'wide-pkg');
    execFileSync('node', ['--import', 'tsx', 'tools/gpu-finetune/import.ts', wide, layout, widePkgDir], { cwd: ROOT, stdio: 'pipe' });
    const widePkg = await loadModelPath(widePkgDir);
    expect(widePkg.architecture.conv.conv2.filters).toBe(16);
    expect(widePkg.architecture.fc6).toBe(32);
    expect(widePkg.architecture.fc8).toBe(3);
    expect(widePkg.weights['conv3.weight']!.shape).toEqual([3, 3, 16, 24]);
    // A layout change with --init, or counts that do not fit a grouped conv, are refused.
    expect(() => python(['tools/gpu-finetune/finetune.py', '--data', data, '--init', pkgDir, '--out', join(tmp, 'x'), '--fc', '32', '--device', 'cpu'])).toThrow(/--arch-from/);
    expect(() => python(['tools/gpu-finetune/finetune.py', '--data', data, '--arch-from', layout, '--out', join(tmp, 'y'), '--conv-filters', '12,15,24,24,16', '--device', 'cpu'])).toThrow(/multiples of conv2's group 2/);

    // 3. Parity on 8 validation windows: PyTorch's crops and fc8 against the app's. The warp's context
    //    comes from the exported recipe (here changed from 16 to 8 px, on both sides), not from
    //    finetune.py; without a recipe it refuses to run.
    const N = 8;
    const par = join(tmp, 'parity');
    const metaPath = join(data, 'meta.json');
    const exported = JSON.parse(readFileSync(metaPath, 'utf8'));
    const PADDING = 8;
    writeFileSync(metaPath, JSON.stringify({ ...exported, recipe: undefined }));
    expect(() => python(['tools/gpu-finetune/finetune.py', '--data', data, '--init', pkgDir, '--out', par, '--parity', String(N), '--device', 'cpu'])).toThrow(/no 'recipe'.*export the data again/);
    writeFileSync(metaPath, JSON.stringify({ ...exported, recipe: { ...exported.recipe, warpPadding: PADDING } }));
    python(['tools/gpu-finetune/finetune.py', '--data', data, '--init', pkgDir, '--out', par, '--parity', String(N), '--device', 'cpu']);
    const crops = parseNpy(readFileSync(join(par, 'parity-crop.npy')));
    const fc8Torch = parseNpy(readFileSync(join(par, 'parity-fc8.npy')));
    expect(crops.shape).toEqual([N, 3, S, S]);
    expect(fc8Torch.shape).toEqual([N, 3]);

    const meta = JSON.parse(readFileSync(join(data, 'meta.json'), 'utf8'));
    const u16 = (f: string) => {
      const b = readFileSync(join(data, f));
      return new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    const boxes = u16('val-boxes.u16');
    const image = u16('val-image.u16');
    const sb = readFileSync(join(data, 'val-sample.i32'));
    const sample = new Int32Array(sb.buffer.slice(sb.byteOffset, sb.byteOffset + sb.byteLength));
    // The same pixels for both warps: Pillow's decode of each JPEG (as finetune.py reads them).
    const decoded = new Map<number, { width: number; height: number; data: Uint8Array }>();
    const pixels = (im: number) => {
      if (!decoded.has(im)) {
        const file = join(data, meta.images[im].file);
        const raw = join(tmp, `pixels-${im}.rgb`);
        const [h, w] = python(['-c', 'import sys, numpy as np; from PIL import Image; a = np.asarray(Image.open(sys.argv[1]).convert("RGB")); open(sys.argv[2], "wb").write(a.tobytes()); print(a.shape[0], a.shape[1])', file, raw]).trim().split(' ').map(Number);
        const jsDecode = jpeg.decode(readFileSync(file), { useTArray: true, formatAsRGBA: false });
        expect([jsDecode.width, jsDecode.height]).toEqual([w, h]);
        decoded.set(im, { width: w, height: h, data: new Uint8Array(readFileSync(raw)) });
      }
      return decoded.get(im)!;
    };
    const mine = new Float32Array(N * S * S * 3);
    const theirs = new Float32Array(N * S * S * 3); // PyTorch's NCHW crops as NHWC
    for (let k = 0; k < N; k++) {
      const w = sample[k];
      warpBoxInto(pixels(image[w]), Array.from(boxes.subarray(4 * w, 4 * w + 4), (v) => v / 8), arch.mean as [number, number, number], mine, k * S * S * 3, S, PADDING);
      for (let c = 0; c < 3; c++)
        for (let p = 0; p < S * S; p++) theirs[(k * S * S + p) * 3 + c] = crops.data[(k * 3 + c) * S * S + p];
    }
    let warpDiff = 0;
    for (let i = 0; i < mine.length; i++) warpDiff = Math.max(warpDiff, Math.abs(mine[i] - theirs[i]));
    expect(warpDiff, `warp max |TS - torch| ${warpDiff}`).toBeLessThan(0.01); // float32 rounding of the bilinear weights on 0-255 values

    await useNodeBackend('wasm');
    const net = new CaffeNet(pkg.architecture, pkg.weights);
    const x = tf.tensor4d(theirs, [N, S, S, 3]);
    const out = net.forward(x, { outputs: ['fc8'] }).fc8!;
    const fc8 = out.dataSync() as Float32Array;
    tf.dispose([x, out]);
    net.dispose();
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < fc8.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(fc8[i] - fc8Torch.data[i]));
      maxAbs = Math.max(maxAbs, Math.abs(fc8Torch.data[i]));
    }
    expect(maxAbs).toBeGreaterThan(0.01);
    expect(maxDiff, `fc8 max |tfjs - torch| ${maxDiff} of max |fc8| ${maxAbs}`).toBeLessThan(1e-4 * Math.max(1, maxAbs));
  }, 300_000);
});
