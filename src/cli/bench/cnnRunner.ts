/**
 * One runtime under test in its own worker thread (`rcnn bench cnn`): tfjs (wasm or cpu
 * backend, single-threaded) running our CaffeNet graph, or onnxruntime-web (wasm, N threads)
 * running the same weights exported to ONNX. Each keeps its own module instance, so several
 * can coexist and be timed in turn, or in parallel (a pool).
 */
import { parentPort } from 'node:worker_threads';
import type { CaffeNetArch } from '../../model/architecture';
import type { NamedWeights } from '../../model/caffenet';

export type RunnerRequest =
  | { type: 'setup'; runtime: 'tfjs-wasm' | 'tfjs-cpu' | 'ort-wasm'; threads?: number; arch: CaffeNetArch; weights?: NamedWeights; onnx?: Uint8Array }
  | { type: 'batch'; batch: number }
  | { type: 'run'; ms: number }
  | { type: 'peak'; ms: number };

export type RunnerResponse =
  | { type: 'ready'; info: string }
  /** Forward passes (of the current batch size) completed in ms. */
  | { type: 'result'; passes: number; ms: number }
  | { type: 'peak'; gflops: number }
  | { type: 'error'; message: string };

type Forward = () => Promise<void>;

let forward: Forward | null = null;
let setBatch: ((b: number) => void) | null = null;
let peak: ((ms: number) => Promise<number>) | null = null;

async function setup(msg: Extract<RunnerRequest, { type: 'setup' }>): Promise<string> {
  const a = msg.arch;
  if (msg.runtime === 'ort-wasm') {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = msg.threads ?? 1;
    const session = await ort.InferenceSession.create(msg.onnx!, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    let input: InstanceType<typeof ort.Tensor> | null = null;
    setBatch = (b) => {
      const data = new Float32Array(b * 3 * a.inputHeight * a.inputWidth);
      for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 200) - 100;
      input = new ort.Tensor('float32', data, [b, 3, a.inputHeight, a.inputWidth]);
    };
    forward = async () => {
      const out = await session.run({ [session.inputNames[0]]: input! });
      for (const t of Object.values(out)) t.dispose?.();
    };
    return `onnxruntime-web ${ort.env.versions?.web ?? ''} wasm, ${msg.threads ?? 1} thread(s)`;
  }
  const tf = await import('@tensorflow/tfjs-core');
  const { useNodeBackend } = await import('../../model/node');
  const { CaffeNet } = await import('../../model/caffenet');
  await useNodeBackend(msg.runtime === 'tfjs-cpu' ? 'cpu' : 'wasm');
  const net = new CaffeNet(a, msg.weights!, { trainable: false });
  let x: import('@tensorflow/tfjs-core').Tensor4D | null = null;
  setBatch = (b) => {
    x?.dispose();
    x = tf.randomUniform([b, a.inputHeight, a.inputWidth, 3], -100, 100, 'float32', 1) as import('@tensorflow/tfjs-core').Tensor4D;
  };
  forward = async () => {
    const o = net.forward(x!, { outputs: ['fc7'] });
    await o.fc7!.data();
    o.fc7!.dispose();
  };
  // The peak: a big square matmul (what XNNPACK does best).
  const { matmulPeakGflops } = await import('../../model/matmulPeak');
  peak = (ms) => matmulPeakGflops(1024, ms);
  return `tfjs ${tf.version_core} ${tf.getBackend()}, 1 thread`;
}

parentPort!.on('message', async (msg: RunnerRequest) => {
  const reply = (r: RunnerResponse) => parentPort!.postMessage(r);
  try {
    if (msg.type === 'setup') reply({ type: 'ready', info: await setup(msg) });
    else if (msg.type === 'batch') {
      setBatch!(msg.batch);
      await forward!(); // warm-up at this batch size (kernel caches, weight packing)
      reply({ type: 'ready', info: `batch ${msg.batch}` });
    } else if (msg.type === 'run') {
      // Whole forward passes, at least one, until the time is up.
      let passes = 0;
      const t0 = performance.now();
      do {
        await forward!();
        passes++;
      } while (performance.now() - t0 < msg.ms);
      reply({ type: 'result', passes, ms: performance.now() - t0 });
    } else if (msg.type === 'peak') {
      if (!peak) throw new Error('peak is measured on a tfjs runner');
      reply({ type: 'peak', gflops: await peak(msg.ms) });
    }
  } catch (e) {
    reply({ type: 'error', message: (e as Error).stack ?? String(e) });
  }
});
