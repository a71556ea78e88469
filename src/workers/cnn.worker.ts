/// <reference lib="webworker" />
/**
 * The CNN worker: tfjs (WebGPU / WebGL / wasm / cpu) off the main thread, so the page stays
 * responsive while CaffeNet runs (the cpu and wasm backends block the thread they run on).
 * Protocol: cnnProtocol.ts. Client: src/runner/cnnWorkerClient.ts.
 */
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { CnnRequest, CnnResponse } from './cnnProtocol';
import { CnnWorkerHost } from './cnnWorkerHost';
import { hereMaxWeightBytes } from '../model/memoryLimit';

declare const self: DedicatedWorkerGlobalScope;

const host = new CnnWorkerHost((msg: CnnResponse, transfer?: ArrayBuffer[]) => self.postMessage(msg, transfer ?? []), {
  // Served by Vite from our own origin (no CDN), single-threaded SIMD build preferred by tfjs.
  wasmPaths: {
    'tfjs-backend-wasm.wasm': wasmUrl,
    'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
  },
  maxWeightBytes: hereMaxWeightBytes(),
});

self.onmessage = (e: MessageEvent<CnnRequest>) => host.handle(e.data);
