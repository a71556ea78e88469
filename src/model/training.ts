import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { CaffeNet } from './caffenet';
import { FINE_TUNE_RECIPE } from './finetune/recipe';

/**
 * What the fine-tuning loop needs on top of the inference graph.
 *
 * Gradients: tfjs-core's gradient registry must be loaded (src/model/node.ts does it in Node by
 * loading '@tensorflow/tfjs'; a browser bundle would import
 * '@tensorflow/tfjs-core/dist/register_all_gradients').
 *
 * The wasm backend (4.22) has no Conv2DBackpropFilter kernel, so a conv layer's weight gradient
 * would throw there, and its other gradient kernels are slow: registerWasmTrainingKernels.
 */

/**
 * dL/dW of a stride-s convolution as a convolution: with the batch playing the role of input
 * channels and dy acting as an s-dilated filter,
 *   dW[kh, kw, ci, co] = sum_{b, oh, ow} xpad[b, oh * s + kh, ow * s + kw, ci] * dy[b, oh, ow, co]
 * is conv2d(xpad^T [ci, H, W, b], dy^T [oh, ow, b, co], stride 1, dilation s), cropped to the
 * filter size. XNNPACK runs it as one GEMM, so the backward pass costs about as much as forward.
 */
export function conv2dFilterGradByConv(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: [number, number],
  pad: { top: number; bottom: number; left: number; right: number },
): tf.Tensor4D {
  return tf.tidy(() => {
    const [fh, fw, ci, co] = filterShape;
    const xp = pad.top || pad.bottom || pad.left || pad.right ? tf.pad(x, [[0, 0], [pad.top, pad.bottom], [pad.left, pad.right], [0, 0]]) : x;
    const xt = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D;
    const dyt = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const [oh, ow] = [dy.shape[1], dy.shape[2]];
    const dilations: [number, number] = [oh > 1 ? strides[0] : 1, ow > 1 ? strides[1] : 1];
    let r = tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', dilations);
    if (r.shape[1] !== fh || r.shape[2] !== fw) r = tf.slice(r, [0, 0, 0, 0], [ci, fh, fw, co]);
    return tf.transpose(r, [1, 2, 0, 3]);
  });
}

/**
 * dL/dx of a stride-1 convolution as a convolution of dy with the filter rotated by 180 degrees
 * and its in/out channels swapped; the pads become (k - 1 - pad) on each side:
 *   dx[i] = sum_k dy[i + pad_begin - k] W[k] = sum_k' dy'[i + k'] W[K - 1 - k'].
 * wasm's own Conv2DBackpropInput is a plain loop (about 10x slower than XNNPACK's conv here).
 */
export function conv2dInputGradByConv(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  pad: { top: number; bottom: number; left: number; right: number },
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = filter.shape;
    const w = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(dy, w, 1, [[0, 0], [kh - 1 - pad.top, kh - 1 - pad.bottom], [kw - 1 - pad.left, kw - 1 - pad.right], [0, 0]]);
  });
}

interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

let wasmTrainingKernels = false;

/**
 * Makes training on the wasm backend practical (measured in Node, tfjs 4.22, one core):
 * - Conv2DBackpropFilter is missing on wasm: add it (conv2dFilterGradByConv).
 * - Conv2DBackpropInput is a plain loop: stride-1 cases go through XNNPACK (conv2dInputGradByConv).
 * - BatchMatMul with transposeA/transposeB (every fc gradient) falls off XNNPACK onto a plain loop,
 *   0.5-1 GMAC/s against 13: transpose the smaller operand explicitly instead.
 * Results equal the kernels they replace up to float rounding (tested in training.test.ts).
 */
export function registerWasmTrainingKernels(): void {
  if (wasmTrainingKernels) return;
  wasmTrainingKernels = true;
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs }) => {
        const { x, dy } = inputs as { x: tf.Tensor4D; dy: tf.Tensor4D };
        const a = attrs as unknown as ConvGradAttrs;
        if (a.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (wasm): only NHWC is supported');
        const info = backend_util.computeConv2DInfo(x.shape, a.filterShape!, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
        // Returning a Tensor (not a TensorInfo) is allowed: the engine passes it through.
        return conv2dFilterGradByConv(x, dy, a.filterShape!, [info.strideHeight, info.strideWidth], info.padInfo) as unknown as tf.TensorInfo;
      },
    });
  }
  const inputGrad = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (inputGrad) {
    const original = inputGrad.kernelFunc;
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({
      ...inputGrad, // keeps the wasm setupFunc that binds the original C++ entry point
      kernelFunc: (args) => {
        const { dy, filter } = args.inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
        const a = args.attrs as unknown as ConvGradAttrs;
        if (a.dataFormat !== 'NCHW') {
          const info = backend_util.computeConv2DInfo(a.inputShape!, filter.shape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
          const p = info.padInfo;
          const [kh, kw] = filter.shape;
          if (info.strideHeight === 1 && info.strideWidth === 1 && p.top < kh && p.bottom < kh && p.left < kw && p.right < kw) {
            return conv2dInputGradByConv(dy, filter, p) as unknown as tf.TensorInfo;
          }
        }
        return original(args);
      },
    });
  }
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  if (matMul) {
    const original = matMul.kernelFunc;
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({
      ...matMul,
      kernelFunc: (args) => {
        const { a, b } = args.inputs as { a: tf.Tensor; b: tf.Tensor };
        const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
        if ((!transposeA && !transposeB) || a.rank !== 2 || b.rank !== 2) return original(args);
        const a2 = a as tf.Tensor2D;
        const b2 = b as tf.Tensor2D;
        return tf.tidy(() => {
          if (transposeA && transposeB) return tf.transpose(tf.matMul(b2, a2)); // (B A)^T = A^T B^T
          if (transposeA) return tf.matMul(tf.transpose(a2), b2);
          // A B^T: transpose whichever of B or (A and the result) is smaller.
          const [m, k] = a2.shape;
          const n = b2.shape[0];
          if (n * k <= m * k + m * n) return tf.matMul(a2, tf.transpose(b2));
          return tf.transpose(tf.matMul(b2, tf.transpose(a2)));
        }) as unknown as tf.TensorInfo;
      },
    });
  }
}

