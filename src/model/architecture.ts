/**
 * The CaffeNet / AlexNet family as plain data: layer hyper-parameters, output shapes, parameter
 * counts and multiply-adds. No tfjs here, so the architecture view (and the package manifest)
 * can use it without loading a backend.
 *
 * Default numbers are docs/algorithm.md section 3 (CaffeNet as trained by Caffe and used by R-CNN).
 * Layouts: activations are NHWC inside tfjs; every *exposed* flat vector (pool5, fc6, fc7...) is in
 * Caffe's C,H,W order so features match Caffe/ONNX feature indices.
 */

export type ConvName = 'conv1' | 'conv2' | 'conv3' | 'conv4' | 'conv5';
export type FcName = 'fc6' | 'fc7' | 'fc8';
/**
 * Layers whose output can be read. Conv and fc outputs are after their ReLU (Caffe's ReLUs are
 * in place, so the blob called "conv1" holds the rectified values; R-CNN's fc7 feature is too).
 * fc8 is the raw class score (no ReLU) and prob its softmax.
 */
export type LayerName =
  | 'conv1' | 'pool1' | 'norm1'
  | 'conv2' | 'pool2' | 'norm2'
  | 'conv3' | 'conv4' | 'conv5' | 'pool5'
  | 'fc6' | 'fc7' | 'fc8' | 'prob';

export const LAYER_NAMES: readonly LayerName[] = [
  'conv1', 'pool1', 'norm1', 'conv2', 'pool2', 'norm2', 'conv3', 'conv4', 'conv5', 'pool5', 'fc6', 'fc7', 'fc8', 'prob',
];

/** A layer of the convolutional trunk (conv1 .. pool5). */
export type TrunkLayer = ConvName | 'pool1' | 'norm1' | 'pool2' | 'norm2' | 'pool5';

/**
 * The trunk's layers in the order they run: after conv1 and conv2, pooling then LRN (CaffeNet)
 * or LRN then pooling (AlexNet), as `normOrder` says. One walk for every reader of the layout
 * (describeArch, the ONNX exporter).
 */
export function trunkLayers(a: Pick<CaffeNetArch, 'normOrder'>): TrunkLayer[] {
  const block = (i: 1 | 2): TrunkLayer[] => {
    const pool = i === 1 ? 'pool1' : 'pool2';
    const norm = i === 1 ? 'norm1' : 'norm2';
    return a.normOrder === 'pool-then-lrn' ? [pool, norm] : [norm, pool];
  };
  return ['conv1', ...block(1), 'conv2', ...block(2), 'conv3', 'conv4', 'conv5', 'pool5'];
}

/** Pads as ONNX lists them for 2-D: [top, left, bottom, right]. */
export type Pads4 = [top: number, left: number, bottom: number, right: number];

export interface ConvSpec {
  filters: number;
  kernel: [h: number, w: number];
  stride: [h: number, w: number];
  pads: Pads4;
  /** Grouped convolution: AlexNet split conv2/4/5 across two GPUs; Caffe kept group = 2. */
  group: number;
}

export interface PoolSpec {
  kernel: [h: number, w: number];
  stride: [h: number, w: number];
  pads: Pads4;
}

/**
 * Cross-channel LRN in Caffe's parametrisation:
 *   y = x / (k + alpha / size * sum_{window of `size` channels} x^2) ^ beta
 * (ONNX LRN uses the same formula). tfjs divides by nothing: see caffeLrnToTfjs.
 */
export interface LrnSpec {
  size: number;
  alpha: number;
  beta: number;
  k: number;
}

