/**
 * The CLI's selective-search pool: the shared ProposalPool over Node worker_threads. Each worker
 * is started through ssWorker.mjs, which registers tsx before importing the TypeScript worker
 * (a worker thread does not inherit the main thread's tsx loader).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ProposalPool, type PoolWorker } from '../runner/proposalWorkerPool';
import type { SsWorkerResponse } from '../workers/selectiveSearchProtocol';

/** One worker per logical core (os.availableParallelism()), as --threads defaults to. */
export function nodePoolSize(): number {
  return Math.max(1, availableParallelism());
}

export function createNodeProposalPool(size = nodePoolSize()): ProposalPool {
  return new ProposalPool(() => {
    const w = new Worker(new URL('./ssWorker.mjs', import.meta.url), { name: 'selective-search' });
    const pw: PoolWorker = {
      postMessage: (m, t) => w.postMessage(m, t ?? []),
      terminate: () => void w.terminate(),
      onmessage: null,
      onerror: null,
    };
    w.on('message', (m: SsWorkerResponse) => pw.onmessage?.(m));
    w.on('error', (e: Error) => pw.onerror?.(e));
    w.on('exit', (code) => {
      if (code !== 0) pw.onerror?.(new Error(`selective-search worker exited with code ${code}`));
    });
    return pw;
  }, size);
}