/**
 * Caffe's SGD, the one `rcnn train`'s CNN workers (src/cli/train/trainerWorker.ts) fine-tune with and
 * `rcnn bench cnn --train` times: the trainable variables and one momentum buffer each.
 */
export interface SgdState {
  trainable: tf.Variable[];
  velocity: tf.Variable[];
}

export interface SgdSettings {
  momentum: number;
  /** L2 decay on weights (not biases), as Caffe's weight_decay (CaffeNet: 0.0005). */
  weightDecay: number;
}

/** Momentum buffers for `trainable`: zeros, or the flat `velocity` of a checkpoint (variables in order). */
export function createSgdState(trainable: tf.Variable[], velocity?: Float32Array | null): SgdState {
  let offset = 0;
  const buffers = trainable.map((v) => {
    const init = velocity ? tf.tensor(velocity.subarray(offset, offset + v.size), v.shape) : tf.zerosLike(v);
    offset += v.size;
    const buffer = tf.variable(init, false);
    init.dispose();
    return buffer;
  });
  return { trainable, velocity: buffers };
}

/** "caffenet3/conv2.weight.g1" -> "conv2" */
export function layerOf(v: tf.Variable): string {
  const name = v.name.split('/').pop() ?? v.name;
  return name.split('.')[0];
}

export function isBias(v: tf.Variable): boolean {
  return v.name.includes('.bias');
}

/**
 * Caffe's lr_mult: 1 for weights and FINE_TUNE_RECIPE.biasLrMult (2) for biases (CaffeNet's solver
 * settings). conv1 sees 0..255-scale inputs, so its weight gradients are inputStd times larger and
 * its weights inputStd times smaller than those of a unit-scale layer: its lr_mult is
 * 1 / inputStd^2, which makes training identical to feeding unit-variance inputs (the
 * reparametrisation w' = inputStd w) while the network keeps CaffeNet's input convention.
 */
export function lrMult(v: tf.Variable): number {
  const base = isBias(v) ? FINE_TUNE_RECIPE.biasLrMult : 1;
  return layerOf(v) === 'conv1' && !isBias(v) ? base / (FINE_TUNE_RECIPE.inputStd * FINE_TUNE_RECIPE.inputStd) : base;
}

/**
 * Softmax cross-entropy of fc8 on one batch in training mode (dropout on) and its gradient with
 * respect to each of `trainable`, in order (the caller disposes them). `labels` are class indices
 * (0 = background in R-CNN fine-tuning); `correct` counts the batch's argmax hits.
 */
export function lossGradients(net: CaffeNet, x: tf.Tensor4D, labels: Int32Array, trainable: tf.Variable[]): { loss: number; correct: number; grads: tf.Tensor[] } {
  if (net.arch.fc8 <= 0) throw new Error('training needs a classifier layer (fc8)');
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), net.arch.fc8));
  let correct = 0;
  const { value, grads } = tf.variableGrads(() => {
    const logits = net.forward(x, { outputs: ['fc8'], training: true }).fc8 as tf.Tensor2D;
    const pred = tf.argMax(logits, 1).dataSync();
    for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) correct++;
    return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  }, trainable);
  const loss = value.dataSync()[0];
  tf.dispose([y, value]);
  return { loss, correct, grads: trainable.map((v) => grads[v.name]) };
}

/**
 * Caffe's SGD with momentum (docs/algorithm.md section 4): V = m V + lr (lr_mult g + decay W);
 * W -= V, weight decay on weights only. `grads[i]` is the (averaged) gradient of trainable[i].
 */
export function applySgd(state: SgdState, grads: ReadonlyArray<tf.Tensor | Float32Array>, lr: number, o: SgdSettings): void {
  state.trainable.forEach((v, i) => {
    tf.tidy(() => {
      const gi = grads[i];
      let g: tf.Tensor = tf.mul(gi instanceof Float32Array ? tf.tensor(gi, v.shape) : gi, lrMult(v));
      if (!isBias(v) && o.weightDecay > 0) g = tf.add(g, tf.mul(o.weightDecay, v));
      const vNew = tf.add(tf.mul(o.momentum, state.velocity[i]), tf.mul(lr, g));
      state.velocity[i].assign(vNew);
      v.assign(tf.sub(v, vNew));
    });
  });
}

/** One SGD step on one batch in a single thread (lossGradients, then applySgd): returns the loss. */
export function trainStep(net: CaffeNet, state: SgdState, x: tf.Tensor4D, labels: Int32Array, lr: number, o: SgdSettings): number {
  const { loss, grads } = lossGradients(net, x, labels, state.trainable);
  applySgd(state, grads, lr, o);
  tf.dispose(grads);
  return loss;
}