export interface CaffeNetArch {
  /** Square input side in pixels (227 for CaffeNet). Height and width may differ for imports. */
  inputHeight: number;
  inputWidth: number;
  inputChannels: number;
  /** Caffe convention: BGR, 0..255, mean subtracted. */
  channelOrder: 'BGR' | 'RGB';
  /** Per-channel mean in channelOrder, subtracted before the network (B 104, G 117, R 123). */
  mean: [number, number, number];
  conv: Record<ConvName, ConvSpec>;
  pool1: PoolSpec;
  pool2: PoolSpec;
  pool5: PoolSpec;
  /** null: the layer has no LRN (norm1/norm2 then equal their input). */
  norm1: LrnSpec | null;
  norm2: LrnSpec | null;
  /** CaffeNet pools then normalises; the original AlexNet (and bvlc_alexnet) normalises first. */
  normOrder: 'pool-then-lrn' | 'lrn-then-pool';
  fc6: number;
  fc7: number;
  /** Classifier outputs (N classes + background when fine-tuned); 0 = network ends at fc7. */
  fc8: number;
  /** Dropout rate on fc6 and fc7 outputs, training only. */
  dropout: number;
}

export const CAFFE_LRN: LrnSpec = { size: 5, alpha: 1e-4, beta: 0.75, k: 1 };
/** ImageNet mean per channel, BGR (the approximation docs/algorithm.md section 2 allows). */
export const IMAGENET_MEAN_BGR: [number, number, number] = [104, 117, 123];
const CAFFENET_CONV_FILTERS = [96, 256, 384, 384, 256] as const;
const CAFFENET_FC = 4096;

export interface CaffeNetOptions {
  /** Multiplies every conv filter count and the fc6/fc7 width (1 = CaffeNet). */
  width?: number;
  /** Explicit conv1..conv5 filter counts; overrides width for the convs. */
  convFilters?: [number, number, number, number, number];
  /** Explicit fc6 = fc7 width; overrides width for the fc layers. */
  fcWidth?: number;
  /** fc8 outputs (0: no classifier). Default 1000 (ImageNet). */
  numClasses?: number;
  inputSize?: number;
}

/**
 * Channel count for a width multiplier. Rounded to a multiple of 8 so both halves of a grouped
 * conv keep a multiple of 4 channels (wasm SIMD lanes) and no layer collapses below 8.
 */
export function scaleChannels(c: number, width: number): number {
  if (width === 1) return c;
  return Math.max(8, Math.round((c * width) / 8) * 8);
}

/**
 * CaffeNet (docs/algorithm.md section 3), optionally narrowed: same code, same layer shapes and
 * order.
 */
export function caffeNetArch(opts: CaffeNetOptions = {}): CaffeNetArch {
  const width = opts.width ?? 1;
  if (!(width > 0)) throw new Error(`width multiplier must be > 0, got ${width}`);
  const f = opts.convFilters ?? (CAFFENET_CONV_FILTERS.map((c) => scaleChannels(c, width)) as [number, number, number, number, number]);
  const fc = opts.fcWidth ?? scaleChannels(CAFFENET_FC, width);
  const size = opts.inputSize ?? 227;
  const p0: Pads4 = [0, 0, 0, 0];
  const pool: PoolSpec = { kernel: [3, 3], stride: [2, 2], pads: p0 };
  const arch: CaffeNetArch = {
    inputHeight: size,
    inputWidth: size,
    inputChannels: 3,
    channelOrder: 'BGR',
    mean: [...IMAGENET_MEAN_BGR],
    conv: {
      conv1: { filters: f[0], kernel: [11, 11], stride: [4, 4], pads: p0, group: 1 },
      conv2: { filters: f[1], kernel: [5, 5], stride: [1, 1], pads: [2, 2, 2, 2], group: 2 },
      conv3: { filters: f[2], kernel: [3, 3], stride: [1, 1], pads: [1, 1, 1, 1], group: 1 },
      conv4: { filters: f[3], kernel: [3, 3], stride: [1, 1], pads: [1, 1, 1, 1], group: 2 },
      conv5: { filters: f[4], kernel: [3, 3], stride: [1, 1], pads: [1, 1, 1, 1], group: 2 },
    },
    pool1: pool,
    pool2: pool,
    pool5: pool,
    norm1: { ...CAFFE_LRN },
    norm2: { ...CAFFE_LRN },
    normOrder: 'pool-then-lrn',
    fc6: fc,
    fc7: fc,
    fc8: opts.numClasses ?? 1000,
    dropout: 0.5,
  };
  validateArch(arch);
  return arch;
}

