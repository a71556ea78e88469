/**
 * PyTorch's LocalResponseNorm as torch.onnx.export (TorchScript path, opsets 9-17) writes it.
 * F.local_response_norm on an N x C x H x W value x becomes
 *
 *   div = x * x -> Unsqueeze(1) -> Reshape(N, 1, C, H, -1) -> Pad(C axis: size/2 before, (size-1)/2 after) [-> Pad(0)]
 *         -> AveragePool(size x 1 x 1, stride 1) -> Squeeze(1) (opset 11+: an If on that dimension being 1)
 *         -> Reshape(N, C, H, W) -> * alpha -> + k -> ^ beta
 *   y   = x / div
 *
 * plus Shape, Gather, Concat, ConstantOfShape, Slice, Transpose and Cast nodes that compute the
 * reshapes' shapes and the pads at run time (or constants, for a static export). For an odd size
 * that is LRN(size, alpha, beta, k) exactly: ONNX's and Caffe's LRN divide alpha by size, as the
 * average does.
 *
 * Nothing is trusted by name. The matcher walks the data path from the Div back to the square,
 * evaluates every shape and pad input symbolically (x's shape as N, C, H, W; a static export's
 * numbers bind those symbols), tracks the data's shape through each step, and checks that
 * - every reshape only inserts or removes unit dimensions, keeping N, C, H, W in order;
 * - the average runs over C alone, stride 1, over zero padding of (size - 1) / 2 on both sides;
 * - the divisor has x's shape again, and alpha, k and beta are scalars, applied in that order;
 * - no value of the subgraph is used outside it.
 */
import type { LrnSpec } from '../architecture';
import { floatAttr, getAttr, intAttr, intsAttr, nodeLabel, stringAttr } from './graph';
import { type OnnxNode, type OnnxTensor, tensorToFloat32, tensorToInts } from './proto';

/** The Div(x, f(x)) with an AveragePool in f is there, but it is not LRN: why, and where. */
export class TorchLrnMismatch extends Error {
  override name = 'TorchLrnMismatch';
  constructor(readonly reason: string, readonly node: OnnxNode) {
    super(`${nodeLabel(node)}: ${reason}`);
  }
}

export interface TorchLrnContext {
  nodes: readonly OnnxNode[];
  consumers: ReadonlyMap<string, OnnxNode[]>;
  graphOutputs: ReadonlySet<string>;
  tensorOf: (name: string) => OnnxTensor | undefined;
}

export interface TorchLrnMatch {
  spec: LrnSpec;
  /** The final Div; its output is the LRN's output. */
  div: OnnxNode;
  /** Every node of the pattern, the Div included (constants excluded). */
  nodes: Set<OnnxNode>;
  /** x's dimensions as a static export's constants fix them (N, C, H, W), to check against the network. */
  fixed: Partial<Record<'N' | 'C' | 'H' | 'W', number>>;
}

/** A dimension s + k; s null for a plain number k. */
interface Dim {
  s: string | null;
  k: number;
}
/** A small integer tensor of the shape arithmetic, with symbolic elements. */
interface Ints {
  shape: number[];
  data: Dim[];
}

const num = (k: number): Dim => ({ s: null, k });
const SHAPE_OPS = 'Shape, Gather, Unsqueeze, Squeeze, Concat, ConstantOfShape, Reshape, Slice, Transpose, Cast, Equal, Identity';

/**
 * Recognises the pattern whose input is `x` (a value feeding several nodes). Returns null when x
 * feeds no Div(x, f(x)) with an AveragePool in f; throws TorchLrnMismatch when it does but the
 * subgraph is not LocalResponseNorm.
 */
