import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend } from './node';
import { caffeNetArch, pool5Length } from './architecture';
import { CaffeNet, flattenChw, gaussian, randomWeights } from './caffenet';
import { maxRelativeError, nchw, nhwcToNchw, refRoiPool } from './cpuReference';
import { FAST_RCNN_ROI_POOL, boxesToRois, cRound, maxBinCells, roiBinBounds, roiMaxPoolNhwc } from '../core/roiPool';
import { roiPoolGather } from './roiPoolTf';
import { computeConvMap, extractRoiFeatures, roiImageSize, roiImageSizes, roiLevels, sharedConvMacs } from './sharedConv';
import { extractAll } from './extract';
import { RcnnModel } from './rcnnModel';
import type { ModelPackage } from './package';
import type { RgbImage } from '../core/image/raster';

beforeAll(async () => {
  await useNodeBackend('wasm');
});

const P = 6;
const SS = 1 / 16;

/** A random map, NHWC, with negative values too (the pooling must not assume a ReLU). */
function randomMap(h: number, w: number, c: number, seed: number): Float32Array {
  const g = gaussian(seed);
  return Float32Array.from({ length: h * w * c }, () => g());
}

/** Boxes in image pixel indices (x2, y2 inclusive) covering the edge cases of the rules. */
function edgeRois(h: number, w: number): number[][] {
  const W = w * 16, H = h * 16;
  return [
    [0, 0, W - 1, H - 1], // the whole image
    [0, 0, 5, 7], // smaller than one cell: a 1 x 1 RoI, every bin the same cell
    [W - 40, H - 30, W + 200, H + 150], // past the bottom-right border: clipped, trailing bins empty
    [W + 50, H + 50, W + 300, H + 300], // wholly outside: every bin empty -> 0
    [-100, -60, 40, 30], // starts before the map
    [-24, -8, 200, 152], // negative halves: round(-1.5) = -2 and round(-0.5) = -1 in C
    [23.5, 8, 23.5 + 16 * 13 - 1, 8 + 16 * 5 - 1], // 13 x 5 cells: bins overlap by one cell
    [40, 40, 30, 30], // x2 < x1: malformed, forced to 1 x 1
    [7.99, 24, 56.01, 104], // corners rounding half away from zero
    [8, 8, 8 + 16 * 2, 8 + 16 * 3], // fewer cells than bins: bins of 0.5 cells share cells
  ];
}

