/**
 * Training data for `rcnn train` / `rcnn eval`: a VOC folder's images with their ground truth and
 * selective-search proposals. Proposals are computed once per image (fast mode, the app's and
 * CLI's defaults) and cached on disk keyed by the image bytes and the search parameters, because
 * they cost about a second per image and every stage and every later run needs them.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { RgbImage } from '../../core/image/raster';
import { fitWithin, resizeRgb } from '../../core/image/resize';
import { DEFAULT_MAX_BOXES, DEFAULT_SEED, selectiveSearch, type SearchMode } from '../../core/selectiveSearch/index';
import { loadImageFile } from '../io';
import { createNodeProposalPool } from '../ssPool';
import type { VocImageRecord } from '../dataset';
import { touchEntry } from './cacheStore';
import { TRAIN_RASTER_MAX_SIDE, type TrainImage } from '../../pipeline/train/source';

export interface ProposalParams {
  mode: SearchMode;
  maxBoxes: number;
  seed: number;
}

export const DEFAULT_PROPOSAL_PARAMS: ProposalParams = { mode: 'fast', maxBoxes: DEFAULT_MAX_BOXES, seed: DEFAULT_SEED };

/** Bumped whenever selective search's output for the same parameters may change. */
const PROPOSAL_CACHE_VERSION = 1;

/** A VOC image as `rcnn train` holds it: what the shared trainer reads, plus its record and raster. */
export interface DatasetImage extends TrainImage {
  record: VocImageRecord;
  /** Raster the CNN warps from (at most maxSide px); original px = raster px x (sx, sy). */
  raster: RgbImage;
}

export interface LoadImagesOptions {
  cacheDir: string;
  /** Longest side of the raster kept for warping (crops are 227 px; 800 keeps detail, saves memory). */
  maxSide?: number;
  proposals?: ProposalParams;
  threads?: number;
  log?: (line: string) => void;
  onProgress?: (done: number, total: number) => void;
}

function proposalCachePath(cacheDir: string, bytes: Uint8Array, p: ProposalParams): string {
  const h = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
  return join(cacheDir, 'proposals', `${h}-${p.mode}-${p.maxBoxes}-${p.seed}-v${PROPOSAL_CACHE_VERSION}.f32`);
}

function readCached(path: string): Float32Array | null {
  if (!existsSync(path)) return null;
  const b = readFileSync(path);
  if (b.byteLength % 16 !== 0) return null;
  touchEntry(path); // last use, for `rcnn cache --max-size`
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function writeCached(path: string, boxes: Float32Array): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, new Uint8Array(boxes.buffer, boxes.byteOffset, boxes.byteLength));
  renameSync(tmp, path); // atomic: an interrupted run never leaves a half-written cache entry
}

/**
 * Decode each image, build its raster, and get its proposals (from the cache or by running
 * selective search on the same working image the app and `rcnn proposals` use).
 */
export async function loadDatasetImages(records: readonly VocImageRecord[], opts: LoadImagesOptions): Promise<DatasetImage[]> {
  const params = opts.proposals ?? DEFAULT_PROPOSAL_PARAMS;
  const maxSide = opts.maxSide ?? TRAIN_RASTER_MAX_SIDE;
  const threads = opts.threads ?? 2;
  const pool = threads > 1 ? createNodeProposalPool(threads) : null;
  const out: DatasetImage[] = [];
  let computed = 0;
  let computeMs = 0;
  try {
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const bytes = new Uint8Array(readFileSync(r.imagePath));
      const cachePath = proposalCachePath(opts.cacheDir, bytes, params);
      const prepared = loadImageFile(r.imagePath);
      let working = readCached(cachePath);
      if (!working) {
        const t0 = performance.now();
        const res = pool
          ? await pool.run(prepared.image, { mode: params.mode, maxBoxes: params.maxBoxes, seed: params.seed })
          : selectiveSearch(prepared.image, { mode: params.mode, maxBoxes: params.maxBoxes, seed: params.seed });
        computeMs += performance.now() - t0;
        computed++;
        // Working-raster pixels to original pixels.
        const b = res.boxes;
        working = new Float32Array(b.length);
        for (let k = 0; k < b.length; k += 4) {
          working[k] = b[k] * prepared.scaleX;
          working[k + 1] = b[k + 1] * prepared.scaleY;
          working[k + 2] = b[k + 2] * prepared.scaleX;
          working[k + 3] = b[k + 3] * prepared.scaleY;
        }
        writeCached(cachePath, working);
      }
      const fit = fitWithin(prepared.originalWidth, prepared.originalHeight, maxSide);
      const raster = fit.width === prepared.image.width && fit.height === prepared.image.height ? prepared.image : resizeRgb(prepared.image, fit.width, fit.height);
      out.push({
        id: r.id,
        record: r,
        raster,
        sx: prepared.originalWidth / raster.width,
        sy: prepared.originalHeight / raster.height,
        width: prepared.originalWidth,
        height: prepared.originalHeight,
        proposals: working,
        gt: r.groundTruth,
      });
      opts.onProgress?.(i + 1, records.length);
    }
  } finally {
    pool?.dispose();
  }
  if (computed > 0) opts.log?.(`selective search: computed proposals for ${computed} images (${(computeMs / computed / 1000).toFixed(2)} s each), ${records.length - computed} from the cache`);
  return out;
}

export { toRaster } from '../../pipeline/train/source';
