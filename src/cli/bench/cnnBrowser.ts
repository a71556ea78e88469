/**
 * `rcnn bench cnn-browser`: CaffeNet features (conv1..fc7, warp-free forward on preprocessed
 * random crops) in crops/s in real Chromium, ours (tfjs, through the app's backend.ts and
 * RcnnModel) against onnxruntime-web running the very same weights exported to ONNX, in the
 * same browser, per backend:
 *   wasm:   tfjs 1 worker vs ort 1 thread; a pool of N single-threaded tfjs workers (what the
 *           app's CnnWorkerPool does) vs ort with N threads (needs cross-origin isolation: the server
 *           sends COOP/COEP);
 *   webgpu: tfjs-webgpu vs ort's WebGPU EP;
 *   webgl:  tfjs-webgl vs ort's WebGL EP.
 * Every runtime lives in its own dedicated worker (scripts/cnn-browser-bench/). Within a backend
 * the configurations run in interleaved rounds so load from other processes hits them alike;
 * the table reports medians, GFLOP/s (2 x multiply-adds of describeArch per crop) and the share
 * of a peak measured in the same browser on the same backend (a big tfjs matmul, re-measured
 * every round, best kept).
 *
 * The page is built with Vite into a temporary folder (a separate entry, not the app's bundle)
 * and served by a small local server together with node_modules/onnxruntime-web/dist; nothing
 * is fetched from the network.
 *
 * Software adapters (SwiftShader WebGPU/WebGL on a machine without a GPU) are 15-60x slower than
 * wasm: there each configuration gets one timed pass per batch size, and a batch size whose pass
 * would take longer than --gpu-cap seconds (predicted from the previous batch size) is skipped
 * and printed as such.
 */
import { readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CaffeNetArch, caffeNetArch, totalMacs } from '../../model/architecture';
import type { BenchBackend, BenchPage, RunnerRequest, RunnerResponse } from './cnnBrowserProtocol';
import { CHROMIUM_ARGS, chromiumExecutable } from '../chromium';
import type { Page } from 'playwright-core';
import { type BenchArgs, type BenchTarget, benchNumber, benchNumbers, formatTable, median } from './types';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUNDLED = join(ROOT, 'public/models/fruit-animals/model.json');

interface ModelSpec {
  label: string;
  arch: CaffeNetArch;
}

/** `1` / `0.5`: CaffeNet at that width; `bundled`: the architecture of the app's bundled model. */
function modelSpec(w: string): ModelSpec {
  if (w === 'bundled') {
    if (!existsSync(BUNDLED)) throw new Error(`no bundled model at ${BUNDLED}; pass a numeric width instead (e.g. --widths 1,0.25)`);
    const a = JSON.parse(readFileSync(BUNDLED, 'utf8')).architecture as CaffeNetArch;
    // fc8 is not part of the feature pass (conv1..fc7), as for full CaffeNet below.
    const arch = { ...a, fc8: 0 };
    const width = a.conv.conv1.filters / 96;
    return { label: `bundled (width ${+width.toFixed(3)})`, arch };
  }
  const width = Number(w);
  if (!(width > 0)) throw new Error(`--widths: "${w}" is neither a number nor "bundled"`);
  return { label: width === 1 ? 'CaffeNet' : `width ${width}`, arch: caffeNetArch({ width, numClasses: 0 }) };
}

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

