/**
 * `rcnn bench cnn`: CaffeNet feature extraction (conv1..fc7 of warped 227x227 crops) in crops
 * per second, ours (tfjs, wasm backend) against onnxruntime-web (wasm) running the very same
 * weights exported to ONNX, in Node. Each runtime lives in its own worker thread
 * (cnnRunner.ts); rounds interleave the runtimes so load from other processes on this shared
 * machine hits all of them alike, and the table reports medians.
 *
 * Threads: tfjs-wasm is single-threaded here (its threaded build does not run in Node, and gave
 * nothing in the browser), so "N threads" for us is a pool of N single-threaded tfjs workers
 * splitting the crops, against onnxruntime-web with numThreads = N.
 *
 * Peak: a 1024^3 float32 matmul on the same backend (XNNPACK's best case), 1 worker alone and N
 * workers at once, re-measured each round and the best kept; "% peak" = achieved GFLOP/s
 * (2 x multiply-adds per crop x crops/s) over the peak for the same number of threads.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type CaffeNetArch, caffeNetArch, totalMacs } from '../../model/architecture';
import { type NamedWeights, randomWeights } from '../../model/caffenet';
import { exportOnnx } from '../../model/onnx/export';
import type { RunnerRequest, RunnerResponse } from './cnnRunner';
import { type BenchTarget, benchNumber, benchNumbers, formatTable, median } from './types';

class Runner {
  private readonly w: Worker;
  private waiting: ((r: RunnerResponse) => void) | null = null;
  info = '';
  constructor(readonly label: string) {
    this.w = new Worker(new URL('./cnnRunner.mjs', import.meta.url), { name: `bench-${label}` });
    this.w.on('message', (r: RunnerResponse) => {
      const f = this.waiting;
      this.waiting = null;
      f?.(r);
    });
    this.w.on('error', (e) => {
      const f = this.waiting;
      this.waiting = null;
      f?.({ type: 'error', message: e.message });
    });
  }
  send(msg: RunnerRequest): Promise<RunnerResponse> {
    return new Promise((resolve, reject) => {
      this.waiting = (r) => (r.type === 'error' ? reject(new Error(`${this.label}: ${r.message}`)) : resolve(r));
      this.w.postMessage(msg);
    });
  }
  terminate() {
    return this.w.terminate();
  }
}

interface Config {
  name: string;
  threads: number;
  runners: Runner[];
  /** Peak GFLOP/s for this many threads (tfjs matmul). */
  peakKey: 1 | 'pool';
  /** The config it is compared with (same thread count). */
  peer?: string;
}

