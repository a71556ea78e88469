/**
 * The shared-convolution path of SPPnet and Fast R-CNN (docs/fast-rcnn.md): R-CNN runs the whole
 * network once per proposal, on a warped 227 x 227 crop; here conv1..conv5 run once on the whole
 * photo, each proposal's 6 x 6 pool5 is max-pooled out of conv5 (RoI pooling, core/roiPool.ts),
 * and only fc6, fc7 and the heads run per proposal, in batches. The batches have extract.ts's
 * FeatureBatch shape (pool5 in Caffe C,H,W order, fc7, SVM scores, box deltas), so every later
 * stage takes them unchanged.
 *
 * With the bundled width-0.25 CaffeNet, a crop costs 61.4 M multiply-adds in conv1..conv5 and
 * 3.4 M in fc6 + fc7: 2000 proposals are 130 G multiply-adds on the warp path, and 0.23 G
 * (conv, once, 500 x 375) + 6.8 G (fc) here.
 *
 * The photo's scale is an option (RoiScale): Fast R-CNN's single test scale, shorter side 600 px
 * with the longer side at most 1000 px, or the 500-px-wide image selective search segments.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RgbImage } from '../core/image/raster';
import { resizeRgb } from '../core/image/resize';
import { FAST_RCNN_ROI_POOL, boxesToRois, maxBinCells, roiBinBounds, roiMaxPoolNhwc } from '../core/roiPool';
import { describeArch } from './architecture';
import { DEFAULT_ROI_SCALE, type RoiScale, roiImageSizes, roiLevels } from './roiGeometry';

export * from './roiGeometry';
import { type FeatureBatch, type FeatureRequest, OutOfMemoryError, headOutputs, isOutOfMemory, readBack, wantedOutputs } from './extract';
import type { RcnnModel } from './rcnnModel';
import { roiPoolGather } from './roiPoolTf';

/** What the shared-convolution path needs of a model: the network, and heads (possibly none). */
export type RoiModel = Pick<RcnnModel, 'net' | 'arch' | 'heads' | 'maxBindingBytes' | 'name'>;

/** Where RoI pooling runs: JavaScript on the read-back conv5 map, or tfjs ops on the device. */
export type RoiPoolMethod = 'cpu' | 'gather';

export interface RoiOptions {
  scale?: RoiScale;
  /** Default: 'cpu' on the CPU backends (wasm, cpu), 'gather' on WebGPU / WebGL. */
  pool?: RoiPoolMethod;
}

export function defaultRoiPoolMethod(): RoiPoolMethod {
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu' ? 'cpu' : 'gather';
}

/** conv5 of the photo at one scale (after its ReLU). */
export interface ConvLevel {
  /** [1, H, W, C] on the backend; null once read back for CPU pooling. */
  tensor: tf.Tensor4D | null;
  /** The same values read back (H x W x C), for pooling in JavaScript; null on the GPU path. */
  host: Float32Array | null;
  height: number;
  width: number;
  /** Photo pixels to the resized photo conv1 saw (one factor, as Fast R-CNN's im_scale). */
  scale: number;
  inputWidth: number;
  inputHeight: number;
}

/** conv5 of one photo at every scale the mode uses (one, or the pyramid's), kept for every batch of its proposals. */
export interface ConvMap {
  levels: ConvLevel[];
  channels: number;
  roiScale: RoiScale;
  pool: RoiPoolMethod;
  /** Resize + conv1..conv5 (+ read-back on the CPU path), ms. */
  ms: number;
  dispose(): void;
}

/** The photo resized as `scale` says, BGR (or the network's order), mean subtracted, NHWC [1, H, W, 3]. */
function photoTensor(image: RgbImage, model: RoiModel, size: { width: number; height: number }): tf.Tensor4D {
  const img = size.width === image.width && size.height === image.height ? image : resizeRgb(image, size.width, size.height);
  const n = img.width * img.height;
  const x = new Float32Array(3 * n);
  const [m0, m1, m2] = model.arch.mean;
  const bgr = model.arch.channelOrder === 'BGR';
  const d = img.data;
  for (let i = 0; i < n; i++) {
    const r = d[3 * i], g = d[3 * i + 1], b = d[3 * i + 2];
    x[3 * i] = (bgr ? b : r) - m0;
    x[3 * i + 1] = g - m1;
    x[3 * i + 2] = (bgr ? r : b) - m2;
  }
  return tf.tensor4d(x, [1, img.height, img.width, 3]);
}

