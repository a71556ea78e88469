/**
 * One CNN worker of `rcnn train` / `rcnn eval`: fine-tuning gradients on its share of each
 * mini-batch (data parallel; the averaged gradient is applied identically in every worker, so the
 * replicas never diverge), validation predictions, and fc7/pool5 features for the SVM and
 * box-regression stages.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend } from '../../model/node';
import { CaffeNet, randomWeights, flattenChw } from '../../model/caffenet';
import { createWarpSource, warpProposals } from '../../model/warp';
import { randomAugment, warpBoxInto, type WarpAugment } from '../../model/finetune/cpuWarp';
import { FINE_TUNE_RECIPE } from '../../model/finetune/recipe';
import { applySgd, createSgdState, layerOf, lossGradients, type SgdState } from '../../model/training';
import { mulberry32 } from '../../core/learn/random';
import type { RgbImage } from '../../core/image/raster';
import type { FeatureAugment, InitRequest, WorkerRequest, WorkerResponse } from './protocol';
import { RcnnHeads } from '../../model/heads';
import { pool5Length } from '../../model/architecture';
import { type ConvMap, computeConvMap, extractRoiFeatures } from '../../model/sharedConv';

if (!parentPort) throw new Error('trainerWorker must run as a worker thread');
const port = parentPort;
const send = (m: WorkerResponse, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

let net: CaffeNet | null = null;
let init: InitRequest | null = null;
let sgd: SgdState = { trainable: [], velocity: [] };
let offsets: number[] = []; // flat offset of each trainable variable
let flatLength = 0;
let rasters: RgbImage[] = [];
let winBoxes: Float32Array<ArrayBufferLike> = new Float32Array(0);
let winImage: Int32Array<ArrayBufferLike> = new Int32Array(0);
let winLabel: Int32Array<ArrayBufferLike> = new Int32Array(0);

const FEATURE_BATCH = 64;

async function onInit(req: InitRequest): Promise<void> {
  await useNodeBackend('wasm');
  init = req;
  net = new CaffeNet(req.arch, req.weights ?? scratchWeights(req.arch, req.seed));
  const layers = new Set(req.trainableLayers);
  const trainable = net.variables.filter((v) => layers.has(layerOf(v)));
  offsets = [];
  flatLength = 0;
  for (const v of trainable) {
    offsets.push(flatLength);
    flatLength += v.size;
  }
  sgd = createSgdState(trainable, req.velocity);
  rasters = req.rasters.offsets.map((o, i) => ({
    width: req.rasters.widths[i],
    height: req.rasters.heights[i],
    data: new Uint8Array(req.rasters.buffer, o, req.rasters.widths[i] * req.rasters.heights[i] * 3),
  }));
  if (req.windows) {
    winBoxes = new Float32Array(req.windows.boxes);
    winImage = new Int32Array(req.windows.image);
    winLabel = new Int32Array(req.windows.label);
  }
  send({ type: 'ready', trainableCount: flatLength, backend: tf.getBackend() });
}

/**
 * He initialisation assumes unit-variance inputs, but Caffe-style inputs are mean-subtracted
 * 0..255 values (standard deviation about 60 on natural images): conv1's weights are scaled down
 * by that much so every layer starts near unit variance (and its lr_mult matches: training.ts
 * `lrMult`). Without it the first iterations from scratch produce logits in the hundreds and diverge.
 */
export const INPUT_STD = FINE_TUNE_RECIPE.inputStd;

function scratchWeights(arch: InitRequest['arch'], seed: number) {
  const w = randomWeights(arch, { scheme: 'he', seed });
  const c1 = w['conv1.weight']!;
  for (let i = 0; i < c1.data.length; i++) c1.data[i] /= INPUT_STD;
  return w;
}

/** Warps n boxes into one NHWC batch (cpuWarp, the fine-tuning warp), each with its own augmentation. */
function warpBatch(n: number, boxOf: (k: number) => { img: RgbImage; box: ArrayLike<number> }, augOf: () => WarpAugment): tf.Tensor4D {
  const arch = init!.arch;
  const S = arch.inputHeight;
  const data = new Float32Array(n * S * S * 3);
  const mean = arch.mean as [number, number, number];
  for (let k = 0; k < n; k++) {
    const { img, box } = boxOf(k);
    warpBoxInto(img, box, mean, data, k * S * S * 3, S, FINE_TUNE_RECIPE.warpPadding, augOf());
  }
  return tf.tensor4d(data, [n, S, S, 3]);
}

