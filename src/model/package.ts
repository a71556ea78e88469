/**
 * The model package: what every stage after the CNN, the training pipeline and ONNX import share.
 *
 * On disk / on a server it is a folder:
 *   model.json   the manifest (PackageManifest below)
 *   cnn.bin      the CNN weights, tensors back to back (float32 or float16, little-endian)
 *   heads.bin    SVM and box-regressor tensors, when the package has heads
 * or the same content as one file (a "bundle", *.rcnn) for download and drag and drop:
 *   "RCNNPKG1" | u32 LE manifest byte length | manifest JSON (UTF-8) | each file of
 *   manifest.files in order, byteLength bytes each.
 * Every binary is listed with its byte length and SHA-256; loading verifies both and names the
 * file that is wrong. This module has no Node or DOM dependencies beyond fetch and WebCrypto
 * (with a plain fallback); Node folder I/O is in packageNode.ts.
 *
 * Loading (host arrays) is separate from inference (uploading to a tfjs backend: RcnnModel in
 * rcnnModel.ts), as in tfjs-models.
 */
import { type CaffeNetArch, pool5Length, validateArch } from './architecture';
import { type HostTensor, type NamedWeights, type WeightName, weightShapes } from './caffenet';
import { sha256Hex } from './sha256';
import { DEFAULT_MAX_DOWNLOAD_BYTES, downloadWithLimits, formatMB } from '../core/download';

export const PACKAGE_FORMAT = 'rcnn-explorer-model';
export const PACKAGE_VERSION = 1;
export const MANIFEST_FILE = 'model.json';
export const BUNDLE_MAGIC = 'RCNNPKG1';

/**
 * Per-class linear SVMs on fc7 (docs/algorithm.md section 5):
 *   score[c] = (fc7 * featureScale) . w_c + b_c.
 * featureScale makes the mean fc7 L2 norm 20 on the training set, as R-CNN does.
 */
export interface SvmHead {
  classes: string[];
  featureLayer: 'fc7';
  featureScale: number;
  /** C x D row-major (one row per class), D = fc7 width. */
  weights: Float32Array;
  /** C. */
  bias: Float32Array;
}

/**
 * Per-class ridge box regressors on pool5 (docs/algorithm.md section 6). For class c and pool5
 * feature x (Caffe C,H,W order, times featureScale):
 *   raw = x . W_c + b_c            (W_c is D x 4, b_c is 4)
 *   deltas = raw . T_c + mean_c    (undoes the target standardisation; T_c is 4 x 4)
 * deltas are (tx, ty, tw, th) as in src/core/geometry.ts encodeBoxes/decodeBoxes. Plain per-target
 * standard deviations are T_c = diag(std); the R-CNN release whitens with the covariance, hence
 * a full matrix.
 */
export interface BoxRegressorHead {
  classes: string[];
  featureLayer: 'pool5';
  featureScale: number;
  /** C x D x 4: class c's D x 4 matrix at [c * D * 4, (c + 1) * D * 4), row-major. */
  weights: Float32Array;
  /** C x 4. */
  bias: Float32Array;
  /** C x 4. */
  targetMean: Float32Array;
  /** C x 4 x 4. */
  targetTransform: Float32Array;
}

export interface Provenance {
  /** Tool and command that made the package, e.g. "rcnn import" or "rcnn train". */
  createdBy: string;
  createdAt: string;
  /** Where the weights came from: a file name, a URL, a dataset. */
  source?: string;
  /** How: "ONNX import of rcnn-ilsvrc13 (opset 9)", "fine-tuned 20k iterations on VOC2007 trainval"... */
  method?: string;
  /** Measured results, e.g. { "VOC2007 test mAP": 0.412 }. */
  metrics?: Record<string, number | string>;
  notes?: string[];
  /** A model card in Markdown (data, settings, measured results), e.g. the Train view's. */
  card?: string;
}

/** Test-time settings a model was tuned with, e.g. chosen on its validation photos. */
export interface DetectionSettings {
  /** Per-class NMS IoU threshold for this model's detections. */
  nmsThreshold: number;
  /** How it was chosen (shown in the app and the CLI help). */
  note?: string;
}

/**
 * What the heads were trained on when it is not R-CNN's warped crops: features RoI-pooled out of
 * the photo's conv5 (the shared-convolution path, sharedConv.ts) at this scale. Absent: warp.
 */
