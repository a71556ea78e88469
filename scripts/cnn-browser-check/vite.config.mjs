// Builds the CNN browser check page (scripts/cnn-browser-check.mjs) on its own, outside the app.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  worker: { format: 'es' },
  build: { outDir: process.env.CNN_CHECK_OUT ?? '/tmp/cnn-browser-check', emptyOutDir: true, target: 'es2022' },
});
