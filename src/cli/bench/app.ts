/**
 * `rcnn bench app`: the real app in Chromium, "Run all stages" on fixed sample photos, per-stage
 * times read from its store (window.__rcnnStore), each against a peer measured in the same run:
 *   - the CNN stage (warp + CNN + SVM + box regression over every proposal, the pool of CNN
 *     workers, as the user waits for it) against the forward-only throughput of the same
 *     workers with the same model (conv1..fc7 on a fixed batch, no warp, no heads: what
 *     `rcnn bench cnn-browser` measures), taken right before and right after each photo's run
 *     and averaged, so load from other processes hits both alike;
 *   - the app's selective search against the CLI's (`rcnn proposals`: the same ProposalPool of
 *     worker threads, as many as the app's Web Workers, warmed up) on the same photo, run right
 *     after it; then the app's pool alone (no store, no panels) on the same photo, and the runs'
 *     own time inside the workers of both pools, which tells the app's overhead (stage against
 *     pool alone) from the engine's (the same code in Chromium's workers against Node's).
 * Each photo runs --reps times (medians reported): the CNN stage again on the same proposals, and
 * selective search again with another ranking seed (the same work). The first run of the first
 * photo is a cold start (the page just opened: workers start, the model loads).
 *
 * The app is built with Vite into a temporary folder and served as `vite preview` serves it
 * (no cross-origin isolation headers); nothing is fetched from the network.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../command';
import { CHROMIUM_ARGS, chromiumExecutable } from '../chromium';
import { loadImageFile } from '../io';
import { createNodeProposalPool } from '../ssPool';
import { REPO_ROOT } from './shared';
import { serveStatic } from './serveStatic';
import { type BenchTarget, benchNumber, formatTable, median } from './types';


interface StoreSnapshot {
  proposals: number;
  proposalsMs: number;
  proposalWorkers: number;
  featuresMs: number;
  cropsPerSecond: number;
  backend: string;
  workers: number;
  stageMs: Record<string, number>;
  width: number;
  height: number;
}

type BenchWindow = {
  __rcnnStore: { getState: () => Record<string, unknown> };
  __rcnnBench: {
    forwardOnly: (batch: number, ms: number) => Promise<{ cropsPerSecond: number; workers: number }>;
    searchOnly: () => Promise<{ ms: number; runMs: number }>;
  };
};

export const appBench: BenchTarget = {
  name: 'app',
  summary:
    'The real app in Chromium: "Run all stages" on fixed sample photos, per-stage times from its store; the CNN stage against the forward-only throughput of the same CNN workers, and selective search against the CLI\'s, each measured in the same run.',
  optionsHelp: '--photos fruits.jpg,apple.jpg,horses.jpg (public/samples)  --proposals N (default 2000)  --features warp|roi (default warp)  --reps 3 (runs per photo; medians)  --forward-ms 3000 (per forward-only measurement)  --headed',
  async run({ options, stdout, stderr }) {
    const photos = String(options.photos ?? 'fruits.jpg,apple.jpg,horses.jpg').split(',').map((p) => p.trim()).filter(Boolean);
    const nProposals = benchNumber(options, 'proposals', 2000, { min: 1, integer: true });
    const forwardMs = benchNumber(options, 'forward-ms', 3000, { min: 100 });
    const reps = benchNumber(options, 'reps', 3, { min: 1, integer: true });
    const mode = String(options.features ?? 'warp');
    if (mode !== 'warp' && mode !== 'roi') throw new CliError(`--features must be warp or roi, got "${mode}"`, 2);
    const out = join(tmpdir(), 'rcnn-app-bench');
    stderr(`building the app into ${out}\n`);
    const { build } = await import('vite');
    await build({ root: REPO_ROOT, configFile: join(REPO_ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
    const { server, url } = await serveStatic(out);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumExecutable(), args: CHROMIUM_ARGS, headless: !options.headed });
    const cliPool = createNodeProposalPool();
    cliPool.warmUp();
    const rows: Array<Array<string | number>> = [['photo', 'start', 'proposals', 'search app ms', 'search CLI ms', 'app / CLI', 'app pool alone ms', 'in-worker app / CLI', 'CNN stage ms', 'app crops/s', 'forward-only crops/s', 'app / forward-only', 'where the workers spent it (ms)']];
    const notes: string[] = [];
    const perRun: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.on('pageerror', (e) => stderr(`page error: ${e.message}\n`));
      await page.goto(url);
      await page.waitForFunction(() => !!(window as unknown as BenchWindow).__rcnnStore?.getState().image, null, { timeout: 120_000 });
      const forwardOnly = () => page.evaluate((ms) => (window as unknown as BenchWindow).__rcnnBench.forwardOnly(16, ms), forwardMs);
      const waitCnn = () =>
        page.waitForFunction(() => {
          const s = (window as unknown as BenchWindow).__rcnnStore.getState() as { features?: { complete: boolean } | null; progress: unknown };
          return !!s.features?.complete && !s.progress;
        }, null, { timeout: 1_800_000, polling: 250 });
      for (const [k, photo] of photos.entries()) {
        await page.locator('[data-stage=image]').click();
        await page.locator(`[data-sample="${photo}"]`).click();
        await page.waitForFunction((name) => {
          const s = (window as unknown as BenchWindow).__rcnnStore.getState() as { image?: { name: string }; imageLoading: boolean };
          return s.image?.name === name && !s.imageLoading;
        }, photo, { timeout: 120_000 });
        await page.evaluate(
          ([n, m]) => {
            const s = (window as unknown as BenchWindow).__rcnnStore.getState() as { setProposalParams: (p: { maxBoxes: number; seed: number }) => void; setFeatureMode: (m: string) => void };
            s.setProposalParams({ maxBoxes: n as number, seed: 1 });
            s.setFeatureMode(m as string);
          },
          [nProposals, mode] as const,
        );
        const img = loadImageFile(join(REPO_ROOT, 'public/samples', photo));
        const search: Array<{ app: number; cli: number; pool: number; runRatio: number }> = [];
        const cnn: Array<{ ms: number; cps: number; peer: number; stageMs: Record<string, number> }> = [];
        let snap: StoreSnapshot | null = null;
        for (let rep = 0; rep < reps; rep++) {
          // The forward-only peer needs the model: on the cold start it is measured after the run only.
          const before = k === 0 && rep === 0 ? null : await forwardOnly();
          const t0 = Date.now();
          if (rep > 0) await page.evaluate(() => (window as unknown as { __rcnnStore: { setState: (p: Record<string, unknown>) => void } }).__rcnnStore.setState({ features: null, otherFeatures: null }));
          await page.getByTestId('run-all-header').click();
          await waitCnn();
          const after = await forwardOnly();
          snap = (await page.evaluate(() => {
            const s = (window as unknown as BenchWindow).__rcnnStore.getState() as {
              proposals: { boxes: Float32Array; ms: number; workers: number };
              features: { ms: number; cropsPerSecond: number; backend: string; stageMs: Record<string, number>; tfMemory?: { workers: number } };
              image: { image: { width: number; height: number } };
            };
            return {
              proposals: s.proposals.boxes.length / 4,
              proposalsMs: s.proposals.ms,
              proposalWorkers: s.proposals.workers,
              featuresMs: s.features.ms,
              cropsPerSecond: s.features.cropsPerSecond,
              backend: s.features.backend,
              workers: s.features.tfMemory?.workers ?? 1,
              stageMs: s.features.stageMs,
              width: s.image.image.width,
              height: s.image.image.height,
            };
          })) as StoreSnapshot;
          cnn.push({ ms: snap.featuresMs, cps: snap.cropsPerSecond, peer: before ? (before.cropsPerSecond + after.cropsPerSecond) / 2 : after.cropsPerSecond, stageMs: snap.stageMs });
          stderr(`${photo} run ${rep + 1}/${reps}: CNN stage ${(snap.featuresMs / 1000).toFixed(1)} s, ${snap.cropsPerSecond.toFixed(1)} crops/s vs forward-only ${cnn.at(-1)!.peer.toFixed(1)} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
          // Selective search: the app's (the first run's is Run all's own; later ones re-run it with
          // another ranking seed, which changes no work), then the CLI's right after.
          if (rep > 0) {
            await page.evaluate((seed) => (window as unknown as { __rcnnStore: { getState: () => { setProposalParams: (p: { seed: number }) => void } } }).__rcnnStore.getState().setProposalParams({ seed }), rep + 1);
            await page.locator('[data-stage=proposals]').click();
            await page.getByTestId('compute-proposals').click();
            await page.waitForFunction((seed) => {
              const s = (window as unknown as BenchWindow).__rcnnStore.getState() as { proposals?: { params: { seed: number } } | null; progress: unknown };
              return s.proposals?.params.seed === seed && !s.progress;
            }, rep + 1, { timeout: 600_000 });
          }
          const appMs = await page.evaluate(() => ((window as unknown as BenchWindow).__rcnnStore.getState() as { proposals: { ms: number } }).proposals.ms);
          const cli = await cliPool.run(img.image, { mode: 'fast', maxBoxes: nProposals });
          const only = await page.evaluate(() => (window as unknown as BenchWindow).__rcnnBench.searchOnly());
          const cliRunMs = cli.runs.reduce((t, r) => t + r.timings.totalMs, 0);
          search.push({ app: appMs, cli: cli.ms, pool: only.ms, runRatio: only.runMs / cliRunMs });
        }
        const s = snap!;
        const parts = Object.keys(cnn[0].stageMs).map((p) => `${p} ${Math.round(median(cnn.map((c) => c.stageMs[p] ?? 0)))}`).join(', ');
        rows.push([
          `${photo} (${s.width}x${s.height})`,
          k === 0 ? 'cold, then warm' : 'warm',
          s.proposals,
          median(search.map((x) => x.app)),
          median(search.map((x) => x.cli)),
          `${median(search.map((x) => x.app / x.cli)).toFixed(2)}x`,
          median(search.map((x) => x.pool)),
          `${median(search.map((x) => x.runRatio)).toFixed(2)}x`,
          median(cnn.map((c) => c.ms)),
          median(cnn.map((c) => c.cps)),
          median(cnn.map((c) => c.peer)),
          `${median(cnn.map((c) => (100 * c.cps) / c.peer)).toFixed(0)} %`,
          parts,
        ]);
        perRun.push(`${photo}: search app/CLI ${search.map((x) => (x.app / x.cli).toFixed(2)).join(', ')}; CNN app/forward-only ${cnn.map((c) => `${((100 * c.cps) / c.peer).toFixed(0)} %`).join(', ')}`);
        if (k === 0) notes.push(`Chromium ${browser.version()}, backend ${s.backend}, ${s.workers} CNN workers, ${s.proposalWorkers} selective-search workers (the CLI pool: ${cliPool.size} worker threads); CNN stage mode: ${mode}`);
      }
    } finally {
      cliPool.dispose();
      await browser.close();
      server.close();
    }
    stdout(formatTable(rows));
    notes.push(`per run (medians above): ${perRun.join('; ')}`);
    notes.push(
      'CNN stage ms: the store\'s features.ms (every proposal warped, through the CNN and the heads, results back on the page); app crops/s = proposals / that time; forward-only crops/s: the same workers and model, conv1..fc7 on a fixed batch of 16 (the app\'s batch on wasm), fc7 read back, all workers at once, ' +
        `${forwardMs} ms right before and right after each run (after only on the cold start), averaged; medians over ${reps} runs per photo, the first of the first photo a cold start`,
      'search app ms: the store\'s proposals.ms (the app\'s pool of Web Workers, from the request to the boxes on the page); search CLI ms: `rcnn proposals`\'s pool of worker threads on the same decoded photo, run right after; app pool alone ms: the app\'s pool on the same photo and settings without the store and panels, run after that; in-worker app / CLI: the runs\' own time inside the workers (RunResult.timings, summed), app pool alone against the CLI pool, the same code, so what is left when it is above 1 is the engine (Chromium\'s workers against Node\'s), not the app; "where the workers spent it": FeatureBatch.timing summed over batches and workers',
      'targets (issue 24): app / forward-only >= 80 %, search app / CLI <= 1.3x',
    );
    stdout(notes.map((n) => `- ${n}`).join('\n') + '\n');
    return 0;
  },
};
