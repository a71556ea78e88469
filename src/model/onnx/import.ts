/**
 * ONNX import of the AlexNet family as published in the ONNX model zoo: bvlc_alexnet, caffenet
 * and rcnn-ilsvrc13 (opsets 3-9; later opsets with the same op semantics are read too).
 *
 * The graph is walked from its input as a chain of layers and matched against the CaffeNet
 * layout (conv-relu, pool and LRN in either order, ..., pool5, flatten, fc6-relu, fc7-relu,
 * optional classifier and softmax). Every hyper-parameter comes from the graph: kernel sizes,
 * strides, pads, groups, LRN numbers and order. The input size comes from fc6's weight shape
 * (pool5 must yield fc6's input length), not from the declared input shape, which for the zoo
 * models says 224 where the network needs 227.
 *
 * Anything outside this family is refused with the node that does not fit. Grouped convolutions
 * written as Split -> Conv x G -> Concat are recognised as well as Conv with `group`, and
 * PyTorch's LocalResponseNorm, which torch.onnx.export writes as a subgraph, as LRN (torchLrn.ts).
 */
import { type CaffeNetArch, type ConvName, type ConvSpec, type LayerName, type LrnSpec, type Pads4, type PoolSpec, IMAGENET_MEAN_BGR, describeArch, pool5Length, validateArch } from '../architecture';
import type { HostTensor, NamedWeights } from '../caffenet';
import type { ModelPackage } from '../package';
import { ILSVRC13_DET_CLASSES } from './ilsvrc13';
import { type TorchLrnMatch, TorchLrnMismatch, matchTorchLrn } from './torchLrn';
import { floatAttr, getAttr, intAttr, intsAttr, nodeLabel, stringAttr } from './graph';
import { type OnnxModel, type OnnxNode, type OnnxTensor, ProtoError, decodeOnnxModel, tensorToFloat32, tensorToInts } from './proto';

export class OnnxImportError extends Error {
  override name = 'OnnxImportError';
  constructor(message: string, readonly node?: string) {
    super(message);
  }
}

export interface ImportOptions {
  /** File name or URL, recorded in the provenance. */
  source?: string;
  name?: string;
}

export interface ImportReport {
  opset: number;
  producer: string;
  inputName: string;
  declaredInputShape: Array<number | string | null> | null;
  inputSize: number;
  /** ONNX value holding each of our layers' outputs (Caffe semantics: conv/fc after ReLU). */
  layerValues: Partial<Record<LayerName, string>>;
  /** The SVM head's ONNX value, when the last layer was kept as one (rcnn-ilsvrc13's fc-rcnn). */
  svmValue?: string;
  notes: string[];
}

export interface ImportResult {
  pkg: ModelPackage;
  report: ImportReport;
}

const SUPPORTED = "Conv, Relu, MaxPool, LRN (or PyTorch's LocalResponseNorm subgraph), Reshape, Flatten, Gemm, Dropout, Softmax, Split + Concat (grouped conv), Identity";

/** A step of the chain after Dropout/Identity are skipped. */
type Step =
  | { kind: 'conv'; node: OnnxNode; out: string; spec: ConvSpec; weight: HostTensor; bias: Float32Array; reluFused: boolean }
  | { kind: 'relu'; node: OnnxNode; out: string }
  | { kind: 'pool'; node: OnnxNode; out: string; spec: PoolSpec }
  | { kind: 'lrn'; node: OnnxNode; out: string; spec: LrnSpec; fixed?: TorchLrnMatch['fixed'] }
  | { kind: 'flatten'; node: OnnxNode; out: string; shape: number[] | null }
  | { kind: 'gemm'; node: OnnxNode; out: string; weight: Float32Array; k: number; n: number; bias: Float32Array }
  | { kind: 'softmax'; node: OnnxNode; out: string };

/** Parses an .onnx file into our package. Throws OnnxImportError naming the node that does not fit. */
export function importOnnx(bytes: Uint8Array, opts: ImportOptions = {}): ImportResult {
  let model: OnnxModel;
  try {
    model = decodeOnnxModel(bytes);
  } catch (e) {
    if (e instanceof ProtoError) throw new OnnxImportError(`${opts.source ?? 'the file'} is not a readable ONNX model: ${e.message}`);
    throw e;
  }
  return importOnnxModel(model, opts);
}