export function matchTorchLrn(x: string, ctx: TorchLrnContext): TorchLrnMatch | null {
  const producer = new Map<string, OnnxNode>();
  for (const n of ctx.nodes) for (const o of n.output) if (o) producer.set(o, n);
  const divs = [...new Set(ctx.consumers.get(x) ?? [])].filter((n) => n.opType === 'Div' && n.input[0] === x && n.input[1] !== x);
  if (divs.length !== 1) return null;
  const div = divs[0];
  const sub = divisorSubgraph(x, div, ctx, producer);
  if (!sub || ![...sub].some((n) => n.opType === 'AveragePool')) return null;
  const inside = new Set([...sub, div]);
  checkSelfContained(x, sub, inside, div, ctx);

  const X: Dim[] = ['N', 'C', 'H', 'W'].map((s) => ({ s, k: 0 }));
  const shapes = new ShapeArithmetic(ctx, producer, sub, new Map([[x, X]]));
  const path = divisorPath(x, div, shapes);
  const { shape, size, tail } = followPath(path, X, shapes);
  const dims = shapes.dims;
  if (tail.map((t) => t.op).join() !== 'Mul,Add,Pow') return fail(`scales the average by ${tail.map((t) => t.op).join(', ') || 'nothing'}, not * alpha, + k, ^ beta`, div);
  if (shape.length !== 4 || !shape.every((d, a) => dims.unify(d, X[a]))) return fail(`the divisor has shape ${dims.show(shape)}, not x's [N, C, H, W]`, div);
  const [alpha, k, beta] = tail.map((t) => t.value);
  return { spec: { size, alpha, beta, k }, div, nodes: inside, fixed: Object.fromEntries(dims.bound) };
}

function fail(reason: string, node: OnnxNode): never {
  throw new TorchLrnMismatch(reason, node);
}

/**
 * The subgraph: every computed ancestor of the divisor, up to x (branch bodies read outer values);
 * null when it reads another graph input.
 */
function divisorSubgraph(x: string, div: OnnxNode, ctx: TorchLrnContext, producer: ReadonlyMap<string, OnnxNode>): Set<OnnxNode> | null {
  const sub = new Set<OnnxNode>();
  const stack = [div.input[1]];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (!v || v === x || ctx.tensorOf(v)) continue;
    const p = producer.get(v);
    if (!p) return null; // reads another graph input
    if (sub.has(p)) continue;
    sub.add(p);
    stack.push(...p.input);
    for (const a of p.attribute) {
      if (!a.g) continue;
      const local = new Set(a.g.node.flatMap((m) => m.output));
      for (const m of a.g.node) stack.push(...m.input.filter((i) => !local.has(i)));
    }
  }
  return sub;
}

/** x feeds only the pattern, and no value of the subgraph is used outside it or is a graph output. */
function checkSelfContained(x: string, sub: ReadonlySet<OnnxNode>, inside: ReadonlySet<OnnxNode>, div: OnnxNode, ctx: TorchLrnContext): void {
  for (const c of ctx.consumers.get(x) ?? []) if (!inside.has(c)) fail(`"${x}" also feeds ${nodeLabel(c)}, outside the divisor's subgraph`, div);
  for (const n of sub) {
    for (const o of n.output) {
      if (!o) continue;
      if (ctx.graphOutputs.has(o)) fail(`the subgraph's value "${o}" is a graph output`, n);
      for (const c of ctx.consumers.get(o) ?? []) if (!inside.has(c)) fail(`the subgraph's value "${o}" is also used by ${nodeLabel(c)}`, n);
    }
  }
}

/** x's symbols (N, C, H, W) and the numbers a static export's constants bind them to (C = 96 ...). */
class SymbolBindings {
  readonly bound = new Map<string, number>();

  resolve(d: Dim): Dim {
    return d.s !== null && this.bound.has(d.s) ? num(this.bound.get(d.s)! + d.k) : d;
  }

  isOne(d: Dim): boolean {
    const r = this.resolve(d);
    return r.s === null && r.k === 1;
  }

  /** Equal dims, binding a symbol to a number where one side is a number. */
  unify(a: Dim, b: Dim): boolean {
    const ra = this.resolve(a), rb = this.resolve(b);
    if (ra.s === rb.s) return ra.k === rb.k;
    if (ra.s !== null && rb.s === null && rb.k - ra.k >= 1) {
      this.bound.set(ra.s, rb.k - ra.k);
      return true;
    }
    if (rb.s !== null && ra.s === null) return this.unify(b, a);
    return false;
  }

