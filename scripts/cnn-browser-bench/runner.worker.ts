/// <reference lib="webworker" />
/**
 * One runtime under test in its own dedicated worker (`rcnn bench cnn-browser`), the browser
 * twin of src/cli/bench/cnnRunner.ts:
 *   - ours: tfjs on one backend, chosen and checked by the app's own backend.ts (same wasm
 *     binaries, same single-threaded SIMD build, same fallback detection) and the app's
 *     RcnnModel (fc layers split for the WebGPU binding limit as the CNN worker does), running
 *     the warp-free forward pass conv1..fc7 on preprocessed random crops;
 *   - the peer: onnxruntime-web (wasm with N threads, webgpu or webgl) running the same weights
 *     exported to ONNX, loaded from /ort/ (node_modules/onnxruntime-web/dist, served locally).
 * Each worker builds its weights from the same seed, so nothing big crosses postMessage.
 */
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as tf from '@tensorflow/tfjs-core';
import type * as Ort from 'onnxruntime-web';
import type { CaffeNetArch } from '../../src/model/architecture';
import { type BackendInfo, activateBackend } from '../../src/model/backend';
import { CaffeNet, randomWeights } from '../../src/model/caffenet';
import { RcnnModel } from '../../src/model/rcnnModel';
import { matmulPeakGflops } from '../../src/model/matmulPeak';
import { exportOnnx } from '../../src/model/onnx/export';
import { encodeOnnxModel } from '../../src/model/onnx/proto';
import type { RunnerRequest, RunnerResponse } from '../../src/cli/bench/cnnBrowserProtocol';

declare const self: DedicatedWorkerGlobalScope;

let forward: (() => Promise<void>) | null = null;
let setBatch: ((b: number) => void | Promise<void>) | null = null;
let peak: ((ms: number) => Promise<{ gflops: number; n: number }>) | null = null;
let profile: ((runs: number) => Promise<Array<{ name: string; ms: number }>>) | null = null;

/** Sums times per name over `runs` passes, keeping first-seen (execution) order; ms per pass. */
function perPass(entries: Array<{ name: string; ms: number }>, runs: number): Array<{ name: string; ms: number }> {
  const m = new Map<string, number>();
  for (const e of entries) m.set(e.name, (m.get(e.name) ?? 0) + e.ms);
  return [...m].map(([name, ms]) => ({ name, ms: ms / runs }));
}

function pkgOf(arch: CaffeNetArch, seed: number) {
  return { name: 'bench', architecture: arch, classes: null, weights: randomWeights(arch, { seed }), provenance: { createdBy: 'bench', createdAt: '' } };
}

/** Same deterministic pseudo-random fill for every runtime (values only matter for denormals). */
function fill(n: number): Float32Array {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i * 2654435761) % 200) - 100;
  return data;
}

async function setupTfjs(msg: Extract<RunnerRequest, { type: 'setup' }>): Promise<Extract<RunnerResponse, { type: 'ready' }>> {
  const info: BackendInfo = await activateBackend(msg.backend, {
    wasmPaths: {
      'tfjs-backend-wasm.wasm': wasmUrl,
      'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
    },
  });
  if (info.fellBack) throw new Error(`tfjs ${msg.backend} unavailable: ${info.notes.join('; ')}`);
  // Each worker has its own module instance, so this switch only affects this runner.
  if (msg.baseline) {
    CaffeNet.wasmSwappedFc = { ...CaffeNet.wasmSwappedFc, minBatch: Infinity };
    CaffeNet.convOutputBlocks = false;
  }
  const a = msg.arch;
  // As CnnWorkerHost.uploadModel: fc weights above the device's binding limit become column blocks.
  const model = new RcnnModel(pkgOf(a, msg.seed), { maxBindingBytes: info.name === 'webgpu' ? info.limits?.maxStorageBufferBindingSize : undefined });
  let x: tf.Tensor4D | null = null;
  setBatch = (b) => {
    x?.dispose();
    x = tf.tensor4d(fill(b * a.inputHeight * a.inputWidth * 3), [b, a.inputHeight, a.inputWidth, 3]);
  };
  forward = async () => {
    const o = model.net.forward(x!, { outputs: ['fc7'] });
    await o.fc7!.data();
    o.fc7!.dispose();
  };
  peak = async (ms) => {
    const n = msg.peakN ?? (info.name === 'wasm' || info.name === 'cpu' || info.software ? 1024 : 2048);
    return { gflops: await matmulPeakGflops(n, ms), n };
  };
  profile = async (runs) => {
    const entries: Array<{ name: string; ms: number }> = [];
    for (let i = 0; i < runs; i++) {
      const p = await tf.profile(() => forward!());
      for (const k of p.kernels) {
        const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        entries.push({ name: `${k.name} ${(k.inputShapes[0] ?? []).join('x')}`, ms });
      }
    }
    return perPass(entries, runs);
  };
  const adapter = info.adapter ? `${info.adapter.vendor} ${info.adapter.architecture}${info.adapter.isFallbackAdapter ? ' fallback adapter' : ''}` : info.glRenderer;
  const split = model.net.splitFcLayers.length ? `, fc split: ${model.net.splitFcLayers.join(',')}` : '';
  return {
    type: 'ready',
    software: info.software,
    info: `tfjs ${tf.version_core} ${info.name}${info.name === 'wasm' ? ' (SIMD, 1 thread)' : ''}${adapter ? ` on ${adapter}` : ''}${split}${msg.baseline ? ', baseline layout (fc as x.W, conv3 split for conv4)' : ''}`,
  };
}

