/**
 * An exact-layout replica of the ONNX Model Zoo's rcnn-ilsvrc13 files with random weights, for
 * the import tests, the CLI test and the app's end-to-end fixture (scripts/zoo-replica.mts
 * writes one). Same node, value and initializer names, op types, attributes, opset, declared
 * input and output as the published file, as far as public sources show them; any width (the
 * real thing is width 1, 230 MB; tests use narrow ones with the same names and ops).
 *
 * What the layout rests on (read in November 2026):
 * - onnx/models `validated/vision/classification/rcnn_ilsvrc13/README.md` (and the older
 *   `vision/...` and `bvlc_reference_rcnn_ilsvrc13/README.md`): "Caffe BVLC R-CNN ILSVRC13 ==>
 *   Caffe2 R-CNN ILSVRC13 ==> ONNX", input `data_0: float[1, 3, 224, 224]`, output
 *   `fc-rcnn_1: float[1, 200]`, sample test data `test_data_set_0` .. `test_data_set_5`. The
 *   files' git-lfs pointers give their sizes and SHA-256 (src/model/zoo.ts).
 * - The archive's folder is `bvlc_reference_rcnn_ilsvrc13/`: the zoo's own model test scripts
 *   (onnxruntime's model tests, onnx2fluid's zoo script) untar rcnn-ilsvrc13-7.tar.gz and open
 *   `bvlc_reference_rcnn_ilsvrc13/model.onnx` and its `test_data_set_*` folders.
 * - Names come from Caffe2's ONNX frontend (caffe2/python/onnx/frontend.py `_ssa_rewrite`): every
 *   blob gets its SSA version, so initializers are `conv1_w_0`, `conv1_b_0`, ..., `fc-rcnn_w_0`
 *   and in-place layers bump the version: `conv1_1` (Conv) -> `conv1_2` (Relu), `fc6_1` (Gemm)
 *   -> `fc6_2` (Relu) -> `fc6_3` (Dropout). Node names are copied from the Caffe2 ops, which
 *   caffe_translator.py leaves unnamed, so they are empty. A printed graph of the zoo's CaffeNet,
 *   converted the same way (ONNC's backend guide and its liveness-analysis test), shows the same
 *   names, Dropout's second output `_fc6_mask_1`, and `OC2_DUMMY_1` (int64[2]) as the shape
 *   input of the Reshape that writes `OC2_DUMMY_0`.
 * - Caffe2's exporter (caffe2/onnx/onnx_exporter.cc, CreateGemmNodes) flattens a >2-D FC input
 *   with a Reshape to {outer, inner} measured at conversion, batch 1: [1, 9216]; the Reshape's
 *   output and its shape tensor are named by DummyName ("OC2_DUMMY_" + counter), output first.
 *   Gemm gets transB = 1 (and broadcast = 1 in the older, opset < 7 exporter). Caffe's pooling
 *   (CAFFE_LEGACY_POOLING, ceil mode) becomes explicit end pads computed at the conversion size
 *   (CreateConvPoolNodes): at 224, pool1 [0,0,2,2], pool2 and pool5 [0,0,1,1]. onnx/models issue
 *   #5 reports the AlexNet's pool5 pads [0,0,1,1], and deephealthproject/eddl issue #315 GoogLeNet-3's
 *   [0,0,2,2] (the same formula, 112 -> 56).
 * - caffe_translator.py TranslateConv writes stride, pad, kernel and group only when it is not 1:
 *   so Conv has kernel_shape, strides, pads (+ group 2 on conv2, conv4, conv5), no dilations.
 * Not known from public text, so chosen here: the producer, the graph's name, and the
 * distribution of the random test inputs (README: "random generated sample test data").
 * A check of the whole: the opset-3 replica at width 1 is 230,753,164 bytes, 31 bytes more than
 * the published rcnn-ilsvrc13-3.onnx (230,753,133; our producer string alone is 26 bytes). Named
 * nodes (about 7 bytes each for 23 nodes), `consumed_inputs` attributes or initializers left out
 * of the graph inputs (about 30 bytes each for 17) would each move it by hundreds of bytes.
 */
import { caffeNetArch } from '../architecture';
import { gaussian, randomWeights } from '../caffenet';
import type { ModelPackage } from '../package';
import { writeTar } from '../../core/tar';
import { type ExportResult, exportOnnx } from './export';
import { ILSVRC13_DET_CLASSES } from './ilsvrc13';
import { type OnnxTensor, encodeOnnxTensor, floatTensor } from './proto';

