/**
 * The model zoo's own check, run on the user's machine: each `test_data_set_N` holds an input
 * (input_0.pb) and the output the publisher's runtime computed for it (output_0.pb), both
 * serialized TensorProtos. Our imported network runs the inputs on the active tfjs backend, at
 * the size the file's graph declares and with the file's own pads (ImportReport.graphArch: 224
 * for rcnn-ilsvrc13, where the pads are Caffe's ceil-mode pooling), and its outputs are compared
 * with the stored ones. A model that does not reproduce them is refused with the numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type CaffeNetArch, pool5Length, validateArch } from '../architecture';
import { CaffeNet } from '../caffenet';
import { maxRelativeError } from '../cpuReference';
import type { ModelPackage } from '../package';
import type { ImportReport } from './import';
import { tensorToFloat32 } from './proto';
import { type OnnxTestSet, TestDataError } from './testSet';

export { type OnnxTestSet, TestDataError, decodeTestSet } from './testSet';

/** Pass when every output is within this max relative error of the reference (cpuReference.maxRelativeError). */
export const TEST_DATA_TOLERANCE = 1e-3;

export interface TestSetResult {
  name: string;
  /** Max over outputs of |ours - theirs| / max(|theirs|, 1% of the largest |theirs|). */
  maxRelativeError: number;
  maxAbsError: number;
  /** Largest |reference output|: a network of zeros would otherwise match a zero reference. */
  refMax: number;
  /** Index of the largest output, ours and the reference's (per sample, first sample). */
  top1: [number, number];
}

export interface TestDataParity {
  sets: TestSetResult[];
  maxRelativeError: number;
  /** The set with the largest error. */
  worst: string;
  tolerance: number;
  pass: boolean;
  /** NCHW input shape the sets were run at. */
  inputShape: number[];
  /** The graph output compared (fc-rcnn_1 for rcnn-ilsvrc13). */
  outputName: string;
  backend: string;
}

/** What our network computes for the graph output the test data stores. */
function outputKind(report: ImportReport, pkg: ModelPackage): 'svm' | 'fc8' | 'prob' | 'fc7' {
  const out = report.outputValue;
  if (report.svmValue === out && pkg.svm) return 'svm';
  if (report.layerValues.prob === out) return 'prob';
  if (report.layerValues.fc8 === out) return 'fc8';
  if (report.layerValues.fc7 === out) return 'fc7';
  throw new TestDataError(`the graph's output "${out}" is not a layer this importer reproduces`);
}

/** The file's network (its own pads) at the test input's size, checked to reach fc6's input length. */
function archForInput(report: ImportReport, dims: number[], set: string): CaffeNetArch {
  if (dims.length !== 4 || dims[1] !== 3 || dims[0] < 1) throw new TestDataError(`${set}/input_0.pb has shape [${dims.join(', ')}]; expected [N, 3, H, W]`);
  const a: CaffeNetArch = { ...report.graphArch, inputHeight: dims[2], inputWidth: dims[3] };
  const want = pool5Length(report.graphArch); // fc6's input length (the graph fits its own size)
  let ok = false;
  try {
    validateArch(a);
    ok = pool5Length(a) === want;
  } catch {
    ok = false;
  }
  if (!ok) throw new TestDataError(`${set}/input_0.pb is ${dims.join('x')}, a size at which the network as written does not reach fc6's ${want} inputs`);
  return a;
}

/**
 * Runs every test set through the imported network on the current backend (batch = the stored
 * input's N) and compares with the stored outputs. Never throws for a mismatch: the caller
 * refuses the model when `pass` is false and shows the numbers. Throws TestDataError for test
 * data that cannot be used (wrong shapes).
 */