/** Warp the given windows into one NHWC batch, with the window layer's augmentation. */
function buildBatch(windows: Int32Array, rand: (() => number) | null): tf.Tensor4D {
  return warpBatch(
    windows.length,
    (k) => ({ img: rasters[winImage[windows[k]]], box: winBoxes.subarray(4 * windows[k], 4 * windows[k] + 4) }),
    () => (rand ? randomAugment(rand, init!.augment === 'colour' ? 'colour' : 'window', init!.gainJitter, init!.blur) : {}),
  );
}

function onGrad(id: number, windows: Int32Array, iteration: number): void {
  const t0 = performance.now();
  const rand = init!.augment !== 'none' ? mulberry32((init!.seed * 7919 + iteration * 104729 + init!.workerIndex * 15485863) >>> 0) : null;
  const labels = Int32Array.from(windows, (w) => winLabel[w]);
  const x = buildBatch(windows, rand);
  const { loss, correct, grads } = lossGradients(net!, x, labels, sgd.trainable);
  const slot = new Float32Array(init!.gradSlots[init!.workerIndex]);
  grads.forEach((g, i) => slot.set(g.dataSync() as Float32Array, offsets[i]));
  tf.dispose([x, ...grads]);
  send({ type: 'grad', id, loss, correct, n: windows.length, ms: performance.now() - t0 });
}

/** Averages the workers' gradient slots and applies Caffe's SGD (training.ts `applySgd`), the same in every replica. */
function onApply(id: number, lr: number, slots: number): void {
  const views = init!.gradSlots.slice(0, slots).map((b) => new Float32Array(b));
  const inv = 1 / views.length;
  const grads = sgd.trainable.map((v, i) => {
    const avg = new Float32Array(v.size);
    for (const s of views) {
      const part = s.subarray(offsets[i], offsets[i] + v.size);
      for (let k = 0; k < avg.length; k++) avg[k] += part[k];
    }
    for (let k = 0; k < avg.length; k++) avg[k] *= inv;
    return avg;
  });
  applySgd(sgd, grads, lr, { momentum: init!.momentum, weightDecay: init!.weightDecay });
  send({ type: 'applied', id });
}

function onEval(id: number, windows: Int32Array): void {
  const predicted = new Int32Array(windows.length);
  let loss = 0;
  for (let s = 0; s < windows.length; s += FEATURE_BATCH) {
    const part = windows.subarray(s, Math.min(windows.length, s + FEATURE_BATCH));
    tf.tidy(() => {
      const x = buildBatch(part, null);
      const logits = net!.forward(x, { outputs: ['fc8'] }).fc8 as tf.Tensor2D;
      predicted.set(tf.argMax(logits, 1).dataSync() as Int32Array, s);
      const y = tf.oneHot(tf.tensor1d(Int32Array.from(part, (w) => winLabel[w]), 'int32'), init!.arch.fc8);
      loss += (tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar).dataSync()[0] * part.length;
    });
  }
  send({ type: 'eval', id, predicted, loss: loss / Math.max(1, windows.length) }, [predicted.buffer]);
}

/** The boxes of one image warped with a random augmentation each, drawn from a stream seeded by `a.seed`. */
function augmentedCrops(image: number, boxes: Float32Array, a: FeatureAugment): tf.Tensor4D {
  const rand = mulberry32(a.seed >>> 0);
  return warpBatch(boxes.length >> 2, (k) => ({ img: rasters[image], box: boxes.subarray(4 * k, 4 * k + 4) }), () => randomAugment(rand, a.mode, a.gainJitter, a.blur));
}

/**
 * fc7 of every box and pool5 (Caffe C,H,W order) of the requested rows, for one image; with
 * `augment`, each box is warped with its own random augmentation instead of the plain R-CNN warp.
 */
