/**
 * Choosing the tfjs backend at the edge (browser main thread or worker; Node uses node.ts).
 *
 * Order of preference: WebGPU, WebGL, wasm, cpu, except that a software GPU (SwiftShader,
 * llvmpipe, a WebGPU adapter with isFallbackAdapter) is never preferred over wasm: measured on a
 * GPU-less machine, SwiftShader WebGPU/WebGL run CaffeNet 15-60x slower than wasm
 * (docs/platform-notes.md). An optional micro-benchmark settles close calls.
 * tf.setBackend can silently fall back to another backend, so the active one is always read
 * back with tf.getBackend() and reported.
 *
 * The backends are loaded with dynamic imports so a session that never uses WebGL/WebGPU does
 * not download them.
 */
import * as tf from '@tensorflow/tfjs-core';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

export interface BackendInfo {
  /** The backend actually running (tf.getBackend()). */
  name: BackendName;
  /** What was asked for; differs from name when tfjs fell back. */
  requested: BackendName;
  fellBack: boolean;
  /** A software rasteriser pretending to be a GPU. */
  software: boolean;
  adapter?: AdapterInfo;
  /** WebGPU device limits that size batches and fc weight blocks. */
  limits?: { maxStorageBufferBindingSize: number; maxBufferSize: number };
  /** WebGL renderer string (UNMASKED_RENDERER_WEBGL). */
  glRenderer?: string;
  /** Micro-benchmark, ms per run, per backend tried (when requested). */
  benchmark?: Partial<Record<BackendName, number>>;
  /** Human-readable: why this backend, what was skipped. */
  notes: string[];
}

export interface ChooseOptions {
  /** Force one backend (the user's choice); otherwise pick automatically. */
  prefer?: BackendName;
  /** Time a small conv + matmul workload on each usable backend and pick the fastest. */
  benchmark?: boolean;
  /**
   * URLs of the wasm binaries (browser: Vite `?url` imports), keyed by file name:
   * tfjs-backend-wasm.wasm, tfjs-backend-wasm-simd.wasm, tfjs-backend-wasm-threaded-simd.wasm.
   */
  wasmPaths?: Record<string, string>;
}

const SOFTWARE_RE = /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i;

interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}
interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: Partial<AdapterInfo>;
  requestAdapterInfo?: () => Promise<Partial<AdapterInfo>>;
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
}

/** The WebGPU adapter tfjs would get (high-performance), described; null when there is none. */
export async function probeWebGpu(): Promise<{ adapter: AdapterInfo; limits: BackendInfo['limits']; software: boolean } | null> {
  const gpu = (globalThis.navigator as unknown as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) return null;
  let adapter: GpuAdapterLike | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    return null;
  }
  if (!adapter) return null;
  const info: Partial<AdapterInfo> = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo().catch(() => ({})) : {});
  const a: AdapterInfo = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
  };
  const software = a.isFallbackAdapter || SOFTWARE_RE.test(`${a.vendor} ${a.architecture} ${a.description}`);
  return { adapter: a, limits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize }, software };
}

/** The WebGL renderer string, from a throwaway context (works in workers via OffscreenCanvas). */
export function probeWebGl(): { renderer: string; software: boolean } | null {
  try {
    const canvas: OffscreenCanvas | HTMLCanvasElement | null =
      typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : typeof document !== 'undefined' ? document.createElement('canvas') : null;
    if (!canvas) return null;
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return { renderer, software: SOFTWARE_RE.test(renderer) };
  } catch {
    return null;
  }
}

async function loadBackend(name: BackendName, opts: ChooseOptions): Promise<void> {
  if (tf.findBackendFactory(name)) {
    if (name === 'wasm' && opts.wasmPaths) await configureWasm(opts.wasmPaths);
    return;
  }
  switch (name) {
    case 'webgpu':
      await import('@tensorflow/tfjs-backend-webgpu');
      break;
    case 'webgl':
      await import('@tensorflow/tfjs-backend-webgl');
      break;
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      if (opts.wasmPaths) await configureWasm(opts.wasmPaths);
      break;
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      break;
  }
}

async function configureWasm(paths: Record<string, string>): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // The threaded build broke in a production build served with COOP/COEP ("e is not defined" in
  // a blob worker) and threads gave nothing here: use the single-threaded SIMD build.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasm.setWasmPaths(paths);
}

