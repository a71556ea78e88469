/**
 * ONNX import of the AlexNet family as published in the ONNX model zoo: bvlc_alexnet, caffenet
 * and rcnn-ilsvrc13 (opsets 3-9; later opsets with the same op semantics are read too).
 *
 * The graph is walked from its input as a chain of layers and matched against the CaffeNet
 * layout (conv-relu, pool and LRN in either order, ..., pool5, flatten, fc6-relu, fc7-relu,
 * optional classifier and softmax). Every hyper-parameter comes from the graph: kernel sizes,
 * strides, pads, groups, LRN numbers and order. The input size comes from fc6's weight shape
 * (pool5 must yield fc6's input length), not only from the declared input shape.
 *
 * Three passes, so a file is judged before it costs memory: the graph's structure (dims and
 * attributes only), then the memory its weights need against ImportOptions.maxWeightBytes, and
 * only then the weights are decoded. Anything outside the family is refused with the node that
 * does not fit. Grouped convolutions written as Split -> Conv x G -> Concat are recognised as
 * well as Conv with `group`, and PyTorch's LocalResponseNorm, which torch.onnx.export writes as a
 * subgraph, as LRN (torchLrn.ts).
 *
 * Opset 3-6 forms (onnx/docs/Changelog.md): Reshape-1's `shape` attribute (an input from
 * Reshape-5), Gemm-1/6's `broadcast` (always on from Gemm-7), Dropout-1/6's `is_test`, Concat-1's
 * optional axis (default 1) and the `consumed_inputs` attribute of opset 1, which is ignored.
 *
 * Caffe's ceil-mode pooling: Caffe2's exporter writes it as extra end pads computed for the size
 * the converter ran at (the zoo's declared 224; caffeCeilEndPad). Those pads are the file's
 * network at 224, and the test data is checked at 224 with them (report.graphArch); R-CNN warps
 * to 227, where the same pads would add a window, so the package pads those pools as Caffe's ceil
 * mode needs at 227: [0, 0, 1, 1], which starts no window there and is dropped, leaving plain
 * CaffeNet.
 */
import {
  type CaffeNetArch,
  type ConvName,
  type ConvSpec,
  type LayerName,
  type LrnSpec,
  type Pads4,
  type PoolName,
  type PoolSpec,
  IMAGENET_MEAN_BGR,
  caffeCeilEndPad,
  describeArch,
  pool5Length,
  poolInputSize,
  validateArch,
  withCaffeCeilPools,
  withoutIdlePoolPads,
} from '../architecture';
import type { HostTensor, NamedWeights } from '../caffenet';
import type { ModelPackage } from '../package';
import { ILSVRC13_DET_CLASSES } from './ilsvrc13';
import { type TorchLrnMatch, TorchLrnMismatch, matchTorchLrn } from './torchLrn';
import { floatAttr, getAttr, intAttr, intsAttr, nodeLabel, stringAttr } from './graph';
import { type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo, ProtoError, decodeOnnxModel, tensorElementCount, tensorToFloat32, tensorToInts } from './proto';

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
  /**
   * Most bytes the import may allocate for weights (float32, plus the largest fc layer once more
   * while it is transposed). Checked from the declared tensor shapes before anything is decoded.
   * Default 1 GiB: 3.6 times what full CaffeNet with its 200 R-CNN SVMs needs.
   */
  maxWeightBytes?: number;
}

export const DEFAULT_MAX_WEIGHT_BYTES = 2 ** 30;

export interface ImportReport {
  opset: number;
  producer: string;
  inputName: string;
  declaredInputShape: Array<number | string | null> | null;
  /** The package's input side (the detection warp size). */
  inputSize: number;
  /**
   * The network exactly as the file writes it (its own pool pads) at the size it declares when
   * that size fits, else at inputSize: what the file's test data (test_data_set_N) was made with.
   */
  graphArch: CaffeNetArch;
  /** Pools whose end pads the importer read as Caffe's ceil-mode pooling (see the header). */
  caffeCeilPools: PoolName[];
  /** ONNX value holding each of our layers' outputs (Caffe semantics: conv/fc after ReLU). */
  layerValues: Partial<Record<LayerName, string>>;
  /** The SVM head's ONNX value, when the last layer was kept as one (rcnn-ilsvrc13's fc-rcnn). */
  svmValue?: string;
  /** The graph's output the chain ends at. */
  outputValue: string;
  notes: string[];
}

export interface ImportResult {
  pkg: ModelPackage;
  report: ImportReport;
}

const SUPPORTED = "Conv, Relu, MaxPool, LRN (or PyTorch's LocalResponseNorm subgraph), Reshape, Flatten, Gemm, Dropout, Softmax, Split + Concat (grouped conv), Identity";

/** A weight read later (pass 3), with what it will cost (pass 2). */
interface Deferred<T> {
  tensors: OnnxTensor[];
  load: () => T;
}