export function importOnnxModel(model: OnnxModel, opts: ImportOptions = {}): ImportResult {
  const g = model.graph;
  const opset = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 1;
  const notes: string[] = [];
  if (opset < 3) throw new OnnxImportError(`opset ${opset} is older than the supported 3-9`);
  if (opset > 9) notes.push(`opset ${opset} is newer than the zoo models' 3-9; read with the same op semantics`);
  const inits = new Map<string, OnnxTensor>();
  for (const t of g.initializer) inits.set(t.name, t);
  const constants = new Map<string, OnnxTensor>();
  const tensorOf = (name: string): OnnxTensor | undefined => inits.get(name) ?? constants.get(name);
  // Constants: Constant nodes, and Identity nodes that alias a constant (PyTorch's exporter writes
  // one initializer for parameters with equal values, e.g. zero biases, and Identity copies of it).
  const aliases = new Set<OnnxNode>();
  for (const n of g.node) {
    if (n.opType === 'Constant') {
      const t = getAttr(n, 'value')?.t;
      if (t) constants.set(n.output[0], t);
    } else if (n.opType === 'Identity' && n.input[0] && n.output[0]) {
      const t = tensorOf(n.input[0]);
      if (t) {
        constants.set(n.output[0], t);
        aliases.add(n);
      }
    }
  }
  const realInputs = g.input.filter((i) => !inits.has(i.name));
  if (realInputs.length !== 1) throw new OnnxImportError(`expected one image input, found ${realInputs.length} (${realInputs.map((i) => i.name).join(', ')})`);
  const input = realInputs[0];
  const consumers = new Map<string, OnnxNode[]>();
  for (const n of g.node) {
    if (n.opType === 'Constant' || aliases.has(n)) continue;
    for (const i of n.input) {
      if (!i) continue;
      const list = consumers.get(i) ?? [];
      list.push(n);
      consumers.set(i, list);
    }
  }
  const graphOutputs = new Set(g.output.map((o) => o.name));
  const usedOutputs = (n: OnnxNode) => n.output.slice(1).filter((o) => o && (consumers.has(o) || graphOutputs.has(o)));

  const steps: Step[] = [];
  let cur = input.name;
  const visited = new Set<OnnxNode>();
  for (;;) {
    const next = consumers.get(cur) ?? [];
    if (next.length === 0) break;
    if (next.length > 1) {
      // PyTorch's exporter writes F.local_response_norm as x^2 -> Pad -> AveragePool -> Pow -> Div.
      let lrn: TorchLrnMatch | null;
      try {
        lrn = matchTorchLrn(cur, { nodes: g.node, consumers, graphOutputs, tensorOf });
      } catch (e) {
        if (!(e instanceof TorchLrnMismatch)) throw e;
        throw new OnnxImportError(`${e.message}, so the subgraph dividing "${cur}" is not PyTorch's LocalResponseNorm and cannot be read as LRN`, e.node.name);
      }
      if (lrn) {
        const { size, alpha, beta, k } = lrn.spec;
        steps.push({ kind: 'lrn', node: lrn.div, out: lrn.div.output[0], spec: lrn.spec, fixed: lrn.fixed });
        for (const v of lrn.nodes) visited.add(v);
        notes.push(`PyTorch's LocalResponseNorm subgraph (${lrn.nodes.size} nodes, ending at ${nodeLabel(lrn.div)}) read as LRN size ${size}, alpha ${alpha}, beta ${beta}, k ${k}`);
        cur = lrn.div.output[0];
        continue;
      }
      throw new OnnxImportError(`value "${cur}" feeds ${next.length} nodes (${next.map(nodeLabel).join(', ')}); only a single chain of layers is supported`, next[1].name);
    }
    const n = next[0];
    if (visited.has(n)) throw new OnnxImportError(`cycle at ${nodeLabel(n)}`, n.name);
    visited.add(n);
    if (n.domain && n.domain !== 'ai.onnx') throw new OnnxImportError(`${nodeLabel(n)} is in domain "${n.domain}"; only standard ONNX ops are supported`, n.name);
    if (n.input[0] !== cur && n.opType !== 'Concat') throw new OnnxImportError(`${nodeLabel(n)} takes "${cur}" as input ${n.input.indexOf(cur)}, not as its data input`, n.name);
    const extra = usedOutputs(n);
    if (extra.length > 0 && n.opType !== 'Split') throw new OnnxImportError(`${nodeLabel(n)}: its extra output "${extra[0]}" is used; only the main output is supported`, n.name);
    switch (n.opType) {
      case 'Conv':
        steps.push(readConv(n, tensorOf));
        cur = n.output[0];
        break;
      case 'Split': {
        const r = readSplitConv(n, consumers, tensorOf);
        steps.push(r.conv);
        if (r.relu) steps.push({ kind: 'relu', node: r.concat, out: r.concat.output[0] });
        for (const v of r.nodes) visited.add(v);
        cur = r.concat.output[0];
        break;
      }
      case 'Relu':
        steps.push({ kind: 'relu', node: n, out: n.output[0] });
        cur = n.output[0];
        break;
      case 'MaxPool':
        steps.push({ kind: 'pool', node: n, out: n.output[0], spec: readPool(n) });
        cur = n.output[0];
        break;
      case 'LRN': {
        const size = intAttr(n, 'size', 0);
        if (size < 1 || size % 2 !== 1) throw new OnnxImportError(`${nodeLabel(n)}: LRN size ${size} is not an odd window (an even window is asymmetric in ONNX)`, n.name);
        steps.push({ kind: 'lrn', node: n, out: n.output[0], spec: { size, alpha: floatAttr(n, 'alpha', 1e-4), beta: floatAttr(n, 'beta', 0.75), k: floatAttr(n, 'bias', 1) } });
        cur = n.output[0];
        break;
      }
      case 'Reshape': {
        let shape: number[] | null = intsAttr(n, 'shape') ?? null;
        if (n.input[1]) {
          const t = tensorOf(n.input[1]);
          if (!t) throw new OnnxImportError(`${nodeLabel(n)}: its shape input "${n.input[1]}" is computed at run time; only constant shapes are supported`, n.name);
          shape = tensorToInts(t);
        }
        if (!shape) throw new OnnxImportError(`${nodeLabel(n)} has no target shape`, n.name);
        steps.push({ kind: 'flatten', node: n, out: n.output[0], shape });
        cur = n.output[0];
        break;
      }
      case 'Flatten': {
        const axis = intAttr(n, 'axis', 1);
        if (axis !== 1) throw new OnnxImportError(`${nodeLabel(n)}: Flatten axis ${axis} is not supported (expected 1)`, n.name);
        steps.push({ kind: 'flatten', node: n, out: n.output[0], shape: null });
        cur = n.output[0];
        break;
      }
      case 'Gemm':
        steps.push(readGemm(n, tensorOf));
        cur = n.output[0];
        break;
      case 'Softmax': {
        const axis = intAttr(n, 'axis', opset >= 13 ? -1 : 1);
        if (axis !== 1 && axis !== -1) throw new OnnxImportError(`${nodeLabel(n)}: Softmax axis ${axis} is not supported`, n.name);
        steps.push({ kind: 'softmax', node: n, out: n.output[0] });
        cur = n.output[0];
        break;
      }
      case 'Dropout':
      case 'Identity':
        // Inference: identity. The layer's output is the value before it (Caffe's dropout is
        // in place, so fc7 means the rectified fc7 either way).
        cur = n.output[0];
        break;
      default:
        throw new OnnxImportError(`unsupported op ${nodeLabel(n)}; the AlexNet-family importer supports ${SUPPORTED}`, n.name);
    }
  }
  if (!graphOutputs.has(cur)) {
    notes.push(`the chain ends at "${cur}", which is not declared as a graph output`);
  }
  const unvisited = g.node.filter((n) => n.opType !== 'Constant' && !aliases.has(n) && !visited.has(n));
  if (unvisited.length > 0) {
    throw new OnnxImportError(`${nodeLabel(unvisited[0])} is not on the input-to-output chain; branching graphs are not supported`, unvisited[0].name);
  }
  const result = matchCaffeNet(steps, opts, notes);
  const declared = input.shape;
  // Input size: the smallest square input for which pool5 yields fc6's input length, unless the
  // declared size already does.
  const arch = result.arch;
  const want = result.fc6In;
  const sizeOk = (s: number) => {
    arch.inputHeight = arch.inputWidth = s;
    try {
      validateArch(arch);
      return pool5Length(arch) === want;
    } catch {
      return false;
    }
  };
  const declaredSide = declared && typeof declared[2] === 'number' && declared[2] === declared[3] ? (declared[2] as number) : null;
  let size: number | null = null;
  if (declaredSide && sizeOk(declaredSide)) size = declaredSide;
  else {
    for (let s = 1; s <= 2048 && size === null; s++) if (sizeOk(s)) size = s;
    if (size === null) throw new OnnxImportError(`no input size makes pool5 (${arch.conv.conv5.filters} channels) produce fc6's ${want} inputs`);
    if (declaredSide) notes.push(`declared input ${declared!.join('x')} does not fit fc6 (${want} inputs); using ${size}x${size}, derived from the graph`);
  }
  arch.inputHeight = arch.inputWidth = size;
  validateArch(arch);
  if (declared && typeof declared[1] === 'number' && declared[1] !== 3) throw new OnnxImportError(`input has ${declared[1]} channels; expected 3 (BGR)`);
  // A static export's LocalResponseNorm subgraph has its input's sizes as constants: they must be
  // the network's, or the subgraph was matched against the wrong axes.
  for (const info of describeArch(arch)) {
    const lrn = result.lrnSteps[info.name as 'norm1' | 'norm2'];
    if (!lrn?.fixed) continue;
    const [c, h, w] = info.shape;
    const want = { N: 1, C: c, H: h, W: w };
    for (const [sym, v] of Object.entries(lrn.fixed)) {
      if (want[sym as keyof typeof want] !== v) {
        throw new OnnxImportError(`${nodeLabel(lrn.node)}: the LocalResponseNorm subgraph is written for ${sym} = ${v}, but ${info.name}'s input is ${c}x${h}x${w} (batch 1)`, lrn.node.name);
      }
    }
    if (lrn.fixed.N === 1) notes.push(`${info.name}: the LocalResponseNorm subgraph is written for batch 1 (a static export); imported per sample`);
  }

  const layerValues = result.layerValues;
  const pkg: ModelPackage = {
    name: opts.name ?? (g.name || opts.source?.replace(/\.onnx$/i, '') || 'imported'),
    architecture: arch,
    classes: null,
    weights: result.weights,
    provenance: {
      createdBy: 'rcnn import (R-CNN Explorer ONNX importer)',
      createdAt: new Date().toISOString(),
      source: opts.source,
      method: `ONNX import: opset ${opset}, IR ${model.irVersion}, producer ${model.producerName || 'unknown'} ${model.producerVersion}`.trim(),
      notes: [
        `input ${size}x${size} BGR, mean ${IMAGENET_MEAN_BGR.join('/')} (Caffe convention; ONNX graphs do not carry the mean)`,
        `LRN ${arch.normOrder}`,
        ...notes,
      ],
    },
  };
  if (result.classifier) {
    const c = result.classifier;
    const asSvm = c.n === 200 && !result.softmax;
    if (asSvm || /rcnn/i.test(c.node.name + c.out)) {
      // rcnn-ilsvrc13's fc-rcnn: the release's 200 per-class SVMs folded into one layer on fc7
      // (feature scaling folded in too, so the scale here is 1).
      pkg.svm = {
        classes: c.n === 200 ? [...ILSVRC13_DET_CLASSES] : Array.from({ length: c.n }, (_, i) => `class ${i}`),
        featureLayer: 'fc7',
        featureScale: 1,
        weights: transpose(c.weight, c.k, c.n),
        bias: c.bias,
      };
      arch.fc8 = 0;
      if (c.n === 200) pkg.classes = null;
      pkg.provenance.notes!.push(`last layer "${c.node.name || c.out}" (${c.n} outputs) kept as the SVM head${c.n === 200 ? ' with the 200 ILSVRC2013 detection classes' : ''}`);
      result.svmValue = c.out;
    } else {
      arch.fc8 = c.n;
      result.weights['fc8.weight'] = { shape: [c.k, c.n], data: c.weight };
      result.weights['fc8.bias'] = { shape: [c.n], data: c.bias };
      layerValues.fc8 = c.out;
      if (result.softmax) layerValues.prob = result.softmax;
    }
  }
  validateArch(arch);
  return {
    pkg,
    report: {
      opset,
      producer: `${model.producerName} ${model.producerVersion}`.trim(),
      inputName: input.name,
      declaredInputShape: declared,
      inputSize: size,
      layerValues,
      svmValue: result.svmValue,
      notes,
    },
  };
}