/** Activates one backend and reports what actually runs. */
export async function activateBackend(requested: BackendName, opts: ChooseOptions = {}): Promise<BackendInfo> {
  const notes: string[] = [];
  try {
    await loadBackend(requested, opts);
  } catch (e) {
    notes.push(`${requested} could not be loaded: ${(e as Error).message}`);
  }
  let ok = false;
  try {
    ok = await tf.setBackend(requested);
    if (ok) await tf.ready();
    else notes.push(`${requested} failed to initialise${requested === 'webgpu' ? ' (no WebGPU adapter: the browser or its flags have WebGPU off, or no GPU is usable)' : ''}`);
  } catch (e) {
    notes.push(`${requested} failed to initialise: ${(e as Error).message}`);
  }
  // Not tf.getBackend(): a failed setBackend leaves the failed name in backendName with no backend
  // instance, and tfjs would then try to initialise the highest-priority backend (often the one
  // that just failed) and throw "has not yet been initialized".
  const engine = tf.engine() as unknown as { backendName: string | null; backendInstance: unknown };
  const active = engine.backendInstance ? (engine.backendName as BackendName) : null;
  const name = active ?? requested;
  const fellBack = !ok || active !== requested;
  if (fellBack) notes.push(active ? `asked for ${requested}, tfjs is running ${active}` : `asked for ${requested}, no backend is active`);
  const info: BackendInfo = { name, requested, fellBack, software: false, notes };
  if (active === 'webgpu') {
    const backend = tf.backend() as unknown as { device?: { limits: { maxStorageBufferBindingSize: number; maxBufferSize: number } }; adapterInfo?: Partial<AdapterInfo> };
    const probe = await probeWebGpu();
    if (probe) {
      info.adapter = probe.adapter;
      info.software = probe.software;
    }
    // tfjs-backend-webgpu requests the adapter's own maxStorageBufferBindingSize and
    // maxBufferSize for its device; these are what our batches and fc blocks must respect.
    const lim = backend.device?.limits ?? probe?.limits;
    if (lim) info.limits = { maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize, maxBufferSize: lim.maxBufferSize };
  } else if (active === 'webgl') {
    const gl = probeWebGl();
    if (gl) {
      info.glRenderer = gl.renderer;
      info.software = gl.software;
    }
  }
  if (info.software) notes.push(`${name} runs on a software renderer (${info.adapter?.architecture || info.glRenderer || 'fallback adapter'}): expect it to be much slower than wasm`);
  return info;
}

/** A small CaffeNet-like workload (conv + matmul), ms per run after a warm-up. */
export async function microBenchmark(runs = 3): Promise<number> {
  const x = tf.randomNormal([4, 27, 27, 48]) as tf.Tensor4D;
  const w = tf.randomNormal([5, 5, 48, 64]) as tf.Tensor4D;
  const a = tf.randomNormal([8, 2048]) as tf.Tensor2D;
  const b = tf.randomNormal([2048, 1024]) as tf.Tensor2D;
  const once = async () => {
    const y = tf.tidy(() => tf.add(tf.sum(tf.conv2d(x, w, 1, 'same')), tf.sum(tf.matMul(a, b))));
    await y.data();
    y.dispose();
  };
  await once();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await once();
  const ms = (performance.now() - t0) / runs;
  tf.dispose([x, w, a, b]);
  return ms;
}

/**
 * Picks and activates a backend: the user's choice when given, else the first hardware
 * candidate of WebGPU, WebGL, then wasm, cpu. With `benchmark`, every candidate that
 * initialises is timed and the fastest wins.
 */
export async function chooseBackend(opts: ChooseOptions = {}): Promise<BackendInfo> {
  if (opts.prefer) {
    const info = await activateBackend(opts.prefer, opts);
    if (!info.fellBack) return info;
    // The user's choice does not run here: fall back to the automatic choice and say so.
    const auto = await chooseBackend({ ...opts, prefer: undefined });
    return { ...auto, requested: opts.prefer, fellBack: true, notes: [...info.notes, ...auto.notes] };
  }
  const notes: string[] = [];
  const candidates: BackendName[] = [];
  const gpu = await probeWebGpu();
  if (gpu && !gpu.software) candidates.push('webgpu');
  else if (gpu) notes.push(`WebGPU adapter is a software fallback (${gpu.adapter.architecture || gpu.adapter.vendor}); not preferred over wasm`);
  else notes.push('no WebGPU adapter');
  const gl = probeWebGl();
  if (gl && !gl.software) candidates.push('webgl');
  else if (gl) notes.push(`WebGL renders in software (${gl.renderer}); not preferred over wasm`);
  candidates.push('wasm', 'cpu');
  if (!opts.benchmark) {
    for (const c of candidates) {
      const info = await activateBackend(c, opts);
      if (!info.fellBack) {
        info.notes.unshift(...notes);
        return info;
      }
      notes.push(...info.notes);
    }
    const info = await activateBackend('cpu', opts);
    info.notes.unshift(...notes);
    return info;
  }
  const timings: Partial<Record<BackendName, number>> = {};
  // Software GPUs are timed too when benchmarking: the numbers decide, not the label.
  const timed = [...new Set<BackendName>([...(gpu ? ['webgpu' as const] : []), ...(gl ? ['webgl' as const] : []), 'wasm', 'cpu'])];
  for (const c of timed) {
    if (c === 'cpu' && timings.wasm !== undefined) continue; // cpu never beats wasm on CaffeNet
    const info = await activateBackend(c, opts);
    if (info.fellBack) continue;
    timings[c] = await microBenchmark();
  }
  const best = (Object.entries(timings) as Array<[BackendName, number]>).sort((x, y) => x[1] - y[1])[0]?.[0] ?? 'cpu';
  const info = await activateBackend(best, opts);
  info.benchmark = timings;
  info.notes.unshift(...notes, `micro-benchmark (ms): ${Object.entries(timings).map(([k, v]) => `${k} ${v!.toFixed(1)}`).join(', ')}`);
  return info;
}
