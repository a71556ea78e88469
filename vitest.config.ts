import { defineConfig } from 'vitest/config';

// `npm test`'s unit tests: Node only. The Python/PyTorch checks of tools/ run with
// `npm run test:tools` (vitest.tools.config.ts).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
