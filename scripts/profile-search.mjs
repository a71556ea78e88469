#!/usr/bin/env node
/**
 * What the page's main thread does while the app runs selective search (issue 24, part 4), and an
 * A/B of two builds of the app in ONE Chromium run (searches alternate between the builds, so load
 * from other processes on this shared machine hits both alike).
 *
 *   npx vite build --minify false --outDir /tmp/A   (one build per variant; unminified names)
 *   npx tsx scripts/profile-search.mjs --dirs A=/tmp/A,B=/tmp/B --photo fruits.jpg --reps 6 [--top 25]
 *     [--warm 1] (untimed searches per build first)  [--trace 1] (one traced search per build and
 *     kind: self time per trace event on the main thread, busy time per thread)  [--count FILE]
 *     (an init script that fills window.__s24Counts, e.g. counts of canvas calls; printed per search)
 *
 * Each search is the Proposals stage's "Recompute" button (with a new ranking seed: the same work),
 * then the app's pool alone (window.__rcnnBench.searchOnly: no store, no panels). The main thread
 * is sampled with the CDP Profiler; the window is bounded by two marker functions run in the page
 * right before the click and right when the result reaches the store, so the numbers cover the
 * search and not the drawing of its result. "main busy" is the sampled non-idle time in that window.
 */
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { serveStatic } from '../src/cli/bench/serveStatic.ts';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']] : acc), []),
);
const dirs = String(args.dirs ?? 'A=dist').split(',').map((d) => d.split('=')).map(([label, dir]) => ({ label, dir: resolve(dir) }));
const photo = String(args.photo ?? 'fruits.jpg');
const reps = Number(args.reps ?? 4);
const top = Number(args.top ?? 20);
const warm = Number(args.warm ?? 2);


