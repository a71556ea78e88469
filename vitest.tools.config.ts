import { defineConfig } from 'vitest/config';

// `npm run test:tools`: the tools/ checks that run Python 3 with PyTorch, NumPy and Pillow (the GPU
// trainer on the CPU, its heads solver, torch.onnx.export parity). Slow (minutes) and not part of
// `npm test`; .ci/run runs both.
export default defineConfig({
  test: {
    include: ['tools/**/*.test.ts'],
    environment: 'node',
    testTimeout: 900_000,
    hookTimeout: 900_000,
    pool: 'forks',
    // One file at a time: each trains a network on the CPU.
    fileParallelism: false,
  },
});