export const cnnBench: BenchTarget = {
  name: 'cnn',
  summary: 'CaffeNet features (conv1..fc7) in crops/s: tfjs-wasm (1 thread, and a pool of worker threads) vs onnxruntime-web wasm (1 and N threads) on the same weights, with the share of measured peak FLOP/s.',
  optionsHelp:
    '--widths 1,0.25  --batches 1,8  --seconds 2 (per timed run)  --rounds 3  --workers N (default: cores)  --cpu (add the tfjs cpu backend, reduced widths only)  ' +
    '--train (instead: forward and SGD training-step crops/s of tfjs-wasm per width, batch 32, for sizing a model to train on this CPU)',
  async run({ options, stdout, stderr }) {
    if (options.train) return trainTable(options, stdout, stderr);
    const widths = benchNumbers(options, 'widths', '1,0.25', { min: 0.05, max: 2 });
    const batches = benchNumbers(options, 'batches', '1,8', { min: 1, max: 1024, integer: true });
    const seconds = benchNumber(options, 'seconds', 2, { min: 0.01 });
    const rounds = benchNumber(options, 'rounds', 3, { min: 1, integer: true });
    const workers = benchNumber(options, 'workers', Math.max(1, availableParallelism()), { min: 1, max: 64, integer: true });
    const withCpu = Boolean(options.cpu);
    const rows: Array<Array<string | number>> = [['model', 'runtime', 'threads', 'batch', 'crops/s', 'GFLOP/s', '% peak', 'vs onnxruntime-web']];
    const notes: string[] = [];
    for (const width of widths) {
      const arch: CaffeNetArch = caffeNetArch({ width, numClasses: 0 });
      const weights: NamedWeights = randomWeights(arch, { seed: 1 });
      const onnx = exportOnnx({ name: `caffenet-w${width}`, architecture: arch, classes: null, weights, provenance: { createdBy: 'bench', createdAt: '' } }).bytes;
      const gflopPerCrop = (2 * totalMacs(arch)) / 1e9;
      const model = width === 1 ? 'CaffeNet' : `width ${width}`;
      stderr(`${model}: ${(totalMacs(arch) / 1e9).toFixed(3)} GMAC per crop; starting ${workers + 2 + (withCpu && width < 1 ? 1 : 0)} worker threads\n`);
      const tfjs = Array.from({ length: workers }, (_, i) => new Runner(`tfjs-wasm-${i}`));
      const ort1 = new Runner('ort-1');
      const ortN = new Runner(`ort-${workers}`);
      const cpu = withCpu && width < 1 ? new Runner('tfjs-cpu') : null;
      const all = [...tfjs, ort1, ortN, ...(cpu ? [cpu] : [])];
      try {
        for (const r of tfjs) r.info = ((await r.send({ type: 'setup', runtime: 'tfjs-wasm', arch, weights })) as { info: string }).info;
        ort1.info = ((await ort1.send({ type: 'setup', runtime: 'ort-wasm', threads: 1, arch, onnx })) as { info: string }).info;
        ortN.info = ((await ortN.send({ type: 'setup', runtime: 'ort-wasm', threads: workers, arch, onnx })) as { info: string }).info;
        if (cpu) cpu.info = ((await cpu.send({ type: 'setup', runtime: 'tfjs-cpu', arch, weights })) as { info: string }).info;
        // Peak on the same backend: one worker alone, then all at once; re-measured every
        // round and the best kept, since other processes share this machine.
        let p1 = 0;
        let pN = 0;
        const measurePeak = async () => {
          p1 = Math.max(p1, ((await tfjs[0].send({ type: 'peak', ms: 700 })) as { gflops: number }).gflops);
          const all = await Promise.all(tfjs.map((r) => r.send({ type: 'peak', ms: 700 })));
          pN = Math.max(pN, all.reduce((s, r) => s + (r as { gflops: number }).gflops, 0));
        };
        await measurePeak();
        const configs: Config[] = [
          { name: 'tfjs-wasm', threads: 1, runners: [tfjs[0]], peakKey: 1, peer: 'onnxruntime-web' },
          { name: 'onnxruntime-web', threads: 1, runners: [ort1], peakKey: 1 },
        ];
        if (workers > 1) {
          configs.push({ name: `tfjs-wasm pool`, threads: workers, runners: tfjs, peakKey: 'pool', peer: 'onnxruntime-web' });
          configs.push({ name: 'onnxruntime-web', threads: workers, runners: [ortN], peakKey: 'pool' });
        }
        if (cpu) configs.push({ name: 'tfjs-cpu', threads: 1, runners: [cpu], peakKey: 1 });
        const measured: Array<{ batch: number; c: Config; cps: number; peerCps?: number }> = [];
        for (const batch of batches) {
          await Promise.all(all.map((r) => r.send({ type: 'batch', batch })));
          const rates = new Map<Config, number[]>(configs.map((c) => [c, []]));
          for (let round = 0; round < rounds; round++) {
            for (const c of configs) {
              const res = (await Promise.all(c.runners.map((r) => r.send({ type: 'run', ms: seconds * 1000 })))) as Array<{ passes: number; ms: number }>;
              // A pool's throughput: crops done by all workers over the longest wall time.
              const wall = Math.max(...res.map((r) => r.ms));
              rates.get(c)!.push((res.reduce((s, r) => s + r.passes, 0) * batch) / (wall / 1000));
            }
            await measurePeak();
            stderr(`  ${model} batch ${batch}: round ${round + 1}/${rounds}\n`);
          }
          for (const c of configs) {
            const peer = c.peer ? configs.find((o) => o.name === c.peer && o.threads === c.threads) : undefined;
            measured.push({ batch, c, cps: median(rates.get(c)!), peerCps: peer ? median(rates.get(peer)!) : undefined });
          }
        }
        for (const m of measured) {
          const peak = m.c.peakKey === 1 ? p1 : pN;
          const ratio = m.peerCps ? `${(m.cps / m.peerCps).toFixed(2)}x` : '';
          rows.push([model, m.c.name, m.c.threads, m.batch, m.cps, m.cps * gflopPerCrop, (100 * m.cps * gflopPerCrop) / peak, ratio]);
        }
        notes.push(`${model}: peak (tfjs-wasm 1024^3 matmul, best of the rounds) ${p1.toFixed(1)} GFLOP/s on 1 thread, ${pN.toFixed(1)} on ${workers} workers at once`);
        notes.push(`${model}: ${tfjs[0].info}; ${ort1.info}; ${ortN.info}`);
      } finally {
        await Promise.all(all.map((r) => r.terminate()));
      }
    }
    stdout(formatTable(rows));
    stdout(notes.map((n) => `- ${n}`).join('\n') + '\n');
    stdout(`- medians of ${rounds} interleaved ${seconds}-s runs per row; crops/s counts the CNN forward only (warping excluded), output fc7\n`);
    return 0;
  },
};