/** Output side of a conv/pool window along one axis (floor mode, as ONNX opsets <= 9 and tfjs). */
export function windowOut(inSize: number, kernel: number, stride: number, padBegin: number, padEnd: number): number {
  return Math.floor((inSize + padBegin + padEnd - kernel) / stride) + 1;
}

export interface LayerInfo {
  name: LayerName;
  kind: 'conv' | 'pool' | 'lrn' | 'fc' | 'softmax';
  /** Output shape per crop, C,H,W for spatial layers (Caffe/ONNX order), [C] for fc layers. */
  shape: number[];
  /** Learned parameters (weights + biases). */
  params: number;
  /** Multiply-adds per crop (for conv/fc: one per weight use; pool/LRN/softmax counted as 0). */
  macs: number;
  /** Short hyper-parameter summary for the architecture view, e.g. "96 11x11 /4, group 1". */
  detail: string;
}

/** Layer-by-layer shapes, parameter counts and multiply-adds in forward order. */
export function describeArch(a: CaffeNetArch): LayerInfo[] {
  const out: LayerInfo[] = [];
  let c = a.inputChannels;
  let h = a.inputHeight;
  let w = a.inputWidth;
  const conv = (name: ConvName) => {
    const s = a.conv[name];
    const oh = windowOut(h, s.kernel[0], s.stride[0], s.pads[0], s.pads[2]);
    const ow = windowOut(w, s.kernel[1], s.stride[1], s.pads[1], s.pads[3]);
    const perOut = (c / s.group) * s.kernel[0] * s.kernel[1];
    out.push({
      name,
      kind: 'conv',
      shape: [s.filters, oh, ow],
      params: perOut * s.filters + s.filters,
      macs: perOut * s.filters * oh * ow,
      detail: `${s.filters} ${s.kernel[0]}x${s.kernel[1]} stride ${s.stride[0]} pad ${s.pads[0]}${s.group > 1 ? `, group ${s.group}` : ''}, ReLU`,
    });
    c = s.filters;
    h = oh;
    w = ow;
  };
  const pool = (name: LayerName, s: PoolSpec) => {
    h = windowOut(h, s.kernel[0], s.stride[0], s.pads[0], s.pads[2]);
    w = windowOut(w, s.kernel[1], s.stride[1], s.pads[1], s.pads[3]);
    out.push({ name, kind: 'pool', shape: [c, h, w], params: 0, macs: 0, detail: `max ${s.kernel[0]}x${s.kernel[1]} stride ${s.stride[0]}` });
  };
  const norm = (name: LayerName, s: LrnSpec | null) => {
    out.push({
      name,
      kind: 'lrn',
      shape: [c, h, w],
      params: 0,
      macs: 0,
      detail: s ? `LRN size ${s.size}, alpha ${s.alpha}, beta ${s.beta}, k ${s.k}` : 'none (identity)',
    });
  };
  for (const l of trunkLayers(a)) {
    if (l === 'pool1' || l === 'pool2' || l === 'pool5') pool(l, a[l]);
    else if (l === 'norm1' || l === 'norm2') norm(l, a[l]);
    else conv(l);
  }
  let d = c * h * w;
  const fc = (name: FcName, n: number, relu: boolean) => {
    out.push({ name, kind: 'fc', shape: [n], params: d * n + n, macs: d * n, detail: `${d} -> ${n}${relu ? `, ReLU, dropout ${a.dropout} (training)` : ''}` });
    d = n;
  };
  fc('fc6', a.fc6, true);
  fc('fc7', a.fc7, true);
  if (a.fc8 > 0) {
    fc('fc8', a.fc8, false);
    out.push({ name: 'prob', kind: 'softmax', shape: [a.fc8], params: 0, macs: 0, detail: 'softmax' });
  }
  return out;
}

