/**
 * On-disk cache of CNN features for `rcnn train --feature-cache DIR` (R-CNN's release caches fc7 /
 * pool5 to disk too, rcnn_cache_pool5_features.m): training the SVMs and box regressors on a CNN
 * that has not changed (another C, another mining rule, a re-run after an interruption) then
 * costs the solvers, not the 900,000 forward passes.
 *
 * One file per feature request, named by the SHA-256 of everything the result depends on: the
 * network (architecture and weights), the image's raster, the boxes and the pool5 rows asked for.
 * A changed model, proposal setting or image is a different name, never a stale hit. Files are
 * written through a temporary name and renamed, so an interrupted run leaves no torn file, and a
 * file of the wrong size is ignored and recomputed.
 * Size: 4 bytes per fc7 value and pool5 value, about 8 MB per image of 2000 proposals at width 0.25.
 * Nothing is deleted here: a hit stamps the file's time, and `rcnn cache DIR --max-size S` removes
 * the least recently used entries (cacheStore.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaffeNetArch } from '../../model/architecture';
import type { NamedWeights } from '../../model/caffenet';
import type { RgbImage } from '../../core/image/raster';
import type { FeatureAugment } from './protocol';
import { formatBytes, surveyCache, touchEntry } from './cacheStore';

export type FeatureFn = (worker: number, image: number, boxes: Float32Array, pool5Rows: Int32Array, augment?: FeatureAugment) => Promise<{ fc7: Float32Array; pool5: Float32Array; ms: number }>;

/** SHA-256 of the network: architecture and every weight, in name order. */
export function modelKey(arch: CaffeNetArch, weights: NamedWeights): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(arch));
  for (const name of Object.keys(weights).sort()) {
    const t = weights[name as keyof NamedWeights]!;
    h.update(`${name}:${t.shape.join('x')};`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}

function rasterKey(r: RgbImage): string {
  return createHash('sha256').update(`${r.width}x${r.height};`).update(r.data).digest('hex');
}

export class FeatureCache {
  hits = 0;
  misses = 0;
  private readonly rasterKeys: string[];

  constructor(
    readonly dir: string,
    readonly model: string,
    rasters: readonly RgbImage[],
  ) {
    mkdirSync(dir, { recursive: true });
    this.rasterKeys = rasters.map(rasterKey);
  }

  private path(image: number, boxes: Float32Array, rows: Int32Array, augment?: FeatureAugment): string {
    // Plain requests keep the key they had before augmented requests existed.
    const aug = augment ? `aug:${augment.mode},${augment.seed},${augment.gainJitter},${augment.blur};` : '';
    const h = createHash('sha256')
      .update(`rcnn-features-v1;${this.model};${this.rasterKeys[image]};${boxes.length};${rows.length};${aug}`)
      .update(new Uint8Array(boxes.buffer, boxes.byteOffset, boxes.byteLength))
      .update(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
    return join(this.dir, `${h.digest('hex')}.f32`);
  }

  /** What this run got from the cache, and how big the folder has grown. */
  summary(): string {
    return `feature cache ${this.dir}: ${this.hits} requests read, ${this.misses} computed and stored; the folder holds ${formatBytes(surveyCache(this.dir).bytes)} (\`rcnn cache DIR --max-size SIZE\` drops the least recently used)`;
  }

  /** Wraps a feature function: answers from the cache when it can, else computes and stores. */
  wrap(inner: FeatureFn): FeatureFn {
    return async (worker, image, boxes, rows, augment) => {
      const file = this.path(image, boxes, rows, augment);
      const hit = existsSync(file) ? readEntry(file) : null;
      if (hit) {
        touchEntry(file); // last use, for `rcnn cache --max-size` (least recently used go first)
        this.hits++;
        return { ...hit, ms: 0 };
      }
      const f = await inner(worker, image, boxes, rows, augment);
      writeEntry(file, f.fc7, f.pool5);
      this.misses++;
      return f;
    };
  }
}

// Entry: uint32 fc7 length, uint32 pool5 length, then the float32 values.
function writeEntry(file: string, fc7: Float32Array, pool5: Float32Array): void {
  const buf = new Uint8Array(8 + 4 * (fc7.length + pool5.length));
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, fc7.length, true);
  dv.setUint32(4, pool5.length, true);
  new Float32Array(buf.buffer, 8, fc7.length).set(fc7);
  new Float32Array(buf.buffer, 8 + 4 * fc7.length, pool5.length).set(pool5);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, buf);
  renameSync(tmp, file);
}

function readEntry(file: string): { fc7: Float32Array; pool5: Float32Array } | null {
  const b = readFileSync(file);
  if (b.byteLength < 8) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n7 = dv.getUint32(0, true), n5 = dv.getUint32(4, true);
  if (b.byteLength !== 8 + 4 * (n7 + n5)) return null;
  const all = new Float32Array(n7 + n5);
  new Uint8Array(all.buffer).set(b.subarray(8));
  return { fc7: all.subarray(0, n7), pool5: all.subarray(n7) };
}