const ORT_BUILD = { wasm: 'ort.wasm.min.mjs', webgpu: 'ort.webgpu.min.mjs', webgl: 'ort.webgl.min.mjs' } as const;

async function setupOrt(msg: Extract<RunnerRequest, { type: 'setup' }>): Promise<Extract<RunnerResponse, { type: 'ready' }>> {
  const a = msg.arch;
  const ep = msg.backend === 'cpu' ? 'wasm' : msg.backend;
  // onnxruntime-web's wasm module binds console.log when it starts and writes the profile
  // through it: put a switchable tap in place before it loads.
  const tap = { on: false, lines: [] as string[] };
  if (msg.profile) {
    const log = console.log;
    console.log = (...args: unknown[]) => (tap.on ? void tap.lines.push(args.map(String).join(' ')) : log(...args));
  }
  const url = new URL(`/ort/${ORT_BUILD[ep]}`, self.location.href).href;
  const ort = (await import(/* @vite-ignore */ url)) as typeof Ort;
  ort.env.wasm.wasmPaths = new URL('/ort/', self.location.href).href;
  ort.env.wasm.numThreads = msg.threads;
  // What onnxruntime-web says while it partitions the graph (nodes left to the CPU EP, etc.).
  const said: string[] = [];
  const orig = { warn: console.warn, error: console.error };
  console.warn = (...args: unknown[]) => (said.push(args.map(String).join(' ')), orig.warn(...args));
  console.error = (...args: unknown[]) => (said.push(args.map(String).join(' ')), orig.error(...args));
  const pkg = pkgOf(a, msg.seed);
  const create = async (batch?: number) => {
    let onnx: Uint8Array;
    if (ep === 'webgl') {
      // ORT's WebGL EP parses the graph with its older loader, which wants every graph output's
      // shape declared (ours leaves it open), a fixed batch (it rejects a symbolic one at run
      // time) and Flatten rather than Reshape: one session per batch size.
      const r = exportOnnx(pkg, { flatten: 'flatten', batch: batch ?? 1 });
      r.model.graph.output = r.model.graph.output.map((o) => ({ ...o, shape: [batch ?? 1, a.fc7] }));
      onnx = encodeOnnxModel(r.model);
    } else onnx = exportOnnx(pkg).bytes;
    return ort.InferenceSession.create(onnx, { executionProviders: [ep], graphOptimizationLevel: 'all', enableProfiling: msg.profile === true });
  };
  let session: Ort.InferenceSession;
  let sessionBatch = 1;
  try {
    session = await create();
  } finally {
    Object.assign(console, orig);
  }
  let input: Ort.Tensor | null = null;
  setBatch = async (b) => {
    input = new ort.Tensor('float32', fill(b * 3 * a.inputHeight * a.inputWidth), [b, 3, a.inputHeight, a.inputWidth]);
    if (ep === 'webgl' && b !== sessionBatch) {
      await session.release();
      session = await create(b);
      sessionBatch = b;
    }
  };
  forward = async () => {
    const out = await session.run({ [session.inputNames[0]]: input! });
    // Read back like ours does (WebGPU outputs land on the CPU by default: getData is a no-op copy).
    for (const t of Object.values(out)) {
      await t.getData();
      t.dispose();
    }
  };
  // endProfiling writes every event since the session began as JSON lines through console.log
  // (the tap above); keep the last `runs` kernel events of each node.
  profile = async (runs) => {
    if (msg.profile !== true) throw new Error('this onnxruntime-web session was created without profiling');
    for (let i = 0; i < runs; i++) await forward!();
    tap.on = true;
    try {
      session.endProfiling();
    } finally {
      tap.on = false;
    }
    const logged = tap.lines.splice(0);
    const byNode = new Map<string, number[]>();
    // One event per line: {"cat" : "Node", "dur" : us, "name" : "conv1_kernel_time", "args" : {"op_name" : ...}},
    for (const line of logged.join('\n').split('\n')) {
      let e: { cat?: string; name?: string; dur?: number; args?: { op_name?: string } };
      try {
        e = JSON.parse(line.trim().replace(/^\[/, '').replace(/[,\]]$/, ''));
      } catch {
        continue;
      }
      if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || typeof e.dur !== 'number') continue;
      const key = `${e.name.slice(0, -'_kernel_time'.length)}${e.args?.op_name ? ` (${e.args.op_name})` : ''}`;
      byNode.set(key, [...(byNode.get(key) ?? []), e.dur / 1000]);
    }
    if (byNode.size === 0) throw new Error(`onnxruntime-web wrote no profile events (${logged.length} console lines: ${logged.join(' ').slice(0, 300)})`);
    return perPass([...byNode].flatMap(([name, d]) => d.slice(-runs).map((ms) => ({ name, ms }))), runs);
  };
  let software = false;
  let adapter = '';
  if (ep === 'webgpu') {
    const gpu = (self.navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor: string; architecture: string; isFallbackAdapter?: boolean } } | null> } }).gpu;
    const ad = await gpu?.requestAdapter();
    const i = ad?.info;
    if (i) {
      software = Boolean(i.isFallbackAdapter) || /swiftshader/i.test(`${i.vendor} ${i.architecture}`);
      adapter = ` on ${i.vendor} ${i.architecture}${i.isFallbackAdapter ? ' fallback adapter' : ''}`;
    }
  }
  if (ep === 'webgl') {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    const r = gl && ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : '';
    software = /swiftshader|llvmpipe|software/i.test(r);
    if (r) adapter = ` on ${r}`;
  }
  // Strip ORT's colour codes and timestamps: "[W:onnxruntime:, session_state.cc:1397 ...] text".
  const notes = said
    .filter((s) => /not assigned|fall ?back|unsupported/i.test(s))
    .map((s) => s.replace(/\x1b\[[0-9;]*m/g, '').replace(/^.*?\]\s*/, '').replace(/\s+/g, ' ').slice(0, 240));
  return {
    type: 'ready',
    software,
    info: `onnxruntime-web ${ort.env.versions?.web ?? ''} ${ep}${ep === 'wasm' ? `, ${msg.threads} thread(s)` : ''}${adapter}`,
    notes,
  };
}

