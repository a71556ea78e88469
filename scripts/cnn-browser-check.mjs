#!/usr/bin/env node
/**
 * The CNN worker in real Chromium: builds a small page around src/runner/cnnWorkerClient.ts, loads a
 * random-weight CaffeNet-shaped model into a worker per backend (wasm, webgpu, webgl, cpu),
 * extracts features of the same proposals and prints, per backend, what actually ran (adapter,
 * software fallback, limits, fc layers split for the binding cap), crops/s and the largest fc7
 * difference from the first backend.
 *
 *   node scripts/cnn-browser-check.mjs                         # width 0.25, 6 crops, all backends
 *   node scripts/cnn-browser-check.mjs '{"width":1,"backends":["wasm","webgpu"],"n":2,"cap":134217728}'
 *       # full CaffeNet with a 128 MiB binding cap: fc6 (151 MB) is split on WebGPU
 *
 * Exit code 1 when a backend's fc7 differs from the first by more than 1e-4 (relative to its max).
 * Chromium: $CHROMIUM_PATH or /usr/bin/chromium, with --enable-unsafe-webgpu.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = process.env.CNN_CHECK_OUT ?? '/tmp/cnn-browser-check';
const build = spawnSync('npx', ['vite', 'build', '--config', join(here, 'cnn-browser-check/vite.config.mjs')], { stdio: 'inherit', env: { ...process.env, CNN_CHECK_OUT: out } });
if (build.status !== 0) process.exit(build.status ?? 1);

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
const server = createServer(async (req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const file = join(out, decodeURIComponent(path === '/' ? '/index.html' : path));
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'],
});
let failed = false;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 60_000 });
  const opts = JSON.parse(process.argv[2] ?? '{"width":0.25,"backends":["wasm","webgpu","webgl","cpu"],"n":6}');
  const result = await page.evaluate(async (o) => {
    const res = await window.runCheck(o);
    const base = res[o.backends[0]].fc7;
    let maxRef = 0;
    for (const v of base) maxRef = Math.max(maxRef, Math.abs(v));
    const rows = {};
    for (const [k, v] of Object.entries(res)) {
      let d = 0;
      for (let i = 0; i < base.length; i++) d = Math.max(d, Math.abs(v.fc7[i] - base[i]));
      rows[k] = {
        running: v.info.name,
        fellBack: v.info.fellBack,
        software: v.info.software,
        adapter: v.info.adapter ? `${v.info.adapter.vendor} ${v.info.adapter.architecture}${v.info.adapter.isFallbackAdapter ? ' (fallback adapter)' : ''}` : v.info.glRenderer,
        maxStorageBufferBindingSize: v.info.limits?.maxStorageBufferBindingSize,
        bindingCapInEffect: v.cap,
        splitFcLayers: v.split,
        cropsPerSecond: Number(v.s.cropsPerSecond.toFixed(2)),
        fc7RelDiffVsFirst: d / maxRef,
      };
    }
    return rows;
  }, opts);
  console.log(JSON.stringify(result, null, 1));
  failed = Object.values(result).some((r) => !(r.fc7RelDiffVsFirst < 1e-4));
} finally {
  await browser.close();
  server.close();
}
process.exit(failed ? 1 : 0);
