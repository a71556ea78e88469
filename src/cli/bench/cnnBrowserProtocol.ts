/** Messages between the benchmark page (main.ts, driven from src/cli/bench/cnnBrowser.ts) and a runner worker. */
import type { CaffeNetArch } from '../../model/architecture';

export type BenchBackend = 'wasm' | 'webgpu' | 'webgl' | 'cpu';

export type RunnerRequest =
  /**
   * peakN: side of the square matmul that measures the backend's peak (tfjs runners only);
   * default 1024 on wasm and software adapters, 2048 on a real GPU (1024 would not fill it).
   */
  | {
      type: 'setup';
      runtime: 'tfjs' | 'ort';
      backend: BenchBackend;
      threads: number;
      arch: CaffeNetArch;
      seed: number;
      peakN?: number;
      /**
       * tfjs: the inference layout before this benchmark's findings (CaffeNet.wasmSwappedFc and
       * CaffeNet.convOutputBlocks off: fc as x . W at every batch, conv3 split for conv4), to
       * time before and after in the same rounds.
       */
      baseline?: boolean;
      /** onnxruntime-web: create the session with profiling on (needed for 'profile'). */
      profile?: boolean;
    }
  | { type: 'batch'; batch: number }
  | { type: 'run'; ms: number; maxPasses: number }
  | { type: 'peak'; ms: number }
  /** Per-op (tfjs kernels) or per-node (onnxruntime-web) time of `runs` passes at the current batch. */
  | { type: 'profile'; runs: number };

export type RunnerResponse =
  | { type: 'ready'; info: string; software: boolean; notes?: string[] }
  /** The warm-up pass at a new batch size (includes shader compilation on GPU backends). */
  | { type: 'warm'; ms: number }
  /** Forward passes (of the current batch size) completed in ms. */
  | { type: 'result'; passes: number; ms: number }
  | { type: 'peak'; gflops: number; n: number }
  /** ms per pass, in execution order; wallMs: whole passes, profiler overhead included. */
  | { type: 'profile'; ops: Array<{ name: string; ms: number }>; wallMs: number }
  | { type: 'error'; message: string };

/** What the page exposes to the driver as window.bench. */
export interface BenchPage {
  env(): { crossOriginIsolated: boolean; hardwareConcurrency: number; userAgent: string; webgpu: boolean };
  spawn(label: string): number;
  send(id: number, msg: RunnerRequest): Promise<RunnerResponse>;
  kill(id: number): void;
}
