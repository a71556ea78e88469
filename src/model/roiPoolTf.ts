/**
 * Fast R-CNN's RoI max pooling (core/roiPool.ts has the rules) as tfjs ops, for the GPU backends,
 * where reading conv5 back to pool it in JavaScript would stall the device.
 *
 * One gather and one max: every bin of every RoI lists the map cells it covers, padded to the
 * largest bin of the batch (K cells) with an extra row of -FLT_MAX (Caffe's initial value, so a
 * pad never wins); the cells are gathered as [RoIs * P * P * K, C], reduced by max over K, and
 * bins left empty by the clipping are multiplied by 0 (Caffe outputs 0 there). Memory is
 * RoIs x P^2 x K x C floats: the batch is sized for it (sharedConv.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { forEachRoiBin } from '../core/roiPool';

const NEG_FLT_MAX = -3.4028234663852886e38;

/**
 * RoIs [first, first + count) pooled from `map` ([1, H, W, C]) with bin bounds of
 * core/roiPool.ts roiBinBounds; returns [count, C * P * P] in Caffe's C,H,W order (caller
 * disposes). K: cells of the largest bin (core/roiPool.ts maxBinCells).
 */
export function roiPoolGather(map: tf.Tensor4D, bounds: Int32Array, P: number, first: number, count: number, K: number): tf.Tensor2D {
  const [, H, W, C] = map.shape;
  const PP = P * P;
  const k = Math.max(1, K);
  const pad = H * W;
  const idx = new Int32Array(count * PP * k).fill(pad);
  const keep = new Float32Array(count * PP);
  forEachRoiBin(bounds, P, first, count, (r, cell, hs, he, ws, we) => {
    const bin = r * PP + cell;
    let o = bin * k;
    if (he > hs && we > ws) keep[bin] = 1;
    for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) idx[o++] = h * W + w;
  });
  return tf.tidy(() => {
    const flat = tf.concat([tf.reshape(map, [H * W, C]), tf.fill([1, C], NEG_FLT_MAX)], 0);
    const cells = tf.gather(flat, tf.tensor1d(idx, 'int32'));
    const binMax = tf.max(tf.reshape(cells, [count * PP, k, C]), 1);
    const pooled = tf.mul(binMax, tf.tensor2d(keep, [count * PP, 1]));
    return tf.reshape(tf.transpose(tf.reshape(pooled, [count, P, P, C]), [0, 3, 1, 2]), [count, C * PP]) as tf.Tensor2D;
  });
}