describe('RoI pooling (Fast R-CNN roi_pooling_layer rules)', () => {
  it('C round takes halves away from zero, unlike Math.round', () => {
    expect([cRound(2.5), cRound(-2.5), cRound(0.49), cRound(-0.5)]).toEqual([3, -3, 0, -1]);
    expect(Math.round(-2.5)).toBe(-2);
  });

  it('bins of the whole 227 px image: 15 cells by the rounding, 2 more than conv5 has, so the last bins are clipped', () => {
    const b = roiBinBounds(boxesToRois([0, 0, 227, 227], 1), 13, 13);
    // 226 / 16 = 14.125 -> 14: cells 0..14, bin size 2.5.
    expect(Array.from(b.subarray(0, 12))).toEqual([0, 2, 5, 7, 10, 12, 3, 5, 8, 10, 13, 13]);
    // A RoI of 13 cells (x2 inclusive 199 -> round(12.4) = 12) gives exactly pool5's 3x3/2 windows.
    const g = roiBinBounds(boxesToRois([0, 0, 200, 200], 1), 13, 13);
    expect(Array.from(g.subarray(0, 12))).toEqual([0, 2, 4, 6, 8, 10, 3, 5, 7, 9, 11, 13]);
  });

  it('the CPU loop and the tfjs gather match the transliterated Caffe layer on random maps, edge cases included', async () => {
    for (const [h, w, c, seed] of [[13, 17, 5, 1], [22, 30, 8, 2], [3, 4, 3, 3]]) {
      const map = randomMap(h, w, c, seed);
      const rand = gaussian(seed + 10);
      const rois = edgeRois(h, w);
      for (let i = 0; i < 20; i++) {
        const x1 = Math.abs(rand()) * w * 8, y1 = Math.abs(rand()) * h * 8;
        rois.push([x1, y1, x1 + Math.abs(rand()) * w * 10, y1 + Math.abs(rand()) * h * 10]);
      }
      const flat = Float32Array.from(rois.flat());
      const ref = refRoiPool(nchw(1, c, h, w, nhwcToNchw(map, 1, h, w, c)), rois.flatMap((r) => [0, ...r]), P, SS);
      const bounds = roiBinBounds(flat, h, w, FAST_RCNN_ROI_POOL);
      const n = rois.length;
      const cpu = roiMaxPoolNhwc(map, h, w, c, bounds, P, 0, n);
      expect(Array.from(cpu)).toEqual(Array.from(ref));
      // The empty-bin cases really occur: the RoI wholly outside is all zeros.
      expect(Array.from(cpu.subarray(3 * c * 36, 4 * c * 36)).every((v) => v === 0)).toBe(true);
      // An offset batch (first, count) reads the same rows.
      expect(Array.from(roiMaxPoolNhwc(map, h, w, c, bounds, P, 5, 4))).toEqual(Array.from(ref.subarray(5 * c * 36, 9 * c * 36)));
      const t = tf.tensor4d(map, [1, h, w, c]);
      const g = roiPoolGather(t, bounds, P, 0, n, maxBinCells(bounds, P, 0, n));
      const gd = await g.data();
      let diff = 0;
      for (let i = 0; i < gd.length; i++) diff = Math.max(diff, Math.abs(gd[i] - ref[i]));
      expect(diff).toBe(0);
      tf.dispose([t, g]);
    }
  });

  it('a RoI over conv5\'s whole grid at the net\'s input size gives the net\'s own pool5 (both pooling methods)', async () => {
    const arch = caffeNetArch({ width: 0.125, numClasses: 0 });
    const net = new CaffeNet(arch, randomWeights(arch, { seed: 3 }), { trainable: false });
    const g = gaussian(5);
    const x = tf.tensor4d(Float32Array.from({ length: 227 * 227 * 3 }, () => 50 * g()), [1, 227, 227, 3]);
    const o = net.forward(x, { outputs: ['conv5', 'pool5'] });
    const [, h, w, c] = o.conv5!.shape;
    expect([h, w]).toEqual([13, 13]);
    const pool5 = flattenChw(o.pool5 as tf.Tensor4D);
    const want = await pool5.data();
    const bounds = roiBinBounds(boxesToRois([0, 0, 200, 200], 1), h, w);
    const cpu = roiMaxPoolNhwc((await o.conv5!.data()) as Float32Array, h, w, c, bounds, P, 0, 1);
    expect(Array.from(cpu)).toEqual(Array.from(want));
    const gat = roiPoolGather(o.conv5 as tf.Tensor4D, bounds, P, 0, 1, maxBinCells(bounds, P, 0, 1));
    expect(Array.from(await gat.data())).toEqual(Array.from(want));
    tf.dispose([x, o.conv5!, o.pool5!, pool5, gat]);
    net.dispose();
  });
});