/** A step of the chain after Dropout/Identity are skipped. */
type Step =
  | { kind: 'conv'; node: OnnxNode; out: string; spec: ConvSpec; params: Deferred<{ weight: HostTensor; bias: Float32Array }>; reluFused: boolean }
  | { kind: 'relu'; node: OnnxNode; out: string }
  | { kind: 'pool'; node: OnnxNode; out: string; spec: PoolSpec }
  | { kind: 'lrn'; node: OnnxNode; out: string; spec: LrnSpec; fixed?: TorchLrnMatch['fixed'] }
  | { kind: 'flatten'; node: OnnxNode; out: string; shape: number[] | null }
  | { kind: 'gemm'; node: OnnxNode; out: string; k: number; n: number; params: Deferred<{ weight: Float32Array; bias: Float32Array }> }
  | { kind: 'softmax'; node: OnnxNode; out: string };

type ConvStep = Extract<Step, { kind: 'conv' }>;
type GemmStep = Extract<Step, { kind: 'gemm' }>;

interface GraphIndex {
  model: OnnxModel;
  opset: number;
  input: OnnxValueInfo;
  tensorOf: (name: string) => OnnxTensor | undefined;
  /** Constant and alias nodes: not layers. */
  aliases: Set<OnnxNode>;
  consumers: Map<string, OnnxNode[]>;
  graphOutputs: Set<string>;
}

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
  const notes: string[] = [];
  const index = indexGraph(model, notes);
  // Pass 1: structure (no tensor data read).
  const steps = walkChain(index, notes);
  const matched = matchCaffeNet(steps, notes);
  // Pass 2: what the weights will cost.
  checkWeightMemory(steps, opts.maxWeightBytes ?? DEFAULT_MAX_WEIGHT_BYTES);
  const sizes = chooseInputSize(matched, index.input.shape, notes);
  checkTorchLrnSizes(matched, sizes.arch, notes);
  // Pass 3: the weights.
  let pkg: ModelPackage;
  let svmValue: string | undefined;
  try {
    pkg = buildPackage(index, matched, sizes.arch, loadWeights(matched), opts, notes);
    svmValue = attachClassifier(pkg, matched);
  } catch (e) {
    if (e instanceof ProtoError) throw new OnnxImportError(`${opts.source ?? 'the file'}: ${e.message}`);
    throw e;
  }
  validateArch(pkg.architecture);
  return {
    pkg,
    report: {
      opset: index.opset,
      producer: `${model.producerName} ${model.producerVersion}`.trim(),
      inputName: index.input.name,
      declaredInputShape: index.input.shape,
      inputSize: sizes.arch.inputHeight,
      graphArch: { ...sizes.graphArch, fc8: pkg.architecture.fc8 },
      caffeCeilPools: sizes.ceilPools,
      layerValues: matched.layerValues,
      svmValue,
      outputValue: matched.end,
      notes,
    },
  };
}

/** Initializers, constants, the image input and who consumes each value. */
function indexGraph(model: OnnxModel, notes: string[]): GraphIndex {
  const g = model.graph;
  const opset = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 1;
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
  // IR 3 files (opsets 1-8 era) list every initializer as a graph input too.
  const realInputs = g.input.filter((i) => !inits.has(i.name));
  if (realInputs.length !== 1) throw new OnnxImportError(`expected one image input, found ${realInputs.length} (${realInputs.map((i) => i.name).join(', ')})`);
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
  return { model, opset, input: realInputs[0], tensorOf, aliases, consumers, graphOutputs: new Set(g.output.map((o) => o.name)) };
}

/** Walks the graph from its input to its end as a single chain of layer steps. */
function walkChain(index: GraphIndex, notes: string[]): { steps: Step[]; end: string } {
  const { model, consumers, graphOutputs } = index;
  const steps: Step[] = [];
  let cur = index.input.name;
  const visited = new Set<OnnxNode>();
  for (;;) {
    const next = consumers.get(cur) ?? [];
    if (next.length === 0) break;
    if (next.length > 1) {
      const lrn = readTorchLrn(cur, index);
      if (!lrn) throw new OnnxImportError(`value "${cur}" feeds ${next.length} nodes (${next.map(nodeLabel).join(', ')}); only a single chain of layers is supported`, next[1].name);
      const { size, alpha, beta, k } = lrn.spec;
      steps.push({ kind: 'lrn', node: lrn.div, out: lrn.div.output[0], spec: lrn.spec, fixed: lrn.fixed });
      for (const v of lrn.nodes) visited.add(v);
      notes.push(`PyTorch's LocalResponseNorm subgraph (${lrn.nodes.size} nodes, ending at ${nodeLabel(lrn.div)}) read as LRN size ${size}, alpha ${alpha}, beta ${beta}, k ${k}`);
      cur = lrn.div.output[0];
      continue;
    }
    const n = next[0];
    if (visited.has(n)) throw new OnnxImportError(`cycle at ${nodeLabel(n)}`, n.name);
    visited.add(n);
    checkChainNode(n, cur, index);
    const r = readStep(n, index, notes);
    steps.push(...r.steps);
    for (const v of r.nodes ?? []) visited.add(v);
    cur = r.out;
  }
  if (!graphOutputs.has(cur)) notes.push(`the chain ends at "${cur}", which is not declared as a graph output`);
  const unvisited = model.graph.node.filter((n) => n.opType !== 'Constant' && !index.aliases.has(n) && !visited.has(n));
  if (unvisited.length > 0) {
    throw new OnnxImportError(`${nodeLabel(unvisited[0])} is not on the input-to-output chain; branching graphs are not supported`, unvisited[0].name);
  }
  return { steps, end: cur };
}

