import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from '../core/learn/random';
import {
  type CaffeNetArch,
  type ConvName,
  type FcName,
  type LayerName,
  type LrnSpec,
  type Pads4,
  type PoolSpec,
  LAYER_NAMES,
  trunkLayers,
  describeArch,
  pool5Length,
  validateArch,
} from './architecture';

/**
 * CaffeNet (docs/algorithm.md section 3) on tfjs ops, for inference and for training with the same
 * graph.
 *
 * Input: NHWC float32 [B, H, W, 3], BGR, mean-subtracted (warp.ts produces it).
 * Weights live in tf.Variables; a grouped conv keeps one variable per group and a wide fc layer
 * may keep several column blocks (see maxBindingBytes), but the canonical weight layout (what the
 * model package stores) is one tensor per layer:
 *   convN.weight [kh, kw, cin / group, cout]  (tfjs HWIO; group g owns output channels
 *                                             [g * cout / G, (g + 1) * cout / G) and reads the
 *                                             same slice of the input channels)
 *   convN.bias   [cout]
 *   fcN.weight   [in, out]   (fc6's `in` runs over pool5 in Caffe's C,H,W order)
 *   fcN.bias     [out]
 */

export type WeightName = `${ConvName | FcName}.${'weight' | 'bias'}`;

/** A host-side tensor: what packages store and what ONNX import produces. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export type NamedWeights = Partial<Record<WeightName, HostTensor>>;

const CONVS: ConvName[] = ['conv1', 'conv2', 'conv3', 'conv4', 'conv5'];

/** Canonical weight names and shapes for an architecture, in forward order. */
export function weightShapes(arch: CaffeNetArch): Array<{ name: WeightName; shape: number[] }> {
  const out: Array<{ name: WeightName; shape: number[] }> = [];
  let cin = arch.inputChannels;
  for (const c of CONVS) {
    const s = arch.conv[c];
    out.push({ name: `${c}.weight`, shape: [s.kernel[0], s.kernel[1], cin / s.group, s.filters] });
    out.push({ name: `${c}.bias`, shape: [s.filters] });
    cin = s.filters;
  }
  let d = pool5Length(arch);
  const fcs: Array<[FcName, number]> = [['fc6', arch.fc6], ['fc7', arch.fc7]];
  if (arch.fc8 > 0) fcs.push(['fc8', arch.fc8]);
  for (const [name, n] of fcs) {
    out.push({ name: `${name}.weight`, shape: [d, n] });
    out.push({ name: `${name}.bias`, shape: [n] });
    d = n;
  }
  return out;
}

export interface CaffeNetOptions {
  /**
   * Largest tensor, in bytes, the backend can bind at once (WebGPU maxStorageBufferBindingSize).
   * An fc weight above it is kept as column blocks whose matmuls are concatenated, so fc6
   * (151 MB at full width) runs on devices capped at 128 MiB. Default: no cap.
   */
  maxBindingBytes?: number;
  /** Whether the variables are trainable (default true; inference-only callers may pass false). */
  trainable?: boolean;
}

export interface InitOptions {
  /**
   * 'he': Kaiming-normal weights, zero biases (trains from scratch reliably);
   * 'caffe': CaffeNet's own filler (gaussian std 0.01, fc6/fc7 0.005, biases 1 on conv2/4/5/fc6/fc7).
   */
  scheme?: 'he' | 'caffe';
  seed?: number;
}

export interface ForwardOptions {
  /** Layers to return (default: the last layer). The pass stops after the deepest one asked. */
  outputs?: readonly LayerName[];
  /** Training mode: dropout on fc6 and fc7 outputs. */
  training?: boolean;
}

/** Per-layer outputs: spatial layers are NHWC [B, H, W, C]; fc layers [B, D]. */
export type LayerOutputs = Partial<Record<LayerName, tf.Tensor>>;

/** tfjs variable names are global: each network instance gets its own prefix. */
let instanceCount = 0;

interface FcBlock {
  weight: tf.Variable;
  bias: tf.Variable;
  /** weight transposed [out, in], built on first use by an inference net on wasm (see fc()). */
  weightT?: tf.Tensor2D;
}

