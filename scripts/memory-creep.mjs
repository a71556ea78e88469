#!/usr/bin/env node
// Renderer memory over repeated runs of the pipeline (issue 25: Chromium's renderer grew from 555
// to 816 MB over 30 runs, ~9.7 MB a run, while the JS heaps stayed flat). Not part of npm test: it
// takes minutes. Serves the current build (run `npx vite build` first), and for each run picks the
// next sample photo in the gallery and runs the pipeline with few proposals. After each run it
// collects garbage in the page and every worker (--expose-gc), so what is printed is memory still
// held: the resident memory (VmRSS from /proc) of the renderer process, which holds the page and
// its workers (their wasm memories included), and the page's JS heap.
//   npx tsx scripts/memory-creep.mjs [runs=30] [proposals=100] [mode=all]
// Modes, to find where memory goes:
//   all        Run all stages (selective search, CNN, heads, NMS)
//   proposals  selective search only
//   image      the photo only (decode and drawing)
//   upload     selective search on photos given through the file input (the gallery never shown)
//   toggle     no work: leave the Image stage for $CREEP_TOGGLE_STAGE (warp) and come back
// Diagnostics (environment): CREEP_HEAPS=1 V8 heap and ArrayBuffer bytes of the page and each
// worker; CREEP_SMAPS=1 change of the renderer's mappings by name; CREEP_INFRA=1 Chromium's
// memory-infra dump by allocator after the second and last runs (CREEP_INFRA_DETAIL=cc/image_memory
// lists that allocator's entries); CREEP_SNAPSHOT=1 the page's heap objects by constructor.
// That is how the growth was found: memfd shared memory (smaps), then cc/image_memory (memory-infra),
// whose entries were the sample thumbnails decoded again under new ids (see SampleGallery).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { chromiumExecutable, CHROMIUM_ARGS } from '../e2e/chromium.ts';

const runs = Number(process.argv[2] ?? 30);
const proposals = Number(process.argv[3] ?? 100);
const upTo = process.argv[4] ?? 'all';
const port = Number(process.env.PORT ?? 4198);

/** Pids of the descendants of `root` whose command line contains `type`. */
function processes(root, type) {
  const parent = new Map();
  const cmd = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const status = readFileSync(`/proc/${d}/status`, 'utf8');
      parent.set(Number(d), Number(/PPid:\s+(\d+)/.exec(status)[1]));
      cmd.set(Number(d), readFileSync(`/proc/${d}/cmdline`, 'utf8'));
    } catch {
      /* gone */
    }
  }
  const under = (p) => {
    for (let q = p; q > 1; q = parent.get(q) ?? 0) if (q === root) return true;
    return false;
  };
  return [...cmd.keys()].filter((p) => under(p) && cmd.get(p).includes(type));
}

function rssMB(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return 0;
  }
}

/**
 * Heap use of the page and of every worker, from Chromium's DevTools protocol (Runtime.getHeapUsage
 * through Target.sendMessageToTarget): V8 heap and ArrayBuffer backing stores per isolate.
 */
async function heapUsage(browser) {
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send('Target.getTargets');
  const out = [];
  for (const t of targetInfos.filter((x) => x.type === 'worker' || x.type === 'page')) {
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: t.targetId, flatten: false });
    const reply = new Promise((resolve) => {
      const on = (e) => {
        if (e.sessionId !== sessionId) return;
        const m = JSON.parse(e.message);
        if (m.id === 1) {
          cdp.off('Target.receivedMessageFromTarget', on);
          resolve(m.result ?? {});
        }
      };
      cdp.on('Target.receivedMessageFromTarget', on);
    });
    await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: 1, method: 'Runtime.getHeapUsage' }) });
    const r = await Promise.race([reply, new Promise((r) => setTimeout(() => r({}), 3000))]);
    await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
    out.push({ name: t.type === 'page' ? 'page' : t.title || t.url.split('/').pop(), ...r });
  }
  await cdp.detach();
  return out;
}

/** Experiment: the renderer's resident memory by mapping name (smaps), largest first. */
function smapsByName(pid) {
  const agg = new Map();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) name = m[1] || '(anonymous)';
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r) agg.set(name.replace(/\/.*\//, ''), (agg.get(name.replace(/\/.*\//, '')) ?? 0) + Number(r[1]) / 1024);
  }
  return agg;
}

/**
 * Experiment: Chromium's own accounting of each process's memory by allocator (memory-infra
 * dump over the DevTools protocol): malloc, partition_alloc, discardable, cc, skia, v8, ...
 */