interface Matched {
  arch: CaffeNetArch;
  weights: NamedWeights;
  layerValues: Partial<Record<LayerName, string>>;
  fc6In: number;
  classifier?: Extract<Step, { kind: 'gemm' }>;
  softmax?: string;
  svmValue?: string;
  lrnSteps: Partial<Record<'norm1' | 'norm2', Extract<Step, { kind: 'lrn' }>>>;
}

function matchCaffeNet(steps: Step[], _opts: ImportOptions, notes: string[]): Matched {
  let i = 0;
  const where = () => (i < steps.length ? nodeLabel(steps[i].node) : 'the end of the graph');
  const expect = <K extends Step['kind']>(kind: K, what: string): Extract<Step, { kind: K }> => {
    const s = steps[i];
    if (!s || s.kind !== kind) throw new OnnxImportError(`expected ${what} but found ${where()}; not an AlexNet/CaffeNet-shaped graph`, s?.node.name);
    i++;
    return s as Extract<Step, { kind: K }>;
  };
  const weights: NamedWeights = {};
  const layerValues: Partial<Record<LayerName, string>> = {};
  const conv: Partial<Record<ConvName, ConvSpec>> = {};
  let cin = 3;
  const convLayer = (name: ConvName) => {
    const c = expect('conv', `${name} (Conv)`);
    if (c.weight.shape[2] * c.spec.group !== cin) {
      throw new OnnxImportError(`${nodeLabel(c.node)}: weight expects ${c.weight.shape[2] * c.spec.group} input channels, the previous layer has ${cin}`, c.node.name);
    }
    const r = expect('relu', `a Relu after ${name}`);
    conv[name] = c.spec;
    weights[`${name}.weight`] = c.weight;
    weights[`${name}.bias`] = { shape: [c.spec.filters], data: c.bias };
    layerValues[name] = r.out;
    cin = c.spec.filters;
  };
  let normOrder: CaffeNetArch['normOrder'] | null = null;
  const pools: Partial<Record<'pool1' | 'pool2', PoolSpec>> = {};
  const norms: Partial<Record<'norm1' | 'norm2', LrnSpec | null>> = {};
  const lrnSteps: Matched['lrnSteps'] = {};
  const block = (k: 1 | 2) => {
    const s = steps[i];
    let order: CaffeNetArch['normOrder'];
    if (s?.kind === 'pool') {
      const p = expect('pool', `pool${k}`);
      pools[`pool${k}`] = p.spec;
      layerValues[`pool${k}`] = p.out;
      if (steps[i]?.kind === 'lrn') {
        const n = expect('lrn', `norm${k}`);
        norms[`norm${k}`] = n.spec;
        lrnSteps[`norm${k}`] = n;
        layerValues[`norm${k}`] = n.out;
      } else {
        norms[`norm${k}`] = null;
        layerValues[`norm${k}`] = p.out;
      }
      order = 'pool-then-lrn';
    } else if (s?.kind === 'lrn') {
      const n = expect('lrn', `norm${k}`);
      norms[`norm${k}`] = n.spec;
      lrnSteps[`norm${k}`] = n;
      layerValues[`norm${k}`] = n.out;
      const p = expect('pool', `pool${k} (MaxPool after LRN)`);
      pools[`pool${k}`] = p.spec;
      layerValues[`pool${k}`] = p.out;
      order = 'lrn-then-pool';
    } else {
      throw new OnnxImportError(`expected pool${k} (MaxPool) or norm${k} (LRN) but found ${where()}`, s?.node.name);
    }
    if (norms[`norm${k}`] === null) {
      if (k === 2 && normOrder) order = normOrder; // no LRN: the order is moot
    } else if (k === 2 && normOrder && normOrder !== order && norms.norm1 !== null) {
      throw new OnnxImportError(`norm1 and norm2 are in different orders relative to pooling (${normOrder} vs ${order}); not supported`, s.node.name);
    }
    if (k === 1 || norms.norm1 === null) normOrder = order;
  };
  convLayer('conv1');
  block(1);
  convLayer('conv2');
  block(2);
  convLayer('conv3');
  convLayer('conv4');
  convLayer('conv5');
  const p5 = expect('pool', 'pool5 (MaxPool)');
  layerValues.pool5 = p5.out;
  const flat = expect('flatten', 'a Reshape or Flatten before fc6');
  const fc6 = expect('gemm', 'fc6 (Gemm)');
  if (flat.shape) {
    const [a, b, ...rest] = flat.shape;
    const ok = rest.length === 0 && (b === fc6.k || b === -1) && (a === -1 || a === 0 || a === 1 || b === fc6.k);
    if (!ok) throw new OnnxImportError(`${nodeLabel(flat.node)}: reshape to [${flat.shape.join(', ')}] is not a per-sample flatten to ${fc6.k}`, flat.node.name);
    if (a === 1 && b === -1) notes.push(`${nodeLabel(flat.node)} reshapes to [1, -1] (batch 1 only in ONNX); imported as a per-sample flatten`);
  }
  const r6 = expect('relu', 'a Relu after fc6');
  layerValues.fc6 = r6.out;
  const fc7 = expect('gemm', 'fc7 (Gemm)');
  const r7 = expect('relu', 'a Relu after fc7');
  layerValues.fc7 = r7.out;
  if (fc7.k !== fc6.n) throw new OnnxImportError(`${nodeLabel(fc7.node)} takes ${fc7.k} inputs; fc6 has ${fc6.n} outputs`, fc7.node.name);
  weights['fc6.weight'] = { shape: [fc6.k, fc6.n], data: fc6.weight };
  weights['fc6.bias'] = { shape: [fc6.n], data: fc6.bias };
  weights['fc7.weight'] = { shape: [fc7.k, fc7.n], data: fc7.weight };
  weights['fc7.bias'] = { shape: [fc7.n], data: fc7.bias };
  let classifier: Matched['classifier'];
  let softmax: string | undefined;
  if (i < steps.length) {
    classifier = expect('gemm', 'a classifier (Gemm) after fc7');
    if (classifier.k !== fc7.n) throw new OnnxImportError(`${nodeLabel(classifier.node)} takes ${classifier.k} inputs; fc7 has ${fc7.n} outputs`, classifier.node.name);
    if (i < steps.length) softmax = expect('softmax', 'a Softmax after the classifier').out;
  }
  if (i < steps.length) throw new OnnxImportError(`unexpected ${where()} after the classifier`, steps[i].node.name);
  const arch: CaffeNetArch = {
    inputHeight: 227,
    inputWidth: 227,
    inputChannels: 3,
    channelOrder: 'BGR',
    mean: [...IMAGENET_MEAN_BGR],
    conv: conv as Record<ConvName, ConvSpec>,
    pool1: pools.pool1!,
    pool2: pools.pool2!,
    pool5: p5.spec,
    norm1: norms.norm1 ?? null,
    norm2: norms.norm2 ?? null,
    normOrder: normOrder ?? 'pool-then-lrn',
    fc6: fc6.n,
    fc7: fc7.n,
    fc8: 0,
    dropout: 0.5,
  };
  return { arch, weights, layerValues, fc6In: fc6.k, classifier, softmax, lrnSteps };
}