  show(dims: Dim[]): string {
    return `[${dims.map((d) => { const r = this.resolve(d); return r.s === null ? r.k : r.k ? `${r.s}${r.k > 0 ? '+' : ''}${r.k}` : r.s; }).join(', ')}]`;
  }

  concrete(d: Dim, n: OnnxNode): number {
    const r = this.resolve(d);
    return r.s === null ? r.k : fail(`needs a number where the graph computes ${r.s}${r.k ? `+${r.k}` : ''}`, n);
  }

  /** The bindings as they are now, to return to with `restore` when a trial fails. */
  save(): Map<string, number> {
    return new Map(this.bound);
  }

  restore(saved: ReadonlyMap<string, number>): void {
    this.bound.clear();
    for (const [key, v] of saved) this.bound.set(key, v);
  }
}

/**
 * Evaluates the shape and pad inputs of the subgraph symbolically: small integer tensors whose
 * elements are x's dimensions plus constants, from Shape of a value on the data path (whose shape
 * `dataShape` tracks) through PyTorch's shape operations.
 */
class ShapeArithmetic {
  readonly dims = new SymbolBindings();
  private readonly cache = new Map<string, Ints>();
  private readonly evaluating = new Set<string>();

  constructor(
    readonly ctx: TorchLrnContext,
    readonly producer: ReadonlyMap<string, OnnxNode>,
    readonly sub: ReadonlySet<OnnxNode>,
    /** The symbolic shape of each data-path value reached so far. */
    readonly dataShape: Map<string, Dim[]>,
  ) {}

  numbers(v: string, n: OnnxNode): number[] {
    return this.ints(v, n).data.map((d) => this.dims.concrete(d, n));
  }

  /** The value of a one-element constant (to 7 digits), else null. */
  scalarOf(v: string): number | null {
    const t = this.ctx.tensorOf(v);
    if (!t || t.dims.reduce((a, b) => a * b, 1) !== 1) return null;
    return Number(tensorToFloat32(t)[0].toPrecision(7));
  }

  /** Evaluates a shape-arithmetic value. */
  ints(v: string, user: OnnxNode): Ints {
    const cached = this.cache.get(v);
    if (cached) return cached;
    const t = this.ctx.tensorOf(v);
    let out: Ints;
    if (t) out = { shape: [...t.dims], data: tensorToInts(t).map(num) };
    else {
      const p = this.producer.get(v);
      if (!p || !this.sub.has(p)) return fail(`its input "${v}" is not computed inside the pattern`, user);
      if (this.evaluating.has(v)) return fail('the shape computation runs in a cycle', p);
      this.evaluating.add(v);
      out = this.evalShapeOp(p);
      this.evaluating.delete(v);
    }
    this.cache.set(v, out);
    return out;
  }