/** pool5 feature length (C*H*W), i.e. fc6's input size. */
export function pool5Length(a: CaffeNetArch): number {
  const p = describeArch(a).find((l) => l.name === 'pool5')!;
  return p.shape[0] * p.shape[1] * p.shape[2];
}

export function totalParams(a: CaffeNetArch): number {
  return describeArch(a).reduce((s, l) => s + l.params, 0);
}

export function totalMacs(a: CaffeNetArch): number {
  return describeArch(a).reduce((s, l) => s + l.macs, 0);
}

/** Layers available for this architecture, in forward order. */
export function layerNames(a: CaffeNetArch): LayerName[] {
  return describeArch(a).map((l) => l.name);
}

export type PoolName = 'pool1' | 'pool2' | 'pool5';

/**
 * Caffe's pooling output side (ceil mode: a last, partial window is kept), with Caffe's rule that
 * the last window must start inside the image or its leading pad (pooling_layer.cpp).
 */
export function caffePoolOut(inSize: number, kernel: number, stride: number, pad: number): number {
  let out = Math.ceil((inSize + 2 * pad - kernel) / stride) + 1;
  if (pad > 0 && (out - 1) * stride >= inSize + pad) out--;
  return out;
}

/**
 * The end pad that makes floor-mode pooling (ONNX opsets <= 9, tfjs) give Caffe's ceil-mode
 * output for this input side: Caffe2's ONNX exporter replaces CAFFE_LEGACY_POOLING by
 * pads[end] = out * stride - pads[begin] - 1 + kernel - in (caffe2/onnx/onnx_exporter.cc), out
 * being Caffe's output at the input the converter ran (the zoo models: 224). Floor mode then
 * gives floor((out * stride - 1) / stride) + 1 = out windows, starting where Caffe's do; the pad
 * only ever completes the last window, whose padded cells max pooling ignores.
 */
export function caffeCeilEndPad(inSize: number, kernel: number, stride: number, padBegin: number): number {
  return caffePoolOut(inSize, kernel, stride, padBegin) * stride - padBegin - 1 + kernel - inSize;
}

/** Input side (H, W) of a pooling layer for this architecture's input size. */
export function poolInputSize(a: CaffeNetArch, pool: PoolName): [number, number] {
  const layers = describeArch(a);
  const i = layers.findIndex((l) => l.name === pool);
  // pool1/pool2 follow their conv or their LRN; both keep the conv's spatial size.
  const before = layers[i - 1];
  return [before.shape[1], before.shape[2]];
}

/**
 * The architecture with the given pools padded as Caffe's ceil mode needs at its input size
 * (begin pads kept as Caffe's symmetric pad, end pads from caffeCeilEndPad): the same network,
 * Caffe semantics, at another input size. At CaffeNet's 227 every such pool gets [0, 0, 1, 1],
 * which changes no output (the extra row and column start no window; withoutIdlePoolPads).
 */
export function withCaffeCeilPools(a: CaffeNetArch, pools: readonly PoolName[]): CaffeNetArch {
  const out: CaffeNetArch = { ...a };
  for (const p of (['pool1', 'pool2', 'pool5'] as const).filter((x) => pools.includes(x))) {
    const [h, w] = poolInputSize(out, p);
    const s = out[p];
    out[p] = { ...s, pads: [s.pads[0], s.pads[1], caffeCeilEndPad(h, s.kernel[0], s.stride[0], s.pads[0]), caffeCeilEndPad(w, s.kernel[1], s.stride[1], s.pads[1])] };
  }
  return out;
}