export interface HeadFeatures {
  mode: 'roi';
  roiScale: 'fast-rcnn' | 'search' | 'pyramid';
}

/** A model package in memory, host-side (no tfjs). */
export interface ModelPackage {
  name: string;
  architecture: CaffeNetArch;
  /** Names of fc8's outputs, index-aligned; null when unknown (or when there is no fc8). */
  classes: string[] | null;
  weights: NamedWeights;
  svm?: SvmHead;
  boxRegressor?: BoxRegressorHead;
  detection?: DetectionSettings;
  headFeatures?: HeadFeatures;
  provenance: Provenance;
}

export type StorageDtype = 'float32' | 'float16';

export interface TensorEntry {
  name: string;
  shape: number[];
  dtype: StorageDtype;
  file: string;
  byteOffset: number;
}

export interface FileEntry {
  path: string;
  byteLength: number;
  sha256: string;
}

export interface PackageManifest {
  format: typeof PACKAGE_FORMAT;
  formatVersion: number;
  name: string;
  architecture: CaffeNetArch;
  classes: string[] | null;
  files: FileEntry[];
  /** CNN tensors use caffenet.ts's canonical names; heads use svm.* and bbox.* names. */
  tensors: TensorEntry[];
  svm?: { classes: string[]; featureLayer: 'fc7'; featureScale: number };
  boxRegressor?: { classes: string[]; featureLayer: 'pool5'; featureScale: number };
  detection?: DetectionSettings;
  headFeatures?: HeadFeatures;
  provenance: Provenance;
}

export class PackageError extends Error {
  override name = 'PackageError';
  /** The file at fault, when one is. */
  constructor(message: string, readonly file?: string) {
    super(message);
  }
}