/** PyTorch's exporter writes F.local_response_norm as x^2 -> Pad -> AveragePool -> Pow -> Div. */
function readTorchLrn(cur: string, index: GraphIndex): TorchLrnMatch | null {
  try {
    return matchTorchLrn(cur, { nodes: index.model.graph.node, consumers: index.consumers, graphOutputs: index.graphOutputs, tensorOf: index.tensorOf });
  } catch (e) {
    if (!(e instanceof TorchLrnMismatch)) throw e;
    throw new OnnxImportError(`${e.message}, so the subgraph dividing "${cur}" is not PyTorch's LocalResponseNorm and cannot be read as LRN`, e.node.name);
  }
}

function checkChainNode(n: OnnxNode, cur: string, index: GraphIndex): void {
  if (n.domain && n.domain !== 'ai.onnx') throw new OnnxImportError(`${nodeLabel(n)} is in domain "${n.domain}"; only standard ONNX ops are supported`, n.name);
  if (n.input[0] !== cur && n.opType !== 'Concat') throw new OnnxImportError(`${nodeLabel(n)} takes "${cur}" as input ${n.input.indexOf(cur)}, not as its data input`, n.name);
  const extra = n.output.slice(1).filter((o) => o && (index.consumers.has(o) || index.graphOutputs.has(o)));
  if (extra.length > 0 && n.opType !== 'Split') throw new OnnxImportError(`${nodeLabel(n)}: its extra output "${extra[0]}" is used; only the main output is supported`, n.name);
}

/** One node of the chain as layer steps (none for Dropout/Identity), and the value after it. */
function readStep(n: OnnxNode, index: GraphIndex, notes: string[]): { steps: Step[]; out: string; nodes?: OnnxNode[] } {
  const one = (s: Step) => ({ steps: [s], out: n.output[0] });
  switch (n.opType) {
    case 'Conv':
      return one(readConv(n, index.tensorOf));
    case 'Split': {
      const r = readSplitConv(n, index.consumers, index.tensorOf);
      const steps: Step[] = [r.conv];
      if (r.relu) steps.push({ kind: 'relu', node: r.concat, out: r.concat.output[0] });
      return { steps, out: r.concat.output[0], nodes: r.nodes };
    }
    case 'Relu':
      return one({ kind: 'relu', node: n, out: n.output[0] });
    case 'MaxPool':
      return one({ kind: 'pool', node: n, out: n.output[0], spec: readPool(n) });
    case 'LRN': {
      const size = intAttr(n, 'size', 0);
      if (size < 1 || size % 2 !== 1) throw new OnnxImportError(`${nodeLabel(n)}: LRN size ${size} is not an odd window (an even window is asymmetric in ONNX)`, n.name);
      return one({ kind: 'lrn', node: n, out: n.output[0], spec: { size, alpha: floatAttr(n, 'alpha', 1e-4), beta: floatAttr(n, 'beta', 0.75), k: floatAttr(n, 'bias', 1) } });
    }
    case 'Reshape':
      return one({ kind: 'flatten', node: n, out: n.output[0], shape: readReshape(n, index.tensorOf) });
    case 'Flatten': {
      const axis = intAttr(n, 'axis', 1);
      if (axis !== 1) throw new OnnxImportError(`${nodeLabel(n)}: Flatten axis ${axis} is not supported (expected 1)`, n.name);
      return one({ kind: 'flatten', node: n, out: n.output[0], shape: null });
    }
    case 'Gemm':
      return one(readGemm(n, index.tensorOf, index.opset, notes));
    case 'Softmax': {
      const axis = intAttr(n, 'axis', index.opset >= 13 ? -1 : 1);
      if (axis !== 1 && axis !== -1) throw new OnnxImportError(`${nodeLabel(n)}: Softmax axis ${axis} is not supported`, n.name);
      return one({ kind: 'softmax', node: n, out: n.output[0] });
    }
    case 'Dropout':
      // Dropout-1/6 carry is_test; 0 asks a runtime to drop units, which only training does.
      if (getAttr(n, 'is_test') && intAttr(n, 'is_test', 0) === 0) notes.push(`${nodeLabel(n)} has is_test = 0 (training mode); read as inference, where dropout passes its input through`);
      return { steps: [], out: n.output[0] };
    case 'Identity':
      // Inference: identity. The layer's output is the value before it (Caffe's dropout is in
      // place, so fc7 means the rectified fc7 either way).
      return { steps: [], out: n.output[0] };
    default:
      throw new OnnxImportError(`unsupported op ${nodeLabel(n)}; the AlexNet-family importer supports ${SUPPORTED}`, n.name);
  }
}

