/**
 * PyTorch's LocalResponseNorm subgraph (torchLrn.ts), without PyTorch: a CaffeNet exported by
 * this project with its LRN nodes rewritten as torch.onnx.export writes F.local_response_norm,
 * statically (batch 1, constant shapes and pads, opset 9) and dynamically (Shape / Gather /
 * Concat shapes, the pads built by ConstantOfShape / Slice / Transpose / Cast, an If around the
 * Squeeze; opset 11). Both import as LRN and match onnxruntime on every layer; variants that are
 * not LRN are refused with the reason. tools/gpu-finetune/torchOnnx.test.ts checks a file that
 * PyTorch itself wrote.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { caffeNetArch, describeArch } from '../architecture';
import { randomWeights } from '../caffenet';
import type { ModelPackage } from '../package';
import { useNodeBackend } from '../node';
import { exportOnnx } from './export';
import { importOnnx } from './import';
import { ortParity } from './ortParity';
import { type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor, AttrType, OnnxDataType, attr, encodeOnnxModel, floatTensor } from './proto';

beforeAll(async () => {
  await useNodeBackend('wasm');
});

type Variant = 'static' | 'dynamic';

interface Tweaks {
  /** Pads on the channel axis, before and after (default (size-1)/2 each). */
  pads?: [number, number];
  /** The pooling kernel (default [size, 1, 1]). */
  kernel?: number[];
  /** Order of the scaling ops (default alpha, k, beta). */
  scaleOrder?: Array<'Mul' | 'Add' | 'Pow'>;
  /** Static: the H the reshapes are written for (default the real one). */
  staticH?: number;
}

const int64 = (name: string, values: number[], scalar = false): OnnxTensor => ({ name, dims: scalar ? [] : [values.length], dataType: OnnxDataType.INT64, int64Data: values, external: false });
const n = (opType: string, name: string, input: string[], output: string[], attribute: OnnxNode['attribute'] = []): OnnxNode => ({ opType, name, input, output, attribute, domain: '', docString: '' });

