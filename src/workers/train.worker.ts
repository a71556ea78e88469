/// <reference lib="webworker" />
/**
 * The Train view's training worker: the SVM solver, hard-negative mining, ridge regression and
 * the held-out evaluation run here, so the page stays responsive (trainWorkerHost.ts has the
 * logic, trainProtocol.ts the messages). It reads the photos from IndexedDB itself.
 */
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { chooseBackend } from '../model/backend';
import { IdbDatasetStore, idbCache } from '../runner/trainDb';
import { decodeForApp } from './browserDecode';
import { TrainWorkerHost } from './trainWorkerHost';
import type { FromWorker, ToWorker } from './trainProtocol';

declare const self: DedicatedWorkerGlobalScope;

const store = new IdbDatasetStore();
const host = new TrainWorkerHost({
  post: (msg: FromWorker, transfer?: Transferable[]) => self.postMessage(msg, transfer ?? []),
  photoBytes: (id) => store.bytes(id),
  cache: idbCache,
  decode: decodeForApp,
  // The heads on wasm, as `rcnn eval` applies them (served by Vite from our own origin).
  useBackend: async () =>
    (
      await chooseBackend({
        prefer: 'wasm',
        wasmPaths: { 'tfjs-backend-wasm.wasm': wasmUrl, 'tfjs-backend-wasm-simd.wasm': wasmSimdUrl, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl },
      })
    ).name,
});

self.onmessage = (e: MessageEvent<ToWorker>) => host.handle(e.data);