function readConv(n: OnnxNode, tensorOf: (name: string) => OnnxTensor | undefined): Extract<Step, { kind: 'conv' }> {
  const wt = tensorOf(n.input[1]);
  if (!wt) throw new OnnxImportError(`${nodeLabel(n)}: weight "${n.input[1]}" is not a constant initializer`, n.name);
  if (wt.dims.length !== 4) throw new OnnxImportError(`${nodeLabel(n)}: only 2-D convolutions are supported (weight rank ${wt.dims.length})`, n.name);
  const [o, ig, kh, kw] = wt.dims;
  const ks = intsAttr(n, 'kernel_shape') ?? [kh, kw];
  if (ks[0] !== kh || ks[1] !== kw) throw new OnnxImportError(`${nodeLabel(n)}: kernel_shape ${ks} disagrees with the weight ${wt.dims}`, n.name);
  const dil = intsAttr(n, 'dilations') ?? [1, 1];
  if (dil.some((d) => d !== 1)) throw new OnnxImportError(`${nodeLabel(n)}: dilated convolutions are not supported`, n.name);
  const group = intAttr(n, 'group', 1);
  const strides = intsAttr(n, 'strides') ?? [1, 1];
  const pads = readPads(n);
  const bt = n.input[2] ? tensorOf(n.input[2]) : undefined;
  if (n.input[2] && !bt) throw new OnnxImportError(`${nodeLabel(n)}: bias "${n.input[2]}" is not a constant initializer`, n.name);
  const bias = bt ? tensorToFloat32(bt) : new Float32Array(o);
  if (bias.length !== o) throw new OnnxImportError(`${nodeLabel(n)}: bias has ${bias.length} values for ${o} filters`, n.name);
  if (o % group !== 0) throw new OnnxImportError(`${nodeLabel(n)}: ${o} filters do not split into ${group} groups`, n.name);
  return {
    kind: 'conv',
    node: n,
    out: n.output[0],
    spec: { filters: o, kernel: [kh, kw], stride: [strides[0], strides[1]], pads, group },
    weight: { shape: [kh, kw, ig, o], data: oihwToHwio(tensorToFloat32(wt), o, ig, kh, kw) },
    bias,
    reluFused: false,
  };
}

