/**
 * Writes a package as an ONNX model in the style of the model zoo's Caffe2-converted AlexNets
 * (names data_0, conv1_w_0, conv1_1 ...; Conv with group; Gemm with transB; Dropout nodes).
 * Used to build parity-test models with random weights, to run the same network in
 * onnxruntime for the benchmark, and for `rcnn export`-style interchange. zooReplica.ts sets the
 * options that reproduce the published rcnn-ilsvrc13 file's exact layout.
 */
import { type ConvName, type LayerName, pool5Length, trunkLayers, withCaffeCeilPools } from '../architecture';
import type { ModelPackage } from '../package';
import { hwioToOihw } from '../cpuReference';
import { type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo, OnnxDataType, attr, encodeOnnxModel, floatTensor, int64Tensor } from './proto';

export interface ExportOptions {
  /** Default opset 9 (the newest of the zoo's AlexNets). */
  opset?: number;
  /** Flatten before fc6: Reshape with a shape input (opset >= 5), with a shape attribute (opset < 5), or Flatten. */
  flatten?: 'reshape' | 'flatten';
  /** Reshape target (default [-1, pool5 length]). The zoo's converter wrote a batch-1 shape. */
  reshapeShape?: number[];
  /** Grouped convs as Conv(group) (the zoo) or Split -> Conv per group -> Relu -> Concat. */
  groups?: 'attribute' | 'split';
  /** Dropout nodes after fc6/fc7 (identity at inference), as in the zoo models. */
  dropout?: boolean;
  /**
   * Declared input side: a number (the zoo declares 224 for 227-pixel networks; onnxruntime then
   * refuses any other size), a symbolic name, or by default the real size.
   */
  declaredInputSize?: number | string;
  /** Declared batch: a number, or a symbolic name (default 'N'). */
  batch?: number | string;
  /** Add a Softmax after fc8 (bvlc_alexnet / caffenet have "prob"). */
  softmax?: boolean;
  /** Also declare every layer's value as a graph output, so a runtime can return them all. */
  exposeLayers?: boolean;
  /** Emit the SVM head as a final Gemm named fc-rcnn on fc7 (as rcnn-ilsvrc13). */
  svmAsLayer?: boolean;
  /** Node names: ours ('conv1', 'conv1_relu', ...) or none, as Caffe2's exporter leaves them. */
  nodeNames?: 'layer' | 'none';
  /**
   * Attributes: all of them with their defaults, or only what Caffe2's exporter writes (Conv
   * without dilations and with group only when > 1; Gemm with transB (+ broadcast before opset 7)).
   */
  attributes?: 'all' | 'caffe2';
  /** Dropout's optional second output, the mask ("_fc6_mask_1"), as Caffe2's exporter writes it. */
  dropoutMask?: boolean;
  /**
   * Pad every pool as Caffe2's exporter writes Caffe's ceil-mode pooling for the declared input
   * size (extra end pads; architecture.ts caffeCeilEndPad). Needs a numeric declaredInputSize.
   */
  caffeCeilPools?: boolean;
  /** List the initializers among the graph inputs (IR 3 required it; old zoo files do it at every IR). */
  initializersAsInputs?: boolean;
  /** Declare the output's shape [batch, outputs] (when batch is a number). */
  declareOutputShape?: boolean;
  graphName?: string;
  producer?: { name: string; version: string };
  /** The model's doc_string (default: says who exported it). */
  docString?: string;
}

export interface ExportResult {
  bytes: Uint8Array;
  model: OnnxModel;
  inputName: string;
  /** ONNX value name of each of our layers (conv/fc after ReLU), as the importer maps them. */
  layerValues: Partial<Record<LayerName, string>>;
  svmValue?: string;
}