describe('shared-convolution features', () => {
  const arch = caffeNetArch({ width: 0.125, numClasses: 3 });
  const D5 = pool5Length(arch);
  const C = 2;
  function pkg(): ModelPackage {
    const g = gaussian(8);
    return {
      name: 'roi',
      architecture: arch,
      classes: ['background', 'a', 'b'],
      weights: randomWeights(arch, { seed: 5 }),
      svm: { classes: ['a', 'b'], featureLayer: 'fc7', featureScale: 0.3, weights: Float32Array.from({ length: C * arch.fc7 }, () => g()), bias: Float32Array.from({ length: C }, () => g()) },
      boxRegressor: {
        classes: ['a', 'b'],
        featureLayer: 'pool5',
        featureScale: 0.2,
        weights: Float32Array.from({ length: C * D5 * 4 }, () => g() * 0.01),
        bias: Float32Array.from({ length: C * 4 }, () => g() * 0.1),
        targetMean: new Float32Array(C * 4),
        targetTransform: Float32Array.from({ length: C * 16 }, (_, i) => (i % 5 === 0 ? 0.1 : 0)),
      },
      provenance: { createdBy: 'test', createdAt: '' },
    };
  }
  const g = gaussian(2);
  const img: RgbImage = { width: 160, height: 120, data: Uint8Array.from({ length: 160 * 120 * 3 }, (_, i) => Math.max(0, Math.min(255, 128 + 50 * g() + ((i / 3) % 160)))) };
  const props = Float32Array.from([0, 0, 160, 120, 10, 20, 90, 100, 100, 50, 158, 119, 5, 5, 12, 15, 40, 30, 140, 80, 60, 60, 61, 61, 0, 100, 160, 120]);

  it('sizes the photo as Fast R-CNN (600 / 1000) or as selective search (500 wide), never below the crop size', () => {
    expect(roiImageSize(500, 375, 'fast-rcnn')).toMatchObject({ width: 800, height: 600 });
    expect(roiImageSize(2000, 500, 'fast-rcnn')).toMatchObject({ width: 1000, height: 250, scale: 0.5 });
    expect(roiImageSize(1000, 750, 'search')).toMatchObject({ width: 500, height: 375, scale: 0.5 });
    expect(roiImageSize(1000, 100, 'search', 227)).toMatchObject({ width: 2270, height: 227 });
    // Multiply-adds of the bundled width at 500 x 375 (search scale): conv once, fc per RoI.
    const bundled = caffeNetArch({ convFilters: [24, 64, 96, 96, 64], fcWidth: 1024, numClasses: 6 });
    const m = sharedConvMacs(bundled, 500, 375, 2000, 'search');
    expect(m.conv / 1e6).toBeCloseTo(233.4, 0);
    expect(m.fc / 2000 / 1e6).toBeCloseTo(3.4, 1);
  });

  it('pools each proposal out of conv5 of the resized photo, then runs fc6, fc7 and the heads; both pooling methods agree; no tensor left', async () => {
    const model = new RcnnModel(pkg());
    const before = tf.memory().numTensors;
    const r = await extractAll(model, img, { boxes: props, batchSize: 3, features: 'roi', roi: { scale: 'search', pool: 'cpu' } });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.batches).toBe(3);
    // Reference: conv5 of the photo at the scale roiImageSize gives, pooled by the Caffe transliteration.
    const map = await computeConvMap(model, img, { scale: 'search', pool: 'cpu' });
    const l = map.levels[0];
    expect(map.levels.length).toBe(1);
    expect([l.inputWidth, l.inputHeight]).toEqual([500, 375]); // selective search's image: 500 wide
    const s = l.scale;
    const rois: number[] = [];
    for (let i = 0; i < props.length; i += 4) rois.push(0, props[i] * s, props[i + 1] * s, (props[i + 2] - 1) * s, (props[i + 3] - 1) * s);
    const ref = refRoiPool(nchw(1, map.channels, l.height, l.width, nhwcToNchw(l.host!, 1, l.height, l.width, map.channels)), rois, P, SS);
    expect(maxRelativeError(r.pool5!, ref)).toBe(0);
    map.dispose();
    const p5 = tf.tensor2d(ref, [props.length / 4, D5]);
    const fc7 = model.net.forwardFromPool5(p5, { outputs: ['fc7'] }).fc7!;
    expect(maxRelativeError(r.fc7!, await fc7.data())).toBeLessThan(1e-5);
    const scores = model.heads.scores(fc7 as tf.Tensor2D);
    expect(maxRelativeError(r.svmScores!, await scores.data())).toBeLessThan(1e-5);
    tf.dispose([p5, fc7, scores]);
    // The tfjs gather formulation (what WebGPU / WebGL run) gives the same features.
    const gat = await extractAll(model, img, { boxes: props, batchSize: 4, features: 'roi', roi: { scale: 'search', pool: 'gather' } });
    expect(maxRelativeError(gat.pool5!, r.pool5!)).toBe(0);
    expect(maxRelativeError(gat.bboxDeltas!, r.bboxDeltas!)).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
    // The warp path's features are not these (different inputs to fc6): same shapes, other values.
    const warp = await extractAll(model, img, { boxes: props, batchSize: 4 });
    expect(warp.pool5!.length).toBe(r.pool5!.length);
    expect(maxRelativeError(warp.pool5!, r.pool5!)).toBeGreaterThan(0.1);
    model.dispose();
  });

  it('pyramid: pools each proposal from the scale where its area is closest to 224 x 224, on the CPU and with the gather alike', async () => {
    expect(roiImageSizes(500, 375, 'pyramid').map((s) => `${s.width}x${s.height}`)).toEqual(['640x480', '768x576', '917x688', '1152x864', '1600x1200']);
    expect(roiImageSizes(2000, 500, 'pyramid').at(-1)).toMatchObject({ width: 2000, height: 500 }); // longer side at most 2000, repeats dropped
    // A 100 x 100 box at scales 1.28 .. 3.2: 224 / 100 = 2.24 is nearest 2.304 (864 / 375).
    expect(Array.from(roiLevels([0, 0, 100, 100, 0, 0, 400, 300, 0, 0, 30, 20], [1.28, 1.536, 1.835, 2.304, 3.2]))).toEqual([3, 0, 4]);
    const model = new RcnnModel(pkg());
    // One pyramid (five convolutions of the photo, the slow part), pooled both ways.
    const onDevice = await computeConvMap(model, img, { scale: 'pyramid', pool: 'gather' });
    expect(onDevice.levels.length).toBe(5);
    const levels = await Promise.all(onDevice.levels.map(async (l) => ({ ...l, tensor: null, host: (await l.tensor!.data()) as Float32Array })));
    const onHost = { ...onDevice, levels, pool: 'cpu' as const, dispose: () => {} };
    const run = async (m: typeof onDevice, batchSize: number) => {
      const rows: Float32Array[] = [];
      for await (const b of extractRoiFeatures(model, m, { boxes: props, batchSize, fc7: false, svmScores: false, bboxDeltas: false })) rows.push(b.pool5!);
      return Float32Array.from(rows.flatMap((r) => Array.from(r)));
    };
    const cpu = await run(onHost, 4);
    const level = roiLevels(props, levels.map((l) => l.scale));
    expect(new Set(level).size).toBeGreaterThan(1); // the test's boxes use several levels
    const D = onDevice.channels * 36;
    for (let i = 0; i < props.length / 4; i++) {
      const l = levels[level[i]];
      const s = l.scale;
      const ref = refRoiPool(nchw(1, onDevice.channels, l.height, l.width, nhwcToNchw(l.host, 1, l.height, l.width, onDevice.channels)), [0, props[4 * i] * s, props[4 * i + 1] * s, (props[4 * i + 2] - 1) * s, (props[4 * i + 3] - 1) * s], P, SS);
      expect(Array.from(cpu.subarray(i * D, (i + 1) * D))).toEqual(Array.from(ref));
    }
    const before = tf.memory().numTensors;
    expect(maxRelativeError(await run(onDevice, 5), cpu)).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    onDevice.dispose();
    model.dispose();
  });

  it('keeps a conv map across requests, reports where the time went, stops on abort, refuses crops', async () => {
    const model = new RcnnModel(pkg());
    const map = await computeConvMap(model, img, { scale: 'fast-rcnn' });
    expect(map.levels[0].inputHeight).toBe(600);
    const parts = [];
    for await (const b of extractRoiFeatures(model, map, { boxes: props, batchSize: 4 })) parts.push(b);
    expect(parts.map((p) => p.count)).toEqual([4, 3]);
    expect(parts[0].timing).toMatchObject({ conv: 0 });
    expect(parts[0].timing!.fc).toBeGreaterThan(0);
    const ac = new AbortController();
    ac.abort();
    await expect(extractRoiFeatures(model, map, { boxes: props, signal: ac.signal }).next()).rejects.toMatchObject({ name: 'AbortError' });
    await expect(extractAll(model, img, { boxes: props, features: 'roi', crops: true })).rejects.toThrow(/warp path/);
    map.dispose();
    model.dispose();
  });
});
