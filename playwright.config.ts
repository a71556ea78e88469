import { defineConfig } from '@playwright/test';
import { chromiumExecutable, CHROMIUM_ARGS } from './src/cli/chromium';

const PORT = Number(process.env.E2E_PORT ?? 4179);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  timeout: 180_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    viewport: { width: 1280, height: 720 },
    launchOptions: { executablePath: chromiumExecutable(), args: CHROMIUM_ARGS },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    // `npm test`: Node, npm and Chromium only, within 8 minutes on a 2-core machine.
    { name: 'app', testIgnore: 'tools/**', grepInvert: /@slow/ },
    // `npm run test:slow`: the long end-to-end checks (tagged @slow): training in the browser against
    // rcnn train on 30 photos, WebGPU parity on SwiftShader, memory and tensors over repeated runs.
    { name: 'slow', testIgnore: 'tools/**', grep: /@slow/ },
    // `npm run test:tools`: checks that need Python and PyTorch (tools/gpu-finetune).
    { name: 'tools', testMatch: 'tools/**/*.spec.ts' },
  ],
  // Tests run against the production build (vite preview), as users get it.
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
