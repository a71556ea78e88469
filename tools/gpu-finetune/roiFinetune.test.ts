/**
 * roi_finetune.py (Fast R-CNN's fine-tuning through RoI pooling) on this machine's CPU:
 * - its RoI pooling is the app's (src/core/roiPool.ts) on RoIs chosen to hit every rule (C's
 *   rounding of negative halves, RoIs past the border, malformed and one-cell RoIs), and its
 *   backward sends each bin's gradient to that bin's arg-max cell, as Caffe's layer does;
 * - on the same decoded photo, its photo resize, conv1..conv5, RoI pooling and fc7 agree with the
 *   app's shared-convolution path (sharedConv.ts, tfjs-wasm) at the `fast-rcnn` scale;
 * - a short run on the tiny synthetic dataset writes a cnn.bin that import.ts packages, and a run
 *   stopped at its checkpoint and resumed ends on the same bytes.
 * Needs Python 3 with PyTorch, NumPy and Pillow (see finetune.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportSyntheticData } from './testData';
import { caffeNetArch } from '../../src/model/architecture';
import { randomWeights } from '../../src/model/caffenet';
import { loadModelPath, savePackageDir } from '../../src/model/packageNode';
import { useNodeBackend } from '../../src/model/node';
import { RcnnModel } from '../../src/model/rcnnModel';
import { extractRoiFeatures } from '../../src/model/sharedConv';
import { FAST_RCNN_ROI_POOL, boxesToRois, roiBinBounds, roiMaxPoolNhwc } from '../../src/core/roiPool';
import { parseNpy } from '../../src/cli/npy';
import { resizeRgb } from '../../src/core/image/resize';
import { mulberry32 } from '../../src/core/learn/random';
import { python } from './python';

const ROOT = new URL('../../', import.meta.url).pathname;
const P = FAST_RCNN_ROI_POOL.pooled;

describe('tools/gpu-finetune/roi_finetune.py on the CPU', () => {
  it('pools RoIs exactly as the app does, forward and backward', () => {
    const [C, H, W] = [5, 9, 13];
    const rand = mulberry32(7);
    const map = new Float32Array(H * W * C).map(() => rand() * 4 - 2); // NHWC, as the app holds conv5
    // Photo boxes at scale 1 (conv5 cells of 16 px): negative half cells (-8 -> C's round -1 ->
    // clipped), past the border, malformed (x2 < x1), one pixel, exactly 13 cells, random.
    const boxes = [-8, -8, 40, 40, 150, 100, 260, 200, 100, 100, 60, 60, 17, 17, 18, 18, 0, 0, 201, 201, 24, 8, 72, 136, 199, 7, 209, 143];
    for (let i = 0; i < 12; i++) {
      const x = rand() * 180 - 10, y = rand() * 120 - 10;
      boxes.push(x, y, x + 4 + rand() * 120, y + 4 + rand() * 100);
    }
    const R = boxes.length / 4;
    const bounds = roiBinBounds(boxesToRois(boxes, 1), H, W, FAST_RCNN_ROI_POOL);
    const ours = roiMaxPoolNhwc(map, H, W, C, bounds, P, 0, R);
    // Max pooling's backward of sum(output): each non-empty bin adds 1 to its arg-max cell.
    const grad = new Float32Array(H * W * C);
    for (let r = 0; r < R; r++)
      for (let ph = 0; ph < P; ph++)
        for (let pw = 0; pw < P; pw++) {
          const b = r * 4 * P;
          const [hs, he, ws, we] = [bounds[b + ph], bounds[b + P + ph], bounds[b + 2 * P + pw], bounds[b + 3 * P + pw]];
          for (let c = 0; c < C; c++) {
            let best = -1;
            for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) if (best < 0 || map[(h * W + w) * C + c] > map[best]) best = (h * W + w) * C + c;
            if (best >= 0) grad[best] += 1;
          }
        }
    const io = join(ROOT, '.cache', `roi-pool-parity-${process.pid}.json`);
    writeFileSync(io, JSON.stringify({ map: Array.from(map), boxes, C, H, W }));
    const out = JSON.parse(
      python([
        '-c',
        [
          'import json, sys, numpy as np, torch',
          'sys.path.insert(0, "tools/gpu-finetune")',
          'from roi_finetune import roi_pool, boxes_to_rois',
          'd = json.load(open(sys.argv[1]))',
          'C, H, W = d["C"], d["H"], d["W"]',
          'x = torch.tensor(np.array(d["map"], np.float32).reshape(H, W, C)).permute(2, 0, 1).contiguous().requires_grad_(True)',
          'b = np.array(d["boxes"], np.float64).reshape(-1, 4)',
          'y = roi_pool(x, boxes_to_rois(b, 1.0), groups=3)',
          'y.sum().backward()',
          'print(json.dumps(dict(y=y.detach().numpy().ravel().tolist(), g=x.grad.permute(1, 2, 0).numpy().ravel().tolist())))',
        ].join('\n'),
        io,
      ]),
    );
    expect(out.y.length).toBe(ours.length);
    let maxDiff = 0;
    for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out.y[i] - ours[i]));
    expect(maxDiff).toBe(0);
    let gradDiff = 0;
    for (let i = 0; i < grad.length; i++) gradDiff = Math.max(gradDiff, Math.abs(out.g[i] - grad[i]));
    expect(gradDiff).toBe(0);
    // The malformed RoI and the one-pixel RoI are one cell: all 36 bins hold that cell's values.
    expect(Array.from(ours.subarray(3 * C * P * P, 3 * C * P * P + P * P))).toEqual(new Array(P * P).fill(map[(1 * W + 1) * C]));
  });

  it('matches the app\'s shared-convolution features, trains, resumes and imports', async () => {
    const { tmp, data, meta } = exportSyntheticData('roi-finetune-', 9, 50);
    const arch = caffeNetArch({ width: 0.1, numClasses: 3 });
    const init = join(tmp, 'init');
    await savePackageDir({ name: 'init', architecture: arch, classes: meta.classes, weights: randomWeights(arch, { seed: 1 }), provenance: { createdBy: 'roiFinetune.test.ts', createdAt: new Date(0).toISOString() } }, init);

    // 1. Parity: 16 proposals of the first validation photo, decoded by Pillow for both sides.
    const par = join(tmp, 'parity');
    python(['tools/gpu-finetune/roi_finetune.py', '--data', data, '--init', init, '--out', par, '--iterations', '1', '--parity', '--device', 'cpu']);
    const pool5Torch = parseNpy(readFileSync(join(par, 'parity-pool5.npy')));
    const fc7Torch = parseNpy(readFileSync(join(par, 'parity-fc7.npy')));
    const e = meta.valEval[0];
    const file = join(data, meta.images[e.image].file);
    const raw = join(tmp, 'pixels.rgb');
    const [h, w] = python(['-c', 'import sys, numpy as np; from PIL import Image; a = np.asarray(Image.open(sys.argv[1]).convert("RGB")); open(sys.argv[2], "wb").write(a.tobytes()); print(a.shape[0], a.shape[1])', file, raw]).trim().split(' ').map(Number);
    const img = { width: w, height: h, data: new Uint8Array(readFileSync(raw)) };
    const pb = readFileSync(join(data, 'val-proposals.f32'));
    const props = new Float32Array(pb.buffer.slice(pb.byteOffset, pb.byteOffset + pb.byteLength)).slice(4 * e.proposalOffset, 4 * (e.proposalOffset + 16));
    // Pillow's resize (BOX when shrinking, BILINEAR when enlarging) and resize.ts round to bytes at
    // different points: a pixel may differ by one level, no more.
    const input = parseNpy(readFileSync(join(par, 'parity-input.npy'))); // [1, 3, H, W], BGR minus the mean
    const [, , H, W] = input.shape;
    const resized = resizeRgb(img, W, H);
    const torchPixels = new Uint8Array(H * W * 3);
    for (let i = 0; i < H * W; i++) for (let c = 0; c < 3; c++) torchPixels[3 * i + 2 - c] = Math.round(input.data[c * H * W + i] + arch.mean[c]);
    let pixelDiff = 0;
    for (let i = 0; i < torchPixels.length; i++) pixelDiff = Math.max(pixelDiff, Math.abs(torchPixels[i] - resized.data[i]));
    expect(pixelDiff).toBeLessThanOrEqual(1);
    // The rest on the same resized pixels (the app sees a photo already at the scale, and boxes whose
    // RoIs s * [x1, y1, x2 - 1, y2 - 1] are the original boxes' at scale s): conv1..conv5, RoI
    // pooling and fc6 / fc7 agree to float32 rounding.
    const s = W / w;
    expect(H / h).toBeCloseTo(s, 6);
    await useNodeBackend('wasm');
    const model = new RcnnModel(await loadModelPath(init));
    const pool5: number[] = [];
    const fc7: number[] = [];
    for await (const b of extractRoiFeatures(model, { width: W, height: H, data: torchPixels }, { boxes: props.map((v, i) => (i % 4 < 2 ? v * s : (v - 1) * s + 1)), svmScores: false, bboxDeltas: false, roi: { scale: 'fast-rcnn', pool: 'cpu' } })) {
      pool5.push(...b.pool5!);
      fc7.push(...b.fc7!);
    }
    model.dispose();
    expect(pool5Torch.shape).toEqual([16, pool5.length / 16]);
    const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let d = 0, m = 0;
      for (let i = 0; i < a.length; i++) {
        d = Math.max(d, Math.abs(a[i] - b[i]));
        m = Math.max(m, Math.abs(b[i]));
      }
      expect(m).toBeGreaterThan(0);
      return d / m;
    };
    expect(rel(pool5Torch.data, pool5), 'pool5').toBeLessThan(1e-4);
    expect(rel(fc7Torch.data, fc7), 'fc7').toBeLessThan(1e-4);

    // 2. Four iterations, and the same run stopped at its checkpoint after two and resumed.
    const args = (out: string) => ['tools/gpu-finetune/roi_finetune.py', '--data', data, '--init', init, '--out', out, '--iterations', '4', '--eval-every', '4', '--rois', '16', '--device', 'cpu', '--seed', '3'];
    const run = join(tmp, 'run');
    python(args(run));
    const log = JSON.parse(readFileSync(join(run, 'finetune-log.json'), 'utf8'));
    expect(log.kind).toBe('roi');
    expect(log.iterations).toBe(4);
    expect(log.classes).toEqual(meta.classes);
    for (const entry of log.log) expect(Number.isFinite(entry.loss)).toBe(true);
    expect(log.fastRcnnDetector.withRegression.map).toBeGreaterThanOrEqual(0);
    const resumed = join(tmp, 'resumed');
    expect(python([...args(resumed), '--checkpoint-every', '2', '--stop-after', '2'])).toContain('stopping after iteration 2 of 4');
    expect(existsSync(join(resumed, 'cnn.bin'))).toBe(false);
    expect(python([...args(resumed), '--checkpoint-every', '2'])).toContain('resuming from the checkpoint at iteration 2 of 4');
    expect(readFileSync(join(resumed, 'cnn.bin')).equals(readFileSync(join(run, 'cnn.bin')))).toBe(true);
    // conv1 is frozen (Fast R-CNN), the rest has moved.
    const before = await loadModelPath(init);
    const pkgDir = join(tmp, 'pkg');
    execFileSync('node', ['--import', 'tsx', 'tools/gpu-finetune/import.ts', run, init, pkgDir], { cwd: ROOT, stdio: 'pipe' });
    const after = await loadModelPath(pkgDir);
    expect(after.classes).toEqual(meta.classes);
    expect(Array.from(after.weights['conv1.weight']!.data)).toEqual(Array.from(before.weights['conv1.weight']!.data));
    expect(Array.from(after.weights['fc6.weight']!.data)).not.toEqual(Array.from(before.weights['fc6.weight']!.data));
    expect(after.provenance?.notes?.[0]).toMatch(/roi_finetune\.py/);
  }, 600_000);
});
