/**
 * R-CNN's class-specific heads on the tfjs backend: the one implementation of applying them, used
 * by the app's CNN workers, `rcnn detect`, `rcnn eval` and the trainer's validation alike
 * (docs/algorithm.md sections 5 and 6):
 *
 *   svmScores[b, c]     = (fc7[b] * svm.featureScale) . w_c + b_c
 *   bboxDeltas[b, c, :] = ((pool5[b] * s) . W_c + b_c) . T_c + mean_c
 *   softmax[b, c]       = softmax(fc7[b] . fc8 + bias)[c + 1]     (appendix B's "fine-tuned softmax")
 *
 * Weights above the device's largest binding (WebGPU maxStorageBufferBindingSize) are kept as
 * column blocks. Every tensor this class makes is kept until dispose(); every call is tidied.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BoxRegressorHead, SvmHead } from './package';

/**
 * The fine-tuned CNN's own classifier used as a scorer (the paper's appendix B compares it with
 * the SVMs): fc8 (D x K, tfjs layout; output 0 is background) and its bias; scores are the
 * softmax probabilities of outputs 1..K-1.
 */
export interface SoftmaxHead {
  kind: 'softmax';
  classes: string[];
  weight: Float32Array;
  bias: Float32Array;
}

/** A weight matrix kept as column blocks that each fit one binding. */
export class BlockedMatrix {
  readonly blocks: tf.Tensor2D[];
  /** Takes ownership of `w`. */
  constructor(w: tf.Tensor2D, cap: number) {
    const [din, dout] = w.shape;
    const n = Math.min(dout, Math.max(1, Math.ceil((din * dout * 4) / cap)));
    if (n === 1) this.blocks = [tf.keep(w)];
    else {
      const base = Math.floor(dout / n);
      const sizes = Array.from({ length: n }, (_, i) => base + (i < dout % n ? 1 : 0));
      this.blocks = tf.split(w, sizes, 1).map((t) => tf.keep(t as tf.Tensor2D));
      w.dispose();
    }
  }
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return this.blocks.length === 1 ? tf.matMul(x, this.blocks[0]) : (tf.concat(this.blocks.map((b) => tf.matMul(x, b)), 1) as tf.Tensor2D);
  }
  dispose() {
    tf.dispose(this.blocks);
  }
}

export interface HeadsSpec {
  svm?: SvmHead | SoftmaxHead | null;
  boxRegressor?: BoxRegressorHead | null;
}

/** The scorer and box regressor of one model (either may be absent), uploaded to the active backend. */
export class RcnnHeads {
  /** Classes the scorer scores, in output order (null without a scorer). */
  readonly scoreClasses: string[] | null;
  readonly bboxClasses: string[] | null;
  readonly scorerKind: 'svm' | 'softmax' | null;
  private scoreW?: BlockedMatrix;
  private scoreB?: tf.Tensor1D;
  private boxW?: BlockedMatrix;
  private boxB?: tf.Tensor1D;
  private boxT?: tf.Tensor3D;
  private boxMean?: tf.Tensor2D;