  private evalShapeOp(p: OnnxNode): Ints {
    const inp = (i: number) => this.ints(p.input[i], p);
    const axesOf = (i: number) => intsAttr(p, 'axes') ?? (p.input[i] ? this.numbers(p.input[i], p) : undefined);
    switch (p.opType) {
      case 'Shape':
        return this.shapeOp(p);
      case 'Gather': {
        const d = inp(0), idx = inp(1);
        if (d.shape.length !== 1 || intAttr(p, 'axis', 0) !== 0) return fail('gathers from something other than a 1-D shape', p);
        const data = idx.data.map((i) => {
          const j = this.dims.concrete(i, p);
          const jj = j < 0 ? j + d.data.length : j;
          return d.data[jj] ?? fail(`index ${j} out of range`, p);
        });
        return { shape: idx.shape, data };
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        const d = inp(0);
        const axes = axesOf(1);
        return { shape: p.opType === 'Unsqueeze' ? unsqueezeAt(d.shape, axes ?? fail('has no axes', p), 1) : squeezeShape(d.shape, axes), data: d.data };
      }
      case 'Concat': {
        const parts = p.input.map((_, i) => inp(i));
        if (parts.some((q) => q.shape.length !== 1)) return fail('concatenates tensors that are not 1-D', p);
        const data = parts.flatMap((q) => q.data);
        return { shape: [data.length], data };
      }
      case 'ConstantOfShape': {
        const shape = this.numbers(p.input[0], p);
        const t = getAttr(p, 'value')?.t;
        const value = t ? tensorToInts(t)[0] : 0;
        return { shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => num(value)) };
      }
      case 'Reshape': {
        const d = inp(0);
        const target = this.numbers(p.input[1], p);
        const known = target.reduce((a, b, i) => a * (b === -1 ? 1 : b === 0 ? d.shape[i] : b), 1);
        return { shape: target.map((b, i) => (b === -1 ? d.data.length / known : b === 0 ? d.shape[i] : b)), data: d.data };
      }
      case 'Transpose': {
        const d = inp(0);
        const perm = intsAttr(p, 'perm') ?? d.shape.map((_, i) => d.shape.length - 1 - i);
        return gatherNd(d, perm.map((a) => d.shape[a]), (idx) => {
          const src = new Array<number>(d.shape.length);
          perm.forEach((a, i) => (src[a] = idx[i]));
          return src;
        });
      }
      case 'Slice':
        return this.sliceOp(p);
      case 'Equal': {
        const a = inp(0), b = inp(1);
        if (a.data.length !== 1 || b.data.length !== 1) return fail('compares more than one number', p);
        return { shape: [], data: [num(this.dims.concrete(a.data[0], p) === this.dims.concrete(b.data[0], p) ? 1 : 0)] };
      }
      case 'Cast':
      case 'Identity':
        return inp(0);
      default:
        return fail(`is not one of the shape operations of PyTorch's LocalResponseNorm export (${SHAPE_OPS})`, p);
    }
  }

  /** Shape(v, start, end) of a value on the data path. */
  private shapeOp(p: OnnxNode): Ints {
    const s = this.dataShape.get(p.input[0]);
    if (!s) return fail(`takes the shape of "${p.input[0]}", which is not on the data path`, p);
    const start = intAttr(p, 'start', 0), endA = getAttr(p, 'end')?.i;
    const norm = (i: number) => Math.min(Math.max(i < 0 ? i + s.length : i, 0), s.length);
    const data = s.slice(norm(start), endA === undefined ? s.length : norm(endA));
    return { shape: [data.length], data };
  }

  /** Slice with starts, ends, axes and steps as attributes (opset < 10) or inputs. */
  private sliceOp(p: OnnxNode): Ints {
    const d = this.ints(p.input[0], p);
    const r = d.shape.length;
    const starts = intsAttr(p, 'starts') ?? this.numbers(p.input[1], p);
    const ends = intsAttr(p, 'ends') ?? this.numbers(p.input[2], p);
    const axes = intsAttr(p, 'axes') ?? (p.input[3] ? this.numbers(p.input[3], p) : starts.map((_, i) => i));
    const steps = p.input[4] ? this.numbers(p.input[4], p) : starts.map(() => 1);
    const lo = d.shape.map(() => 0), step = d.shape.map(() => 1), len = [...d.shape];
    axes.forEach((a0, i) => {
      const a = a0 < 0 ? a0 + r : a0, n = d.shape[a], st = steps[i];
      if (st === 0) fail('has a zero step', p);
      const clamp = (v: number, min: number, max: number) => Math.min(Math.max(v < 0 ? v + n : v, min), max);
      const b = st > 0 ? clamp(starts[i], 0, n) : clamp(starts[i], -1, n - 1);
      const e = st > 0 ? clamp(ends[i], 0, n) : clamp(ends[i], -1, n - 1);
      lo[a] = b;
      step[a] = st;
      len[a] = Math.max(0, Math.ceil((e - b) / st));
    });
    return gatherNd(d, len, (idx) => idx.map((v, a) => lo[a] + v * step[a]));
  }

  /** An If branch: Constant nodes and one Squeeze or Identity; with the axes it squeezes. */
  branchOf(n: OnnxNode, which: 'then_branch' | 'else_branch'): { node: OnnxNode; axes?: number[] } {
    const g = getAttr(n, which)?.g;
    const body = g?.node.filter((m) => m.opType !== 'Constant') ?? [];
    const op = body[0];
    if (!g || body.length !== 1 || !['Squeeze', 'Identity'].includes(op.opType) || g.output[0]?.name !== op.output[0]) {
      return fail(`its ${which} is not a single Squeeze or Identity`, n);
    }
    let axes = intsAttr(op, 'axes');
    if (!axes && op.opType === 'Squeeze' && op.input[1]) {
      const c = g.node.find((m) => m.opType === 'Constant' && m.output[0] === op.input[1]);
      const t = c ? getAttr(c, 'value')?.t : undefined;
      axes = t ? tensorToInts(t) : this.numbers(op.input[1], op);
    }
    return { node: op, axes };
  }
}