/** Reshape-1's `shape` attribute or Reshape-5's constant shape input. */
function readReshape(n: OnnxNode, tensorOf: (name: string) => OnnxTensor | undefined): number[] {
  let shape: number[] | null = intsAttr(n, 'shape') ?? null;
  if (n.input[1]) {
    const t = tensorOf(n.input[1]);
    if (!t) throw new OnnxImportError(`${nodeLabel(n)}: its shape input "${n.input[1]}" is computed at run time; only constant shapes are supported`, n.name);
    if (tensorElementCount(t) > 8) throw new OnnxImportError(`${nodeLabel(n)}: a shape of ${tensorElementCount(t)} dimensions is not a flatten`, n.name);
    shape = tensorToInts(t);
  }
  if (!shape) throw new OnnxImportError(`${nodeLabel(n)} has no target shape`, n.name);
  return shape;
}

interface Matched {
  arch: CaffeNetArch;
  convs: Record<ConvName, ConvStep>;
  fc6: GemmStep;
  fc7: GemmStep;
  layerValues: Partial<Record<LayerName, string>>;
  classifier?: GemmStep;
  softmax?: string;
  lrnSteps: Partial<Record<'norm1' | 'norm2', Extract<Step, { kind: 'lrn' }>>>;
  end: string;
}

/** Matches the steps against CaffeNet's layer sequence (structure and shapes only). */
function matchCaffeNet({ steps, end }: { steps: Step[]; end: string }, notes: string[]): Matched {
  const m = new ChainMatcher(steps);
  const convs: Partial<Record<ConvName, ConvStep>> = {};
  const conv = (name: ConvName) => (convs[name] = m.conv(name));
  conv('conv1');
  m.block(1);
  conv('conv2');
  m.block(2);
  conv('conv3');
  conv('conv4');
  conv('conv5');
  const p5 = m.expect('pool', 'pool5 (MaxPool)');
  m.layerValues.pool5 = p5.out;
  const flat = m.expect('flatten', 'a Reshape or Flatten before fc6');
  const fc6 = m.expect('gemm', 'fc6 (Gemm)');
  checkFlatten(flat, fc6, notes);
  m.layerValues.fc6 = m.expect('relu', 'a Relu after fc6').out;
  const fc7 = m.expect('gemm', 'fc7 (Gemm)');
  m.layerValues.fc7 = m.expect('relu', 'a Relu after fc7').out;
  if (fc7.k !== fc6.n) throw new OnnxImportError(`${nodeLabel(fc7.node)} takes ${fc7.k} inputs; fc6 has ${fc6.n} outputs`, fc7.node.name);
  let classifier: GemmStep | undefined;
  let softmax: string | undefined;
  if (!m.done) {
    classifier = m.expect('gemm', 'a classifier (Gemm) after fc7');
    if (classifier.k !== fc7.n) throw new OnnxImportError(`${nodeLabel(classifier.node)} takes ${classifier.k} inputs; fc7 has ${fc7.n} outputs`, classifier.node.name);
    if (!m.done) softmax = m.expect('softmax', 'a Softmax after the classifier').out;
  }
  if (!m.done) throw new OnnxImportError(`unexpected ${m.where()} after the classifier`, steps[m.i].node.name);
  const arch: CaffeNetArch = {
    inputHeight: 227,
    inputWidth: 227,
    inputChannels: 3,
    channelOrder: 'BGR',
    mean: [...IMAGENET_MEAN_BGR],
    conv: Object.fromEntries(Object.entries(convs).map(([k, c]) => [k, c.spec])) as Record<ConvName, ConvSpec>,
    pool1: m.pools.pool1!,
    pool2: m.pools.pool2!,
    pool5: p5.spec,
    norm1: m.norms.norm1 ?? null,
    norm2: m.norms.norm2 ?? null,
    normOrder: m.normOrder ?? 'pool-then-lrn',
    fc6: fc6.n,
    fc7: fc7.n,
    fc8: 0,
    dropout: 0.5,
  };
  return { arch, convs: convs as Record<ConvName, ConvStep>, fc6, fc7, layerValues: m.layerValues, classifier, softmax, lrnSteps: m.lrnSteps, end };
}