export async function checkTestData(
  pkg: ModelPackage,
  report: ImportReport,
  sets: OnnxTestSet[],
  opts: { tolerance?: number; onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<TestDataParity> {
  if (sets.length === 0) throw new TestDataError('no test sets to check');
  const tolerance = opts.tolerance ?? TEST_DATA_TOLERANCE;
  const kind = outputKind(report, pkg);
  const nets = new Map<string, CaffeNet>();
  const results: TestSetResult[] = [];
  let inputShape: number[] = [];
  try {
    for (const [i, set] of sets.entries()) {
      opts.signal?.throwIfAborted();
      const dims = set.input.dims;
      const arch = archForInput(report, dims, set.name);
      inputShape = dims;
      const key = `${dims[2]}x${dims[3]}`;
      let net = nets.get(key);
      if (!net) nets.set(key, (net = new CaffeNet({ ...arch, fc8: kind === 'svm' ? 0 : pkg.architecture.fc8 }, pkg.weights, { trainable: false })));
      const ours = await runOutput(net, pkg, kind, tensorToFloat32(set.input), dims);
      const theirs = tensorToFloat32(set.output);
      const want = set.output.dims;
      if (ours.length !== theirs.length) {
        throw new TestDataError(`${set.name}/output_0.pb has shape [${want.join(', ')}] (${theirs.length} values); the network gives ${ours.length}`);
      }
      results.push(compare(set.name, ours, theirs, want));
      opts.onProgress?.(i + 1, sets.length);
    }
  } finally {
    for (const n of nets.values()) n.dispose();
  }
  const worst = results.reduce((w, r) => (r.maxRelativeError > w.maxRelativeError ? r : w), results[0]);
  return {
    sets: results,
    maxRelativeError: worst.maxRelativeError,
    worst: worst.name,
    tolerance,
    // NaN never passes.
    pass: results.every((r) => r.maxRelativeError <= tolerance),
    inputShape,
    outputName: report.outputValue,
    backend: tf.getBackend(),
  };
}

async function runOutput(net: CaffeNet, pkg: ModelPackage, kind: 'svm' | 'fc8' | 'prob' | 'fc7', input: Float32Array, dims: number[]): Promise<Float32Array> {
  const [n, c, h, w] = dims;
  const x = tf.tidy(() => tf.transpose(tf.tensor4d(input, [n, c, h, w]), [0, 2, 3, 1]) as tf.Tensor4D);
  const layer = kind === 'svm' ? 'fc7' : kind;
  const outs = net.forward(x, { outputs: [layer] });
  let y = outs[layer]!;
  if (kind === 'svm') {
    const s = pkg.svm!;
    const fc7 = y;
    y = tf.tidy(() => tf.add(tf.matMul(tf.mul(fc7, s.featureScale), tf.tensor2d(s.weights, [s.classes.length, pkg.architecture.fc7]), false, true), tf.tensor1d(s.bias)));
    fc7.dispose();
  }
  const data = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return data;
}

function compare(name: string, ours: Float32Array, theirs: Float32Array, dims: number[]): TestSetResult {
  let maxAbs = 0;
  let refMax = 0;
  for (let i = 0; i < theirs.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(ours[i] - theirs[i]));
    refMax = Math.max(refMax, Math.abs(theirs[i]));
  }
  const width = dims.length >= 2 ? dims[dims.length - 1] : theirs.length;
  const argmax = (v: Float32Array) => {
    let best = 0;
    for (let i = 1; i < width; i++) if (v[i] > v[best]) best = i;
    return best;
  };
  const rel = maxRelativeError(ours, theirs);
  return { name, maxRelativeError: rel, maxAbsError: maxAbs, refMax, top1: [argmax(ours), argmax(theirs)] };
}

/** One line per set and a verdict, for the CLI and the app. */
export function describeParity(p: TestDataParity): string[] {
  const e = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : String(v));
  return [
    ...p.sets.map((s) => `${s.name}: max relative error ${e(s.maxRelativeError)} (max abs ${e(s.maxAbsError)}, largest reference |value| ${s.refMax.toPrecision(4)}; top class ${s.top1[0]} vs ${s.top1[1]})`),
    `${p.pass ? 'pass' : 'FAIL'}: max relative error ${e(p.maxRelativeError)} (${p.worst}) against the tolerance ${p.tolerance}, ${p.sets.length} test sets of ${p.inputShape.join('x')} on tfjs-${p.backend}, output "${p.outputName}"`,
  ];
}