/**
 * The architecture with every pool's end pads dropped where they start no window (the output
 * size is the same without them, so no window reaches them and no output changes). CaffeNet at
 * 227 with Caffe2's ceil-mode pads [0, 0, 1, 1] becomes plain CaffeNet, [0, 0, 0, 0]: the form
 * every consumer of a package (the PyTorch trainer, exporters, the architecture view) expects.
 */
export function withoutIdlePoolPads(a: CaffeNetArch): CaffeNetArch {
  const out: CaffeNetArch = { ...a };
  for (const p of ['pool1', 'pool2', 'pool5'] as const) {
    const [h, w] = poolInputSize(out, p);
    const s = out[p];
    const idle = (size: number, axis: 0 | 1) =>
      windowOut(size, s.kernel[axis], s.stride[axis], s.pads[axis], s.pads[axis + 2]) === windowOut(size, s.kernel[axis], s.stride[axis], s.pads[axis], 0);
    out[p] = { ...s, pads: [s.pads[0], s.pads[1], idle(h, 0) ? 0 : s.pads[2], idle(w, 1) ? 0 : s.pads[3]] };
  }
  return out;
}

/** Throws a readable error when an architecture cannot be built (bad groups, empty layers). */
export function validateArch(a: CaffeNetArch): void {
  let c = a.inputChannels;
  for (const name of ['conv1', 'conv2', 'conv3', 'conv4', 'conv5'] as ConvName[]) {
    const s = a.conv[name];
    if (!(s.group >= 1) || c % s.group !== 0 || s.filters % s.group !== 0) {
      throw new Error(`${name}: group ${s.group} must divide its ${c} input and ${s.filters} output channels`);
    }
    c = s.filters;
  }
  for (const n of [a.norm1, a.norm2]) {
    if (n && n.size % 2 !== 1) throw new Error(`LRN size must be odd (a centred window), got ${n.size}`);
  }
  for (const l of describeArch(a)) {
    if (l.shape.some((v) => !(v >= 1))) {
      throw new Error(`${l.name} would have an empty output (${l.shape.join('x')}) for a ${a.inputHeight}x${a.inputWidth} input`);
    }
  }
}

/**
 * AlexNet's design choices (Krizhevsky, Sutskever, Hinton, NIPS 2012), one sentence each, keyed
 * by the layer where each acts, for the architecture view. Numbers are the paper's.
 */
export const ALEXNET_DESIGN_NOTES: Partial<Record<LayerName | 'input', { title: string; text: string }>> = {
  input: {
    title: 'Data augmentation',
    text: 'Trained on random 224x224 crops of 256x256 images and their mirror images (2048x more training patches) plus PCA colour jitter (over 1% lower top-1 error); Caffe crops 227x227.',
  },
  conv1: {
    title: 'ReLU',
    text: 'max(0, x) instead of tanh: a 4-layer net reached 25% training error on CIFAR-10 six times sooner, which made training a net this size feasible.',
  },
  pool1: {
    title: 'Overlapping pooling',
    text: '3x3 windows with stride 2 overlap; compared with 2x2 stride-2 pooling this cut top-1/top-5 error by 0.4%/0.3% and made over-fitting slightly harder.',
  },
  norm1: {
    title: 'Local response normalisation',
    text: "Each activation is divided by the energy of the same position in 5 neighbouring channels (lateral inhibition), cutting top-1/top-5 error by 1.4%/1.2%; CaffeNet pools before normalising, the paper after.",
  },
  conv2: {
    title: 'Grouped convolutions (two GPUs)',
    text: 'The net was split over two 3 GB GTX 580s: conv2, conv4 and conv5 see only the channels on their own GPU (group 2), while conv3 and the fc layers cross over; this beat a one-GPU net with half the kernels by 1.7%/1.2% top-1/top-5.',
  },
  fc6: {
    title: 'Dropout',
    text: 'In training each fc6/fc7 unit is zeroed with probability 0.5 so units cannot co-adapt; without it the net over-fitted badly, with it training took about twice as many iterations.',
  },
};
