#!/usr/bin/env node
// `npm start`: build the app if the build is missing or older than the sources, then serve the
// production build on http://127.0.0.1:4173/ (WebGPU needs a secure context; localhost is one).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const port = process.env.PORT ?? '4173';

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const e of readdirSync(path)) m = Math.max(m, newestMtime(join(path, e)));
  return m;
}

const built = join(root, 'dist', 'index.html');
const sources = Math.max(...['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) => newestMtime(join(root, p))));
if (!existsSync(built) || statSync(built).mtimeMs < sources) {
  console.log('Building the app (vite build)…');
  const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const url = `http://127.0.0.1:${port}/`;
console.log(`\nR-CNN Explorer: ${url}  (Ctrl+C to stop)\n`);
const args = ['vite', 'preview', '--host', '127.0.0.1', '--port', port, '--strictPort'];
// Open a browser only where there is a desktop to open it on.
if (process.env.DISPLAY || process.env.WAYLAND_DISPLAY || process.platform === 'darwin' || process.platform === 'win32') args.push('--open');
const child = spawn('npx', args, { cwd: root, stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