/** Runs conv1..conv5 once on the whole photo (once per level of a pyramid). */
export async function computeConvMap(model: RoiModel, image: RgbImage, opts: RoiOptions = {}): Promise<ConvMap> {
  const t0 = performance.now();
  const roiScale = opts.scale ?? DEFAULT_ROI_SCALE;
  const pool = opts.pool ?? defaultRoiPoolMethod();
  const levels: ConvLevel[] = [];
  const map: ConvMap = {
    levels,
    channels: 0,
    roiScale,
    pool,
    ms: 0,
    dispose: () => {
      for (const l of levels) {
        l.tensor?.dispose();
        l.tensor = null;
        l.host = null;
      }
    },
  };
  try {
    for (const size of roiImageSizes(image.width, image.height, roiScale, Math.max(model.arch.inputHeight, model.arch.inputWidth))) {
      const conv5 = tf.tidy(() => model.net.forward(photoTensor(image, model, size), { outputs: ['conv5'] }).conv5 as tf.Tensor4D);
      const [, H, W, C] = conv5.shape;
      const level: ConvLevel = { tensor: conv5, host: null, height: H, width: W, scale: size.scale, inputWidth: size.width, inputHeight: size.height };
      levels.push(level);
      map.channels = C;
      if (pool === 'cpu') {
        level.host = (await conv5.data()) as Float32Array;
        conv5.dispose();
        level.tensor = null;
      }
    }
  } catch (e) {
    map.dispose();
    throw e;
  }
  map.ms = performance.now() - t0;
  return map;
}

/**
 * Batch size of the per-RoI part (fc6, fc7, heads). Far cheaper per proposal than a crop, so the
 * batches are larger than the warp path's: fc6 + fc7 + heads of the bundled network on wasm ran
 * 1.6x as many rows per second at 128 as at 64 (Node, one thread), and no faster at 256. On the
 * gather path a batch also stays below the device's binding limit (RoIs x 36 x K x C floats).
 */
export function chooseRoiBatchSize(backend: string): number {
  return backend === 'webgpu' ? 256 : 128;
}

/**
 * RoI pooling of RoIs [start, start + count): in JavaScript from the read-back maps, or as one
 * gather per level on the device (rows put back in RoI order).
 */
function poolBatch(map: ConvMap, level: Uint8Array, bounds: Int32Array, P: number, start: number, count: number, D: number, maxBindingBytes: number): tf.Tensor2D {
  const single = map.levels.length === 1;
  if (map.pool === 'cpu') {
    const out = new Float32Array(count * D);
    if (single) {
      const l = map.levels[0];
      roiMaxPoolNhwc(l.host!, l.height, l.width, map.channels, bounds, P, start, count, out);
    } else {
      for (let k = 0; k < count; k++) {
        const l = map.levels[level[start + k]];
        roiMaxPoolNhwc(l.host!, l.height, l.width, map.channels, bounds, P, start + k, 1, out.subarray(k * D, (k + 1) * D));
      }
    }
    return tf.tensor2d(out, [count, D]);
  }
  const gather = (l: ConvLevel, b: Int32Array, first: number, n: number): tf.Tensor2D => {
    const K = maxBinCells(b, P, first, n);
    if (n * P * P * K * map.channels * 4 > maxBindingBytes) throw new OutOfMemoryError(`RoI pooling a batch of ${n} gathers more than one binding holds`);
    return roiPoolGather(l.tensor!, b, P, first, n, K);
  };
  if (single) return gather(map.levels[0], bounds, start, count);
  return tf.tidy(() => {
    const parts: tf.Tensor2D[] = [];
    const order: number[] = [];
    map.levels.forEach((l, li) => {
      const members: number[] = [];
      for (let k = 0; k < count; k++) if (level[start + k] === li) members.push(k);
      if (members.length === 0) return;
      const b = new Int32Array(members.length * 4 * P);
      members.forEach((k, j) => b.set(bounds.subarray((start + k) * 4 * P, (start + k + 1) * 4 * P), j * 4 * P));
      parts.push(gather(l, b, 0, members.length));
      order.push(...members);
    });
    // Row r of the concatenation is RoI order[r]: gather them back into RoI order.
    const inverse = new Int32Array(count);
    order.forEach((k, r) => (inverse[k] = r));
    return tf.gather(tf.concat(parts, 0), tf.tensor1d(inverse, 'int32')) as tf.Tensor2D;
  });
}