export const ZOO_ARCHIVE_FOLDER = 'bvlc_reference_rcnn_ilsvrc13';
export const ZOO_INPUT_SIZE = 224;

export interface ReplicaOptions {
  /** CaffeNet width multiplier: 1 is the published size (4096-wide fc layers, about 230 MB). */
  width?: number;
  seed?: number;
}

/**
 * Random weights at CaffeNet's geometry with a 200-class SVM head under the ILSVRC13 names.
 * Caffe's filler for conv1 and the fc layers, He scaling for conv2-5 so the deeper layers do not
 * collapse towards zero on 0..255-scale input (the parity tests then compare real numbers).
 */
export function replicaPackage(opts: ReplicaOptions = {}): ModelPackage {
  const seed = opts.seed ?? 1;
  const arch = caffeNetArch({ width: opts.width ?? 1, numClasses: 0 });
  const weights = randomWeights(arch, { seed, scheme: 'caffe' });
  const g = gaussian(seed + 100);
  for (const n of ['conv2', 'conv3', 'conv4', 'conv5'] as const) {
    const w = weights[`${n}.weight`]!;
    const fanIn = w.shape[0] * w.shape[1] * w.shape[2];
    const std = Math.sqrt(2 / fanIn);
    for (let i = 0; i < w.data.length; i++) w.data[i] = g() * std;
  }
  const d = arch.fc7;
  const c = ILSVRC13_DET_CLASSES.length;
  const svmWeights = new Float32Array(c * d);
  const std = 1 / Math.sqrt(d);
  for (let i = 0; i < svmWeights.length; i++) svmWeights[i] = g() * std;
  return {
    name: 'rcnn-ilsvrc13 replica',
    architecture: arch,
    classes: null,
    weights,
    svm: { classes: [...ILSVRC13_DET_CLASSES], featureLayer: 'fc7', featureScale: 1, weights: svmWeights, bias: Float32Array.from({ length: c }, () => g() - 1) },
    provenance: { createdBy: 'R-CNN Explorer zoo replica (random weights)', createdAt: new Date(0).toISOString() },
  };
}

/** The package written as the zoo's rcnn-ilsvrc13-<opset> model.onnx (opset 9) or .onnx (opset 3). */
export function exportZooLayout(pkg: ModelPackage, opset: 3 | 9 = 9): ExportResult {
  return exportOnnx(pkg, {
    opset,
    dropout: true,
    dropoutMask: true,
    svmAsLayer: true,
    nodeNames: 'none',
    attributes: 'caffe2',
    declaredInputSize: ZOO_INPUT_SIZE,
    batch: 1,
    caffeCeilPools: true,
    // The converter measured the FC input at batch 1: [1, C*6*6].
    reshapeShape: [1, pkg.architecture.conv.conv5.filters * 36],
    initializersAsInputs: true,
    declareOutputShape: true,
    graphName: ZOO_ARCHIVE_FOLDER,
    producer: { name: 'rcnn-explorer zoo replica', version: '1' },
    docString: '',
  });
}

/** Random 1x3x224x224 inputs on Caffe's 0..255-minus-mean scale. */
export function replicaTestInputs(count: number, seed = 11): OnnxTensor[] {
  const g = gaussian(seed);
  return Array.from({ length: count }, () =>
    floatTensor('data_0', [1, 3, ZOO_INPUT_SIZE, ZOO_INPUT_SIZE], Float32Array.from({ length: 3 * ZOO_INPUT_SIZE * ZOO_INPUT_SIZE }, () => g() * 60)),
  );
}

export interface ReplicaTestSet {
  input: OnnxTensor;
  output: OnnxTensor;
}

/**
 * The tar the zoo publishes: <folder>/model.onnx and <folder>/test_data_set_N/{input_0,output_0}.pb,
 * with their folders (gzip it with gzipBytes for the .tar.gz).
 */
export function packZooArchive(model: Uint8Array, sets: ReplicaTestSet[], folder = ZOO_ARCHIVE_FOLDER): Uint8Array {
  return writeTar([
    { name: folder },
    { name: `${folder}/model.onnx`, data: model },
    ...sets.flatMap((s, i) => [
      { name: `${folder}/test_data_set_${i}` },
      { name: `${folder}/test_data_set_${i}/input_0.pb`, data: encodeOnnxTensor(s.input) },
      { name: `${folder}/test_data_set_${i}/output_0.pb`, data: encodeOnnxTensor(s.output) },
    ]),
  ]);
}