export class CaffeNet {
  /**
   * When an inference-only net on the wasm backend runs an fc layer as (W^T . x^T)^T instead of
   * x . W. tfjs-wasm hands x . W to XNNPACK's fully-connected operator with W as its packed
   * weights; its micro-kernel takes 4 rows of x at a time and streams all of W for each group of
   * 4, which costs twice the memory traffic from batch 5 on once W no longer sits in the caches.
   * Swapped, W^T is the streamed operand, read once per batch, and x^T the small packed one.
   * Measured (tfjs 4.22, one thread, x . W vs swapped, ms): fc6 9216 x 4096 (144 MiB) 47 vs 26 at
   * batch 8, 95 vs 48 at 16, and 17 vs 26 at batch 1; fc7 4096 x 4096 (64 MiB) 21 vs 12 at 8;
   * but 4608 x 2048 (36 MiB, width 0.5) 6.6 vs 6.3 at 8 and 1.6 vs 1.8 for the bundled width's
   * 2304 x 1024: small weights stay cached and gain nothing, and below 5 rows x . W is as fast or
   * faster. The price is W^T, as much memory again as that layer's weights (208 MiB for full
   * CaffeNet's fc6 + fc7), allocated when the first such batch runs. minBatch Infinity turns it
   * off (benchmarks compare both).
   */
  static wasmSwappedFc = { minBatch: 5, minBytes: 48 * 2 ** 20 };
  readonly arch: CaffeNetArch;
  /** Column blocks per fc layer; one block unless the layer exceeds maxBindingBytes. */
  readonly fcBlocks: Partial<Record<FcName, FcBlock[]>> = {};
  /** One filter/bias pair per group for each conv. */
  readonly convGroups: Partial<Record<ConvName, FcBlock[]>> = {};
  /**
   * Non-grouped convs kept as output-channel blocks, one per group of the conv they feed
   * directly (conv3 -> conv4 in CaffeNet). Each block sees the whole input and the blocks are the
   * next conv's input groups as they stand, so the channel split before the grouped conv goes
   * away (tfjs's SplitV copies: 4.6 ms of a 510 ms batch-8 pass on wasm) and the convolution
   * costs the same (two 192-filter convs ran as fast as one 384-filter conv, measured).
   * Inference-only nets: training keeps one variable per conv group, as its tooling expects.
   * CaffeNet.convOutputBlocks = false turns it off for nets built afterwards (benchmarks).
   */
  private readonly convOutBlocks = new Set<ConvName>();
  static convOutputBlocks = true;
  private readonly layerOrder: LayerName[];
  private disposed = false;