/** Replaces every LRN node of `m` (exported from `pkg`) by PyTorch's subgraph for it. */
function torchStyle(m: OnnxModel, pkg: ModelPackage, variant: Variant, tw: Tweaks = {}): OnnxModel {
  const out = structuredClone(m);
  const g = out.graph;
  const shapes = Object.fromEntries(describeArch(pkg.architecture).map((l) => [l.name, l.shape]));
  const nodes: OnnxNode[] = [];
  for (const node of g.node) {
    if (node.opType !== 'LRN') {
      nodes.push(node);
      continue;
    }
    const name = node.name;
    const [C, H, W] = shapes[name];
    const size = node.attribute.find((a) => a.name === 'size')!.i!;
    const f = (a: string) => node.attribute.find((x) => x.name === a)!.f!;
    const x = node.input[0];
    const v = (s: string) => `${name}/${s}`;
    const c = (s: string, t: OnnxTensor) => {
      g.initializer.push({ ...t, name: v(s) });
      return v(s);
    };
    const half = (size - 1) / 2;
    const [pb, pa] = tw.pads ?? [half, half];
    nodes.push(n('Mul', v('sq'), [x, x], [v('sq')]));
    nodes.push(n('Unsqueeze', v('u'), [v('sq')], [v('u')], [attr.ints('axes', [1])]));
    let poolIn: string;
    let backShape: string;
    if (variant === 'static') {
      const h = tw.staticH ?? H;
      nodes.push(n('Reshape', v('r'), [v('u'), c('r_shape', int64('', [1, 1, C, h, -1]))], [v('r')]));
      nodes.push(n('Pad', v('pad'), [v('r')], [v('pad')], [attr.string('mode', 'constant'), attr.ints('pads', [0, 0, pb, 0, 0, 0, 0, pa, 0, 0])]));
      nodes.push(n('Pad', v('pad0'), [v('pad')], [v('pad0')], [attr.string('mode', 'constant'), attr.ints('pads', new Array(10).fill(0)), attr.float('value', 0)]));
      poolIn = v('pad0');
      backShape = c('back_shape', int64('', [1, C, h, W]));
    } else {
      nodes.push(n('Shape', v('shape'), [x], [v('shape')]));
      const dims = [0, 1, 2, 3].map((i) => {
        nodes.push(n('Gather', v(`g${i}`), [v('shape'), c(`i${i}`, int64('', [i], true))], [v(`g${i}`)], [attr.int('axis', 0)]));
        nodes.push(n('Unsqueeze', v(`gu${i}`), [v(`g${i}`)], [v(`gu${i}`)], [attr.ints('axes', [0])]));
        return v(`gu${i}`);
      });
      nodes.push(n('Concat', v('cat'), [dims[0], c('one', int64('', [1])), dims[1], dims[2], c('minus1', int64('', [-1]))], [v('cat')], [attr.int('axis', 0)]));
      nodes.push(n('Reshape', v('r'), [v('u'), v('cat')], [v('r')]));
      // F.pad's (0, 0, 0, 0, before, after), last dimension first, as PyTorch turns it into ONNX pads.
      nodes.push(n('ConstantOfShape', v('zeros'), [c('four', int64('', [4]))], [v('zeros')], [{ name: 'value', type: AttrType.TENSOR, t: int64('', [0]) }]));
      nodes.push(n('Concat', v('pcat'), [c('torch_pads', int64('', [0, 0, 0, 0, pb, pa])), v('zeros')], [v('pcat')], [attr.int('axis', 0)]));
      nodes.push(n('Reshape', v('pairs'), [v('pcat'), c('m1_2', int64('', [-1, 2]))], [v('pairs')]));
      nodes.push(n('Slice', v('rev'), [v('pairs'), c('s_start', int64('', [-1])), c('s_end', int64('', [-9007199254740991])), c('s_axes', int64('', [0])), c('s_steps', int64('', [-1]))], [v('rev')]));
      nodes.push(n('Transpose', v('tr'), [v('rev')], [v('tr')], [attr.ints('perm', [1, 0])]));
      nodes.push(n('Reshape', v('flat'), [v('tr'), c('m1', int64('', [-1]))], [v('flat')]));
      nodes.push(n('Cast', v('cast'), [v('flat')], [v('cast')], [attr.int('to', OnnxDataType.INT64)]));
      nodes.push(n('Pad', v('pad'), [v('r'), v('cast'), ''], [v('pad')], [attr.string('mode', 'constant')]));
      poolIn = v('pad');
      nodes.push(n('Concat', v('back'), dims, [v('back')], [attr.int('axis', 0)]));
      backShape = v('back');
    }
    nodes.push(n('AveragePool', v('avg'), [poolIn], [v('avg')], [attr.ints('kernel_shape', tw.kernel ?? [size, 1, 1]), attr.ints('pads', [0, 0, 0, 0, 0, 0]), attr.ints('strides', [1, 1, 1])]));
    let squeezed: string;
    if (variant === 'static') {
      nodes.push(n('Squeeze', v('sqz'), [v('avg')], [v('sqz')], [attr.ints('axes', [1])]));
      squeezed = v('sqz');
    } else {
      nodes.push(n('Shape', v('avg_shape'), [v('avg')], [v('avg_shape')]));
      nodes.push(n('Gather', v('d1'), [v('avg_shape'), c('idx1', int64('', [1], true))], [v('d1')], [attr.int('axis', 0)]));
      nodes.push(n('Equal', v('is1'), [v('d1'), c('one_s', int64('', [1], true))], [v('is1')]));
      const branch = (op: 'Squeeze' | 'Identity', o: string): OnnxGraph => ({
        name: o, node: [n(op, o, [v('avg')], [o], op === 'Squeeze' ? [attr.ints('axes', [1])] : [])],
        initializer: [], input: [], output: [{ name: o, elemType: OnnxDataType.FLOAT, shape: null }], valueInfo: [], docString: '',
      });
      nodes.push(n('If', v('if'), [v('is1')], [v('if')], [
        { name: 'then_branch', type: AttrType.GRAPH, g: branch('Squeeze', v('then')) },
        { name: 'else_branch', type: AttrType.GRAPH, g: branch('Identity', v('else')) },
      ]));
      squeezed = v('if');
    }
    nodes.push(n('Reshape', v('r2'), [squeezed, backShape], [v('r2')]));
    const scale = { Mul: f('alpha'), Add: f('bias'), Pow: f('beta') };
    let cur = v('r2');
    for (const op of tw.scaleOrder ?? ['Mul', 'Add', 'Pow'] as const) {
      nodes.push(n(op, v(op), [cur, c(`${op}_c`, floatTensor('', [], Float32Array.of(scale[op])))], [v(op)]));
      cur = v(op);
    }
    nodes.push(n('Div', v('div'), [x, cur], [node.output[0]]));
  }
  g.node = nodes;
  if (variant === 'dynamic') {
    out.opsetImport = [{ domain: '', version: 11 }];
    out.irVersion = 7;
  }
  return out;
}