  constructor(spec: HeadsSpec, opts: { fc7: number; pool5: number; maxBindingBytes?: number }) {
    const cap = opts.maxBindingBytes ?? Infinity;
    this.scoreClasses = spec.svm?.classes ?? null;
    this.bboxClasses = spec.boxRegressor?.classes ?? null;
    this.scorerKind = spec.svm ? ('kind' in spec.svm ? 'softmax' : 'svm') : null;
    try {
      const s = spec.svm;
      if (s && 'kind' in s) {
        const k = s.bias.length;
        if (s.weight.length !== opts.fc7 * k) throw new Error(`softmax head: weight holds ${s.weight.length} values, expected ${opts.fc7} x ${k}`);
        this.scoreW = new BlockedMatrix(tf.tensor2d(s.weight, [opts.fc7, k]), cap);
        this.scoreB = tf.keep(tf.tensor1d(s.bias));
      } else if (s) {
        const c = s.classes.length;
        if (s.weights.length !== c * opts.fc7) throw new Error(`SVM head: weights hold ${s.weights.length} values, expected ${c} x ${opts.fc7}`);
        // Fold the feature scale into W^T once: (x * s) . W^T = x . (s W^T).
        const w = tf.tidy(() => tf.mul(tf.transpose(tf.tensor2d(s.weights, [c, opts.fc7])), s.featureScale) as tf.Tensor2D);
        this.scoreW = new BlockedMatrix(w, cap);
        this.scoreB = tf.keep(tf.tensor1d(s.bias));
      }
      const r = spec.boxRegressor;
      if (r) {
        const c = r.classes.length;
        const d = opts.pool5;
        if (r.weights.length !== c * d * 4) throw new Error(`box regressor: weights hold ${r.weights.length} values, expected ${c} x ${d} x 4`);
        const w = tf.tidy(() => tf.mul(tf.reshape(tf.transpose(tf.tensor3d(r.weights, [c, d, 4]), [1, 0, 2]), [d, c * 4]), r.featureScale) as tf.Tensor2D);
        this.boxW = new BlockedMatrix(w, cap);
        this.boxB = tf.keep(tf.tensor1d(r.bias));
        this.boxT = tf.keep(tf.tensor3d(r.targetTransform, [c, 4, 4]));
        this.boxMean = tf.keep(tf.tensor2d(r.targetMean, [c, 4]));
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  get hasScorer(): boolean {
    return this.scoreW !== undefined;
  }

  get hasBoxRegressor(): boolean {
    return this.boxW !== undefined;
  }

  /** Class scores [B, C] from fc7 [B, D]: SVM margins, or softmax probabilities without background. */
  scores(fc7: tf.Tensor2D): tf.Tensor2D {
    if (!this.scoreW) throw new Error('this model has no SVM head');
    return tf.tidy(() => {
      const z = tf.add(this.scoreW!.apply(fc7), this.scoreB!) as tf.Tensor2D;
      if (this.scorerKind !== 'softmax') return z;
      const k = z.shape[1];
      return tf.slice(tf.softmax(z), [0, 1], [z.shape[0], k - 1]) as tf.Tensor2D;
    });
  }

  /** De-standardised box-regression deltas [B, C, 4] from flattened (C,H,W) pool5 [B, D]. */
  bboxDeltas(pool5Flat: tf.Tensor2D): tf.Tensor3D {
    if (!this.boxW) throw new Error('this model has no box regressor');
    return tf.tidy(() => {
      const b = pool5Flat.shape[0];
      const c = this.boxMean!.shape[0];
      const raw = tf.reshape(tf.add(this.boxW!.apply(pool5Flat), this.boxB!), [b, c, 4]);
      // Per class: raw_c [B, 4] . T_c [4, 4], batched over classes.
      const t = tf.matMul(tf.transpose(raw, [1, 0, 2]) as tf.Tensor3D, this.boxT!);
      return tf.add(tf.transpose(t, [1, 0, 2]), this.boxMean!) as tf.Tensor3D;
    });
  }

  /**
   * The heads on features already read back (n rows of fc7 and, for the box regressor, pool5):
   * scores n x C and deltas n x C x 4 as arrays. What `rcnn eval` and the trainer's validation
   * use, where the features come from the training workers.
   */
  async applyToArrays(fc7: Float32Array | null, pool5: Float32Array | null, n: number): Promise<{ scores: Float32Array | null; deltas: Float32Array | null }> {
    if (n === 0) return { scores: this.hasScorer ? new Float32Array(0) : null, deltas: this.hasBoxRegressor ? new Float32Array(0) : null };
    const s = this.hasScorer && fc7 ? tf.tidy(() => this.scores(tf.tensor2d(fc7, [n, fc7.length / n]))) : null;
    const d = this.hasBoxRegressor && pool5 ? tf.tidy(() => this.bboxDeltas(tf.tensor2d(pool5, [n, pool5.length / n]))) : null;
    try {
      return { scores: s ? ((await s.data()) as Float32Array) : null, deltas: d ? ((await d.data()) as Float32Array) : null };
    } finally {
      s?.dispose();
      d?.dispose();
    }
  }

  dispose(): void {
    this.scoreW?.dispose();
    this.boxW?.dispose();
    for (const t of [this.scoreB, this.boxB, this.boxT, this.boxMean]) t?.dispose();
    this.scoreW = this.boxW = undefined;
    this.scoreB = this.boxB = undefined;
    this.boxT = undefined;
    this.boxMean = undefined;
  }
}
