import * as tf from '@tensorflow/tfjs-core';

/**
 * The active backend's best case, the denominator of the CNN benchmarks' "% of peak": an n x n
 * matmul run back to back for `ms` milliseconds (after one warm-up run, which on WebGPU/WebGL
 * also compiles the shader). Returns GFLOP/s = 2 n^3 per product.
 */
export async function matmulPeakGflops(n: number, ms: number): Promise<number> {
  const m = tf.randomUniform([n, n], -0.5, 0.5, 'float32', 1) as tf.Tensor2D;
  const once = async () => {
    const r = tf.matMul(m, m);
    await r.data();
    r.dispose();
  };
  try {
    await once();
    let k = 0;
    const t0 = performance.now();
    do {
      await once();
      k++;
    } while (performance.now() - t0 < ms);
    return (2 * n ** 3 * k) / ((performance.now() - t0) / 1000) / 1e9;
  } finally {
    m.dispose();
  }
}
