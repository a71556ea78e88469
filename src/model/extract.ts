/**
 * The CNN stage of R-CNN: warp proposals, run them through the network in batches, and stream
 * per-batch results: pool5 and fc7 features, and when the package has heads, SVM scores
 * (boxes x classes) and box-regression deltas computed on the backend in the same batch
 * (heads.ts).
 *
 * Batches are sized from the device (WebGPU binding limits) and halved when the backend runs
 * out of memory; an AbortSignal stops between batches; every tensor is released (tested).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RgbImage } from '../core/image/raster';
import { type CaffeNetArch, type LayerName, describeArch } from './architecture';
import { flattenChw, toNchw } from './caffenet';
import type { RcnnModel } from './rcnnModel';
import { type WarpOptions, type WarpSource, createWarpSource, cropsToRgb, warpProposals } from './warp';
import { type RoiOptions, extractRoiFeatures } from './sharedConv';

/** Bytes of the largest single tensor one crop produces (the input crop or a layer output). */
export function largestActivationBytes(arch: CaffeNetArch): number {
  let m = arch.inputHeight * arch.inputWidth * arch.inputChannels;
  for (const l of describeArch(arch)) m = Math.max(m, l.shape.reduce((a, b) => a * b, 1));
  return 4 * m;
}

/**
 * Default batch: R-CNN used 256; here the batch is also what the UI waits for, so CPU backends
 * (throughput flat beyond ~8 crops) stream small batches, GPUs take more, and WebGPU stays under
 * its binding limit for the largest activation (conv1: 1.16 MB per 227x227 crop).
 */
export function chooseBatchSize(arch: CaffeNetArch, backend: string, maxBindingBytes = Infinity): number {
  const byBackend = backend === 'webgpu' ? 64 : backend === 'webgl' ? 32 : 16;
  const byBinding = Math.floor(maxBindingBytes / largestActivationBytes(arch));
  return Math.max(1, Math.min(256, byBackend, byBinding));
}

export class OutOfMemoryError extends Error {
  override name = 'OutOfMemoryError';
}

/** Errors that mean "this batch is too big for the device", as the backends word them. */
export function isOutOfMemory(e: unknown): boolean {
  if (e instanceof OutOfMemoryError) return true;
  const m = e instanceof Error ? `${e.name} ${e.message}` : String(e);
  return /out of memory|\boom\b|allocation failed|failed to allocate|could not allocate|memory size exceeded|memory access out of bounds|texture size|max buffer size|exceeds the max|too large/i.test(m);
}

export interface FeatureRequest {
  /** Proposals, flat continuous boxes [x1, y1, x2, y2] in the image's pixels. */
  boxes: ArrayLike<number>;
  /** Outputs per batch (defaults: pool5 and fc7 on; scores and deltas when the heads exist). */
  pool5?: boolean;
  fc7?: boolean;
  svmScores?: boolean;
  bboxDeltas?: boolean;
  /** The warped crops as RGB bytes (gallery). */
  crops?: boolean;
  /** Extra layers in Caffe/ONNX layout (NCHW for spatial layers), for feature panels. */
  layers?: LayerName[];
  /** Initial batch size (default chooseBatchSize); halved on out-of-memory. */
  batchSize?: number;
  signal?: AbortSignal;
  /** Default: the network's input size and R-CNN's 16 px context. */
  warp?: Partial<WarpOptions>;
  /**
   * 'warp' (R-CNN, default): every proposal warped to 227 x 227 and run through the whole
   * network. 'roi' (SPPnet / Fast R-CNN, sharedConv.ts): conv1..conv5 once on the photo, each
   * proposal RoI-pooled out of conv5, then fc6, fc7 and the heads.
   */
  features?: FeatureMode;
  /** Shared-convolution settings (features: 'roi'). */
  roi?: RoiOptions;
}

export type FeatureMode = 'warp' | 'roi';
export const FEATURE_MODES: readonly FeatureMode[] = ['warp', 'roi'];

