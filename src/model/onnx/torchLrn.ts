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

  // The subgraph: every computed ancestor of the divisor, up to x (branch bodies read outer values).
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
  if (![...sub].some((n) => n.opType === 'AveragePool')) return null;
  const fail = (reason: string, node: OnnxNode = div): never => {
    throw new TorchLrnMismatch(reason, node);
  };

  const inside = new Set([...sub, div]);
  for (const c of ctx.consumers.get(x) ?? []) if (!inside.has(c)) fail(`"${x}" also feeds ${nodeLabel(c)}, outside the divisor's subgraph`);
  for (const n of sub) {
    for (const o of n.output) {
      if (!o) continue;
      if (ctx.graphOutputs.has(o)) fail(`the subgraph's value "${o}" is a graph output`, n);
      for (const c of ctx.consumers.get(o) ?? []) if (!inside.has(c)) fail(`the subgraph's value "${o}" is also used by ${nodeLabel(c)}`, n);
    }
  }

  // Symbols bound by a static export's numbers (C = 96 ...).
  const bound = new Map<string, number>();
  const resolve = (d: Dim): Dim => (d.s !== null && bound.has(d.s) ? num(bound.get(d.s)! + d.k) : d);
  const isOne = (d: Dim) => {
    const r = resolve(d);
    return r.s === null && r.k === 1;
  };
  /** Equal dims, binding a symbol to a number where one side is a number. */
  const unify = (a: Dim, b: Dim): boolean => {
    const ra = resolve(a), rb = resolve(b);
    if (ra.s === rb.s) return ra.k === rb.k;
    if (ra.s !== null && rb.s === null && rb.k - ra.k >= 1) {
      bound.set(ra.s, rb.k - ra.k);
      return true;
    }
    if (rb.s !== null && ra.s === null) return unify(b, a);
    return false;
  };
  const show = (dims: Dim[]) => `[${dims.map((d) => { const r = resolve(d); return r.s === null ? r.k : r.k ? `${r.s}${r.k > 0 ? '+' : ''}${r.k}` : r.s; }).join(', ')}]`;

  const X: Dim[] = ['N', 'C', 'H', 'W'].map((s) => ({ s, k: 0 }));
  const dataShape = new Map<string, Dim[]>([[x, X]]);
  const intsCache = new Map<string, Ints>();
  const evaluating = new Set<string>();
  const concrete = (d: Dim, n: OnnxNode): number => {
    const r = resolve(d);
    return r.s === null ? r.k : fail(`needs a number where the graph computes ${r.s}${r.k ? `+${r.k}` : ''}`, n);
  };
  const numbers = (v: string, n: OnnxNode): number[] => ints(v, n).data.map((d) => concrete(d, n));
  const scalarOf = (v: string): number | null => {
    const t = ctx.tensorOf(v);
    if (!t || t.dims.reduce((a, b) => a * b, 1) !== 1) return null;
    return Number(tensorToFloat32(t)[0].toPrecision(7));
  };

  /** Evaluates a shape-arithmetic value. */
  function ints(v: string, user: OnnxNode): Ints {
    const cached = intsCache.get(v);
    if (cached) return cached;
    const t = ctx.tensorOf(v);
    let out: Ints;
    if (t) out = { shape: [...t.dims], data: tensorToInts(t).map(num) };
    else {
      const p = producer.get(v);
      if (!p || !sub.has(p)) return fail(`its input "${v}" is not computed inside the pattern`, user);
      if (evaluating.has(v)) return fail('the shape computation runs in a cycle', p);
      evaluating.add(v);
      out = evalShapeOp(p);
      evaluating.delete(v);
    }
    intsCache.set(v, out);
    return out;
  }

  function evalShapeOp(p: OnnxNode): Ints {
    const inp = (i: number) => ints(p.input[i], p);
    const axesOf = (i: number) => intsAttr(p, 'axes') ?? (p.input[i] ? numbers(p.input[i], p) : undefined);
    switch (p.opType) {
      case 'Shape': {
        const s = dataShape.get(p.input[0]);
        if (!s) return fail(`takes the shape of "${p.input[0]}", which is not on the data path`, p);
        const start = intAttr(p, 'start', 0), endA = getAttr(p, 'end')?.i;
        const norm = (i: number) => Math.min(Math.max(i < 0 ? i + s.length : i, 0), s.length);
        const data = s.slice(norm(start), endA === undefined ? s.length : norm(endA));
        return { shape: [data.length], data };
      }
      case 'Gather': {
        const d = inp(0), idx = inp(1);
        if (d.shape.length !== 1 || intAttr(p, 'axis', 0) !== 0) return fail('gathers from something other than a 1-D shape', p);
        const data = idx.data.map((i) => {
          const j = concrete(i, p);
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
        const shape = numbers(p.input[0], p);
        const t = getAttr(p, 'value')?.t;
        const value = t ? tensorToInts(t)[0] : 0;
        return { shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => num(value)) };
      }
      case 'Reshape': {
        const d = inp(0);
        const target = numbers(p.input[1], p);
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
      case 'Slice': {
        const d = inp(0);
        const r = d.shape.length;
        const starts = intsAttr(p, 'starts') ?? numbers(p.input[1], p);
        const ends = intsAttr(p, 'ends') ?? numbers(p.input[2], p);
        const axes = intsAttr(p, 'axes') ?? (p.input[3] ? numbers(p.input[3], p) : starts.map((_, i) => i));
        const steps = p.input[4] ? numbers(p.input[4], p) : starts.map(() => 1);
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
      case 'Equal': {
        const a = inp(0), b = inp(1);
        if (a.data.length !== 1 || b.data.length !== 1) return fail('compares more than one number', p);
        return { shape: [], data: [num(concrete(a.data[0], p) === concrete(b.data[0], p) ? 1 : 0)] };
      }
      case 'Cast':
      case 'Identity':
        return inp(0);
      default:
        return fail(`is not one of the shape operations of PyTorch's LocalResponseNorm export (${SHAPE_OPS})`, p);
    }
  }

  // The data path, from the divisor back to the square of x.
  const isSquare = (n: OnnxNode) => (n.opType === 'Mul' && n.input[0] === x && n.input[1] === x) || (n.opType === 'Pow' && n.input[0] === x && scalarOf(n.input[1]) === 2);
  /** An If branch: Constant nodes and one Squeeze or Identity; with the axes it squeezes. */
  const branchOf = (n: OnnxNode, which: 'then_branch' | 'else_branch'): { node: OnnxNode; axes?: number[] } => {
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
      axes = t ? tensorToInts(t) : numbers(op.input[1], op);
    }
    return { node: op, axes };
  };
  const path: OnnxNode[] = [];
  for (let v = div.input[1]; ; ) {
    const p = producer.get(v);
    if (!p || !sub.has(p)) return fail(`the divisor's path reaches "${v}", which the pattern does not compute`);
    if (path.includes(p)) return fail('the divisor\'s path runs in a cycle', p);
    path.unshift(p);
    if (isSquare(p)) break;
    if (p.opType === 'If') {
      const a = branchOf(p, 'then_branch').node.input[0], b = branchOf(p, 'else_branch').node.input[0];
      if (a !== b) fail('its branches read different values', p);
      v = a;
    } else if (['Mul', 'Add', 'Pow'].includes(p.opType)) {
      if (scalarOf(p.input[1]) !== null) v = p.input[0];
      else if (p.opType !== 'Pow' && scalarOf(p.input[0]) !== null) v = p.input[1];
      else return fail('is not a scaling by a constant', p);
    } else v = p.input[0];
    if (v === x) fail('the divisor reaches x without squaring it', p);
  }

  // Forward along the path with the data's shape.
  let shape = X;
  dataShape.set(path[0].output[0], X);
  // Padding so far, per axis (set at the first Pad; only Pads may follow it until the average).
  let padBefore: number[] | null = null, padAfter: number[] | null = null;
  let size = 0;
  const tail: Array<{ op: string; value: number; node: OnnxNode }> = [];
  for (const n of path.slice(1)) {
    if (padBefore && size === 0 && n.opType !== 'Pad' && n.opType !== 'AveragePool') fail('only Pad may come between padding and the average', n);
    if (tail.length > 0 && !['Mul', 'Add', 'Pow'].includes(n.opType)) fail('comes after the scaling of the average', n);
    switch (n.opType) {
      case 'Unsqueeze':
        shape = unsqueezeAt(shape, intsAttr(n, 'axes') ?? numbers(n.input[1], n), num(1));
        break;
      case 'Squeeze':
        shape = squeezeDims(shape, intsAttr(n, 'axes') ?? (n.input[1] ? numbers(n.input[1], n) : undefined), n);
        break;
      case 'If': {
        const cond = ints(n.input[0], n);
        const branch = branchOf(n, concrete(cond.data[0], n) ? 'then_branch' : 'else_branch');
        if (branch.node.opType === 'Squeeze') shape = squeezeDims(shape, branch.axes, branch.node);
        break;
      }
      case 'Identity':
        break;
      case 'Reshape':
        shape = reshapeDims(shape, intsAttr(n, 'shape')?.map(num) ?? ints(n.input[1], n).data, n);
        break;
      case 'Pad': {
        if ((stringAttr(n, 'mode') ?? 'constant') !== 'constant') fail('pads other than with a constant', n);
        const value = n.input[2] ? scalarOf(n.input[2]) : floatAttr(n, 'value', 0);
        if (value !== 0) fail(`pads with ${value ?? 'a computed value'}, not 0`, n);
        const pads = intsAttr(n, 'pads') ?? numbers(n.input[1], n);
        const r = shape.length;
        if (pads.length !== 2 * r) fail(`has ${pads.length} pads for a rank-${r} value`, n);
        const before = (padBefore ??= shape.map(() => 0)), after = (padAfter ??= shape.map(() => 0));
        shape = shape.map((d, a) => {
          before[a] += pads[a];
          after[a] += pads[a + r];
          return { s: d.s, k: d.k + pads[a] + pads[a + r] };
        });
        break;
      }
      case 'AveragePool': {
        if (size > 0) fail('is a second average', n);
        const r = shape.length;
        const kernel = intsAttr(n, 'kernel_shape') ?? fail('has no kernel_shape', n);
        if (kernel.length !== r - 2) fail(`has a ${kernel.length}-D kernel for a rank-${r} value`, n);
        if ((intsAttr(n, 'strides') ?? []).some((s) => s !== 1)) fail('has a stride other than 1', n);
        if ((intsAttr(n, 'pads') ?? []).some((q) => q !== 0)) fail('pads inside the average', n);
        if ((intsAttr(n, 'dilations') ?? []).some((q) => q !== 1)) fail('is dilated', n);
        if (!['NOTSET', 'VALID', ''].includes(stringAttr(n, 'auto_pad') ?? 'NOTSET')) fail('pads itself (auto_pad)', n);
        const cAxis = shape.findIndex((d) => d.s === 'C');
        kernel.forEach((kk, j) => {
          if (j + 2 !== cAxis && kk !== 1) fail(`averages over ${show([shape[j + 2]])}, not the channels`, n);
        });
        size = cAxis >= 2 ? kernel[cAxis - 2] : fail(`does not average over the channels (the value is ${show(shape)})`, n);
        if (size % 2 !== 1) fail(`averages ${size} channels: only an odd window is LRN (an even one is asymmetric)`, n);
        const half = (size - 1) / 2;
        const pb = padBefore ?? shape.map(() => 0), pa = padAfter ?? shape.map(() => 0);
        shape.forEach((_, a) => {
          const want = a === cAxis ? half : 0;
          if (pb[a] !== want || pa[a] !== want) fail(`the value is padded by ${pb[a]} and ${pa[a]} on axis ${a}; LRN of ${size} channels pads ${want} on both sides`, n);
        });
        shape = shape.map((d, a) => (a === cAxis ? { s: d.s, k: d.k - (size - 1) } : d));
        break;
      }
      case 'Mul':
      case 'Add':
      case 'Pow': {
        const value = scalarOf(n.input[1]) ?? (n.opType === 'Pow' ? null : scalarOf(n.input[0]));
        if (size === 0 || value === null) fail('is not a scaling of the average by a constant', n);
        tail.push({ op: n.opType, value: value!, node: n });
        break;
      }
      default:
        fail(`is on the divisor's path; PyTorch's LocalResponseNorm has only Unsqueeze, Reshape, Pad, AveragePool, Squeeze / If, Mul, Add and Pow there`, n);
    }
    dataShape.set(n.output[0], shape);
  }
  if (tail.map((t) => t.op).join() !== 'Mul,Add,Pow') return fail(`scales the average by ${tail.map((t) => t.op).join(', ') || 'nothing'}, not * alpha, + k, ^ beta`);
  if (shape.length !== 4 || !shape.every((d, a) => unify(d, X[a]))) return fail(`the divisor has shape ${show(shape)}, not x's [N, C, H, W]`);
  const [alpha, k, beta] = tail.map((t) => t.value);
  return { spec: { size, alpha, beta, k }, div, nodes: inside, fixed: Object.fromEntries(bound) };

  function reshapeDims(input: Dim[], target: Dim[], n: OnnxNode): Dim[] {
    // Every target entry is 1 (a unit dimension, or N = 1 in a static export), -1 (what
    // remains: at most one dimension), 0 (copy), a number that binds a symbol, or a symbol
    // computed from Shape(x); the input's non-unit dimensions must come out whole and in the
    // same order. Tried in every way (a handful of dimensions), a unit dimension before binding a
    // symbol to 1, keeping the symbol bindings of the first that fits.
    const t: Array<Dim | 'rest'> = target.map((b, i) => (b.s === null && b.k === -1 ? 'rest' : b.s === null && b.k === 0 ? input[i] : b));
    const src = input.filter((d) => !isOne(d));
    const go = (i: number, j: number): Dim[] | null => {
      if (i === t.length) return j === src.length ? [] : null;
      const d = t[i];
      const attempt = (take: Dim | null, dj: number): Dim[] | null => {
        const saved = new Map(bound);
        const rest = go(i + 1, j + dj);
        if (rest) return [take ?? num(1), ...rest];
        bound.clear();
        for (const [key, v] of saved) bound.set(key, v);
        return null;
      };
      if (d === 'rest') return (j < src.length ? attempt(src[j], 1) : null) ?? attempt(null, 0);
      if (isOne(d)) {
        const r = attempt(null, 0);
        if (r) return r;
      }
      const saved = new Map(bound);
      if (j < src.length && unify(src[j], d)) {
        const r = attempt(src[j], 1);
        if (r) return r;
      }
      bound.clear();
      for (const [key, v] of saved) bound.set(key, v);
      return null;
    };
    return go(0, 0) ?? fail(`reshapes ${show(input)} to ${show(target)}, which is not only inserting or removing unit dimensions`, n);
  }

  function squeezeDims(input: Dim[], axes: number[] | undefined, n: OnnxNode): Dim[] {
    const r = input.length;
    const drop = new Set((axes ?? input.map((_, a) => a).filter((a) => isOne(input[a]))).map((a) => (a < 0 ? a + r : a)));
    for (const a of drop) if (!input[a] || !isOne(input[a])) fail(`squeezes axis ${a} of ${show(input)}, which is not 1`, n);
    return input.filter((_, a) => !drop.has(a));
  }
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