/** The data path, from the divisor back to the square of x, in data order (the square first). */
function divisorPath(x: string, div: OnnxNode, s: ShapeArithmetic): OnnxNode[] {
  const isSquare = (n: OnnxNode) => (n.opType === 'Mul' && n.input[0] === x && n.input[1] === x) || (n.opType === 'Pow' && n.input[0] === x && s.scalarOf(n.input[1]) === 2);
  const path: OnnxNode[] = [];
  for (let v = div.input[1]; ; ) {
    const p = s.producer.get(v);
    if (!p || !s.sub.has(p)) return fail(`the divisor's path reaches "${v}", which the pattern does not compute`, div);
    if (path.includes(p)) return fail('the divisor\'s path runs in a cycle', p);
    path.unshift(p);
    if (isSquare(p)) return path;
    if (p.opType === 'If') {
      const a = s.branchOf(p, 'then_branch').node.input[0], b = s.branchOf(p, 'else_branch').node.input[0];
      if (a !== b) fail('its branches read different values', p);
      v = a;
    } else if (['Mul', 'Add', 'Pow'].includes(p.opType)) {
      if (s.scalarOf(p.input[1]) !== null) v = p.input[0];
      else if (p.opType !== 'Pow' && s.scalarOf(p.input[0]) !== null) v = p.input[1];
      else return fail('is not a scaling by a constant', p);
    } else v = p.input[0];
    if (v === x) fail('the divisor reaches x without squaring it', p);
  }
}

/** The data's shape and what the path has done to it so far. */
interface PathState {
  shape: Dim[];
  /** Padding so far, per axis (set at the first Pad; only Pads may follow it until the average). */
  padBefore: number[] | null;
  padAfter: number[] | null;
  /** The average's window over the channels, 0 before the average. */
  size: number;
  /** The scalings of the average, in order. */
  tail: Array<{ op: string; value: number; node: OnnxNode }>;
}

/** Forward along the path from the square (whose shape is x's, X) with the data's shape. */
function followPath(path: readonly OnnxNode[], X: Dim[], s: ShapeArithmetic): PathState {
  const w: PathState = { shape: X, padBefore: null, padAfter: null, size: 0, tail: [] };
  s.dataShape.set(path[0].output[0], X);
  for (const n of path.slice(1)) {
    if (w.padBefore && w.size === 0 && n.opType !== 'Pad' && n.opType !== 'AveragePool') fail('only Pad may come between padding and the average', n);
    if (w.tail.length > 0 && !['Mul', 'Add', 'Pow'].includes(n.opType)) fail('comes after the scaling of the average', n);
    pathStep(w, n, s);
    s.dataShape.set(n.output[0], w.shape);
  }
  return w;
}