export interface FeatureBatch {
  /** Index of the first proposal in this batch. */
  start: number;
  count: number;
  total: number;
  /** Batch size in effect (after any out-of-memory back-off). */
  batchSize: number;
  /** count x pool5 length, Caffe C,H,W order. */
  pool5?: Float32Array;
  /** count x fc7 width. */
  fc7?: Float32Array;
  /** count x SVM classes. */
  svmScores?: Float32Array;
  /** count x classes x 4 (tx, ty, tw, th). */
  bboxDeltas?: Float32Array;
  /** count x S x S x 3 RGB. */
  crops?: Uint8Array;
  layers?: Partial<Record<LayerName, { shape: number[]; data: Float32Array }>>;
  /** Wall time of this batch (warp + forward + read-back). */
  ms: number;
  /**
   * Where the batch's time went, ms: `warp` and `cnn` (forward, heads, read-back) on the warp
   * path; `conv` (the whole photo through conv1..conv5, in the first batch that needed it),
   * `roiPool` and `fc` (fc6, fc7, heads, read-back) on the shared-convolution path. Measured
   * around synchronous work on the CPU backends; on a GPU the device work lands in the read-back.
   */
  timing?: Partial<Record<'warp' | 'cnn' | 'conv' | 'roiPool' | 'fc', number>>;
}

function abortError(): Error {
  const e = new Error('feature extraction cancelled');
  e.name = 'AbortError';
  return e;
}

/**
 * Which outputs a request asks for, on either path: pool5 and fc7 unless turned off, the heads'
 * outputs when the model has them; asking outright for a head the model lacks is an error.
 */
export function wantedOutputs(model: Pick<RcnnModel, 'heads' | 'name'>, req: FeatureRequest): { wantPool5: boolean; wantFc7: boolean; wantScores: boolean; wantDeltas: boolean } {
  const wantPool5 = req.pool5 ?? true;
  const wantFc7 = req.fc7 ?? true;
  const wantScores = (req.svmScores ?? true) && model.heads.hasScorer;
  const wantDeltas = (req.bboxDeltas ?? true) && model.heads.hasBoxRegressor;
  if (req.svmScores && !model.heads.hasScorer) throw new Error(`model ${model.name} has no SVM head`);
  if (req.bboxDeltas && !model.heads.hasBoxRegressor) throw new Error(`model ${model.name} has no box regressor`);
  return { wantPool5, wantFc7, wantScores, wantDeltas };
}

/**
 * Streams features for an image's proposals batch by batch. Accepts a raster (converted once)
 * or a prepared WarpSource (kept by the caller across requests).
 */
export async function* extractFeatures(model: RcnnModel, image: RgbImage | WarpSource, req: FeatureRequest): AsyncGenerator<FeatureBatch> {
  if (req.features === 'roi') {
    yield* extractRoiFeatures(model, 'tensor' in image ? image.image : image, req);
    return;
  }
  if (req.features !== undefined && req.features !== 'warp') throw new Error(`unknown feature mode "${req.features}": use "warp" or "roi"`);
  const a = model.arch;
  const total = req.boxes.length >> 2;
  const warp: WarpOptions = { size: a.inputHeight, padding: 16, ...req.warp };
  if (a.inputHeight !== a.inputWidth || warp.size !== a.inputHeight) throw new Error(`warp size ${warp.size} does not match the network input ${a.inputHeight}x${a.inputWidth}`);
  const { wantPool5, wantFc7, wantScores, wantDeltas } = wantedOutputs(model, req);
  const extra = req.layers ?? [];
  const outputs = new Set<LayerName>(extra);
  if (wantPool5 || wantDeltas) outputs.add('pool5');
  if (wantFc7 || wantScores) outputs.add('fc7');
  if (outputs.size === 0) outputs.add('fc7');
  const perCrop = largestActivationBytes(a);
  let batch = Math.max(1, Math.floor(req.batchSize ?? chooseBatchSize(a, tf.getBackend(), model.maxBindingBytes)));
  const ownSource = !('tensor' in image);
  const src = ownSource ? createWarpSource(image as RgbImage, a) : (image as WarpSource);
  try {
    let start = 0;
    while (start < total) {
      if (req.signal?.aborted) throw abortError();
      const count = Math.min(batch, total - start);
      const t0 = performance.now();
      let out: FeatureBatch;
      try {
        if (count * perCrop > model.maxBindingBytes) {
          // WebGPU reports an oversized binding as an asynchronous validation error and
          // returns garbage; refuse it up front so the back-off below handles it.
          throw new OutOfMemoryError(`a batch of ${count} needs ${(count * perCrop) / 2 ** 20} MiB in one binding; the device allows ${model.maxBindingBytes / 2 ** 20} MiB`);
        }
        out = await runBatch(model, src, req, warp, start, count, total, outputs, { wantPool5, wantFc7, wantScores, wantDeltas });
      } catch (e) {
        if (isOutOfMemory(e) && count > 1) {
          batch = Math.max(1, Math.floor(count / 2));
          continue;
        }
        throw e;
      }
      out.batchSize = batch;
      out.ms = performance.now() - t0;
      start += count;
      yield out;
    }
  } finally {
    if (ownSource) src.dispose();
  }
}