function model(seed: number) {
  const arch = caffeNetArch({ width: 0.125, numClasses: 4 });
  const pkg: ModelPackage = { name: 'lrn', architecture: arch, classes: null, weights: randomWeights(arch, { seed, scheme: 'he' }), provenance: { createdBy: 'test', createdAt: '' } };
  // The LRN output as a graph output: compare norm1 / norm2 themselves with onnxruntime.
  const forOrt = exportOnnx(pkg, { opset: 9, exposeLayers: true }).model;
  const published = exportOnnx(pkg, { opset: 9 }).model;
  return { arch, pkg, forOrt, published };
}

describe("PyTorch's LocalResponseNorm subgraph", () => {
  for (const variant of ['static', 'dynamic'] as const) {
    it(`${variant} export: read as LRN with its parameters, and every layer matches onnxruntime`, async () => {
      const { arch, pkg, forOrt, published } = model(variant === 'static' ? 3 : 4);
      const bytes = encodeOnnxModel(torchStyle(published, pkg, variant));
      const { pkg: got, report } = importOnnx(bytes, { source: `${variant}.onnx` });
      expect(got.architecture.norm1).toEqual({ size: 5, alpha: 1e-4, beta: 0.75, k: 1 });
      expect(got.architecture.norm2).toEqual(arch.norm2);
      expect(got.architecture.normOrder).toBe(arch.normOrder);
      expect(report.notes.filter((t) => /LocalResponseNorm subgraph \(\d+ nodes.*read as LRN size 5, alpha 0.0001, beta 0.75, k 1/.test(t))).toHaveLength(2);
      if (variant === 'static') expect(report.notes.join(' ')).toMatch(/norm1: the LocalResponseNorm subgraph is written for batch 1/);
      // The LRN values as graph outputs, the static file at batch 1 (its reshapes say so).
      const { errors, refMax } = await ortParity(encodeOnnxModel(torchStyle(forOrt, pkg, variant)), bytes, variant === 'static' ? 1 : 2, 7);
      expect(Object.keys(errors)).toEqual(expect.arrayContaining(['norm1', 'norm2', 'fc8']));
      for (const [layer, e] of Object.entries(errors)) expect(e, layer).toBeLessThan(1e-4);
      expect(refMax.norm2).toBeGreaterThan(1);
    });
  }

  it('refuses subgraphs that are not LRN, saying why', () => {
    const { pkg, published } = model(5);
    const refuse = (variant: Variant, tw: Tweaks, why: RegExp) => {
      expect(() => importOnnx(encodeOnnxModel(torchStyle(published, pkg, variant, tw))), JSON.stringify(tw)).toThrow(why);
    };
    refuse('static', { pads: [1, 3] }, /AveragePool node "norm1\/avg": the value is padded by 1 and 3 on axis 2; LRN of 5 channels pads 2 on both sides.*not PyTorch's LocalResponseNorm/);
    refuse('dynamic', { pads: [2, 1] }, /padded by 2 and 1 on axis 2/);
    refuse('dynamic', { kernel: [1, 5, 1], pads: [0, 0] }, /AveragePool node "norm1\/avg": averages over \[H\], not the channels/);
    refuse('static', { scaleOrder: ['Add', 'Mul', 'Pow'] }, /scales the average by Add, Mul, Pow, not \* alpha, \+ k, \^ beta/);
    // Written for another spatial size than the network has: the constants bind H to 7, not 27.
    refuse('static', { staticH: 7 }, /the LocalResponseNorm subgraph is written for H = 7, but norm1's input is 16x27x27/);
    // A shape computed from itself (not a valid ONNX graph, but a file can say so).
    const cyclic = torchStyle(published, pkg, 'dynamic');
    cyclic.graph.node.find((m) => m.name === 'norm1/cat')!.input.push('norm1/cat');
    expect(() => importOnnx(encodeOnnxModel(cyclic))).toThrow(/Concat node "norm1\/cat": the shape computation runs in a cycle/);
    // A value of the subgraph used outside it.
    const leak = torchStyle(published, pkg, 'dynamic');
    leak.graph.node.push(n('Relu', 'spy', ['norm2/avg'], ['spy']));
    leak.graph.output.push({ name: 'spy', elemType: OnnxDataType.FLOAT, shape: null });
    expect(() => importOnnx(encodeOnnxModel(leak))).toThrow(/AveragePool node "norm2\/avg": the subgraph's value "norm2\/avg" is also used by Relu node "spy"/);
  });
});