/** ONNX pads [x1_begin, x2_begin, x1_end, x2_end] = [top, left, bottom, right]; auto_pad VALID or NOTSET. */
function readPads(n: OnnxNode): Pads4 {
  const auto = stringAttr(n, 'auto_pad') ?? 'NOTSET';
  if (auto === 'VALID') return [0, 0, 0, 0];
  if (auto !== 'NOTSET' && auto !== '') {
    throw new OnnxImportError(`${nodeLabel(n)}: auto_pad ${auto} is not supported (the zoo models use explicit pads)`, n.name);
  }
  const p = intsAttr(n, 'pads') ?? [0, 0, 0, 0];
  if (p.length !== 4) throw new OnnxImportError(`${nodeLabel(n)}: pads ${p} is not 2-D`, n.name);
  return [p[0], p[1], p[2], p[3]];
}

function readPool(n: OnnxNode): PoolSpec {
  const k = intsAttr(n, 'kernel_shape');
  if (!k || k.length !== 2) throw new OnnxImportError(`${nodeLabel(n)}: needs a 2-D kernel_shape`, n.name);
  const strides = intsAttr(n, 'strides') ?? [1, 1];
  const dil = intsAttr(n, 'dilations') ?? [1, 1];
  if (dil.some((d) => d !== 1)) throw new OnnxImportError(`${nodeLabel(n)}: dilated pooling is not supported`, n.name);
  const pads = readPads(n);
  if (intAttr(n, 'ceil_mode', 0) !== 0) {
    throw new OnnxImportError(`${nodeLabel(n)}: ceil_mode pooling is not supported (opsets 3-9 pool with floor)`, n.name);
  }
  if (pads.some((p, i) => p >= k[i % 2])) throw new OnnxImportError(`${nodeLabel(n)}: a pad of ${Math.max(...pads)} is not smaller than the pooling window`, n.name);
  return { kernel: [k[0], k[1]], stride: [strides[0], strides[1]], pads };
}