export interface EncodeOptions {
  /**
   * Store the CNN weights as float16 (half the download; computation stays float32). Heads stay
   * float32: SVM scores are compared against thresholds near -1 and small head files gain little.
   */
  float16?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Encoding

interface PendingTensor {
  name: string;
  shape: number[];
  data: Float32Array;
  dtype: StorageDtype;
}

/** Manifest + binary files of a package. */
export async function encodePackage(pkg: ModelPackage, opts: EncodeOptions = {}): Promise<{ manifest: PackageManifest; files: Map<string, Uint8Array> }> {
  checkPackage(pkg);
  const cnn: PendingTensor[] = weightShapes(pkg.architecture).map(({ name, shape }) => ({
    name,
    shape,
    data: pkg.weights[name]!.data,
    dtype: opts.float16 ? 'float16' : 'float32',
  }));
  const heads: PendingTensor[] = [];
  const d7 = pkg.architecture.fc7;
  const d5 = pool5Length(pkg.architecture);
  if (pkg.svm) {
    const c = pkg.svm.classes.length;
    heads.push({ name: 'svm.weight', shape: [c, d7], data: pkg.svm.weights, dtype: 'float32' });
    heads.push({ name: 'svm.bias', shape: [c], data: pkg.svm.bias, dtype: 'float32' });
  }
  if (pkg.boxRegressor) {
    const r = pkg.boxRegressor;
    const c = r.classes.length;
    heads.push({ name: 'bbox.weight', shape: [c, d5, 4], data: r.weights, dtype: 'float32' });
    heads.push({ name: 'bbox.bias', shape: [c, 4], data: r.bias, dtype: 'float32' });
    heads.push({ name: 'bbox.targetMean', shape: [c, 4], data: r.targetMean, dtype: 'float32' });
    heads.push({ name: 'bbox.targetTransform', shape: [c, 4, 4], data: r.targetTransform, dtype: 'float32' });
  }
  const files = new Map<string, Uint8Array>();
  const tensors: TensorEntry[] = [];
  const fileEntries: FileEntry[] = [];
  for (const [path, list] of [['cnn.bin', cnn], ['heads.bin', heads]] as const) {
    if (list.length === 0) continue;
    let size = 0;
    const offsets: number[] = [];
    for (const t of list) {
      offsets.push(size);
      // 4-byte alignment so float32 tensors can be viewed in place.
      size += align4(t.data.length * (t.dtype === 'float16' ? 2 : 4));
    }
    const bytes = new Uint8Array(size);
    list.forEach((t, i) => {
      const off = offsets[i];
      if (t.dtype === 'float16') new Uint16Array(bytes.buffer, off, t.data.length).set(floatsToHalf(t.data));
      else new Float32Array(bytes.buffer, off, t.data.length).set(t.data);
      tensors.push({ name: t.name, shape: t.shape, dtype: t.dtype, file: path, byteOffset: off });
    });
    files.set(path, bytes);
    fileEntries.push({ path, byteLength: size, sha256: await sha256Hex(bytes) });
  }
  const manifest: PackageManifest = {
    format: PACKAGE_FORMAT,
    formatVersion: PACKAGE_VERSION,
    name: pkg.name,
    architecture: pkg.architecture,
    classes: pkg.classes,
    files: fileEntries,
    tensors,
    provenance: pkg.provenance,
  };
  if (pkg.svm) manifest.svm = { classes: pkg.svm.classes, featureLayer: 'fc7', featureScale: pkg.svm.featureScale };
  if (pkg.boxRegressor) manifest.boxRegressor = { classes: pkg.boxRegressor.classes, featureLayer: 'pool5', featureScale: pkg.boxRegressor.featureScale };
  if (pkg.detection) manifest.detection = pkg.detection;
  if (pkg.headFeatures) manifest.headFeatures = pkg.headFeatures;
  return { manifest, files };
}

/** One-file bundle (download, drag and drop). */
export async function encodeBundle(pkg: ModelPackage, opts: EncodeOptions = {}): Promise<Uint8Array> {
  const { manifest, files } = await encodePackage(pkg, opts);
  const json = new TextEncoder().encode(JSON.stringify(manifest));
  const total = 8 + 4 + json.length + manifest.files.reduce((s, f) => s + f.byteLength, 0);
  const out = new Uint8Array(total);
  out.set(new TextEncoder().encode(BUNDLE_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  let o = 12 + json.length;
  for (const f of manifest.files) {
    out.set(files.get(f.path)!, o);
    o += f.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Parses and checks a manifest (JSON text or object). */
export function parseManifest(json: string | unknown, source = MANIFEST_FILE): PackageManifest {
  let m: PackageManifest;
  try {
    m = (typeof json === 'string' ? JSON.parse(json) : json) as PackageManifest;
  } catch (e) {
    throw new PackageError(`${source} is not valid JSON (${(e as Error).message}); is it a model package manifest?`, source);
  }
  if (!m || m.format !== PACKAGE_FORMAT) throw new PackageError(`${source} is not an R-CNN Explorer model manifest (format field is ${JSON.stringify(m?.format)})`, source);
  if (m.formatVersion > PACKAGE_VERSION) throw new PackageError(`${source} has format version ${m.formatVersion}; this app reads up to ${PACKAGE_VERSION}`, source);
  if (!Array.isArray(m.files) || !Array.isArray(m.tensors) || !m.architecture) throw new PackageError(`${source} lacks files, tensors or architecture`, source);
  for (const f of m.files) {
    if (!isPlainRelativePath(f?.path)) {
      throw new PackageError(`${source} lists the file ${JSON.stringify(f?.path)}, which is not a plain name inside the model's folder (like cnn.bin): no "..", absolute paths, addresses or backslashes`, source);
    }
  }
  return m;
}

/**
 * A manifest's file paths are fetched relative to its folder (fetchPackage) and matched by name
 * in dropped folders: "../../x", "/etc/x", "https://elsewhere/x" or "C:\\x" would leave the
 * model's folder, or its server. Only plain names in subfolders are allowed.
 */
function isPlainRelativePath(p: unknown): p is string {
  return typeof p === 'string' && p.length > 0 && p.length <= 200 && p.split('/').every((seg) => /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(seg) && seg !== '..');
}

/** Checks a binary file's size and SHA-256 against the manifest. */
export async function verifyFile(entry: FileEntry, bytes: Uint8Array): Promise<void> {
  if (bytes.byteLength !== entry.byteLength) {
    throw new PackageError(
      `${entry.path} is ${bytes.byteLength} bytes but the manifest says ${entry.byteLength}${bytes.byteLength < entry.byteLength ? ' (truncated download?)' : ''}`,
      entry.path,
    );
  }
  const h = await sha256Hex(bytes);
  if (h !== entry.sha256) throw new PackageError(`${entry.path} is corrupt: SHA-256 ${h.slice(0, 16)}... does not match the manifest's ${entry.sha256.slice(0, 16)}...`, entry.path);
}

/** Builds the in-memory package from a manifest and its (verified here) binary files. */
export async function decodePackage(manifest: PackageManifest, files: Map<string, Uint8Array>): Promise<ModelPackage> {
  for (const f of manifest.files) {
    const b = files.get(f.path);
    if (!b) throw new PackageError(`${f.path} is missing (listed in the manifest)`, f.path);
    await verifyFile(f, b);
  }
  const tensors = new Map<string, HostTensor>();
  for (const t of manifest.tensors) {
    const bytes = files.get(t.file);
    const entry = manifest.files.find((f) => f.path === t.file);
    if (!bytes || !entry) throw new PackageError(`tensor ${t.name} refers to ${t.file}, which the manifest does not list`, MANIFEST_FILE);
    const n = t.shape.reduce((a, b) => a * b, 1);
    const size = n * (t.dtype === 'float16' ? 2 : 4);
    if (t.byteOffset + size > bytes.byteLength || t.byteOffset % (t.dtype === 'float16' ? 2 : 4) !== 0) {
      throw new PackageError(`tensor ${t.name} (${t.shape.join('x')}, ${t.dtype}) does not fit in ${t.file}`, t.file);
    }
    const data =
      t.dtype === 'float16'
        ? halfsToFloats(new Uint16Array(bytes.buffer.slice(bytes.byteOffset + t.byteOffset, bytes.byteOffset + t.byteOffset + size)))
        : new Float32Array(bytes.buffer.slice(bytes.byteOffset + t.byteOffset, bytes.byteOffset + t.byteOffset + size));
    tensors.set(t.name, { shape: t.shape, data });
  }
  const arch = manifest.architecture;
  try {
    validateArch(arch);
  } catch (e) {
    throw new PackageError(`${MANIFEST_FILE}: invalid architecture: ${(e as Error).message}`, MANIFEST_FILE);
  }
  const weights: NamedWeights = {};
  for (const { name } of weightShapes(arch)) {
    const t = tensors.get(name);
    if (!t) throw new PackageError(`${MANIFEST_FILE}: no tensor ${name}`, MANIFEST_FILE);
    weights[name as WeightName] = t;
  }
  const pkg: ModelPackage = {
    name: manifest.name,
    architecture: arch,
    classes: manifest.classes ?? null,
    weights,
    provenance: manifest.provenance ?? { createdBy: 'unknown', createdAt: '' },
  };
  if (manifest.detection !== undefined) {
    const t = manifest.detection?.nmsThreshold;
    if (typeof t !== 'number' || !(t > 0 && t < 1)) throw new PackageError(`${MANIFEST_FILE}: detection.nmsThreshold must be a number between 0 and 1, not ${JSON.stringify(t)}`, MANIFEST_FILE);
    pkg.detection = { nmsThreshold: t, ...(typeof manifest.detection.note === 'string' ? { note: manifest.detection.note } : {}) };
  }
  if (manifest.headFeatures !== undefined) {
    const h = manifest.headFeatures;
    if (h?.mode !== 'roi' || !['fast-rcnn', 'search', 'pyramid'].includes(h.roiScale)) {
      throw new PackageError(`${MANIFEST_FILE}: headFeatures must be { "mode": "roi", "roiScale": "fast-rcnn" | "search" | "pyramid" }, not ${JSON.stringify(h)}`, MANIFEST_FILE);
    }
    pkg.headFeatures = { mode: 'roi', roiScale: h.roiScale };
  }
  const need = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new PackageError(`${MANIFEST_FILE}: no tensor ${name}`, MANIFEST_FILE);
    return t.data;
  };
  if (manifest.svm) {
    pkg.svm = { ...manifest.svm, featureLayer: 'fc7', weights: need('svm.weight'), bias: need('svm.bias') };
  }
  if (manifest.boxRegressor) {
    pkg.boxRegressor = {
      ...manifest.boxRegressor,
      featureLayer: 'pool5',
      weights: need('bbox.weight'),
      bias: need('bbox.bias'),
      targetMean: need('bbox.targetMean'),
      targetTransform: need('bbox.targetTransform'),
    };
  }
  checkPackage(pkg);
  return pkg;
}

export function isBundle(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && new TextDecoder().decode(bytes.subarray(0, 8)) === BUNDLE_MAGIC;
}

/** Splits a one-file bundle into manifest + files and decodes it. */
export async function decodeBundle(bytes: Uint8Array, name = 'the bundle'): Promise<ModelPackage> {
  if (!isBundle(bytes)) throw new PackageError(`${name} is not a model bundle (it does not start with ${BUNDLE_MAGIC})`, name);
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + len > bytes.length) throw new PackageError(`${name} is truncated inside its manifest`, name);
  const manifest = parseManifest(new TextDecoder().decode(bytes.subarray(12, 12 + len)), `${name} (manifest)`);
  const files = new Map<string, Uint8Array>();
  let o = 12 + len;
  for (const f of manifest.files) {
    if (o + f.byteLength > bytes.length) throw new PackageError(`${name} is truncated: ${f.path} needs ${f.byteLength} bytes, ${Math.max(0, bytes.length - o)} left`, name);
    files.set(f.path, bytes.subarray(o, o + f.byteLength));
    o += f.byteLength;
  }
  return decodePackage(manifest, files);
}

export interface FetchOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Bytes received so far and the total expected (from the manifest), across all files. Throttled. */
  onProgress?: (loaded: number, total: number) => void;
  /** Most bytes the whole package may download (default DEFAULT_MAX_DOWNLOAD_BYTES). */
  maxBytes?: number;
}

/** A manifest is a few KB of JSON; more is not a manifest. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/**
 * Loads a package from a URL prefix (the folder holding model.json, e.g. "models/caffenet-025")
 * or a bundle URL (ending in .rcnn). Progress counts bytes of the binaries. Every file comes
 * from inside the folder (parseManifest refuses other paths) and the binaries together may not
 * exceed `maxBytes`.
 */
export async function fetchPackage(url: string, opts: FetchOptions = {}): Promise<ModelPackage> {
  const f = opts.fetch ?? globalThis.fetch.bind(globalThis);
  if (/\.rcnn(\?|#|$)/.test(url)) {
    const bytes = await fetchBytes(f, url, opts, 0, 0);
    return decodeBundle(bytes, url);
  }
  const base = url.replace(/\/(model\.json)?$/, '');
  const manifestUrl = `${base}/${MANIFEST_FILE}`;
  const manifestBytes = await fetchBytes(f, manifestUrl, { ...opts, onProgress: undefined, maxBytes: MAX_MANIFEST_BYTES }, 0, 0, MANIFEST_FILE);
  const manifest = parseManifest(new TextDecoder().decode(manifestBytes), manifestUrl);
  const total = manifest.files.reduce((s, x) => s + x.byteLength, 0);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  if (total > maxBytes) throw new PackageError(`${manifestUrl} lists ${formatMB(total)} of files, over the ${formatMB(maxBytes)} download limit; nothing more was downloaded`, MANIFEST_FILE);
  const files = new Map<string, Uint8Array>();
  let loaded = 0;
  opts.onProgress?.(0, total);
  for (const entry of manifest.files) {
    const bytes = await fetchBytes(f, `${base}/${entry.path}`, { ...opts, maxBytes: maxBytes - loaded }, loaded, total, entry.path);
    loaded += bytes.byteLength;
    files.set(entry.path, bytes);
  }
  return decodePackage(manifest, files);
}

/** GETs a URL into bytes with core/download.ts's limits (cap, cancel, throttled progress, http(s) redirects only). */
export async function fetchBytes(
  f: typeof fetch,
  url: string,
  opts: FetchOptions,
  before: number,
  total: number,
  label = url,
): Promise<Uint8Array> {
  try {
    return await downloadWithLimits(url, {
      fetch: f,
      signal: opts.signal,
      maxBytes: opts.maxBytes,
      label: label === url ? url : `${label} (${url})`,
      onProgress: opts.onProgress && ((got, expected) => opts.onProgress!(before + got, Math.max(total || expected || 0, before + got))),
    });
  } catch (e) {
    if ((e as Error)?.name === 'DownloadError') throw new PackageError((e as Error).message, label);
    throw e;
  }
}

/**
 * A package from files the user dropped or picked: one bundle, or model.json plus its binaries
 * (matched by base name). ONNX files are not handled here (see onnx/import.ts).
 */
export async function packageFromFiles(files: Array<{ name: string; bytes: Uint8Array }>): Promise<ModelPackage> {
  const bundle = files.find((f) => isBundle(f.bytes));
  if (bundle) return decodeBundle(bundle.bytes, bundle.name);
  const base = (n: string) => n.split(/[\\/]/).pop()!;
  const mf = files.find((f) => base(f.name) === MANIFEST_FILE);
  if (!mf) throw new PackageError(`expected a .rcnn bundle, an .onnx model, or ${MANIFEST_FILE} with its .bin files; got ${files.map((f) => f.name).join(', ')}`);
  const manifest = parseManifest(new TextDecoder().decode(mf.bytes), mf.name);
  const map = new Map<string, Uint8Array>();
  for (const entry of manifest.files) {
    const f = files.find((x) => base(x.name) === base(entry.path));
    if (!f) throw new PackageError(`${entry.path} is missing: drop it together with ${MANIFEST_FILE}`, entry.path);
    map.set(entry.path, f.bytes);
  }
  return decodePackage(manifest, map);
}

// ---------------------------------------------------------------------------------------------
// Checks and helpers

/** Throws a PackageError when sizes of weights or heads do not match the architecture. */
export function checkPackage(pkg: ModelPackage): void {
  const a = pkg.architecture;
  for (const { name, shape } of weightShapes(a)) {
    const t = pkg.weights[name];
    const n = shape.reduce((x, y) => x * y, 1);
    if (!t || t.data.length !== n) throw new PackageError(`weight ${name} should have ${n} values (${shape.join('x')}), has ${t ? t.data.length : 'none'}`);
  }
  if (pkg.classes && a.fc8 > 0 && pkg.classes.length !== a.fc8) throw new PackageError(`${pkg.classes.length} class names for ${a.fc8} fc8 outputs`);
  if (pkg.svm) {
    const c = pkg.svm.classes.length;
    if (pkg.svm.weights.length !== c * a.fc7 || pkg.svm.bias.length !== c) throw new PackageError(`SVM head: expected ${c} x ${a.fc7} weights and ${c} biases`);
    if (!(pkg.svm.featureScale > 0)) throw new PackageError('SVM head: featureScale must be > 0');
  }
  if (pkg.boxRegressor) {
    const r = pkg.boxRegressor;
    const c = r.classes.length;
    const d = pool5Length(a);
    if (r.weights.length !== c * d * 4 || r.bias.length !== c * 4 || r.targetMean.length !== c * 4 || r.targetTransform.length !== c * 16) {
      throw new PackageError(`box regressor: expected ${c} x ${d} x 4 weights, ${c} x 4 biases and means, ${c} x 4 x 4 transforms`);
    }
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** float32 -> IEEE half, round to nearest even; overflow to +-Infinity, tiny values to subnormals. */
export function floatsToHalf(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < src.length; i++) {
    f[0] = src[i];
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      let m = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      if (rem > half || (rem === half && m & 1)) m++;
      out[i] = sign | m;
      continue;
    }
    const m = mant >>> 13;
    const rem = mant & 0x1fff;
    let h = sign | (e << 10) | m;
    if (rem > 0x1000 || (rem === 0x1000 && m & 1)) h++; // a carry rolls into the exponent, as it should
    out[i] = h;
  }
  return out;
}

export function halfsToFloats(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  // Table-free conversion; exact for every half value.
  for (let i = 0; i < src.length; i++) {
    const h = src[i];
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const f = h & 0x3ff;
    out[i] = e === 0 ? s * f * 5.960464477539063e-8 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
  }
  return out;
}

/** Identity de-standardisation (targets were not standardised): T_c = I, mean_c = 0. */
export function identityTargetTransform(numClasses: number): { targetMean: Float32Array; targetTransform: Float32Array } {
  const t = new Float32Array(numClasses * 16);
  for (let c = 0; c < numClasses; c++) for (let i = 0; i < 4; i++) t[c * 16 + i * 5] = 1;
  return { targetMean: new Float32Array(numClasses * 4), targetTransform: t };
}