function pathStep(w: PathState, n: OnnxNode, s: ShapeArithmetic): void {
  switch (n.opType) {
    case 'Unsqueeze':
      w.shape = unsqueezeAt(w.shape, intsAttr(n, 'axes') ?? s.numbers(n.input[1], n), num(1));
      break;
    case 'Squeeze':
      w.shape = squeezeDims(s.dims, w.shape, intsAttr(n, 'axes') ?? (n.input[1] ? s.numbers(n.input[1], n) : undefined), n);
      break;
    case 'If': {
      const cond = s.ints(n.input[0], n);
      const branch = s.branchOf(n, s.dims.concrete(cond.data[0], n) ? 'then_branch' : 'else_branch');
      if (branch.node.opType === 'Squeeze') w.shape = squeezeDims(s.dims, w.shape, branch.axes, branch.node);
      break;
    }
    case 'Identity':
      break;
    case 'Reshape':
      w.shape = reshapeDims(s.dims, w.shape, intsAttr(n, 'shape')?.map(num) ?? s.ints(n.input[1], n).data, n);
      break;
    case 'Pad':
      padStep(w, n, s);
      break;
    case 'AveragePool':
      averageStep(w, n, s.dims);
      break;
    case 'Mul':
    case 'Add':
    case 'Pow': {
      const value = s.scalarOf(n.input[1]) ?? (n.opType === 'Pow' ? null : s.scalarOf(n.input[0]));
      if (w.size === 0 || value === null) fail('is not a scaling of the average by a constant', n);
      w.tail.push({ op: n.opType, value: value!, node: n });
      break;
    }
    default:
      fail(`is on the divisor's path; PyTorch's LocalResponseNorm has only Unsqueeze, Reshape, Pad, AveragePool, Squeeze / If, Mul, Add and Pow there`, n);
  }
}

/** A constant zero Pad: adds its pads to the padding so far and to the shape. */
function padStep(w: PathState, n: OnnxNode, s: ShapeArithmetic): void {
  if ((stringAttr(n, 'mode') ?? 'constant') !== 'constant') fail('pads other than with a constant', n);
  const value = n.input[2] ? s.scalarOf(n.input[2]) : floatAttr(n, 'value', 0);
  if (value !== 0) fail(`pads with ${value ?? 'a computed value'}, not 0`, n);
  const pads = intsAttr(n, 'pads') ?? s.numbers(n.input[1], n);
  const r = w.shape.length;
  if (pads.length !== 2 * r) fail(`has ${pads.length} pads for a rank-${r} value`, n);
  const before = (w.padBefore ??= w.shape.map(() => 0)), after = (w.padAfter ??= w.shape.map(() => 0));
  w.shape = w.shape.map((d, a) => {
    before[a] += pads[a];
    after[a] += pads[a + r];
    return { s: d.s, k: d.k + pads[a] + pads[a + r] };
  });
}

/** The average: over C alone, an odd window, stride 1, over zero padding of (size - 1) / 2 on both sides. */
function averageStep(w: PathState, n: OnnxNode, dims: SymbolBindings): void {
  if (w.size > 0) fail('is a second average', n);
  const shape = w.shape;
  const r = shape.length;
  const kernel = intsAttr(n, 'kernel_shape') ?? fail('has no kernel_shape', n);
  if (kernel.length !== r - 2) fail(`has a ${kernel.length}-D kernel for a rank-${r} value`, n);
  if ((intsAttr(n, 'strides') ?? []).some((s) => s !== 1)) fail('has a stride other than 1', n);
  if ((intsAttr(n, 'pads') ?? []).some((q) => q !== 0)) fail('pads inside the average', n);
  if ((intsAttr(n, 'dilations') ?? []).some((q) => q !== 1)) fail('is dilated', n);
  if (!['NOTSET', 'VALID', ''].includes(stringAttr(n, 'auto_pad') ?? 'NOTSET')) fail('pads itself (auto_pad)', n);
  const cAxis = shape.findIndex((d) => d.s === 'C');
  kernel.forEach((kk, j) => {
    if (j + 2 !== cAxis && kk !== 1) fail(`averages over ${dims.show([shape[j + 2]])}, not the channels`, n);
  });
  const size = cAxis >= 2 ? kernel[cAxis - 2] : fail(`does not average over the channels (the value is ${dims.show(shape)})`, n);
  w.size = size;
  if (size % 2 !== 1) fail(`averages ${size} channels: only an odd window is LRN (an even one is asymmetric)`, n);
  const half = (size - 1) / 2;
  const pb = w.padBefore ?? shape.map(() => 0), pa = w.padAfter ?? shape.map(() => 0);
  shape.forEach((_, a) => {
    const want = a === cAxis ? half : 0;
    if (pb[a] !== want || pa[a] !== want) fail(`the value is padded by ${pb[a]} and ${pa[a]} on axis ${a}; LRN of ${size} channels pads ${want} on both sides`, n);
  });
  w.shape = shape.map((d, a) => (a === cAxis ? { s: d.s, k: d.k - (size - 1) } : d));
}

