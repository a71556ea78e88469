/**
 * The CNN feature pool's augmented requests (the SVMs' augmented positives), on real worker
 * threads with a small random network: reproducible from their seed, different from the plain
 * R-CNN warp, and different per seed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFeaturePool, type TrainerPool } from './trainerPool';
import { caffeNetArch } from '../../model/architecture';
import { randomWeights } from '../../model/caffenet';
import type { DatasetImage } from './data';

const W = 96, H = 72;
const raster = { width: W, height: H, data: Uint8Array.from({ length: W * H * 3 }, (_, i) => ((i * 37) ^ (i >> 5)) & 255) };
const image = { id: 'x', raster } as unknown as DatasetImage;
const boxes = Float32Array.from([4, 6, 50, 40, 30, 10, 90, 70, 0, 0, 96, 72]);
const none = new Int32Array(0);
const aug = (seed: number) => ({ seed, mode: 'colour' as const, gainJitter: 0.2, blur: 0.5 });
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

let pool: TrainerPool;
beforeAll(async () => {
  const arch = caffeNetArch({ width: 0.1, numClasses: 3 });
  pool = await startFeaturePool(1, arch, randomWeights(arch, { seed: 4 }), [image]);
}, 60_000);
afterAll(() => pool.dispose());

describe('CNN feature pool: augmented requests', () => {
  it('repeats for a seed, and differs from the plain warp and between seeds', async () => {
    const plain = await pool.features(0, 0, boxes, none);
    const a = await pool.features(0, 0, boxes, none, aug(11));
    const again = await pool.features(0, 0, boxes, none, aug(11));
    const b = await pool.features(0, 0, boxes, none, aug(12));
    expect(a.fc7.length).toBe(plain.fc7.length);
    expect(Array.from(again.fc7)).toEqual(Array.from(a.fc7));
    const scale = Math.max(...plain.fc7.map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    expect(maxDiff(a.fc7, plain.fc7)).toBeGreaterThan(1e-3 * scale);
    expect(maxDiff(a.fc7, b.fc7)).toBeGreaterThan(1e-3 * scale);
    // The plain request is untouched by the augmented ones in between.
    expect(Array.from((await pool.features(0, 0, boxes, none)).fc7)).toEqual(Array.from(plain.fc7));
  });
});
