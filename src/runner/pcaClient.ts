/**
 * The 2-D map of the CNN-features panel: PCA of the proposals' fc7 vectors in a Web Worker.
 * Only the rows computed so far are sent (features stream in batch by batch); the result maps
 * back to proposal indices.
 */
import type { FeaturesResult } from './cnnActions';
import type { ProposalsResult } from './proposalActions';
import type { PcaRequest, PcaResponse } from '../workers/pcaProtocol';

export interface FeatureMap {
  /** The proposals mapped (indices below refer to them). */
  proposals: ProposalsResult;
  /** Proposals in that set (mapped or not). */
  total: number;
  /** Proposal index of each mapped point. */
  index: Int32Array;
  /** 2 coordinates per point (PC1, PC2). */
  coords: Float32Array;
  /** Share of the total variance each component explains. */
  explained: [number, number];
  iterations: number;
  converged: boolean;
  /** Time in the worker, and wall time including the copy and the message round trip. */
  workerMs: number;
  wallMs: number;
  n: number;
  d: number;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, (r: PcaResponse) => void>();

function getWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL('../workers/pca.worker.ts', import.meta.url), { type: 'module', name: 'pca' });
    worker.onmessage = (ev: MessageEvent<PcaResponse>) => {
      const resolve = pending.get(ev.data.id);
      pending.delete(ev.data.id);
      resolve?.(ev.data);
    };
  }
  return worker;
}

/** PCA of the fc7 rows computed so far (at least 3 are needed for a map). */
export async function mapFeatures(f: FeaturesResult): Promise<FeatureMap> {
  const t0 = performance.now();
  const d = f.fc7Dim;
  let n = 0;
  for (let i = 0; i < f.total; i++) n += f.computed[i];
  if (n < 3) throw new Error(`a map needs at least 3 proposals with features (have ${n})`);
  const index = new Int32Array(n);
  const features = new Float32Array(n * d);
  for (let i = 0, k = 0; i < f.total; i++) {
    if (!f.computed[i]) continue;
    index[k] = i;
    features.set(f.fc7.subarray(i * d, (i + 1) * d), k * d);
    k++;
  }
  const id = nextId++;
  const req: PcaRequest = { id, features, n, d, components: 2 };
  const res = await new Promise<PcaResponse>((resolve) => {
    pending.set(id, resolve);
    getWorker().postMessage(req, [features.buffer]);
  });
  if (!res.ok) throw new Error(res.message);
  const total = res.totalVariance > 0 ? res.totalVariance : 1;
  return {
    proposals: f.proposals,
    total: f.total,
    index,
    coords: res.coords,
    explained: [res.variances[0] / total, (res.variances[1] ?? 0) / total],
    iterations: res.iterations,
    converged: res.converged,
    workerMs: res.ms,
    wallMs: performance.now() - t0,
    n,
    d,
  };
}