function onFeatures(id: number, image: number, boxes: Float32Array, pool5Rows: Int32Array, augment?: FeatureAugment): void | Promise<void> {
  if (init!.features === 'roi') return onRoiFeatures(id, image, boxes, pool5Rows, augment);
  const t0 = performance.now();
  const n = boxes.length >> 2;
  const arch = init!.arch;
  const d7 = arch.fc7;
  const fc7 = new Float32Array(n * d7);
  const want = new Set(pool5Rows);
  let pool5: Float32Array | null = null;
  let pool5Dim = 0;
  const rowPos = new Map<number, number>();
  pool5Rows.forEach((r, k) => rowPos.set(r, k));
  const src = createWarpSource(rasters[image], arch);
  try {
    for (let s = 0; s < n; s += FEATURE_BATCH) {
      const e = Math.min(n, s + FEATURE_BATCH);
      tf.tidy(() => {
        const part = boxes.subarray(4 * s, 4 * e);
        const x = augment ? augmentedCrops(image, part, { ...augment, seed: augment.seed + s }) : warpProposals(src, part);
        const out = net!.forward(x, { outputs: ['pool5', 'fc7'] });
        fc7.set(out.fc7!.dataSync() as Float32Array, s * d7);
        let anyPool5 = false;
        for (let i = s; i < e; i++) if (want.has(i)) anyPool5 = true;
        if (anyPool5) {
          const flat = flattenChw(out.pool5 as tf.Tensor4D);
          pool5Dim = flat.shape[1];
          if (!pool5) pool5 = new Float32Array(pool5Rows.length * pool5Dim);
          const data = flat.dataSync() as Float32Array;
          for (let i = s; i < e; i++) {
            const k = rowPos.get(i);
            if (k !== undefined) pool5.set(data.subarray((i - s) * pool5Dim, (i - s + 1) * pool5Dim), k * pool5Dim);
          }
        }
      });
    }
  } finally {
    src.dispose();
  }
  const p5 = pool5 ?? new Float32Array(0);
  send({ type: 'features', id, fc7, pool5: p5, ms: performance.now() - t0 }, [fc7.buffer, p5.buffer]);
}

/** conv5 of the last photo asked for: a worker often gets several requests for one photo in a row. */
let roiMap: { image: number; map: ConvMap } | null = null;
let noHeads: RcnnHeads | null = null;

/**
 * onFeatures on the shared-convolution path (--features roi): conv1..conv5 once on the photo,
 * each box RoI-pooled out of conv5 (its pool5), then fc6 and fc7.
 */
async function onRoiFeatures(id: number, image: number, boxes: Float32Array, pool5Rows: Int32Array, augment?: FeatureAugment): Promise<void> {
  if (augment) throw new Error('augmented SVM positives are warped crops, which the shared-convolution path (--features roi) does not make: drop --svm-aug');
  const t0 = performance.now();
  const arch = init!.arch;
  noHeads ??= new RcnnHeads({}, { fc7: arch.fc7, pool5: pool5Length(arch) });
  const model = { net: net!, arch, heads: noHeads, maxBindingBytes: Infinity, name: 'trainer' };
  if (roiMap?.image !== image) {
    roiMap?.map.dispose();
    roiMap = null;
    roiMap = { image, map: await computeConvMap(model, rasters[image], { scale: init!.roiScale, pool: 'cpu' }) };
  }
  const n = boxes.length >> 2;
  const fc7 = new Float32Array(n * arch.fc7);
  const d5 = pool5Length(arch);
  const pool5 = new Float32Array(pool5Rows.length * d5);
  const rowPos = new Map<number, number>();
  pool5Rows.forEach((r, k) => rowPos.set(r, k));
  for await (const b of extractRoiFeatures(model, roiMap.map, { boxes, batchSize: FEATURE_BATCH, pool5: pool5Rows.length > 0, fc7: true, svmScores: false, bboxDeltas: false })) {
    fc7.set(b.fc7!, b.start * arch.fc7);
    if (b.pool5) for (let i = 0; i < b.count; i++) {
      const k = rowPos.get(b.start + i);
      if (k !== undefined) pool5.set(b.pool5.subarray(i * d5, (i + 1) * d5), k * d5);
    }
  }
  send({ type: 'features', id, fc7, pool5, ms: performance.now() - t0 }, [fc7.buffer, pool5.buffer]);
}

async function onState(id: number): Promise<void> {
  const weights = await net!.getWeights();
  const vel = new Float32Array(flatLength);
  sgd.velocity.forEach((v, i) => vel.set(v.dataSync() as Float32Array, offsets[i]));
  send({ type: 'state', id, weights, velocity: vel });
}

port.on('message', async (req: WorkerRequest) => {
  try {
    switch (req.type) {
      case 'init':
        await onInit(req);
        break;
      case 'grad':
        onGrad(req.id, req.windows, req.iteration);
        break;
      case 'apply':
        onApply(req.id, req.lr, req.slots);
        break;
      case 'eval':
        onEval(req.id, req.windows);
        break;
      case 'features':
        await onFeatures(req.id, req.image, req.boxes, req.pool5Rows, req.augment);
        break;
      case 'state':
        await onState(req.id);
        break;
    }
  } catch (e) {
    send({ type: 'error', id: 'id' in req ? req.id : undefined, message: (e as Error).stack ?? String(e) });
  }
});