function checkFlatten(flat: Extract<Step, { kind: 'flatten' }>, fc6: GemmStep, notes: string[]): void {
  if (!flat.shape) return;
  const [a, b, ...rest] = flat.shape;
  const ok = rest.length === 0 && (b === fc6.k || b === -1) && (a === -1 || a === 0 || a === 1 || b === fc6.k);
  if (!ok) throw new OnnxImportError(`${nodeLabel(flat.node)}: reshape to [${flat.shape.join(', ')}] is not a per-sample flatten to ${fc6.k}`, flat.node.name);
  if (a === 1) notes.push(`${nodeLabel(flat.node)} reshapes to [1, ${b}] (batch 1 only in ONNX); imported as a per-sample flatten`);
}

/** The cursor of matchCaffeNet, with the conv and pool/LRN block rules. */
class ChainMatcher {
  i = 0;
  cin = 3;
  readonly layerValues: Partial<Record<LayerName, string>> = {};
  readonly pools: Partial<Record<'pool1' | 'pool2', PoolSpec>> = {};
  readonly norms: Partial<Record<'norm1' | 'norm2', LrnSpec | null>> = {};
  readonly lrnSteps: Matched['lrnSteps'] = {};
  normOrder: CaffeNetArch['normOrder'] | null = null;

  constructor(private readonly steps: Step[]) {}

  get done(): boolean {
    return this.i >= this.steps.length;
  }

  where(): string {
    return this.i < this.steps.length ? nodeLabel(this.steps[this.i].node) : 'the end of the graph';
  }

  expect<K extends Step['kind']>(kind: K, what: string): Extract<Step, { kind: K }> {
    const s = this.steps[this.i];
    if (!s || s.kind !== kind) throw new OnnxImportError(`expected ${what} but found ${this.where()}; not an AlexNet/CaffeNet-shaped graph`, s?.node.name);
    this.i++;
    return s as Extract<Step, { kind: K }>;
  }

  conv(name: ConvName): ConvStep {
    const c = this.expect('conv', `${name} (Conv)`);
    const ig = c.params.tensors[0].dims[1];
    if (ig * c.spec.group !== this.cin) {
      throw new OnnxImportError(`${nodeLabel(c.node)}: weight expects ${ig * c.spec.group} input channels, the previous layer has ${this.cin}`, c.node.name);
    }
    this.layerValues[name] = this.expect('relu', `a Relu after ${name}`).out;
    this.cin = c.spec.filters;
    return c;
  }

  /** pool and LRN in either order (CaffeNet pools first, the original AlexNet normalises first). */
  block(k: 1 | 2): void {
    const s = this.steps[this.i];
    let order: CaffeNetArch['normOrder'];
    const norm = () => {
      const n = this.expect('lrn', `norm${k}`);
      this.norms[`norm${k}`] = n.spec;
      this.lrnSteps[`norm${k}`] = n;
      this.layerValues[`norm${k}`] = n.out;
    };
    const pool = (what: string) => {
      const p = this.expect('pool', what);
      this.pools[`pool${k}`] = p.spec;
      this.layerValues[`pool${k}`] = p.out;
    };
    if (s?.kind === 'pool') {
      pool(`pool${k}`);
      if (this.steps[this.i]?.kind === 'lrn') norm();
      else {
        this.norms[`norm${k}`] = null;
        this.layerValues[`norm${k}`] = this.layerValues[`pool${k}`];
      }
      order = 'pool-then-lrn';
    } else if (s?.kind === 'lrn') {
      norm();
      pool(`pool${k} (MaxPool after LRN)`);
      order = 'lrn-then-pool';
    } else {
      throw new OnnxImportError(`expected pool${k} (MaxPool) or norm${k} (LRN) but found ${this.where()}`, s?.node.name);
    }
    if (this.norms[`norm${k}`] === null) {
      if (k === 2 && this.normOrder) order = this.normOrder; // no LRN: the order is moot
    } else if (k === 2 && this.normOrder && this.normOrder !== order && this.norms.norm1 !== null) {
      throw new OnnxImportError(`norm1 and norm2 are in different orders relative to pooling (${this.normOrder} vs ${order}); not supported`, s.node.name);
    }
    if (k === 1 || this.norms.norm1 === null) this.normOrder = order;
  }
}

/** Refuses a file whose declared weight shapes need more memory than allowed, before reading them. */
function checkWeightMemory({ steps }: { steps: Step[] }, maxBytes: number): void {
  let total = 0;
  let largest = { name: '', elements: 0, node: '' };
  let largestFc = 0;
  for (const s of steps) {
    if (s.kind !== 'conv' && s.kind !== 'gemm') continue;
    let layer = 0;
    for (const t of s.params.tensors) {
      let n: number;
      try {
        n = tensorElementCount(t);
      } catch (e) {
        throw new OnnxImportError(`${nodeLabel(s.node)}: ${(e as Error).message}`, s.node.name);
      }
      layer += n;
      if (n > largest.elements) largest = { name: t.name, elements: n, node: nodeLabel(s.node) };
    }
    total += layer;
    if (s.kind === 'gemm') largestFc = Math.max(largestFc, layer);
  }
  // float32 weights, plus one more copy of the largest fc layer while it is transposed.
  const bytes = 4 * (total + largestFc);
  if (bytes > maxBytes) {
    const mb = (b: number) => `${(b / 1e6).toFixed(b < 1e7 ? 1 : 0)} MB`;
    const t = largest;
    throw new OnnxImportError(
      `the model's weights need ${mb(bytes)} as float32 (${t.node}'s "${t.name}" alone ${mb(4 * t.elements)}), more than the ${mb(maxBytes)} allowed; refused before reading them`,
    );
  }
}