/**
 * `--train`: what a width costs to run and to train with tfjs-wasm in this process (1 thread):
 * forward conv1..fc7, and one step of rcnn train's SGD (model/training.ts: forward to fc8 with
 * dropout, softmax loss, backward, Caffe's momentum update with weight decay), both at batch 32 by default.
 */
async function trainTable(options: Record<string, string | boolean>, stdout: (t: string) => void, stderr: (t: string) => void): Promise<number> {
  const tf = await import('@tensorflow/tfjs-core');
  const { useNodeBackend } = await import('../../model/node');
  const { createCaffeNet } = await import('../../model/caffenet');
  const { createSgdState, trainStep } = await import('../../model/training');
  const { FINE_TUNE_RECIPE } = await import('../../model/finetune/recipe');
  const widths = benchNumbers(options, 'widths', '1,0.5,0.375,0.25', { min: 0.05, max: 2 });
  const batch = benchNumber(options, 'batch', 32, { min: 1, max: 1024, integer: true });
  const reps = benchNumber(options, 'rounds', 2, { min: 1, integer: true });
  await useNodeBackend('wasm');
  const rows: Array<Array<string | number>> = [['width', 'conv1..conv5', 'fc6/fc7', 'GMAC/crop', 'forward crops/s', 'train crops/s', 's per 128-window iteration']];
  for (const width of widths) {
    const arch = caffeNetArch({ width, numClasses: 21 });
    const net = createCaffeNet(arch);
    const x = tf.randomNormal([batch, arch.inputHeight, arch.inputWidth, 3], 0, 50, 'float32', 1) as import('@tensorflow/tfjs-core').Tensor4D;
    const time = async (f: () => Promise<void>) => {
      await f(); // warm-up
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) await f();
      return (batch * reps) / ((performance.now() - t0) / 1000);
    };
    const fwd = await time(async () => {
      const o = net.forward(x, { outputs: ['fc7'] });
      await o.fc7!.data();
      o.fc7!.dispose();
    });
    // rcnn train's own step (Caffe's SGD, the recipe's momentum and decay) at the fine-tuning learning rate.
    const sgd = createSgdState(net.variables);
    const labels = Int32Array.from({ length: batch }, (_, i) => i % 21);
    const sgdSettings = { momentum: FINE_TUNE_RECIPE.momentum, weightDecay: FINE_TUNE_RECIPE.weightDecay };
    const trn = await time(async () => void trainStep(net, sgd, x, labels, FINE_TUNE_RECIPE.initLr, sgdSettings));
    rows.push([width, Object.values(arch.conv).map((c) => c.filters).join('/'), arch.fc6, totalMacs(arch) / 1e9, fwd, trn, 128 / trn]);
    stderr(`width ${width}: forward ${fwd.toFixed(1)}, train ${trn.toFixed(1)} crops/s\n`);
    tf.dispose(sgd.velocity);
    x.dispose();
    net.dispose();
  }
  stdout(formatTable(rows));
  stdout(`- tfjs-wasm, 1 thread, batch ${batch}, ${reps} timed passes after a warm-up; random He-init weights, 21 classes\n`);
  return 0;
}