function readGemm(n: OnnxNode, tensorOf: (name: string) => OnnxTensor | undefined): Extract<Step, { kind: 'gemm' }> {
  if (intAttr(n, 'transA', 0) !== 0) throw new OnnxImportError(`${nodeLabel(n)}: transA = 1 is not supported`, n.name);
  const bt = tensorOf(n.input[1]);
  if (!bt || bt.dims.length !== 2) throw new OnnxImportError(`${nodeLabel(n)}: weight "${n.input[1]}" must be a constant 2-D initializer`, n.name);
  const transB = intAttr(n, 'transB', 0) !== 0;
  const alpha = floatAttr(n, 'alpha', 1);
  const beta = floatAttr(n, 'beta', 1);
  const [r, c] = bt.dims;
  const k = transB ? c : r;
  const nOut = transB ? r : c;
  const raw = tensorToFloat32(bt);
  const weight = transB ? transpose(raw, r, c) : raw; // ours is [in, out]
  if (alpha !== 1) for (let i = 0; i < weight.length; i++) weight[i] *= alpha;
  let bias: Float32Array = new Float32Array(nOut);
  if (n.input[2]) {
    const ct = tensorOf(n.input[2]);
    if (!ct) throw new OnnxImportError(`${nodeLabel(n)}: bias "${n.input[2]}" is not a constant initializer`, n.name);
    const cv = tensorToFloat32(ct);
    if (cv.length === nOut) bias = cv;
    else if (cv.length === 1) bias.fill(cv[0]);
    else throw new OnnxImportError(`${nodeLabel(n)}: bias of ${cv.length} values for ${nOut} outputs`, n.name);
    if (beta !== 1) for (let i = 0; i < bias.length; i++) bias[i] *= beta;
  }
  return { kind: 'gemm', node: n, out: n.output[0], weight, k, n: nOut, bias };
}