/** Static files with COOP/COEP, so the page is cross-origin isolated (SharedArrayBuffer, wasm threads). */
function serve(pageDir: string, ortDir: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const [base, rel] = path.startsWith('/ort/') ? [ortDir, path.slice(5)] : [pageDir, path === '/' ? 'index.html' : path.slice(1)];
    const file = normalize(join(base, rel));
    const headers = {
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'no-store',
    };
    try {
      if (!file.startsWith(base)) throw new Error('outside');
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404, headers);
      res.end();
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${a.port}/` });
    }),
  );
}

/** One configuration measured in a backend's interleaved rounds. */
interface Config {
  backend: BenchBackend;
  ours: boolean;
  runtime: string;
  threads: number;
  runners: number[];
  /** Peak key: which measured peak this row's % refers to. */
  peak: string;
  software: boolean;
  /** Why it cannot run (setup failed, not isolated); set per batch when a batch fails or is skipped. */
  unavailable?: string;
  skipped: Map<number, string>;
  rates: Map<number, number[]>;
}

export const cnnBrowserBench: BenchTarget = {
  name: 'cnn-browser',
  summary:
    'CaffeNet features (conv1..fc7) in crops/s in Chromium: tfjs (wasm 1 worker and a pool, webgpu, webgl) vs onnxruntime-web (wasm 1 and N threads, webgpu, webgl) on the same weights, with GFLOP/s and the share of a peak measured in the same browser.',
  optionsHelp:
    '--widths 1,bundled (numbers or "bundled")  --batches 1,8  --backends wasm,webgpu,webgl  --seconds 1.5 (per timed run)  --rounds 3  ' +
    '--workers N (default: the browser\'s hardwareConcurrency, at most 4, as the app\'s CnnWorkerPool)  --gpu-cap 20 (s per pass on a software adapter)  ' +
    '--ab (also time tfjs-wasm 1 worker with CaffeNet.wasmSwappedFc and convOutputBlocks off: before/after)  ' +
    '--profile (instead: per-op ms of ours and per-node ms of onnxruntime-web, wasm, 1 thread)  --headed',
  async run({ options, stdout, stderr }) {
    const o = readOptions(options);
    const out = join(tmpdir(), 'rcnn-cnn-browser-bench');
    stderr(`building the benchmark page into ${out}\n`);
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'scripts/cnn-browser-bench/vite.config.mjs'), logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
    const { server, url } = await serve(out, join(ROOT, 'node_modules/onnxruntime-web/dist'));
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumExecutable(), args: CHROMIUM_ARGS, headless: !options.headed });
    const report: Report = { rows: [['model', 'backend', 'runtime', 'threads', 'batch', 'crops/s', 'GFLOP/s', '% peak', 'ours/peer', 'note']], notes: [], ratios: [], anySoftware: false };
    try {
      const page = await browser.newPage();
      page.on('pageerror', (e) => stderr(`page error: ${e.message}\n`));
      page.on('crash', () => stderr('the page crashed (out of memory?)\n'));
      await page.goto(url);
      await page.waitForFunction(() => 'bench' in window, null, { timeout: 60_000 });
      const env = await page.evaluate(() => (window as unknown as { bench: BenchPage }).bench.env());
      const workers = benchNumber(options, 'workers', Math.max(1, Math.min(4, env.hardwareConcurrency)), { min: 1, max: 64, integer: true });
      report.notes.push(`Chromium ${browser.version()}, ${env.crossOriginIsolated ? 'cross-origin isolated' : 'NOT cross-origin isolated'}, hardwareConcurrency ${env.hardwareConcurrency}; pool = ${workers} tfjs workers, ort wasm threads = ${workers}`);
      const runners = pageRunners(page);

      if (options.profile) {
        for (const m of o.models) for (const batch of o.batches) stdout(await profileWasm(m, batch, runners.send, runners.spawn, runners.kill, stderr));
        return 0;
      }
      for (const m of o.models) {
        stderr(`${m.label}: ${(totalMacs(m.arch) / 1e9).toFixed(3)} GMAC per crop\n`);
        for (const backend of o.backends) {
          await new BackendBench({ o, runners, report, stderr, workers, crossOriginIsolated: env.crossOriginIsolated, ab: !!options.ab }, m, backend).run();
        }
      }
    } finally {
      await browser.close();
      server.close();
    }
    printReport(stdout, report, o);
    return 0;
  },
};

/** The options of the timed runs, read and checked. */
interface BenchOptions {
  models: ModelSpec[];
  batches: number[];
  backends: BenchBackend[];
  seconds: number;
  rounds: number;
  gpuCap: number;
}

function readOptions(options: BenchArgs['options']): BenchOptions {
  const models = String(options.widths ?? '1,bundled').split(',').map((w) => modelSpec(w.trim()));
  const batches = benchNumbers(options, 'batches', '1,8', { min: 1, max: 1024, integer: true });
  const backends = String(options.backends ?? 'wasm,webgpu,webgl').split(',').map((b) => b.trim() as BenchBackend);
  const seconds = benchNumber(options, 'seconds', 1.5, { min: 0.01 });
  const rounds = benchNumber(options, 'rounds', 3, { min: 1, integer: true });
  const gpuCap = benchNumber(options, 'gpu-cap', 20, { min: 0.1 });
  for (const b of backends) if (!['wasm', 'webgpu', 'webgl'].includes(b)) throw new Error(`--backends: unknown backend "${b}"`);
  return { models, batches, backends, seconds, rounds, gpuCap };
}

/** The table and the notes under it, filled in backend by backend. */
interface Report {
  rows: Array<Array<string | number>>;
  notes: string[];
  ratios: string[];
  /** Some row ran on a software adapter (the notes then say what that means). */
  anySoftware: boolean;
}

type Send = (id: number, msg: RunnerRequest) => Promise<RunnerResponse>;

/** Runner workers in the page: start one, message it (a runner's error becomes a thrown Error), stop it. */
interface Runners {
  spawn: (label: string) => Promise<number>;
  kill: (id: number) => Promise<void>;
  send: Send;
}

function pageRunners(page: Page): Runners {
  return {
    spawn: (label) => page.evaluate((l) => (window as unknown as { bench: BenchPage }).bench.spawn(l), label),
    kill: (id) => page.evaluate((i) => (window as unknown as { bench: BenchPage }).bench.kill(i), id),
    send: async (id, msg) => {
      const r = await page.evaluate(([i, m]) => (window as unknown as { bench: BenchPage }).bench.send(i, m), [id, msg] as const);
      if (r.type === 'error') throw new Error(r.message);
      return r;
    },
  };
}

type Ready = Extract<RunnerResponse, { type: 'ready' }>;
type Peak = Extract<RunnerResponse, { type: 'peak' }>;

/** One model on one backend: its workers, their configurations, the peaks, the timed rounds and the table rows. */
class BackendBench {
  private readonly peaks = new Map<string, number>();
  private readonly peakInfo: string[] = [];
  private readonly spawned: number[] = [];
  private readonly configs: Config[] = [];

  constructor(
    private readonly ctx: { o: BenchOptions; runners: Runners; report: Report; stderr: (t: string) => void; workers: number; crossOriginIsolated: boolean; ab: boolean },
    private readonly m: ModelSpec,
    private readonly backend: BenchBackend,
  ) {}

  async run(): Promise<void> {
    const { report, stderr } = this.ctx;
    const { m, backend } = this;
    try {
      stderr(`  ${backend}: starting workers\n`);
      await this.startConfigs();
      const software = this.configs.some((c) => c.software);
      report.anySoftware ||= software;
      try {
        await this.measurePeak(software);
      } catch (e) {
        report.notes.push(`${m.label}, ${backend}: peak not measured: ${(e as Error).message}`);
      }
      for (const batch of this.ctx.o.batches) await this.timeBatch(batch, software);
      for (const batch of this.ctx.o.batches) this.addRows(batch);
      const peakText = [...this.peaks.entries()].map(([k, v]) => `${k.includes(':') ? `${k.split(':')[1]} worker(s) at once` : k} ${v.toFixed(1)} GFLOP/s`).join(', ');
      if (peakText) report.notes.push(`${m.label}, ${backend}: peak (${this.peakInfo.join('')}${software ? ', software adapter' : ', best of the rounds'}): ${peakText}`);
    } finally {
      for (const id of this.spawned) await this.ctx.runners.kill(id).catch(() => undefined);
    }
  }

  /** A runner of ours (tfjs) or the peer's (onnxruntime-web), set up; a failed setup is returned as `error`. */
  private async setup(ours: boolean, threads: number, label: string, baseline?: boolean): Promise<{ id: number; r?: Ready; error?: string }> {
    const { runners, report } = this.ctx;
    const id = await runners.spawn(label);
    this.spawned.push(id);
    try {
      const r = (await runners.send(id, { type: 'setup', runtime: ours ? 'tfjs' : 'ort', backend: this.backend, threads, arch: this.m.arch, seed: 1, baseline })) as Ready;
      const note = `${this.m.label}, ${this.backend}: ${r.info}${r.notes?.length ? ` (${[...new Set(r.notes)].join('; ')})` : ''}`;
      if (!report.notes.includes(note)) report.notes.push(note);
      return { id, r };
    } catch (e) {
      return { id, error: (e as Error).message };
    }
  }

  private config(ours: boolean, threads: number, runners: number[], peak: string, ready: Array<{ r?: { software: boolean }; error?: string }>, unavailable?: string, runtime?: string): Config {
    const err = unavailable ?? ready.find((x) => x.error)?.error;
    const c: Config = {
      backend: this.backend,
      ours,
      runtime: runtime ?? (ours ? (runners.length > 1 ? `tfjs pool of ${runners.length}` : 'tfjs') : 'onnxruntime-web'),
      threads,
      runners,
      peak,
      software: ready.some((x) => x.r?.software),
      unavailable: err,
      skipped: new Map(),
      rates: new Map(),
    };
    this.configs.push(c);
    return c;
  }

  /**
   * wasm: tfjs 1 worker vs ort 1 thread (and the --ab baseline), the tfjs pool vs ort with as many
   * threads; other backends: tfjs vs ort.
   */
  private async startConfigs(): Promise<void> {
    const { workers, crossOriginIsolated, ab } = this.ctx;
    const backend = this.backend;
    if (backend === 'wasm') {
      // Setups one after another: full CaffeNet's weights are built in each worker.
      const tf = [];
      for (let i = 0; i < workers; i++) tf.push(await this.setup(true, 1, `tfjs-wasm-${i}`));
      const o1 = await this.setup(false, 1, 'ort-wasm-1');
      this.config(true, 1, [tf[0].id], 'wasm:1', [tf[0]]);
      if (ab) {
        // Before/after for CaffeNet's wasm inference layout, in the same rounds.
        const before = await this.setup(true, 1, 'tfjs-wasm-baseline', true);
        this.config(true, 1, [before.id], 'wasm:1', [before], undefined, 'tfjs baseline');
      }
      this.config(false, 1, [o1.id], 'wasm:1', [o1]);
      if (workers > 1) {
        this.config(true, workers, tf.map((t) => t.id), `wasm:${workers}`, tf);
        if (crossOriginIsolated) {
          const oN = await this.setup(false, workers, `ort-wasm-${workers}`);
          this.config(false, workers, [oN.id], `wasm:${workers}`, [oN]);
        } else this.config(false, workers, [], `wasm:${workers}`, [], 'page is not cross-origin isolated: no wasm threads');
      }
    } else {
      const t = await this.setup(true, 1, `tfjs-${backend}`);
      const o = await this.setup(false, 1, `ort-${backend}`);
      this.config(true, 1, [t.id], backend, [t]);
      this.config(false, 1, [o.id], backend, [o]);
    }
  }

  /** The backend's matmul peak with one of our runners (and with the whole pool at once on wasm); the best so far is kept. */
  private async measurePeak(software: boolean): Promise<void> {
    const send = this.ctx.runners.send;
    const { peaks, peakInfo, backend } = this;
    const oursOk = this.configs.filter((c) => c.ours && !c.unavailable);
    if (oursOk.length === 0) return;
    const ms = software ? 300 : 700;
    if (backend === 'wasm') {
      const first = oursOk[0].runners[0];
      const one = (await send(first, { type: 'peak', ms })) as Peak;
      peaks.set('wasm:1', Math.max(peaks.get('wasm:1') ?? 0, one.gflops));
      const pool = oursOk.find((c) => c.runners.length > 1);
      if (pool) {
        const all = (await Promise.all(pool.runners.map((r) => send(r, { type: 'peak', ms })))) as Peak[];
        peaks.set(pool.peak, Math.max(peaks.get(pool.peak) ?? 0, all.reduce((s, x) => s + x.gflops, 0)));
      }
      if (peakInfo.length === 0) peakInfo.push(`tfjs-wasm ${one.n}^3 matmul`);
    } else {
      const p = (await send(oursOk[0].runners[0], { type: 'peak', ms })) as Peak;
      peaks.set(backend, Math.max(peaks.get(backend) ?? 0, p.gflops));
      if (peakInfo.length === 0) peakInfo.push(`tfjs-${backend} ${p.n}^3 matmul`);
    }
  }

  /** Warm-up at this batch size, then interleaved timed rounds (one on a software adapter), the peak again after each. */
  private async timeBatch(batch: number, software: boolean): Promise<void> {
    const { o, stderr } = this.ctx;
    const live = await this.warmUp(batch);
    const nRounds = software ? 1 : o.rounds;
    for (let round = 0; round < nRounds; round++) {
      // Rotate who goes first: the slot right after the all-workers peak measurement
      // (or after a change in background load) should not always fall to one config.
      for (const c of live.map((_, i) => live[(i + round) % live.length])) {
        if (c.skipped.has(batch)) continue;
        try {
          const res = (await Promise.all(c.runners.map((r) => this.ctx.runners.send(r, { type: 'run', ms: o.seconds * 1000, maxPasses: c.software ? 1 : 1e9 })))) as Array<Extract<RunnerResponse, { type: 'result' }>>;
          // A pool's throughput: crops done by all workers over the longest wall time.
          const wall = Math.max(...res.map((r) => r.ms));
          const list = c.rates.get(batch) ?? [];
          list.push((res.reduce((s, r) => s + r.passes, 0) * batch) / (wall / 1000));
          c.rates.set(batch, list);
        } catch (e) {
          c.skipped.set(batch, `failed: ${(e as Error).message}`);
        }
      }
      if (!software) await this.measurePeak(software).catch(() => undefined);
      stderr(`  ${this.m.label}, ${this.backend} batch ${batch}: round ${round + 1}/${nRounds}\n`);
    }
  }

  /**
   * The configurations that warmed up at this batch size. On a software adapter a batch size whose
   * pass, predicted from the last measured one, would take over --gpu-cap is skipped.
   */
  private async warmUp(batch: number): Promise<Config[]> {
    const { o, stderr } = this.ctx;
    const live: Config[] = [];
    for (const c of this.configs) {
      if (c.unavailable) continue;
      if (c.software) {
        const prev = [...c.rates.entries()].pop();
        const pass = prev ? batch / median(prev[1]) : 0;
        if (pass > o.gpuCap) {
          c.skipped.set(batch, `skipped: a pass would take ~${pass.toFixed(0)} s on the software adapter (--gpu-cap ${o.gpuCap})`);
          continue;
        }
      }
      try {
        const w = (await Promise.all(c.runners.map((r) => this.ctx.runners.send(r, { type: 'batch', batch })))) as Array<Extract<RunnerResponse, { type: 'warm' }>>;
        stderr(`  ${this.backend} batch ${batch}: ${c.runtime}${c.ours ? '' : ` ${c.threads}t`} warm-up ${(Math.max(...w.map((x) => x.ms)) / 1000).toFixed(1)} s\n`);
        live.push(c);
      } catch (e) {
        c.skipped.set(batch, `failed: ${(e as Error).message}`);
      }
    }
    return live;
  }

  /** Rows of one batch size: ours first, then its peer, per thread count; the ratio on our row. */
  private addRows(batch: number): void {
    const { rows, notes, ratios } = this.ctx.report;
    const { m, backend, configs } = this;
    const gflopPerCrop = (2 * totalMacs(m.arch)) / 1e9;
    for (const c of configs) {
      const peer = c.ours ? configs.find((o) => !o.ours && o.threads === c.threads) : undefined;
      const why = c.unavailable ?? c.skipped.get(batch);
      const base = [m.label, backend, c.runtime, c.threads, batch];
      const soft = c.software ? 'software adapter, 1 timed pass' : '';
      if (why || !c.rates.get(batch)?.length) {
        const reason = why ?? 'not measured';
        rows.push([...base, 'unavailable', '', '', '', short(reason)]);
        if (reason.length > 64) notes.push(`${m.label}, ${backend}, ${c.runtime} ${c.threads}t, batch ${batch}: ${reason}`);
        continue;
      }
      const cps = median(c.rates.get(batch)!);
      const peak = this.peaks.get(c.peak);
      const peerCps = peer && !peer.unavailable && !peer.skipped.has(batch) && peer.rates.get(batch)?.length ? median(peer.rates.get(batch)!) : undefined;
      const ratio = peerCps ? `${(cps / peerCps).toFixed(2)}x` : '';
      // "Below" as printed: a 0.4 % shortfall shows as 1.00x and is well inside this bench's noise.
      if (peerCps) {
        const vs = backend === 'wasm' ? `onnxruntime-web ${c.threads > 1 ? `${c.threads} threads` : '1 thread'}` : 'onnxruntime-web';
        ratios.push(`${m.label}, ${backend}, ${c.runtime} vs ${vs}, batch ${batch}: ${ratio}${Number((cps / peerCps).toFixed(2)) < 1 ? ' (below target)' : ''}`);
      }
      rows.push([...base, cps, cps * gflopPerCrop, peak ? (100 * cps * gflopPerCrop) / peak : 'n/a', ratio, soft]);
    }
  }
}

function printReport(stdout: (t: string) => void, report: Report, o: BenchOptions): void {
  stdout(formatTable(report.rows));
  stdout(report.notes.map((n) => `- ${n}`).join('\n') + '\n');
  stdout(
    `- crops/s: median of ${o.rounds} interleaved ${o.seconds}-s runs per row on wasm (1 on a software adapter); forward conv1..fc7 on preprocessed crops, fc7 read back, warping excluded; ` +
      `GFLOP/s = 2 x multiply-adds per crop (describeArch) x crops/s; % peak = of the same backend's matmul peak for the same number of workers\n`,
  );
  if (report.anySoftware) {
    stdout(
      `- "software adapter": WebGPU/WebGL rendered on the CPU (SwiftShader or similar, see the adapter above), not a GPU: one timed pass per batch size after the warm-up (which compiles the shaders), ` +
        `and a batch size whose pass would take over --gpu-cap ${o.gpuCap} s is skipped; on a real GPU these rows mean something else entirely\n`,
    );
  }
  if (report.ratios.length) stdout(`- ours/peer (target >= 1.00x on the same backend): ${report.ratios.join('; ')}\n`);
}

