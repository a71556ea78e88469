/**
 * The benchmark page: owns the runner workers and relays messages from the driver
 * (src/cli/bench/cnnBrowser.ts, through Playwright) to them. No logic of its own, so the
 * timing happens inside the workers, off this thread.
 */
import type { BenchPage, RunnerRequest, RunnerResponse } from '../../src/cli/bench/cnnBrowserProtocol';

const workers = new Map<number, { w: Worker; waiting: ((r: RunnerResponse) => void) | null }>();
let nextId = 1;

const bench: BenchPage = {
  env: () => ({
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    hardwareConcurrency: navigator.hardwareConcurrency ?? 1,
    userAgent: navigator.userAgent,
    webgpu: 'gpu' in navigator,
  }),
  spawn(label) {
    const id = nextId++;
    const w = new Worker(new URL('./runner.worker.ts', import.meta.url), { type: 'module', name: label });
    const entry = { w, waiting: null as ((r: RunnerResponse) => void) | null };
    const settle = (r: RunnerResponse) => {
      const f = entry.waiting;
      entry.waiting = null;
      f?.(r);
    };
    w.onmessage = (e: MessageEvent<RunnerResponse>) => settle(e.data);
    w.onerror = (e) => settle({ type: 'error', message: e.message || 'worker failed to start' });
    workers.set(id, entry);
    return id;
  },
  send(id, msg: RunnerRequest) {
    const entry = workers.get(id);
    if (!entry) return Promise.resolve({ type: 'error', message: `no worker ${id}` });
    return new Promise<RunnerResponse>((resolve) => {
      entry.waiting = resolve;
      entry.w.postMessage(msg);
    });
  },
  kill(id) {
    const entry = workers.get(id);
    entry?.w.terminate();
    entry?.waiting?.({ type: 'error', message: 'terminated' });
    workers.delete(id);
  },
};

(window as unknown as { bench: BenchPage }).bench = bench;
document.getElementById('out')!.textContent = 'ready';
