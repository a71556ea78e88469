/** Messages of the PCA worker (pca.worker.ts), used by src/runner/pcaClient.ts. */
export interface PcaRequest {
  id: number;
  /** n x d row-major. */
  features: Float32Array;
  n: number;
  d: number;
  components: number;
}

export type PcaResponse =
  | { id: number; ok: true; coords: Float32Array; variances: Float64Array; totalVariance: number; iterations: number; converged: boolean; ms: number }
  | { id: number; ok: false; message: string };