function abortError(): Error {
  const e = new Error('feature extraction cancelled');
  e.name = 'AbortError';
  return e;
}

/**
 * Streams the shared-convolution features of an image's proposals batch by batch. Takes the photo
 * (conv5 computed here and released at the end) or a ConvMap the caller keeps across requests
 * (the CNN worker does, for the chunks of one photo). Crops and per-crop layers belong to the
 * warp path and are refused.
 */
export async function* extractRoiFeatures(model: RoiModel, image: RgbImage | ConvMap, req: FeatureRequest): AsyncGenerator<FeatureBatch> {
  if (req.crops || req.layers?.length) throw new Error('crops and per-crop layers exist only on the warp path (features: "warp")');
  const total = req.boxes.length >> 2;
  const { wantPool5, wantFc7, wantScores, wantDeltas } = wantedOutputs(model, req);
  const own = !('channels' in image);
  if (req.signal?.aborted) throw abortError();
  const map = own ? await computeConvMap(model, image as RgbImage, req.roi) : (image as ConvMap);
  let convMs = own ? map.ms : 0;
  try {
    const P = FAST_RCNN_ROI_POOL.pooled;
    const pool5Len = map.channels * P * P;
    const expected = describeArch(model.arch).find((l) => l.name === 'pool5')!.shape;
    if (expected[0] !== map.channels || expected[1] !== P || expected[2] !== P) {
      throw new Error(`RoI pooling makes ${map.channels} x ${P} x ${P} features but fc6 takes ${expected.join(' x ')}: this network's pool5 is not the 6 x 6 grid Fast R-CNN pools to`);
    }
    // Each RoI's level (all 0 for one scale) and its bins on that level's conv5.
    const level = roiLevels(req.boxes, map.levels.map((l) => l.scale));
    const bounds = new Int32Array(total * 4 * P);
    map.levels.forEach((l, li) => {
      const members: number[] = [];
      for (let i = 0; i < total; i++) if (level[i] === li) members.push(i);
      if (members.length === 0) return;
      const boxes = new Float32Array(4 * members.length);
      members.forEach((i, k) => boxes.set(Array.prototype.slice.call(req.boxes, 4 * i, 4 * i + 4) as number[], 4 * k));
      const b = roiBinBounds(boxesToRois(boxes, l.scale), l.height, l.width, FAST_RCNN_ROI_POOL);
      members.forEach((i, k) => bounds.set(b.subarray(k * 4 * P, (k + 1) * 4 * P), i * 4 * P));
    });
    let batch = Math.max(1, Math.floor(req.batchSize ?? chooseRoiBatchSize(tf.getBackend())));
    let start = 0;
    while (start < total) {
      if (req.signal?.aborted) throw abortError();
      const count = Math.min(batch, total - start);
      const t0 = performance.now();
      const tensors: Record<string, tf.Tensor> = {};
      let out: FeatureBatch;
      try {
        const pooled = poolBatch(map, level, bounds, P, start, count, pool5Len, model.maxBindingBytes);
        const t1 = performance.now();
        try {
          Object.assign(
            tensors,
            tf.tidy(() => {
              const fc7 = wantFc7 || wantScores ? (model.net.forwardFromPool5(pooled, { outputs: ['fc7'] }).fc7 as tf.Tensor2D) : undefined;
              const r = headOutputs(model, pooled, fc7, { wantPool5, wantFc7, wantScores, wantDeltas });
              // pooled is disposed below; keep a copy when it is returned.
              if (r.pool5) r.pool5 = tf.clone(r.pool5);
              return r;
            }),
          );
        } finally {
          pooled.dispose();
        }
        out = { start, count, total, batchSize: count, ms: 0 };
        await readBack(tensors, out);
        out.timing = { conv: convMs, roiPool: t1 - t0, fc: performance.now() - t1 };
      } catch (e) {
        if (isOutOfMemory(e) && count > 1) {
          batch = Math.max(1, Math.floor(count / 2));
          continue;
        } else throw e;
      } finally {
        tf.dispose(Object.values(tensors));
      }
      out.batchSize = batch;
      out.ms = performance.now() - t0 + convMs;
      convMs = 0;
      start += count;
      yield out;
    }
  } finally {
    if (own) map.dispose();
  }
}