async function runBatch(
  model: RcnnModel,
  src: WarpSource,
  req: FeatureRequest,
  warp: WarpOptions,
  start: number,
  count: number,
  total: number,
  outputs: Set<LayerName>,
  want: { wantPool5: boolean; wantFc7: boolean; wantScores: boolean; wantDeltas: boolean },
): Promise<FeatureBatch> {
  const boxes = Array.prototype.slice.call(req.boxes, 4 * start, 4 * (start + count)) as number[];
  const tensors: Record<string, tf.Tensor> = {};
  let crops: tf.Tensor4D | undefined;
  try {
    const t0 = performance.now();
    crops = warpProposals(src, boxes, warp);
    const t1 = performance.now();
    const res = tf.tidy(() => {
      const o = model.net.forward(crops!, { outputs: [...outputs] });
      const r = headOutputs(model, o.pool5 ? flattenChw(o.pool5 as tf.Tensor4D) : undefined, o.fc7 as tf.Tensor2D | undefined, want);
      for (const l of req.layers ?? []) r[`layer:${l}`] = toNchw(o[l]!);
      return r;
    });
    Object.assign(tensors, res);
    const batch: FeatureBatch = { start, count, total, batchSize: count, ms: 0 };
    await readBack(tensors, batch);
    if (req.crops) batch.crops = await cropsToRgb(crops, model.arch);
    batch.timing = { warp: t1 - t0, cnn: performance.now() - t1 };
    return batch;
  } finally {
    tf.dispose(Object.values(tensors));
    crops?.dispose();
  }
}

/** What a batch returns from flat pool5 and fc7 [B, D]: the features asked for and the heads' outputs. */
export function headOutputs(
  model: Pick<RcnnModel, 'heads'>,
  pool5Flat: tf.Tensor2D | undefined,
  fc7: tf.Tensor2D | undefined,
  want: { wantPool5: boolean; wantFc7: boolean; wantScores: boolean; wantDeltas: boolean },
): Record<string, tf.Tensor> {
  const r: Record<string, tf.Tensor> = {};
  if (want.wantPool5) r.pool5 = pool5Flat!;
  if (want.wantFc7) r.fc7 = fc7!;
  if (want.wantScores) r.svmScores = model.heads.scores(fc7!);
  if (want.wantDeltas) r.bboxDeltas = model.heads.bboxDeltas(pool5Flat!);
  return r;
}

/** Reads tensors into the batch, one at a time (async: the worker stays responsive to cancel messages). */
export async function readBack(tensors: Record<string, tf.Tensor>, batch: FeatureBatch): Promise<void> {
  for (const [k, t] of Object.entries(tensors)) {
    const data = (await t.data()) as Float32Array;
    if (k.startsWith('layer:')) {
      (batch.layers ??= {})[k.slice(6) as LayerName] = { shape: t.shape.slice(), data };
    } else {
      (batch as unknown as Record<string, Float32Array>)[k] = data;
    }
  }
}

/** Runs extractFeatures to the end and concatenates the batches (CLI, tests, training). */
export async function extractAll(model: RcnnModel, image: RgbImage | WarpSource, req: FeatureRequest): Promise<Omit<FeatureBatch, 'start' | 'count' | 'ms' | 'layers'> & { batches: number; ms: number }> {
  const parts: FeatureBatch[] = [];
  let ms = 0;
  for await (const b of extractFeatures(model, image, req)) {
    parts.push(b);
    ms += b.ms;
  }
  const cat = <K extends 'pool5' | 'fc7' | 'svmScores' | 'bboxDeltas'>(k: K): Float32Array | undefined => {
    if (parts.length === 0 || !parts[0][k]) return undefined;
    const out = new Float32Array(parts.reduce((s, p) => s + p[k]!.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p[k]!, o);
      o += p[k]!.length;
    }
    return out;
  };
  const total = req.boxes.length >> 2;
  return { total, batchSize: parts[parts.length - 1]?.batchSize ?? 0, batches: parts.length, ms, pool5: cat('pool5'), fc7: cat('fc7'), svmScores: cat('svmScores'), bboxDeltas: cat('bboxDeltas') };
}