self.onmessage = async (e: MessageEvent<RunnerRequest>) => {
  const msg = e.data;
  const reply = (r: RunnerResponse) => self.postMessage(r);
  try {
    if (msg.type === 'setup') reply(msg.runtime === 'ort' ? await setupOrt(msg) : await setupTfjs(msg));
    else if (msg.type === 'batch') {
      await setBatch!(msg.batch);
      // Warm-up at this batch size: kernel caches, XNNPACK weight packing, WebGPU/WebGL shader
      // compilation for these shapes. Its time sizes the software-adapter cap.
      const t0 = performance.now();
      await forward!();
      reply({ type: 'warm', ms: performance.now() - t0 });
    } else if (msg.type === 'run') {
      // Whole forward passes, at least one, until the time (or the pass cap) is up.
      let passes = 0;
      const t0 = performance.now();
      do {
        await forward!();
        passes++;
      } while (performance.now() - t0 < msg.ms && passes < msg.maxPasses);
      reply({ type: 'result', passes, ms: performance.now() - t0 });
    } else if (msg.type === 'profile') {
      const t0 = performance.now();
      const ops = await profile!(msg.runs);
      reply({ type: 'profile', ops, wallMs: (performance.now() - t0) / msg.runs });
    } else if (msg.type === 'peak') {
      if (!peak) throw new Error('peak is measured on a tfjs runner');
      reply({ type: 'peak', ...(await peak(msg.ms)) });
    }
  } catch (err) {
    const x = err as Error;
    reply({ type: 'error', message: x?.message ?? String(err) });
  }
};
