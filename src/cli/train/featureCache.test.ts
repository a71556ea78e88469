import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FeatureCache, modelKey, type FeatureFn } from './featureCache';
import { caffeNetArch } from '../../model/architecture';

const raster = (seed: number) => ({ width: 4, height: 3, data: Uint8Array.from({ length: 36 }, (_, i) => (i * 7 + seed) & 255) });

function counting(): { fn: FeatureFn; calls: number[] } {
  const calls: number[] = [];
  const fn: FeatureFn = async (_w, image, boxes, rows) => {
    calls.push(image);
    // Features that depend on every input, so a wrong hit would show.
    const fc7 = Float32Array.from({ length: 3 * (boxes.length / 4) }, (_, k) => boxes[k % boxes.length] * 0.5 + image + k / 7);
    const pool5 = Float32Array.from({ length: 2 * rows.length }, (_, k) => rows[k >> 1] - k * 0.25);
    return { fc7, pool5, ms: 5 };
  };
  return { fn, calls };
}

describe('feature cache (rcnn train --feature-cache)', () => {
  const boxes = Float32Array.from([0, 0, 2, 2, 1, 0.5, 3.25, 3]);
  const rows = Int32Array.from([1]);

  it('answers a repeated request from disk with the same numbers, and a new cache on the same folder too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcache-'));
    const { fn, calls } = counting();
    const a = new FeatureCache(dir, 'model-a', [raster(1), raster(2)]);
    const f = a.wrap(fn);
    const first = await f(0, 1, boxes, rows);
    const again = await f(1, 1, boxes, rows);
    expect(calls).toEqual([1]);
    expect(Array.from(again.fc7)).toEqual(Array.from(first.fc7));
    expect(Array.from(again.pool5)).toEqual(Array.from(first.pool5));
    expect([a.hits, a.misses]).toEqual([1, 1]);
    const b = new FeatureCache(dir, 'model-a', [raster(1), raster(2)]);
    const third = await b.wrap(fn)(0, 1, boxes, rows);
    expect(calls).toEqual([1]);
    expect(Array.from(third.fc7)).toEqual(Array.from(first.fc7));
  });

  it('computes again when the model, the image pixels, the boxes or the pool5 rows differ', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcache-'));
    const { fn, calls } = counting();
    await new FeatureCache(dir, 'model-a', [raster(1)]).wrap(fn)(0, 0, boxes, rows);
    await new FeatureCache(dir, 'model-b', [raster(1)]).wrap(fn)(0, 0, boxes, rows);
    await new FeatureCache(dir, 'model-a', [raster(9)]).wrap(fn)(0, 0, boxes, rows);
    await new FeatureCache(dir, 'model-a', [raster(1)]).wrap(fn)(0, 0, Float32Array.from([0, 0, 2, 2, 1, 0.5, 3.25, 2.9]), rows);
    await new FeatureCache(dir, 'model-a', [raster(1)]).wrap(fn)(0, 0, boxes, Int32Array.from([0]));
    expect(calls.length).toBe(5);
    expect(readdirSync(dir).length).toBe(5);
  });

  it('keys augmented requests (SVM positives) by every augmentation parameter, apart from the plain request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcache-'));
    const { fn, calls } = counting();
    const f = new FeatureCache(dir, 'model-a', [raster(1)]).wrap(fn);
    const aug = { seed: 7, mode: 'window' as const, gainJitter: 0.08, blur: 0 };
    await f(0, 0, boxes, rows);
    await f(0, 0, boxes, rows, aug);
    await f(0, 0, boxes, rows, { ...aug, seed: 8 });
    await f(0, 0, boxes, rows, { ...aug, mode: 'colour' });
    await f(0, 0, boxes, rows, { ...aug, gainJitter: 0.2 });
    await f(0, 0, boxes, rows, { ...aug, blur: 0.5 });
    expect(calls.length).toBe(6);
    await f(0, 0, boxes, rows, { ...aug });
    await f(0, 0, boxes, rows);
    expect(calls.length).toBe(6);
  });

  it('ignores a torn or foreign file and recomputes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcache-'));
    const { fn, calls } = counting();
    const c = new FeatureCache(dir, 'm', [raster(1)]);
    const f = c.wrap(fn);
    const good = await f(0, 0, boxes, rows);
    const [file] = readdirSync(dir);
    writeFileSync(join(dir, file), new Uint8Array([3, 0, 0, 0, 9, 0, 0, 0, 1, 2]));
    const again = await f(0, 0, boxes, rows);
    expect(calls.length).toBe(2);
    expect(Array.from(again.fc7)).toEqual(Array.from(good.fc7));
    expect(readdirSync(dir)).toEqual([file]); // no temporary files left behind
    expect((await f(0, 0, boxes, rows)).ms).toBe(0);
  });

  it('keys the model by architecture and every weight', () => {
    const arch = caffeNetArch({ width: 0.125, numClasses: 3 });
    const w = { 'fc8.bias': { shape: [3], data: Float32Array.from([1, 2, 3]) } };
    const k = modelKey(arch, w);
    expect(modelKey(arch, { 'fc8.bias': { shape: [3], data: Float32Array.from([1, 2, 3]) } })).toBe(k);
    expect(modelKey(arch, { 'fc8.bias': { shape: [3], data: Float32Array.from([1, 2, 3.0001]) } })).not.toBe(k);
    expect(modelKey(caffeNetArch({ width: 0.25, numClasses: 3 }), w)).not.toBe(k);
  });
});