export function exportOnnx(pkg: ModelPackage, opts: ExportOptions = {}): ExportResult {
  const a = poolsAsWritten(pkg, opts);
  const opset = opts.opset ?? 9;
  const irVersion = opset <= 8 ? 3 : opset === 9 ? 4 : 7;
  const nodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [];
  const layerValues: Partial<Record<LayerName, string>> = {};
  const node = (opType: string, name: string, input: string[], output: string[], attribute: OnnxAttribute[] = []) => {
    nodes.push({ opType, name: opts.nodeNames === 'none' ? '' : name, input, output, attribute, domain: '', docString: '' });
    return output[0];
  };
  const pads = (p: [number, number, number, number]) => attr.ints('pads', [p[0], p[1], p[2], p[3]]);
  let cur = 'data_0';
  const conv = (name: ConvName) => {
    const s = a.conv[name];
    const w = pkg.weights[`${name}.weight`]!;
    const b = pkg.weights[`${name}.bias`]!;
    const [kh, kw, ig, o] = w.shape;
    const oihw = hwioToOihw(w.data, w.shape);
    const convAttrs = (group: number) =>
      opts.attributes === 'caffe2'
        ? [attr.ints('kernel_shape', [kh, kw]), attr.ints('strides', [s.stride[0], s.stride[1]]), pads(s.pads), ...(group > 1 ? [attr.int('group', group)] : [])]
        : [attr.ints('kernel_shape', [kh, kw]), attr.ints('strides', [s.stride[0], s.stride[1]]), pads(s.pads), attr.ints('dilations', [1, 1]), attr.int('group', group)];
    if (s.group === 1 || opts.groups !== 'split') {
      inits.push(floatTensor(`${name}_w_0`, [o, ig, kh, kw], oihw), floatTensor(`${name}_b_0`, [o], b.data));
      const c = node('Conv', name, [cur, `${name}_w_0`, `${name}_b_0`], [`${name}_1`], convAttrs(s.group));
      cur = node('Relu', `${name}_relu`, [c], [`${name}_2`]);
    } else {
      const G = s.group;
      const og = o / G;
      const parts = Array.from({ length: G }, (_, g) => `${name}_split_${g}`);
      const splitAttrs = [attr.int('axis', 1)];
      if (opset < 13) splitAttrs.push(attr.ints('split', parts.map(() => ig)));
      node('Split', `${name}_split`, [cur], parts, splitAttrs);
      const ends: string[] = [];
      for (let g = 0; g < G; g++) {
        inits.push(
          floatTensor(`${name}_g${g}_w_0`, [og, ig, kh, kw], oihw.subarray(g * og * ig * kh * kw, (g + 1) * og * ig * kh * kw)),
          floatTensor(`${name}_g${g}_b_0`, [og], b.data.subarray(g * og, (g + 1) * og)),
        );
        const c = node('Conv', `${name}_g${g}`, [parts[g], `${name}_g${g}_w_0`, `${name}_g${g}_b_0`], [`${name}_g${g}_1`], convAttrs(1));
        ends.push(node('Relu', `${name}_g${g}_relu`, [c], [`${name}_g${g}_2`]));
      }
      cur = node('Concat', `${name}_concat`, ends, [`${name}_2`], [attr.int('axis', 1)]);
    }
    layerValues[name] = cur;
  };
  const pool = (name: 'pool1' | 'pool2' | 'pool5') => {
    const s = a[name];
    cur = node('MaxPool', name, [cur], [`${name}_1`], [attr.ints('kernel_shape', s.kernel), attr.ints('strides', s.stride), pads(s.pads)]);
    layerValues[name] = cur;
  };
  const norm = (name: 'norm1' | 'norm2') => {
    const s = a[name];
    if (s) {
      cur = node('LRN', name, [cur], [`${name}_1`], [attr.int('size', s.size), attr.float('alpha', s.alpha), attr.float('beta', s.beta), attr.float('bias', s.k)]);
    }
    layerValues[name] = cur;
  };
  for (const l of trunkLayers(a)) {
    if (l === 'pool1' || l === 'pool2' || l === 'pool5') pool(l);
    else if (l === 'norm1' || l === 'norm2') norm(l);
    else conv(l);
  }
  const d5 = pool5Length(a);
  if (opts.flatten === 'flatten') {
    cur = node('Flatten', 'flatten', [cur], ['pool5_flat'], [attr.int('axis', 1)]);
  } else {
    const shape = opts.reshapeShape ?? [-1, d5];
    if (opset < 5) cur = node('Reshape', 'reshape', [cur], ['OC2_DUMMY_0'], [attr.ints('shape', shape)]);
    else {
      inits.push(int64Tensor('OC2_DUMMY_1', shape));
      cur = node('Reshape', 'reshape', [cur, 'OC2_DUMMY_1'], ['OC2_DUMMY_0']);
    }
  }
  const gemm = (name: string, w: Float32Array, k: number, n: number, b: Float32Array) => {
    // Caffe2's FC layout: weight [out, in], transB = 1.
    const wt = new Float32Array(k * n);
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) wt[j * k + i] = w[i * n + j];
    inits.push(floatTensor(`${name}_w_0`, [n, k], wt), floatTensor(`${name}_b_0`, [n], b));
    const attrs = opts.attributes === 'caffe2' ? [attr.int('transB', 1)] : [attr.float('alpha', 1), attr.float('beta', 1), attr.int('transB', 1)];
    if (opset < 7) attrs.push(attr.int('broadcast', 1));
    return node('Gemm', name, [cur, `${name}_w_0`, `${name}_b_0`], [`${name}_1`], attrs);
  };
  const dropout = (name: string) => {
    if (!opts.dropout) return;
    const attrs: OnnxAttribute[] = [];
    if (opset < 12) attrs.push(attr.float('ratio', 0.5));
    if (opset < 7) attrs.push(attr.int('is_test', 1));
    const outputs = opts.dropoutMask ? [`${name}_3`, `_${name}_mask_1`] : [`${name}_3`];
    cur = node('Dropout', `${name}_dropout`, [cur], outputs, attrs);
  };
  for (const f of ['fc6', 'fc7'] as const) {
    const w = pkg.weights[`${f}.weight`]!;
    gemm(f, w.data, w.shape[0], w.shape[1], pkg.weights[`${f}.bias`]!.data);
    cur = node('Relu', `${f}_relu`, [`${f}_1`], [`${f}_2`]);
    layerValues[f] = cur;
    dropout(f);
  }
  let svmValue: string | undefined;
  if (a.fc8 > 0) {
    const w = pkg.weights['fc8.weight']!;
    cur = gemm('fc8', w.data, w.shape[0], w.shape[1], pkg.weights['fc8.bias']!.data);
    layerValues.fc8 = cur;
    if (opts.softmax) {
      cur = node('Softmax', 'prob', [cur], ['prob_1'], [attr.int('axis', 1)]);
      layerValues.prob = cur;
    }
  } else if (opts.svmAsLayer && pkg.svm) {
    const s = pkg.svm;
    const c = s.classes.length;
    const d = a.fc7;
    // Fold the feature scale into the weights, as the R-CNN release did for fc-rcnn.
    const w = new Float32Array(d * c);
    for (let j = 0; j < c; j++) for (let i = 0; i < d; i++) w[i * c + j] = s.weights[j * d + i] * s.featureScale;
    cur = gemm('fc-rcnn', w, d, c, s.bias);
    svmValue = cur;
  }
  const batch = opts.batch ?? 'N';
  const side = opts.declaredInputSize ?? a.inputHeight;
  const vi = (name: string, shape: Array<number | string>): OnnxValueInfo => ({ name, elemType: OnnxDataType.FLOAT, shape });
  const inputs: OnnxValueInfo[] = [vi('data_0', [batch, 3, side, opts.declaredInputSize ?? a.inputWidth])];
  if (irVersion < 4 || opts.initializersAsInputs) for (const t of inits) inputs.push({ name: t.name, elemType: t.dataType, shape: t.dims });
  const outputs = new Set<string>([cur]);
  if (opts.exposeLayers) for (const v of Object.values(layerValues)) outputs.add(v!);
  const lastWidth = a.fc8 > 0 ? a.fc8 : svmValue ? pkg.svm!.classes.length : a.fc7;
  const outShape = (o: string) => (opts.declareOutputShape && o === cur && typeof batch === 'number' ? [batch, lastWidth] : null);
  const model: OnnxModel = {
    irVersion,
    opsetImport: [{ domain: '', version: opset }],
    producerName: opts.producer?.name ?? 'rcnn-explorer',
    producerVersion: opts.producer?.version ?? '0.1.0',
    domain: '',
    modelVersion: 1,
    docString: opts.docString ?? `${pkg.name}: CaffeNet-shaped AlexNet exported by R-CNN Explorer`,
    graph: {
      name: opts.graphName ?? pkg.name,
      node: nodes,
      initializer: inits,
      input: inputs,
      output: [...outputs].map((o) => ({ name: o, elemType: OnnxDataType.FLOAT, shape: outShape(o) })),
      valueInfo: [],
      docString: '',
    },
  };
  return { bytes: encodeOnnxModel(model), model, inputName: 'data_0', layerValues, svmValue };
}

/** The architecture whose pools are written: Caffe's ceil mode as end pads for the declared size, if asked. */
function poolsAsWritten(pkg: ModelPackage, opts: ExportOptions): ModelPackage['architecture'] {
  if (!opts.caffeCeilPools) return pkg.architecture;
  const side = opts.declaredInputSize;
  if (typeof side !== 'number') throw new Error('caffeCeilPools needs a numeric declaredInputSize (the size the converter ran at)');
  const a = withCaffeCeilPools({ ...pkg.architecture, inputHeight: side, inputWidth: side }, ['pool1', 'pool2', 'pool5']);
  if (pool5Length(a) !== pool5Length(pkg.architecture)) throw new Error(`at ${side}x${side} with Caffe's ceil-mode pooling pool5 has ${pool5Length(a)} values, fc6 takes ${pool5Length(pkg.architecture)}`);
  return a;
}