  /**
   * Builds the graph's variables from canonical weights. Weights are copied into the variables;
   * the host arrays can be dropped afterwards. Use createCaffeNet for random initialisation.
   */
  constructor(arch: CaffeNetArch, weights: NamedWeights, readonly options: CaffeNetOptions = {}) {
    validateArch(arch);
    this.arch = arch;
    this.layerOrder = describeArch(arch).map((l) => l.name);
    const trainable = options.trainable ?? true;
    const prefix = `caffenet${++instanceCount}/`;
    const cap = options.maxBindingBytes ?? Infinity;
    try {
      for (const { name, shape } of weightShapes(arch)) {
        const w = weights[name];
        if (!w) throw new Error(`missing weight ${name} (expected shape ${shape.join('x')})`);
        if (w.shape.length !== shape.length || w.shape.some((v, i) => v !== shape[i])) {
          throw new Error(`weight ${name} has shape ${w.shape.join('x')}, expected ${shape.join('x')}`);
        }
        if (w.data.length !== shape.reduce((a, b) => a * b, 1)) {
          throw new Error(`weight ${name} has ${w.data.length} values, expected ${shape.join('x')}`);
        }
      }
      for (const [i, c] of CONVS.entries()) {
        const next = CONVS[i + 1];
        // A conv feeds the next one directly when there is one and neither pool nor LRN sits
        // between them (pool/norm follow conv1, conv2 and conv5).
        const feedsConv = next !== undefined && c !== 'conv1' && c !== 'conv2';
        let g = arch.conv[c].group;
        if (CaffeNet.convOutputBlocks && trainable === false && g === 1 && feedsConv && arch.conv[next].group > 1) {
          g = arch.conv[next].group;
          this.convOutBlocks.add(c);
        }
        const tag = this.convOutBlocks.has(c) ? 'o' : 'g';
        const w = weights[`${c}.weight`]!;
        const b = weights[`${c}.bias`]!;
        const groups: FcBlock[] = [];
        tf.tidy(() => {
          const wt = tf.tensor4d(w.data, w.shape as [number, number, number, number]);
          const bt = tf.tensor1d(b.data);
          const ws = g === 1 ? [wt] : tf.split(wt, g, 3);
          const bs = g === 1 ? [bt] : tf.split(bt, g, 0);
          for (let i = 0; i < g; i++) {
            groups.push({
              weight: tf.variable(ws[i], trainable, `${prefix}${c}.weight${g > 1 ? `.${tag}${i}` : ''}`),
              bias: tf.variable(bs[i], trainable, `${prefix}${c}.bias${g > 1 ? `.${tag}${i}` : ''}`),
            });
          }
        });
        this.convGroups[c] = groups;
      }
      for (const f of this.fcNames()) {
        const w = weights[`${f}.weight`]!;
        const b = weights[`${f}.bias`]!;
        const [din, dout] = w.shape;
        const blocks = Math.min(dout, Math.max(1, Math.ceil((din * dout * 4) / cap)));
        const list: FcBlock[] = [];
        tf.tidy(() => {
          const wt = tf.tensor2d(w.data, [din, dout]);
          const bt = tf.tensor1d(b.data);
          // Balanced column blocks, each small enough for one binding.
          const sizes = splitSizes(dout, blocks);
          const ws = blocks === 1 ? [wt] : tf.split(wt, sizes, 1);
          const bs = blocks === 1 ? [bt] : tf.split(bt, sizes, 0);
          for (let i = 0; i < blocks; i++) {
            const suffix = blocks > 1 ? `.c${i}` : '';
            list.push({
              weight: tf.variable(ws[i], trainable, `${prefix}${f}.weight${suffix}`),
              bias: tf.variable(bs[i], trainable, `${prefix}${f}.bias${suffix}`),
            });
          }
        });
        this.fcBlocks[f] = list;
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  private fcNames(): FcName[] {
    return this.arch.fc8 > 0 ? ['fc6', 'fc7', 'fc8'] : ['fc6', 'fc7'];
  }

  /** Layers this network produces, in forward order. */
  get layers(): readonly LayerName[] {
    return this.layerOrder;
  }

  /** Every variable, in forward order (what an optimiser updates). */
  get variables(): tf.Variable[] {
    const out: tf.Variable[] = [];
    for (const c of CONVS) for (const g of this.convGroups[c] ?? []) out.push(g.weight, g.bias);
    for (const f of this.fcNames()) for (const b of this.fcBlocks[f] ?? []) out.push(b.weight, b.bias);
    return out;
  }

  /** Whether fc weights were split into column blocks to respect maxBindingBytes. */
  get splitFcLayers(): FcName[] {
    return this.fcNames().filter((f) => (this.fcBlocks[f]?.length ?? 0) > 1);
  }

  /**
   * Runs the network on a preprocessed batch and returns the requested layers (caller disposes
   * them; call inside tf.tidy or dispose each). Intermediate tensors are released here.
   */
  forward(x: tf.Tensor4D, opts: ForwardOptions = {}): LayerOutputs {
    if (this.disposed) throw new Error('CaffeNet has been disposed');
    const a = this.arch;
    const wanted = opts.outputs && opts.outputs.length > 0 ? opts.outputs : [this.layerOrder[this.layerOrder.length - 1]];
    for (const n of wanted) {
      if (!this.layerOrder.includes(n)) throw new Error(`layer ${n} is not in this network (layers: ${this.layerOrder.join(', ')})`);
    }
    const last = Math.max(...wanted.map((n) => LAYER_NAMES.indexOf(n)));
    // The convolutional layers take any image size (the shared-convolution path runs them once on
    // the whole photo, sharedConv.ts); only fc6's weights fix the input to the crop size.
    const spatialOnly = last <= LAYER_NAMES.indexOf('pool5');
    if (x.shape[3] !== a.inputChannels || (!spatialOnly && (x.shape[1] !== a.inputHeight || x.shape[2] !== a.inputWidth))) {
      throw new Error(`input must be [B, ${a.inputHeight}, ${a.inputWidth}, ${a.inputChannels}] (NHWC), got [${x.shape.join(', ')}]`);
    }
    if (spatialOnly && (x.shape[1] !== a.inputHeight || x.shape[2] !== a.inputWidth)) {
      const bad = describeArch({ ...a, inputHeight: x.shape[1], inputWidth: x.shape[2] }).find((l) => LAYER_NAMES.indexOf(l.name) <= last && l.shape.some((v) => !(v >= 1)));
      if (bad) throw new Error(`a ${x.shape[1]} x ${x.shape[2]} input is too small: ${bad.name} would be empty`);
    }
    const training = opts.training ?? false;
    const result = tf.tidy(() => {
      const out: LayerOutputs = {};
      let done = false;
      // The activation travels as its channel groups: a grouped conv's halves go straight into
      // the next grouped conv (conv4 -> conv5) or through channel-wise max pooling (conv2 ->
      // pool2, conv5 -> pool5) without the concat + split copies; they are concatenated only
      // where channels mix (LRN, a non-grouped conv, flatten) or a caller asks for the layer.
      let h: tf.Tensor4D[] = [x];
      const whole = (parts: tf.Tensor4D[]): tf.Tensor4D => (parts.length === 1 ? parts[0] : (tf.concat(parts, 3) as tf.Tensor4D));
      const emit = (name: LayerName, parts: tf.Tensor4D[]) => {
        if (wanted.includes(name)) {
          const t = whole(parts);
          out[name] = t;
          parts = [t];
        }
        if (LAYER_NAMES.indexOf(name) >= last) done = true;
        return parts;
      };
      for (const l of trunkLayers(a)) {
        if (done) break;
        if (l === 'pool1' || l === 'pool2' || l === 'pool5') {
          const p = a[l];
          h = emit(l, h.map((t) => maxPool(t, p)));
        } else if (l === 'norm1' || l === 'norm2') {
          const n = a[l];
          h = emit(l, n ? [lrn(whole(h), n)] : h);
        } else {
          h = emit(l, this.conv(l, h));
        }
      }
      if (!done) Object.assign(out, this.fcLayers(flattenChw(whole(h)), wanted, last, training));
      return out as Record<string, tf.Tensor>;
    });
    return result as LayerOutputs;
  }

  /**
   * fc6 onwards from pool5 features already flattened in Caffe's C,H,W order [B, pool5Length]:
   * the per-region part of the network in the shared-convolution path (RoI-pooled pool5,
   * sharedConv.ts). Returns the requested fc layers (default fc7); caller disposes them.
   */
  forwardFromPool5(pool5Flat: tf.Tensor2D, opts: { outputs?: readonly LayerName[] } = {}): LayerOutputs {
    if (this.disposed) throw new Error('CaffeNet has been disposed');
    const d = pool5Length(this.arch);
    if (pool5Flat.rank !== 2 || pool5Flat.shape[1] !== d) throw new Error(`pool5 features must be [B, ${d}], got [${pool5Flat.shape.join(', ')}]`);
    const wanted = opts.outputs && opts.outputs.length > 0 ? opts.outputs : (['fc7'] as const);
    for (const n of wanted) {
      if (LAYER_NAMES.indexOf(n) <= LAYER_NAMES.indexOf('pool5') || !this.layerOrder.includes(n)) throw new Error(`forwardFromPool5 returns fc layers of this network, not ${n}`);
    }
    const last = Math.max(...wanted.map((n) => LAYER_NAMES.indexOf(n)));
    return tf.tidy(() => this.fcLayers(pool5Flat, wanted, last, false) as Record<string, tf.Tensor>) as LayerOutputs;
  }

  /** fc6, fc7, fc8 and prob from flat pool5, up to layer index `last`; the wanted ones returned. */
  private fcLayers(v: tf.Tensor2D, wanted: readonly LayerName[], last: number, training: boolean): LayerOutputs {
    const out: LayerOutputs = {};
    for (const f of this.fcNames()) {
      v = this.fc(f, v, f !== 'fc8');
      if (training && f !== 'fc8' && this.arch.dropout > 0) v = tf.dropout(v, this.arch.dropout) as tf.Tensor2D;
      if (wanted.includes(f)) out[f] = v;
      if (LAYER_NAMES.indexOf(f) >= last) return out;
    }
    if (wanted.includes('prob')) out.prob = tf.softmax(v);
    return out;
  }

  /** A (grouped) conv + ReLU on an activation given as channel groups; returns its groups. */
  private conv(name: ConvName, parts: tf.Tensor4D[]): tf.Tensor4D[] {
    const s = this.arch.conv[name];
    const groups = this.convGroups[name]!;
    const pad = tfPad(s.pads);
    const run = (inp: tf.Tensor4D, g: FcBlock): tf.Tensor4D =>
      tf.fused.conv2d({ x: inp, filter: g.weight as tf.Tensor4D, bias: g.bias, strides: s.stride, pad, activation: 'relu' });
    if (this.convOutBlocks.has(name)) {
      const x = parts.length === 1 ? parts[0] : (tf.concat(parts, 3) as tf.Tensor4D);
      return groups.map((g) => run(x, g));
    }
    const cin = parts.reduce((c, p) => c + p.shape[3], 0);
    let inputs = parts;
    const aligned = parts.length === groups.length && parts.every((p) => p.shape[3] === cin / groups.length);
    if (!aligned) {
      const x = parts.length === 1 ? parts[0] : (tf.concat(parts, 3) as tf.Tensor4D);
      // Grouped convolution (AlexNet's two-GPU split): each group sees its own slice of channels.
      inputs = groups.length === 1 ? [x] : (tf.split(x, groups.length, 3) as tf.Tensor4D[]);
    }
    return inputs.map((p, i) => run(p, groups[i]));
  }

  private fc(name: FcName, v: tf.Tensor2D, relu: boolean): tf.Tensor2D {
    const blocks = this.fcBlocks[name]!;
    // Trainable nets keep x . W: their variables change under the optimiser, a cached W^T would not.
    const { minBatch, minBytes } = CaffeNet.wasmSwappedFc;
    const swapped = this.options.trainable === false && v.shape[0] >= minBatch && tf.getBackend() === 'wasm';
    const run = (b: FcBlock): tf.Tensor2D => {
      if (swapped && 4 * b.weight.size >= minBytes) {
        // keep: created inside forward's tidy, lives until dispose(). A plain matMul: tfjs-wasm
        // sends only the form without transpose flags to XNNPACK (with one it runs a scalar
        // loop). The bias runs along W^T's rows, so it is added after transposing back.
        b.weightT ??= tf.keep(tf.transpose(b.weight) as tf.Tensor2D);
        const y = tf.add(tf.transpose(tf.matMul(b.weightT, tf.transpose(v))), b.bias) as tf.Tensor2D;
        return relu ? tf.relu(y) : y;
      }
      return tf.fused.matMul({ a: v, b: b.weight as tf.Tensor2D, bias: b.bias, activation: relu ? 'relu' : 'linear' }) as tf.Tensor2D;
    };
    if (blocks.length === 1) return run(blocks[0]);
    return tf.concat(blocks.map(run), 1);
  }

  /** Canonical weights copied back to the host (for saving a package after training). */
  async getWeights(): Promise<NamedWeights> {
    const out: NamedWeights = {};
    const read = async (name: WeightName, parts: tf.Tensor[], axis: number) => {
      const t = parts.length === 1 ? parts[0] : tf.concat(parts, axis);
      const data = (await t.data()) as Float32Array;
      out[name] = { shape: t.shape.slice(), data: new Float32Array(data) };
      if (t !== parts[0]) t.dispose();
    };
    for (const c of CONVS) {
      const g = this.convGroups[c]!;
      await read(`${c}.weight`, g.map((x) => x.weight), 3);
      await read(`${c}.bias`, g.map((x) => x.bias), 0);
    }
    for (const f of this.fcNames()) {
      const b = this.fcBlocks[f]!;
      await read(`${f}.weight`, b.map((x) => x.weight), 1);
      await read(`${f}.bias`, b.map((x) => x.bias), 0);
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of CONVS) for (const g of this.convGroups[c] ?? []) g.weight.dispose(), g.bias.dispose();
    for (const f of ['fc6', 'fc7', 'fc8'] as FcName[]) for (const b of this.fcBlocks[f] ?? []) b.weight.dispose(), b.bias.dispose(), b.weightT?.dispose();
  }
}

/** Random weights for an architecture (training from scratch, tests, benchmarks). */
export function randomWeights(arch: CaffeNetArch, init: InitOptions = {}): NamedWeights {
  const scheme = init.scheme ?? 'he';
  const rand = gaussian(init.seed ?? 1);
  const out: NamedWeights = {};
  for (const { name, shape } of weightShapes(arch)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const layer = name.split('.')[0];
    if (name.endsWith('.weight')) {
      const fanIn = shape.length === 4 ? shape[0] * shape[1] * shape[2] : shape[0];
      const std = scheme === 'he' ? Math.sqrt(2 / fanIn) : layer === 'fc6' || layer === 'fc7' ? 0.005 : 0.01;
      for (let i = 0; i < n; i++) data[i] = rand() * std;
    } else if (scheme === 'caffe' && ['conv2', 'conv4', 'conv5', 'fc6', 'fc7'].includes(layer)) {
      data.fill(1);
    }
    out[name] = { shape, data };
  }
  return out;
}

export function createCaffeNet(arch: CaffeNetArch, init: InitOptions = {}, options: CaffeNetOptions = {}): CaffeNet {
  return new CaffeNet(arch, randomWeights(arch, init), options);
}

/** Standard normal samples from a seeded generator (mulberry32 + Box-Muller). */
export function gaussian(seed: number): () => number {
  const uniform = mulberry32(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

function splitSizes(n: number, parts: number): number[] {
  const base = Math.floor(n / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < n % parts ? 1 : 0));
}

/** tfjs padding argument for ONNX-style [top, left, bottom, right] pads. */
function tfPad(p: Pads4): number | [[number, number], [number, number], [number, number], [number, number]] {
  if (p[0] === p[1] && p[0] === p[2] && p[0] === p[3]) return p[0];
  return [[0, 0], [p[0], p[2]], [p[1], p[3]], [0, 0]];
}

function maxPool(x: tf.Tensor4D, s: PoolSpec): tf.Tensor4D {
  return tf.maxPool(x, s.kernel, s.stride, tfPad(s.pads));
}

/**
 * Caffe's across-channel LRN, y = x / (k + alpha / size * sum x^2) ^ beta over `size` channels
 * centred on the channel, on tfjs's localResponseNormalization, whose formula is
 * y = x / (bias + alpha' * sum_{c - r .. c + r} x^2) ^ beta: so r = (size - 1) / 2, bias = k and
 * alpha' = alpha / size (tfjs does not divide by the window size).
 */
export function caffeLrnToTfjs(s: LrnSpec): { depthRadius: number; bias: number; alpha: number; beta: number } {
  if (s.size % 2 !== 1) throw new Error(`LRN size must be odd, got ${s.size}`);
  return { depthRadius: (s.size - 1) / 2, bias: s.k, alpha: s.alpha / s.size, beta: s.beta };
}

export function lrn(x: tf.Tensor4D, s: LrnSpec | null): tf.Tensor4D {
  if (!s) return x;
  const p = caffeLrnToTfjs(s);
  return tf.localResponseNormalization(x, p.depthRadius, p.bias, p.alpha, p.beta);
}

/** NHWC [B, H, W, C] to [B, C*H*W] in Caffe's C,H,W order (what fc6 and the pool5 feature use). */
export function flattenChw(x: tf.Tensor4D): tf.Tensor2D {
  const [b, h, w, c] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [b, c * h * w]);
}

/** Any layer output in ONNX/Caffe layout: NHWC activations become NCHW; fc outputs unchanged. */
export function toNchw(t: tf.Tensor): tf.Tensor {
  return t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t.clone();
}
