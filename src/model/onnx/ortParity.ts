/**
 * Test helper (Node): an ONNX model run by onnxruntime-node against the same model imported into
 * a package and run by the app's CaffeNet on the current tfjs backend, on the same random input.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import type { LayerName } from '../architecture';
import { CaffeNet, gaussian, toNchw } from '../caffenet';
import { maxRelativeError } from '../cpuReference';
import { importOnnx } from './import';

export function randomInput(n: number, size: number, seed: number): Float32Array {
  const g = gaussian(seed);
  return Float32Array.from({ length: n * 3 * size * size }, () => g() * 60);
}

export interface OrtParity {
  /** Max relative error per layer (and `svm` for an SVM head), for every layer onnxruntime outputs. */
  errors: Record<string, number>;
  /** Max |value| of onnxruntime's output per layer: a network of zeros would match trivially. */
  refMax: Record<string, number>;
}

/**
 * `bytesForOrt` runs in onnxruntime (its graph outputs are the layers compared); `bytesForImport`
 * is imported (often the same model as published, without exposed layers).
 */
export async function ortParity(bytesForOrt: Uint8Array, bytesForImport: Uint8Array, batch: number, seed: number): Promise<OrtParity> {
  const { pkg, report } = importOnnx(bytesForImport, { source: 'parity.onnx' });
  const a = pkg.architecture;
  const size = a.inputHeight;
  const input = randomInput(batch, size, seed);
  const session = await ort.InferenceSession.create(bytesForOrt);
  const ref = await session.run({ [report.inputName]: new ort.Tensor('float32', input, [batch, 3, size, size]) });
  const net = new CaffeNet(a, pkg.weights);
  const layers = (Object.keys(report.layerValues) as LayerName[]).filter((l) => report.layerValues[l]! in ref);
  const errors: Record<string, number> = {};
  const refMax: Record<string, number> = {};
  const x = tf.tidy(() => tf.transpose(tf.tensor4d(input, [batch, 3, size, size]), [0, 2, 3, 1]) as tf.Tensor4D);
  const outs = net.forward(x, { outputs: layers });
  const compare = (name: string, ours: Float32Array | Int32Array | Uint8Array, theirs: Float32Array) => {
    errors[name] = maxRelativeError(ours, theirs);
    refMax[name] = theirs.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  };
  for (const l of layers) {
    const ours = tf.tidy(() => toNchw(outs[l]!));
    const theirs = ref[report.layerValues[l]!];
    const dims = theirs.dims.map(Number);
    if (ours.shape.join() !== dims.join()) throw new Error(`${l}: shape ${ours.shape} against onnxruntime's ${dims}`);
    compare(l, await ours.data(), theirs.data as Float32Array);
    ours.dispose();
  }
  if (pkg.svm && report.svmValue) {
    const s = pkg.svm;
    const scores = tf.tidy(() =>
      tf.add(tf.matMul(tf.mul(outs.fc7 ?? net.forward(x, { outputs: ['fc7'] }).fc7!, s.featureScale), tf.tensor2d(s.weights, [s.classes.length, a.fc7]), false, true), tf.tensor1d(s.bias)),
    );
    compare('svm', await scores.data(), ref[report.svmValue].data as Float32Array);
    scores.dispose();
  }
  tf.dispose([x, ...Object.values(outs)]);
  net.dispose();
  await session.release();
  return { errors, refMax };
}
