/// <reference lib="webworker" />
/**
 * Principal components of the proposals' fc7 features off the main thread: 2000 x 4096 floats
 * take a few hundred milliseconds (src/core/pca.ts), long enough to drop frames if run in the page.
 */
import { pca } from '../core/pca';
import type { PcaRequest, PcaResponse } from './pcaProtocol';

self.onmessage = (ev: MessageEvent<PcaRequest>) => {
  const { id, features, n, d, components } = ev.data;
  try {
    const r = pca(features, n, d, { components });
    const msg: PcaResponse = { id, ok: true, coords: r.coords, variances: r.variances, totalVariance: r.totalVariance, iterations: r.iterations, converged: r.converged, ms: r.ms };
    (self as unknown as Worker).postMessage(msg, [r.coords.buffer, r.variances.buffer]);
  } catch (e) {
    (self as unknown as Worker).postMessage({ id, ok: false, message: (e as Error).message } satisfies PcaResponse);
  }
};
