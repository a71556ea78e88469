/// <reference lib="webworker" />
/**
 * Browser Web Worker for selective search: executes the diversification runs the proposal pool
 * (src/runner/proposalWorkerPool.ts) sends it, and streams each run's result back with its typed arrays
 * transferred. A run is a tight synchronous loop, so cancellation is the pool terminating this
 * worker, not a message.
 */
import { createSelectiveSearchWorkerHandler, type SsWorkerRequest } from './selectiveSearchProtocol';

const handle = createSelectiveSearchWorkerHandler((msg, transfer) => (self as unknown as Worker).postMessage(msg, transfer));
self.onmessage = (ev: MessageEvent<SsWorkerRequest>) => handle(ev.data);