/** Decodes every weight the matched chain refers to (pass 3). */
function loadWeights(m: Matched): NamedWeights {
  const weights: NamedWeights = {};
  for (const name of ['conv1', 'conv2', 'conv3', 'conv4', 'conv5'] as const) {
    const { weight, bias } = m.convs[name].params.load();
    weights[`${name}.weight`] = weight;
    weights[`${name}.bias`] = { shape: [bias.length], data: bias };
  }
  for (const [name, step] of [['fc6', m.fc6], ['fc7', m.fc7]] as const) {
    const { weight, bias } = step.params.load();
    weights[`${name}.weight`] = { shape: [step.k, step.n], data: weight };
    weights[`${name}.bias`] = { shape: [step.n], data: bias };
  }
  return weights;
}

interface InputSizes {
  /** The package's architecture (detection size, Caffe semantics). */
  arch: CaffeNetArch;
  /** The file's network with its own pads (see ImportReport.graphArch). */
  graphArch: CaffeNetArch;
  ceilPools: PoolName[];
}

function fits(a: CaffeNetArch, fc6In: number): boolean {
  try {
    validateArch(a);
    return pool5Length(a) === fc6In;
  } catch {
    return false;
  }
}

const atSize = (a: CaffeNetArch, s: number): CaffeNetArch => ({ ...a, inputHeight: s, inputWidth: s });

/** Pools whose end pads are exactly Caffe2's ceil-mode pads for this (declared) input, if all asymmetric ones are. */
function caffeCeilPools(a: CaffeNetArch): PoolName[] {
  const found: PoolName[] = [];
  for (const p of ['pool1', 'pool2', 'pool5'] as const) {
    const s = a[p];
    if (s.pads[2] === s.pads[0] && s.pads[3] === s.pads[1]) continue;
    const [h, w] = poolInputSize(a, p);
    const want = [caffeCeilEndPad(h, s.kernel[0], s.stride[0], s.pads[0]), caffeCeilEndPad(w, s.kernel[1], s.stride[1], s.pads[1])];
    if (s.pads[2] !== want[0] || s.pads[3] !== want[1]) return [];
    found.push(p);
  }
  return found;
}

/**
 * The input size: CaffeNet's 227 when the file's pools are Caffe's ceil mode written for its
 * declared size (then re-padded for 227), else the declared size when the graph fits it, else
 * the smallest square input for which pool5 yields fc6's input length.
 */
function chooseInputSize(m: Matched, declared: OnnxValueInfo['shape'], notes: string[]): InputSizes {
  const arch = m.arch;
  const want = m.fc6.k;
  if (declared && typeof declared[1] === 'number' && declared[1] !== 3) throw new OnnxImportError(`input has ${declared[1]} channels; expected 3 (BGR)`);
  const declaredSide = declared && typeof declared[2] === 'number' && declared[2] === declared[3] ? (declared[2] as number) : null;
  const declaredFits = declaredSide !== null && fits(atSize(arch, declaredSide), want);
  const ceilPools = declaredFits ? caffeCeilPools(atSize(arch, declaredSide!)) : [];
  if (ceilPools.length > 0) {
    const graphArch = atSize(arch, declaredSide!);
    for (const s of [227, declaredSide!]) {
      const ceil = withCaffeCeilPools(atSize(arch, s), ceilPools);
      if (!fits(ceil, want)) continue;
      const a = withoutIdlePoolPads(ceil);
      const pads = ceilPools.map((p) => `${p} [${graphArch[p].pads.join(',')}] -> [${a[p].pads.join(',')}]`).join(', ');
      notes.push(
        `${ceilPools.join(', ')}: end pads that are Caffe's ceil-mode pooling as Caffe2's exporter writes it for the declared ${declaredSide}x${declaredSide} input; ` +
          `the package runs at ${s}x${s} with the pads Caffe's ceil mode needs there (${pads}; end pads that start no window dropped), the test data at ${declaredSide}x${declaredSide} with the file's own`,
      );
      return { arch: a, graphArch, ceilPools };
    }
  }
  if (declaredFits) return { arch: atSize(arch, declaredSide!), graphArch: atSize(arch, declaredSide!), ceilPools: [] };
  for (let s = 1; s <= 2048; s++) {
    if (!fits(atSize(arch, s), want)) continue;
    if (declaredSide) notes.push(`declared input ${declared!.join('x')} does not fit fc6 (${want} inputs); using ${s}x${s}, derived from the graph`);
    return { arch: atSize(arch, s), graphArch: atSize(arch, s), ceilPools: [] };
  }
  throw new OnnxImportError(`no input size makes pool5 (${arch.conv.conv5.filters} channels) produce fc6's ${want} inputs`);
}

