// Builds the CNN benchmark page (`rcnn bench cnn-browser`) on its own, outside the app's bundle.
// onnxruntime-web is not bundled: the runner imports it at run time from /ort/, which the
// bench's server maps to node_modules/onnxruntime-web/dist.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  worker: { format: 'es' },
  build: { outDir: process.env.CNN_BENCH_OUT ?? '/tmp/rcnn-cnn-browser-bench', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 8192 },
});