/**
 * Split (axis 1, equal parts) -> Conv per part (same hyper-parameters) [-> Relu per part]
 * -> Concat (axis 1): a grouped convolution written out by hand, as some converters do.
 */
function readSplitConv(split: OnnxNode, consumers: Map<string, OnnxNode[]>, tensorOf: (name: string) => OnnxTensor | undefined) {
  const fail = (msg: string, n: OnnxNode = split): never => {
    throw new OnnxImportError(`${nodeLabel(n)}: ${msg}; only Split -> Conv per group -> Concat (a grouped convolution) is supported`, n.name);
  };
  if (intAttr(split, 'axis', 0) !== 1) fail('split axis must be 1 (channels)');
  const parts = split.output;
  const sizes = intsAttr(split, 'split') ?? (split.input[1] ? tensorOf(split.input[1]) && tensorToInts(tensorOf(split.input[1])!) : undefined);
  if (sizes && sizes.some((s) => s !== sizes[0])) fail(`unequal split sizes ${sizes}`);
  const nodes: OnnxNode[] = [];
  const convs: Array<Extract<Step, { kind: 'conv' }>> = [];
  const ends: string[] = [];
  let relu: boolean | null = null;
  for (const p of parts) {
    const c = consumers.get(p) ?? [];
    if (c.length !== 1 || c[0].opType !== 'Conv') fail(`output "${p}" must feed exactly one Conv`);
    const conv = readConv(c[0], tensorOf);
    nodes.push(c[0]);
    convs.push(conv);
    let end = c[0].output[0];
    const after = consumers.get(end) ?? [];
    const hasRelu = after.length === 1 && after[0].opType === 'Relu';
    if (relu !== null && relu !== hasRelu) fail('some groups have a Relu and some do not', c[0]);
    relu = hasRelu;
    if (hasRelu) {
      nodes.push(after[0]);
      end = after[0].output[0];
    }
    ends.push(end);
  }
  const cat = consumers.get(ends[0]) ?? [];
  if (cat.length !== 1 || cat[0].opType !== 'Concat') fail('the groups must meet in a Concat');
  const concat = cat[0];
  if (intAttr(concat, 'axis', 1) !== 1) fail('Concat axis must be 1', concat);
  if (concat.input.length !== ends.length || concat.input.some((x, j) => x !== ends[j])) fail('Concat must take the groups in split order', concat);
  nodes.push(concat);
  const first = convs[0];
  for (const c of convs) {
    if (JSON.stringify(c.spec) !== JSON.stringify(first.spec) || c.spec.group !== 1) fail('the convolutions of the groups differ', c.node);
  }
  const G = convs.length;
  const [kh, kw, ig, og] = first.weight.shape;
  const o = og * G;
  // Concatenate the groups' HWIO weights along O.
  const w = new Float32Array(kh * kw * ig * o);
  for (let g = 0; g < G; g++) {
    const src = convs[g].weight.data;
    for (let s = 0; s < kh * kw * ig; s++) w.set(src.subarray(s * og, (s + 1) * og), s * o + g * og);
  }
  const bias = new Float32Array(o);
  convs.forEach((c, g) => bias.set(c.bias, g * og));
  const conv: Extract<Step, { kind: 'conv' }> = {
    kind: 'conv',
    node: split,
    out: relu ? ends[0] : concat.output[0],
    spec: { ...first.spec, filters: o, group: G },
    weight: { shape: [kh, kw, ig, o], data: w },
    bias,
    reluFused: Boolean(relu),
  };
  return { conv, relu: Boolean(relu), concat, nodes };
}

/** ONNX/Caffe OIHW [o, i, kh, kw] to tfjs HWIO [kh, kw, i, o]. */
export function oihwToHwio(src: Float32Array, o: number, ig: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < ig; b++)
      for (let u = 0; u < kh; u++)
        for (let v = 0; v < kw; v++) out[((u * kw + v) * ig + b) * o + a] = src[((a * ig + b) * kh + u) * kw + v];
  return out;
}

/** Row-major r x c to c x r. */
export function transpose(src: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = src[i * c + j];
  return out;
}

/** Layer names and shapes of an imported architecture (for the import report). */
export function describeImported(arch: CaffeNetArch): string {
  return describeArch(arch).map((l) => `${l.name} ${l.shape.join('x')}`).join(', ');
}