/**
 * A static export's LocalResponseNorm subgraph has its input's sizes as constants: they must be
 * the network's, or the subgraph was matched against the wrong axes.
 */
function checkTorchLrnSizes(m: Matched, arch: CaffeNetArch, notes: string[]): void {
  for (const info of describeArch(arch)) {
    const lrn = m.lrnSteps[info.name as 'norm1' | 'norm2'];
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
}

function buildPackage(index: GraphIndex, m: Matched, arch: CaffeNetArch, weights: NamedWeights, opts: ImportOptions, notes: string[]): ModelPackage {
  const { model } = index;
  const size = arch.inputHeight;
  return {
    name: opts.name ?? (model.graph.name || opts.source?.replace(/\.onnx$/i, '') || 'imported'),
    architecture: arch,
    classes: null,
    weights,
    provenance: {
      createdBy: 'rcnn import (R-CNN Explorer ONNX importer)',
      createdAt: new Date().toISOString(),
      source: opts.source,
      method: `ONNX import: opset ${index.opset}, IR ${model.irVersion}, producer ${model.producerName || 'unknown'} ${model.producerVersion}`.trim(),
      notes: [`input ${size}x${size} BGR, mean ${IMAGENET_MEAN_BGR.join('/')} (Caffe convention; ONNX graphs do not carry the mean)`, `LRN ${m.arch.normOrder}`, ...notes],
    },
  };
}

/**
 * The layer after fc7: rcnn-ilsvrc13's fc-rcnn (200 outputs, no softmax) is the release's 200
 * per-class SVMs folded into one layer on fc7 (feature scaling folded in too, so the scale here
 * is 1) and becomes the SVM head; anything else is fc8. Returns the SVM head's ONNX value.
 */
function attachClassifier(pkg: ModelPackage, m: Matched): string | undefined {
  const c = m.classifier;
  if (!c) return undefined;
  const { weight, bias } = c.params.load();
  const arch = pkg.architecture;
  if ((c.n === 200 && !m.softmax) || /rcnn/i.test(c.node.name + c.out)) {
    pkg.svm = {
      classes: c.n === 200 ? [...ILSVRC13_DET_CLASSES] : Array.from({ length: c.n }, (_, i) => `class ${i}`),
      featureLayer: 'fc7',
      featureScale: 1,
      weights: transpose(weight, c.k, c.n),
      bias,
    };
    arch.fc8 = 0;
    pkg.provenance.notes!.push(`last layer "${c.node.name || c.out}" (${c.n} outputs) kept as the SVM head${c.n === 200 ? ' with the 200 ILSVRC2013 detection classes' : ''}`);
    return c.out;
  }
  arch.fc8 = c.n;
  pkg.weights['fc8.weight'] = { shape: [c.k, c.n], data: weight };
  pkg.weights['fc8.bias'] = { shape: [c.n], data: bias };
  m.layerValues.fc8 = c.out;
  if (m.softmax) m.layerValues.prob = m.softmax;
  return undefined;
}

function constantOf(n: OnnxNode, name: string, what: string, tensorOf: (name: string) => OnnxTensor | undefined): OnnxTensor {
  const t = tensorOf(name);
  if (!t) throw new OnnxImportError(`${nodeLabel(n)}: ${what} "${name}" is not a constant initializer`, n.name);
  return t;
}

function readConv(n: OnnxNode, tensorOf: (name: string) => OnnxTensor | undefined): ConvStep {
  const wt = constantOf(n, n.input[1], 'weight', tensorOf);
  if (wt.dims.length !== 4) throw new OnnxImportError(`${nodeLabel(n)}: only 2-D convolutions are supported (weight rank ${wt.dims.length})`, n.name);
  const [o, ig, kh, kw] = wt.dims;
  const ks = intsAttr(n, 'kernel_shape') ?? [kh, kw];
  if (ks[0] !== kh || ks[1] !== kw) throw new OnnxImportError(`${nodeLabel(n)}: kernel_shape ${ks} disagrees with the weight ${wt.dims}`, n.name);
  const dil = intsAttr(n, 'dilations') ?? [1, 1];
  if (dil.some((d) => d !== 1)) throw new OnnxImportError(`${nodeLabel(n)}: dilated convolutions are not supported`, n.name);
  const group = intAttr(n, 'group', 1);
  const strides = intsAttr(n, 'strides') ?? [1, 1];
  const pads = readPads(n);
  const bt = n.input[2] ? constantOf(n, n.input[2], 'bias', tensorOf) : undefined;
  if (bt && bt.dims.reduce((a, b) => a * b, 1) !== o) throw new OnnxImportError(`${nodeLabel(n)}: bias has ${bt.dims.reduce((a, b) => a * b, 1)} values for ${o} filters`, n.name);
  if (o % group !== 0) throw new OnnxImportError(`${nodeLabel(n)}: ${o} filters do not split into ${group} groups`, n.name);
  return {
    kind: 'conv',
    node: n,
    out: n.output[0],
    spec: { filters: o, kernel: [kh, kw], stride: [strides[0], strides[1]], pads, group },
    params: {
      tensors: bt ? [wt, bt] : [wt],
      load: () => ({ weight: { shape: [kh, kw, ig, o], data: oihwToHwio(tensorToFloat32(wt), o, ig, kh, kw) }, bias: bt ? tensorToFloat32(bt) : new Float32Array(o) }),
    },
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

function readGemm(n: OnnxNode, tensorOf: (name: string) => OnnxTensor | undefined, opset: number, notes: string[]): GemmStep {
  if (intAttr(n, 'transA', 0) !== 0) throw new OnnxImportError(`${nodeLabel(n)}: transA = 1 is not supported`, n.name);
  const bt = tensorOf(n.input[1]);
  if (!bt || bt.dims.length !== 2) throw new OnnxImportError(`${nodeLabel(n)}: weight "${n.input[1]}" must be a constant 2-D initializer`, n.name);
  const transB = intAttr(n, 'transB', 0) !== 0;
  const alpha = floatAttr(n, 'alpha', 1);
  const beta = floatAttr(n, 'beta', 1);
  const [r, c] = bt.dims;
  const k = transB ? c : r;
  const nOut = transB ? r : c;
  const ct = n.input[2] ? constantOf(n, n.input[2], 'bias', tensorOf) : undefined;
  const biasCount = ct ? ct.dims.reduce((a, b) => a * b, 1) : nOut;
  if (biasCount !== nOut && biasCount !== 1) throw new OnnxImportError(`${nodeLabel(n)}: bias of ${biasCount} values for ${nOut} outputs`, n.name);
  // Gemm-1/6: C is broadcast only with broadcast = 1; without it C must already be [batch, N].
  // A [N] bias with broadcast = 0 is what a batch-1 graph means by a per-output bias.
  if (opset < 7 && ct && intAttr(n, 'broadcast', 0) === 0 && ct.dims.length < 2) {
    notes.push(`${nodeLabel(n)}: bias of shape [${ct.dims.join(', ')}] without broadcast (opset ${opset}) read as a per-output bias`);
  }
  const load = () => {
    const raw = tensorToFloat32(bt);
    const weight = transB ? transpose(raw, r, c) : raw; // ours is [in, out]
    if (alpha !== 1) for (let i = 0; i < weight.length; i++) weight[i] *= alpha;
    let bias: Float32Array = new Float32Array(nOut);
    if (ct) {
      const cv = tensorToFloat32(ct);
      if (cv.length === nOut) bias = cv;
      else bias.fill(cv[0]);
      if (beta !== 1) for (let i = 0; i < bias.length; i++) bias[i] *= beta;
    }
    return { weight, bias };
  };
  return { kind: 'gemm', node: n, out: n.output[0], k, n: nOut, params: { tensors: ct ? [bt, ct] : [bt], load } };
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
  const sizes = intsAttr(split, 'split') ?? (split.input[1] && tensorOf(split.input[1]) ? tensorToInts(tensorOf(split.input[1])!) : undefined);
  if (sizes && sizes.some((s) => s !== sizes[0])) fail(`unequal split sizes ${sizes}`);
  const nodes: OnnxNode[] = [];
  const convs: ConvStep[] = [];
  const ends: string[] = [];
  let relu: boolean | null = null;
  for (const p of split.output) {
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
  const [og, ig, kh, kw] = first.params.tensors[0].dims;
  const o = og * G;
  const load = () => {
    // Concatenate the groups' HWIO weights along O.
    const w = new Float32Array(kh * kw * ig * o);
    const bias = new Float32Array(o);
    convs.forEach((c, g) => {
      const part = c.params.load();
      const src = part.weight.data;
      for (let s = 0; s < kh * kw * ig; s++) w.set(src.subarray(s * og, (s + 1) * og), s * o + g * og);
      bias.set(part.bias, g * og);
    });
    return { weight: { shape: [kh, kw, ig, o], data: w }, bias };
  };
  const conv: ConvStep = {
    kind: 'conv',
    node: split,
    out: relu ? ends[0] : concat.output[0],
    spec: { ...first.spec, filters: o, group: G },
    // The first group's weight stands for the layer's [O, I/G, kh, kw] shape in the checks.
    params: { tensors: [{ ...first.params.tensors[0], dims: [o, ig, kh, kw] }, ...convs.flatMap((c) => c.params.tensors.slice(1))], load },
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
