import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend } from './node';
import { IMAGENET_MEAN_BGR } from './architecture';
import { refWarp } from './cpuReference';
import { RCNN_WARP, createWarpSource, cropsToRgb, defaultWarpMethod, dilateBoxes, warpProposals } from './warp';
import type { RgbImage } from '../core/image/raster';

beforeAll(async () => {
  await useNodeBackend('wasm');
});

const arch = { channelOrder: 'BGR' as const, mean: IMAGENET_MEAN_BGR };

/** A smooth-plus-texture test image so interpolation errors show. */
function testImage(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = 3 * (y * w + x);
      data[i] = (x * 7 + y * 3) & 255;
      data[i + 1] = (x * x + y) & 255;
      data[i + 2] = (200 + ((x ^ y) & 31)) & 255;
    }
  return { width: w, height: h, data };
}

describe('warp', () => {
  it('dilates about the centre by 227 / 195', () => {
    const d = dilateBoxes([10, 20, 205, 60]);
    const s = 227 / 195;
    expect(d[2] - d[0]).toBeCloseTo(195 * s, 9);
    expect(d[3] - d[1]).toBeCloseTo(40 * s, 9);
    expect(0.5 * (d[0] + d[2])).toBeCloseTo(107.5, 9);
    expect(0.5 * (d[1] + d[3])).toBeCloseTo(40, 9);
  });

  for (const [backend, method] of [['wasm', 'tensor'], ['wasm', 'cpu'], ['cpu', 'tensor'], ['cpu', 'cpu']] as const) {
    it(`matches the CPU reference on ${backend}, ${method} warp: inside, straddling the border, outside, tiny and huge boxes`, async () => {
      await useNodeBackend(backend);
      const img = testImage(90, 70);
      const boxes = new Float32Array([
        10, 12, 60, 50, // inside with context inside
        0, 0, 90, 70, // whole image: the context falls outside
        -20, 30, 40, 95, // straddles two borders
        80.3, 5.7, 89.9, 9.2, // tiny, fractional
        -100, -100, 300, 200, // much larger than the image
        100, 80, 140, 120, // entirely outside: all mean
      ]);
      const src = createWarpSource(img, arch);
      expect(defaultWarpMethod(src)).toBe('cpu'); // the CPU backends warp in JavaScript
      const crops = warpProposals(src, boxes, RCNN_WARP, method);
      expect(crops.shape).toEqual([6, 227, 227, 3]);
      const got = await crops.data();
      const ref = refWarp(img, boxes, IMAGENET_MEAN_BGR);
      let maxErr = 0;
      for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - ref[i]));
      // float32 normalised coordinates put samples within ~1e-5 px of the reference positions.
      expect(maxErr).toBeLessThan(0.02);
      // The last box lies outside the image: every sample is the mean, i.e. exactly 0.
      const last = got.subarray(5 * 227 * 227 * 3);
      expect(last.every((v) => v === 0)).toBe(true);
      tf.dispose([crops]);
      src.dispose();
      await useNodeBackend('wasm');
    });
  }

  it('the JavaScript and tensor warps agree to float rounding on a real-sized batch', async () => {
    const img = testImage(500, 375);
    const boxes = Float32Array.from({ length: 4 * 16 }, (_, i) => {
      const k = i >> 2, c = i & 3;
      const x0 = (k * 37) % 400 - 20, y0 = (k * 53) % 300 - 10;
      return [x0, y0, x0 + 30 + k * 17, y0 + 20 + k * 13][c];
    });
    const tensorsBefore = tf.memory().numTensors;
    const src = createWarpSource(img, arch);
    const [a, b] = [warpProposals(src, boxes, RCNN_WARP, 'tensor'), warpProposals(src, boxes, RCNN_WARP, 'cpu')];
    const [da, db] = [await a.data(), await b.data()];
    let maxErr = 0;
    for (let i = 0; i < da.length; i++) maxErr = Math.max(maxErr, Math.abs(da[i] - db[i]));
    // The source's tensor, built lazily inside the first warp's tidy, survives for the next batch.
    const again = warpProposals(src, boxes, RCNN_WARP, 'tensor');
    expect(Array.from(await again.data())).toEqual(Array.from(da));
    again.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore + 3); // a, b and the source's padded image
    // On 0-255 values; the texture changes by up to 255 per pixel, so float32 sample positions
    // (within ~1e-5 px) move values by about 0.01.
    expect(maxErr).toBeLessThan(0.02);
    expect(da.some((v) => v !== 0)).toBe(true);
    tf.dispose([a, b]);
    src.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('puts the proposal in the central 195 pixels with 16 px of context, filled with the mean outside', async () => {
    // A red 40x40 square at (20, 20) on a blue 100x60 image; the proposal is the square.
    const W = 100, H = 60;
    const img: RgbImage = { width: W, height: H, data: new Uint8Array(W * H * 3) };
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const inSquare = x >= 20 && x < 60 && y >= 20 && y < 60;
        img.data.set(inSquare ? [255, 0, 0] : [0, 0, 255], 3 * (y * W + x));
      }
    const src = createWarpSource(img, arch);
    const crops = warpProposals(src, [20, 20, 60, 60]);
    const rgb = await cropsToRgb(crops, arch);
    const at = (u: number, v: number) => Array.from(rgb.subarray(3 * (v * 227 + u), 3 * (v * 227 + u) + 3));
    // Central region: the red proposal. One source pixel spans ~4.9 output pixels here, so the
    // 16-px border is blended over ~5 pixels: check just inside it.
    expect(at(113, 113)).toEqual([255, 0, 0]);
    expect(at(21, 21)).toEqual([255, 0, 0]);
    expect(at(205, 100)).toEqual([255, 0, 0]);
    expect(at(14, 100)[0]).toBeLessThan(128); // mostly context
    expect(at(18, 100)[0]).toBeGreaterThan(128); // mostly proposal
    // Context on the left and top: blue image pixels.
    expect(at(5, 100)).toEqual([0, 0, 255]);
    expect(at(100, 5)).toEqual([0, 0, 255]);
    // Below the image (the square touches the bottom edge): the mean colour (RGB 123, 117, 104).
    expect(at(100, 222)).toEqual([123, 117, 104]);
    const raw = await crops.data();
    expect(raw[3 * (222 * 227 + 100)]).toBe(0);
    tf.dispose(crops);
    src.dispose();
  });
});
