import { availableParallelism } from 'node:os';
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
    // Vitest's default leaves a core free (one worker on a 2-core machine): the CLI training test,
    // most of whose time is one process waiting on its own workers, then ran alone for a minute.
    maxWorkers: Math.max(2, availableParallelism()),
  },
});