async function memoryInfra(browser, label) {
  const cdp = await browser.newBrowserCDPSession();
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: ['disabled-by-default-memory-infra'], memoryDumpConfig: { triggers: [] } }, transferMode: 'ReportEvents' });
  await cdp.send('Tracing.requestMemoryDump', { deterministic: true, levelOfDetail: 'detailed' });
  await cdp.send('Tracing.end');
  await done;
  await cdp.detach();
  const out = [];
  for (const e of events) {
    const dumps = e.args?.dumps?.allocators;
    if (!dumps || e.ph !== 'v') continue;
    const top = new Map();
    for (const [name, d] of Object.entries(dumps)) {
      if (name.split('/').length > 2) continue;
      const size = parseInt(d.attrs?.size?.value ?? '0', 16);
      if (size) top.set(name, size / 2 ** 20);
    }
    out.push({ pid: e.pid, top });
    if (process.env.CREEP_INFRA_DETAIL) {
      const sub = Object.entries(dumps).filter(([n]) => n.startsWith(process.env.CREEP_INFRA_DETAIL));
      if (sub.length) console.log(`  ${process.env.CREEP_INFRA_DETAIL} entries in pid ${e.pid}: ${sub.length}\n` + sub.slice(0, 40).map(([n, d]) => `    ${n} ${JSON.stringify(Object.fromEntries(Object.entries(d.attrs ?? {}).map(([k, v]) => [k, v.value])))}`).join('\n'));
    }
  }
  console.log(`memory-infra ${label}:`);
  for (const { pid, top } of out) {
    const list = [...top.entries()].filter(([, v]) => v > 0.5).sort((a, b) => b[1] - a[1]).slice(0, 18);
    console.log(`  pid ${pid}: ${list.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  }
}

/** Experiment: count the page's heap objects by constructor (typed arrays and their sizes included). */
async function snapshotSummary(page, label) {
  const cdp = await page.context().newCDPSession(page);
  const chunks = [];
  cdp.on('HeapProfiler.addHeapSnapshotChunk', (e) => chunks.push(e.chunk));
  await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  const snap = JSON.parse(chunks.join(''));
  const f = snap.snapshot.meta.node_fields, types = snap.snapshot.meta.node_types[0];
  const N = f.length, nodes = snap.nodes, strings = snap.strings;
  const agg = new Map();
  for (let i = 0; i < nodes.length; i += N) {
    const type = types[nodes[i + f.indexOf('type')]];
    const name = strings[nodes[i + f.indexOf('name')]];
    const key = `${type}:${name.slice(0, 60)}`;
    const a = agg.get(key) ?? { n: 0, size: 0 };
    a.n++;
    a.size += nodes[i + f.indexOf('self_size')];
    agg.set(key, a);
  }
  const top = [...agg.entries()].filter(([k]) => !process.env.CREEP_SNAPSHOT_GREP || new RegExp(process.env.CREEP_SNAPSHOT_GREP, 'i').test(k)).sort((a, b) => b[1].size - a[1].size).slice(0, 25);
  console.log(`heap snapshot ${label}:\n${top.map(([k, v]) => `  ${(v.size / 2 ** 20).toFixed(2)} MB  ${v.n}  ${k}`).join('\n')}`);
  await cdp.detach();
}

const server = spawn('node_modules/.bin/vite', ['preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { stdio: 'ignore' });
try {
  await new Promise((r) => setTimeout(r, 2500));
  // --expose-gc: a full collection in the page and every worker before each reading, so what is
  // measured is memory still held, not garbage waiting for a collection.
  const server2 = await chromium.launchServer({ executablePath: chromiumExecutable(), args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc'] });
  const root = server2.process().pid;
  const browser = await chromium.connect(server2.wsEndpoint());
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.getByTestId('image-facts').filter({ hasText: 'apple.jpg' }).waitFor();
  await page.locator('[data-stage=proposals]').click();
  await page.getByTestId('ss-max').fill(String(proposals));
  const samples = ['apple.jpg', 'orange.jpg', 'fruits.jpg'];
  const rows = [];
  let lastSmaps = null;
  for (let i = 0; i < runs; i++) {
    const sample = samples[i % samples.length];
    if (upTo === 'toggle') {
      // Experiment: only leave and re-enter the Image stage (its sample gallery is re-created).
      await page.locator(`[data-stage=${process.env.CREEP_TOGGLE_STAGE ?? 'warp'}]`).click();
      await page.waitForTimeout(300);
      await page.locator('[data-stage=image]').click();
      await page.waitForTimeout(700);
    } else if (upTo === 'upload') {
      // Experiment: the photo through the file input, never visiting the Image stage (no gallery).
      if (i > 0) {
        await page.getByTestId('file-input').setInputFiles(`public/samples/${sample}`);
        await page.waitForFunction((n) => window.__rcnnStore.getState().image?.name === n && !window.__rcnnStore.getState().imageLoading, sample);
      }
      await page.locator('[data-stage=proposals]').click();
      if (i > 0) await page.getByTestId('compute-proposals').click();
    } else if (i > 0) {
      await page.locator('[data-stage=image]').click();
      await page.locator(`[data-sample="${sample}"]`).click();
      await page.getByTestId('image-facts').filter({ hasText: sample }).waitFor();
    }
    const t0 = Date.now();
    if (upTo === 'image' || upTo === 'toggle') {
      // nothing more: the photo alone (decode and drawing), or no work at all
    } else if (upTo === 'upload') {
      await page.locator('[data-stage=proposals][data-status=done]').waitFor({ timeout: 600_000 });
    } else if (upTo === 'proposals') {
      await page.locator('[data-stage=proposals]').click();
      await page.locator('[data-stage=proposals][data-status=done]').waitFor({ timeout: 600_000 });
    } else {
      await page.getByTestId('run-all-header').click();
      await page.locator('[data-stage=detections][data-status=done]').waitFor({ timeout: 600_000 });
    }
    await page.waitForTimeout(1000);
    for (let k = 0; k < 2; k++) {
      await page.evaluate(() => globalThis.gc?.());
      for (const w of page.workers()) await w.evaluate(() => globalThis.gc?.()).catch(() => undefined);
      await page.waitForTimeout(250);
    }
    const renderers = processes(root, '--type=renderer');
    const renderer = renderers.reduce((s, p) => s + rssMB(p), 0);
    const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
    rows.push(renderer);
    if (process.env.CREEP_SMAPS) {
      const now = new Map();
      for (const pid of renderers) for (const [k, v] of smapsByName(pid)) now.set(k, (now.get(k) ?? 0) + v);
      if (lastSmaps) {
        const d = [...now.entries()].map(([k, v]) => [k, v - (lastSmaps.get(k) ?? 0)]).filter(([, v]) => Math.abs(v) > 0.5).sort((a, b) => b[1] - a[1]);
        console.log('   smaps change: ' + d.slice(0, 8).map(([k, v]) => `${k} ${v > 0 ? '+' : ''}${v.toFixed(1)}`).join(', '));
      }
      lastSmaps = now;
    }
    if (process.env.CREEP_HEAPS) {
      const h = await heapUsage(browser);
      console.log('   ' + h.map((x) => `${x.name}: heap ${((x.usedSize ?? 0) / 2 ** 20).toFixed(1)}/${((x.totalSize ?? 0) / 2 ** 20).toFixed(1)} MB, buffers ${((x.backingStorageSize ?? 0) / 2 ** 20).toFixed(1)} MB, embedder ${((x.embedderHeapUsedSize ?? 0) / 2 ** 20).toFixed(1)} MB`).join(' | '));
    }
    if (process.env.CREEP_INFRA && (i === 1 || i === runs - 1)) await memoryInfra(browser, `after run ${i + 1}`);
    if (process.env.CREEP_SNAPSHOT && (i === 2 || i === runs - 1)) await snapshotSummary(page, `after run ${i + 1}`);
    const workers = page.workers().map((w) => w.url().split('/').pop().replace(/[-.][\w-]*\.js$/, '')).sort();
    console.log(`run ${String(i + 1).padStart(2)} ${sample.padEnd(11)} ${((Date.now() - t0) / 1000).toFixed(1)} s  renderer RSS ${renderer.toFixed(0)} MB  page JS heap ${(heap / 2 ** 20).toFixed(1)} MB  workers ${workers.length} (${[...new Set(workers)].map((n) => `${n} x${workers.filter((x) => x === n).length}`).join(', ')})`);
  }
  const half = Math.floor(rows.length / 2);
  const slope = (a, b) => (rows[b] - rows[a]) / (b - a);
  console.log(`growth per run: first half ${slope(0, half).toFixed(2)} MB, second half ${slope(half, rows.length - 1).toFixed(2)} MB`);
  await browser.close();
  await server2.close();
} finally {
  server.kill();
}