/** Self and inclusive sampled time per function inside the marker window. */
function analyse(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n) => {
    const f = n.callFrame;
    const file = f.url ? f.url.split('/').pop().replace(/-[\w-]{8}\.js$/, '.js') : '';
    return `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`;
  };
  const stackHas = (id, name) => {
    for (let x = id; x !== undefined; x = parent.get(x)) if (byId.get(x).callFrame.functionName === name) return true;
    return false;
  };
  const { samples, timeDeltas } = profile;
  let start = -1;
  let end = samples.length;
  for (let i = 0; i < samples.length; i++) if (stackHas(samples[i], 's24MarkStart')) start = i;
  for (let i = samples.length - 1; i > start; i--) if (stackHas(samples[i], 's24MarkEnd')) end = i;
  const self = new Map();
  const incl = new Map();
  let busy = 0;
  let span = 0;
  for (let i = start + 1; i < end; i++) {
    const dt = (timeDeltas[i + 1] ?? 0) / 1000;
    span += dt;
    const leaf = byId.get(samples[i]);
    if (leaf.callFrame.functionName === '(idle)') continue;
    busy += dt;
    self.set(key(leaf), (self.get(key(leaf)) ?? 0) + dt);
    const seen = new Set();
    for (let x = samples[i]; x !== undefined; x = parent.get(x)) {
      const k = key(byId.get(x));
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
  return { busy, span, self, incl, found: start >= 0 && end < samples.length };
}

function summariseTrace(events, title) {
  const names = new Map();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);
  const mark = (n) => events.find((e) => e.name === n && e.cat.includes('user_timing'));
  const a = mark('s24-start');
  const b = mark('s24-end');
  if (!a || !b) return console.log(`${title}: marks not found in the trace`);
  const main = `${a.pid}:${a.tid}`;
  const t0 = a.ts;
  const t1 = b.ts;
  // Complete events per thread, nested by time: self = dur - children's dur.
  const byThread = new Map();
  for (const e of events) {
    if (e.ph !== 'X' || e.dur === undefined || e.ts + e.dur < t0 || e.ts > t1) continue;
    const k = `${e.pid}:${e.tid}`;
    if (!byThread.has(k)) byThread.set(k, []);
    byThread.get(k).push(e);
  }
  console.log(`\n${title}: trace window ${((t1 - t0) / 1000).toFixed(0)} ms`);
  const busy = [];
  for (const [k, list] of byThread) {
    list.sort((x, y) => x.ts - y.ts || y.dur - x.dur);
    const self = new Map();
    const stack = [];
    let top = 0;
    for (const e of list) {
      const s0 = Math.max(e.ts, t0);
      const s1 = Math.min(e.ts + e.dur, t1);
      while (stack.length && stack.at(-1).end <= e.ts) stack.pop();
      const d = Math.max(0, s1 - s0);
      if (stack.length) {
        const parent = stack.at(-1);
        self.set(parent.name, (self.get(parent.name) ?? 0) - d);
      } else top += d;
      self.set(e.name, (self.get(e.name) ?? 0) + d);
      stack.push({ name: e.name, end: e.ts + e.dur });
    }
    busy.push([k, names.get(k) ?? '?', top, self]);
  }
  busy.sort((x, y) => y[2] - x[2]);
  for (const [k, name, top] of busy.slice(0, 8)) console.log(`  ${(top / 1000).toFixed(0).padStart(6)} ms top-level events  ${name}${k === main ? ' (the page)' : ''}`);
  const show = (title, threads, n) => {
    const self = new Map();
    for (const t of threads) for (const [k, v] of t[3]) self.set(k, (self.get(k) ?? 0) + v);
    console.log(`  ${title}, self time per event (ms):`);
    for (const [k, v] of [...self].sort((x, y) => y[1] - x[1]).slice(0, n)) console.log(`    ${(v / 1000).toFixed(1).padStart(7)}  ${k}`);
  };
  show('the page\'s main thread', busy.filter((x) => x[0] === main), 18);
  show('ThreadPoolForegroundWorker threads', busy.filter((x) => x[1].startsWith('ThreadPool')), 10);
}
const servers = [];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'], headless: true });
const pages = [];
try {
  for (const d of dirs) {
    const { server, url } = await serveStatic(d.dir);
    servers.push(server);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    if (args.count) await page.addInitScript({ path: args.count });
    page.on('pageerror', (e) => console.error(`[${d.label}] page error: ${e.message}`));
    await page.goto(url);
    console.error(`[${d.label}] opened ${url}`);
    await page.waitForFunction(() => !!window.__rcnnStore?.getState().image, null, { timeout: 120_000 });
    await page.locator(`[data-sample="${photo}"]`).click();
    await page.waitForFunction((name) => {
      const s = window.__rcnnStore.getState();
      return s.image?.name === name && !s.imageLoading;
    }, photo, { timeout: 120_000 });
    await page.evaluate(() => window.__rcnnStore.getState().setProposalParams({ maxBoxes: 2000, seed: 1 }));
    await page.locator('[data-stage=proposals]').click();
    // Entering the stage starts a search of its own: let it finish.
    await page.waitForFunction(() => !!window.__rcnnStore.getState().proposals && !window.__rcnnStore.getState().progress, null, { timeout: 120_000 });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Performance.enable');
    pages.push({ ...d, page, cdp, seed: 1 });
    console.error(`[${d.label}] ${photo} loaded`);
  }

  const one = async (p, kind, profile = true) => {
    const seed = ++p.seed;
    const before = Object.fromEntries((await p.cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    if (profile) await p.cdp.send('Profiler.start');
    const r = await p.page.evaluate(
      async ([seed, kind]) => {
        const st = window.__rcnnStore;
        function spin(ms) {
          const e = performance.now() + ms;
          while (performance.now() < e);
        }
        function s24MarkStart() {
          spin(3);
        }
        function s24MarkEnd() {
          spin(3);
        }
        st.getState().setProposalParams({ seed });
        await new Promise((ok) => setTimeout(ok, 100));
        s24MarkStart();
        window.__s24Counts?.clear(); window.__s24T0 = performance.now();
        performance.mark('s24-start');
        const t0 = performance.now();
        let ms;
        let tEnd;
        if (kind === 'app') {
          const done = new Promise((ok) => {
            const un = st.subscribe((s) => {
              if (s.proposals?.params.seed === seed) {
                un();
                performance.mark('s24-end');
                s24MarkEnd();
                ok(performance.now());
              }
            });
          });
          const button = document.querySelector('[data-testid=compute-proposals]');
          if (button.disabled) throw new Error('the Compute button is disabled');
          button.click();
          tEnd = await done;
          ms = st.getState().proposals.ms;
        } else {
          ms = (await window.__rcnnBench.searchOnly()).ms;
          tEnd = performance.now();
          performance.mark('s24-end');
          s24MarkEnd();
        }
        const wall = tEnd - t0;
        const draws = window.__s24Counts ? Object.fromEntries(window.__s24Counts) : undefined;
        // Let the result be drawn before the next search.
        await new Promise((ok) => setTimeout(ok, 300));
        return { ms, wall, draws };
      },
      [seed, kind],
    );
    if (!profile) return r;
    const after = Object.fromEntries((await p.cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const a = analyse((await p.cdp.send('Profiler.stop')).profile);
    return { ...r, ...a, taskMs: 1000 * (after.TaskDuration - before.TaskDuration) };
  };

  for (const p of pages) for (let i = 0; i < warm; i++) {
    const a = await one(p, 'app');
    const o = await one(p, 'only');
    console.error(`[${p.label}] warm-up: app ${a.ms.toFixed(0)} ms, alone ${o.ms.toFixed(0)} ms`);
  }
  if (args.trace) {
    // One app search and one of the pool alone per build, traced: self time per trace event on the
    // page's main thread, and busy time per thread, between the two marks.
    for (const p of pages) for (const kind of ['app', 'only']) {
      await browser.startTracing(p.page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'v8', 'v8.execute', 'toplevel', 'blink', 'disabled-by-default-v8.gc'] });
      const r = await one(p, kind, false);
      const buf = await browser.stopTracing();
      const { traceEvents } = JSON.parse(buf.toString());
      summariseTrace(traceEvents, `${p.label} ${kind} (search ${r.ms.toFixed(0)} ms)`);
    }
  }
  const results = [];
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 ? [...pages].reverse() : pages;
    for (const p of order) {
      for (const kind of ['app', 'only']) {
        const r = await one(p, kind);
        results.push({ label: p.label, kind, rep, ...r });
        if (r.draws) console.log(`  canvas calls: ${JSON.stringify(r.draws)}`);
        console.log(`${p.label} ${kind.padEnd(4)} rep ${rep}: search ${r.ms.toFixed(0)} ms (wall ${r.wall.toFixed(0)}), main busy ${r.busy.toFixed(0)} ms of ${r.span.toFixed(0)} sampled${r.found ? '' : ' (markers not found)'}; CDP task time click..+300ms ${r.taskMs.toFixed(0)} ms`);
      }
    }
  }
  const med = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  console.log('\nmedians:');
  for (const p of pages) for (const kind of ['app', 'only']) {
    const rs = results.filter((r) => r.label === p.label && r.kind === kind);
    console.log(`${p.label} ${kind.padEnd(4)}: search ${med(rs.map((r) => r.ms)).toFixed(0)} ms, main busy ${med(rs.map((r) => r.busy)).toFixed(0)} ms, task time ${med(rs.map((r) => r.taskMs)).toFixed(0)} ms (n=${rs.length})`);
  }
  for (const p of pages) {
    const rs = results.filter((r) => r.label === p.label && r.kind === 'app');
    for (const [what, field] of [['self', 'self'], ['inclusive', 'incl']]) {
      const sum = new Map();
      for (const r of rs) for (const [k, v] of r[field]) sum.set(k, (sum.get(k) ?? 0) + v / rs.length);
      console.log(`\n${p.label} app search: top ${what} time per search (ms, mean of ${rs.length})`);
      for (const [k, v] of [...sum].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${v.toFixed(1).padStart(7)}  ${k}`);
    }
    // React components (function names that start with a capital) and hooks, inclusive.
    const comp = new Map();
    for (const r of rs) for (const [k, v] of r.incl) if (/^(use)?[A-Z]\w* /.test(k)) comp.set(k, (comp.get(k) ?? 0) + v / rs.length);
    console.log(`\n${p.label} app search: components and hooks, inclusive ms per search`);
    for (const [k, v] of [...comp].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${v.toFixed(1).padStart(7)}  ${k}`);
  }
} finally {
  await browser.close();
  for (const s of servers) s.close();
}
