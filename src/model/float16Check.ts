/**
 * Measures what float16 storage of the CNN weights does to the features and scores, so a package
 * is stored in float16 only when that is measured to be harmless (docs/architecture.md): the same
 * crops through the float32 and the float16-rounded weights, compared at fc7 and at the SVM
 * scores (or fc8). Computation stays float32 in both.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedWeights } from './caffenet';
import { RcnnModel } from './rcnnModel';
import { type ModelPackage, floatsToHalf, halfsToFloats } from './package';

export interface Float16Effect {
  crops: number;
  /** max |fc7_16 - fc7_32| / max |fc7_32|. */
  fc7RelativeError: number;
  /** Largest change of an SVM score (or fc8 logit when there is no SVM head). */
  scoreMaxAbsChange: number;
  /** Fraction of crops whose top-scoring class is unchanged. */
  top1Agreement: number;
}

export function roundWeightsToHalf(w: NamedWeights): NamedWeights {
  const out: NamedWeights = {};
  for (const [k, v] of Object.entries(w)) out[k as keyof NamedWeights] = { shape: v.shape, data: halfsToFloats(floatsToHalf(v.data)) };
  return out;
}

/** Runs `crops` (NHWC, preprocessed) through both versions of the package. */
export async function measureFloat16Effect(pkg: ModelPackage, crops: tf.Tensor4D): Promise<Float16Effect> {
  const a = new RcnnModel(pkg);
  const b = new RcnnModel({ ...pkg, weights: roundWeightsToHalf(pkg.weights) });
  try {
    const run = (m: RcnnModel) =>
      tf.tidy(() => {
        const last = m.arch.fc8 > 0 ? 'fc8' : 'fc7';
        const o = m.net.forward(crops, { outputs: ['fc7', last] });
        const scores = m.heads.hasScorer ? m.heads.scores(o.fc7 as tf.Tensor2D) : (o[last] as tf.Tensor2D);
        return { fc7: o.fc7!, scores };
      });
    const ra = run(a);
    const rb = run(b);
    const [f7a, f7b, sa, sb] = await Promise.all([ra.fc7.data(), rb.fc7.data(), ra.scores.data(), rb.scores.data()]);
    const c = ra.scores.shape[1]!;
    let maxF = 0, maxD = 0, maxS = 0, agree = 0;
    for (let i = 0; i < f7a.length; i++) {
      maxF = Math.max(maxF, Math.abs(f7a[i]));
      maxD = Math.max(maxD, Math.abs(f7a[i] - f7b[i]));
    }
    const n = crops.shape[0];
    for (let r = 0; r < n; r++) {
      let ia = 0, ib = 0;
      for (let j = 0; j < c; j++) {
        maxS = Math.max(maxS, Math.abs(sa[r * c + j] - sb[r * c + j]));
        if (sa[r * c + j] > sa[r * c + ia]) ia = j;
        if (sb[r * c + j] > sb[r * c + ib]) ib = j;
      }
      if (ia === ib) agree++;
    }
    tf.dispose([ra.fc7, ra.scores, rb.fc7, rb.scores]);
    return { crops: n, fc7RelativeError: maxF > 0 ? maxD / maxF : 0, scoreMaxAbsChange: maxS, top1Agreement: agree / n };
  } finally {
    a.dispose();
    b.dispose();
  }
}

/** Crops with image-like statistics (smooth colour fields plus texture, 0..255 minus the mean). */
export function syntheticCrops(pkg: ModelPackage, n: number, seed = 1): tf.Tensor4D {
  const { inputHeight: h, inputWidth: w } = pkg.architecture;
  return tf.tidy(() => {
    const low = tf.image.resizeBilinear(tf.randomUniform([n, 8, 8, 3], 0, 255, 'float32', seed) as tf.Tensor4D, [h, w]);
    const noise = tf.randomNormal([n, h, w, 3], 0, 20, 'float32', seed + 1);
    const img = tf.clipByValue(tf.add(low, noise), 0, 255);
    return tf.sub(img, tf.tensor1d(pkg.architecture.mean)) as tf.Tensor4D;
  });
}