/**
 * `--profile`: where the time goes on wasm, 1 thread, ours (tfjs kernels via tf.profile) next to
 * onnxruntime-web (its own per-node profiler), at one batch size: ms per pass, in execution
 * order, with the sum and the wall time of a profiled pass.
 */
async function profileWasm(m: ModelSpec, batch: number, send: Send, spawn: (l: string) => Promise<number>, kill: (id: number) => Promise<void>, stderr: (t: string) => void): Promise<string> {
  const runs = 3;
  const ids: number[] = [];
  try {
    const lists: Array<Extract<RunnerResponse, { type: 'profile' }>> = [];
    for (const runtime of ['tfjs', 'ort'] as const) {
      const id = await spawn(`profile-${runtime}`);
      ids.push(id);
      await send(id, { type: 'setup', runtime, backend: 'wasm', threads: 1, arch: m.arch, seed: 1, profile: true });
      await send(id, { type: 'batch', batch });
      await send(id, { type: 'batch', batch }); // a second warm-up: first-run allocations out of the way
      lists.push((await send(id, { type: 'profile', runs })) as Extract<RunnerResponse, { type: 'profile' }>);
      await kill(id);
      stderr(`  profiled ${runtime}, ${m.label}, batch ${batch}\n`);
    }
    const [ours, peer] = lists;
    const rows: Array<Array<string | number>> = [['tfjs-wasm kernel (input shape)', 'ms', 'onnxruntime-web node (op)', 'ms']];
    // tf.profile lists a fused op both as its op wrapper (name__op) and as its kernel: keep the kernel.
    ours.ops = ours.ops.filter((o) => !o.name.includes('__op'));
    for (let i = 0; i < Math.max(ours.ops.length, peer.ops.length); i++) {
      const a = ours.ops[i];
      const b = peer.ops[i];
      rows.push([a?.name ?? '', a ? a.ms : '', b?.name ?? '', b ? b.ms : '']);
    }
    const sum = (l: typeof ours) => l.ops.reduce((t, o) => t + o.ms, 0);
    rows.push(['sum of kernels', sum(ours), 'sum of nodes', sum(peer)]);
    rows.push(['wall per profiled pass', ours.wallMs, 'wall per profiled pass', peer.wallMs]);
    return `${m.label}, wasm 1 thread, batch ${batch}: ms per pass (mean of ${runs} profiled passes)\n${formatTable(rows)}\n`;
  } finally {
    for (const id of ids) await kill(id).catch(() => undefined);
  }
}

function short(s: string): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > 64 ? `${one.slice(0, 61)}...` : one;
}