function reshapeDims(dims: SymbolBindings, input: Dim[], target: Dim[], n: OnnxNode): Dim[] {
  // Every target entry is 1 (a unit dimension, or N = 1 in a static export), -1 (what
  // remains: at most one dimension), 0 (copy), a number that binds a symbol, or a symbol
  // computed from Shape(x); the input's non-unit dimensions must come out whole and in the
  // same order. Tried in every way (a handful of dimensions), a unit dimension before binding a
  // symbol to 1, keeping the symbol bindings of the first that fits.
  const t: Array<Dim | 'rest'> = target.map((b, i) => (b.s === null && b.k === -1 ? 'rest' : b.s === null && b.k === 0 ? input[i] : b));
  const src = input.filter((d) => !dims.isOne(d));
  const go = (i: number, j: number): Dim[] | null => {
    if (i === t.length) return j === src.length ? [] : null;
    const d = t[i];
    const attempt = (take: Dim | null, dj: number): Dim[] | null => {
      const saved = dims.save();
      const rest = go(i + 1, j + dj);
      if (rest) return [take ?? num(1), ...rest];
      dims.restore(saved);
      return null;
    };
    if (d === 'rest') return (j < src.length ? attempt(src[j], 1) : null) ?? attempt(null, 0);
    if (dims.isOne(d)) {
      const r = attempt(null, 0);
      if (r) return r;
    }
    const saved = dims.save();
    if (j < src.length && dims.unify(src[j], d)) {
      const r = attempt(src[j], 1);
      if (r) return r;
    }
    dims.restore(saved);
    return null;
  };
  return go(0, 0) ?? fail(`reshapes ${dims.show(input)} to ${dims.show(target)}, which is not only inserting or removing unit dimensions`, n);
}

function squeezeDims(dims: SymbolBindings, input: Dim[], axes: number[] | undefined, n: OnnxNode): Dim[] {
  const r = input.length;
  const drop = new Set((axes ?? input.map((_, a) => a).filter((a) => dims.isOne(input[a]))).map((a) => (a < 0 ? a + r : a)));
  for (const a of drop) if (!input[a] || !dims.isOne(input[a])) fail(`squeezes axis ${a} of ${dims.show(input)}, which is not 1`, n);
  return input.filter((_, a) => !drop.has(a));
}

/** `xs` with `one` inserted at `axes` (axes of the result, negative from the end). */
function unsqueezeAt<T>(xs: readonly T[], axes: number[], one: T): T[] {
  const r = xs.length + axes.length;
  const at = new Set(axes.map((a) => (a < 0 ? a + r : a)));
  const out: T[] = [];
  let j = 0;
  for (let a = 0; a < r; a++) out.push(at.has(a) ? one : xs[j++]);
  return out;
}

function squeezeShape(shape: number[], axes: number[] | undefined): number[] {
  const drop = new Set((axes ?? shape.map((_, a) => a).filter((a) => shape[a] === 1)).map((a) => (a < 0 ? a + shape.length : a)));
  return shape.filter((_, a) => !drop.has(a));
}

/** Builds an output of `shape` whose element at idx is d's element at src(idx) (row-major). */
function gatherNd(d: Ints, shape: number[], src: (idx: number[]) => number[]): Ints {
  const total = shape.reduce((a, b) => a * b, 1);
  const data: Dim[] = [];
  const strides = d.shape.map((_, a) => d.shape.slice(a + 1).reduce((x, y) => x * y, 1));
  for (let f = 0; f < total; f++) {
    const idx: number[] = [];
    let rem = f;
    for (let a = shape.length - 1; a >= 0; a--) {
      idx[a] = rem % shape[a];
      rem = Math.floor(rem / shape[a]);
    }
    const s = src(idx);
    data.push(d.data[s.reduce((acc, v, a) => acc + v * strides[a], 0)]);
  }
  return { shape, data };
}
