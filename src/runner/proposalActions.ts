/**
 * Orchestrates the stages for the app: owns the worker pools, runs a stage when asked, streams
 * its progress into the store, and cancels everything when the image changes or the user
 * cancels. Stage results are plain data in the store; a stage re-runs only when its inputs change.
 */
import { createBrowserProposalPool, type ProposalJobOptions, type ProposalJobResult, type ProposalPool } from './proposalWorkerPool';
import type { Cancellable, ProposalEngine } from '../pipeline/detector';
import { useStore, type ProposalParams } from '../state/store';
import type { RunResult, RunSpec } from '../core/selectiveSearch/types';
import { beginTask, endTask, isAbort } from './tasks';
import type { SelectiveSearchOptions } from '../core/selectiveSearch/types';
import { runsFromOptions, segmentationKey } from '../core/selectiveSearch/plan';

/** Selective search's output for one image and one set of parameters. */
export interface ProposalsResult {
  imageKey: string;
  params: ProposalParams;
  /** Flat boxes in working-image pixels, best-ranked first. */
  boxes: Float32Array;
  runIndex: Int32Array;
  regionId: Int32Array;
  specs: Required<RunSpec>[];
  runs: RunResult[];
  counts: { pooled: number; afterMinSide: number; unique: number };
  ms: number;
  workers: number;
}

let proposalPool: ProposalPool | null = null;

function pool(): ProposalPool {
  if (!proposalPool) proposalPool = createBrowserProposalPool();
  return proposalPool;
}

/**
 * Starts the selective-search workers now (module loading and start-up), so that the first
 * search does not pay for it: the app calls it on opening, while the first photo decodes in its
 * own worker. The CLI's `rcnn proposals` warms its pool the same way before it times a search.
 */
export function warmUpProposalWorkers(): void {
  pool().warmUp();
}

/** Selective search in the pool of Web Workers, as the pipeline's proposal engine (src/pipeline). */
export const proposalEngine: ProposalEngine<ProposalJobResult, Cancellable & Omit<ProposalJobOptions, keyof SelectiveSearchOptions>> = {
  propose: (image, options, hooks = {}) => pool().run(image, { ...options, ...hooks }),
};

export function searchOptions(p: ProposalParams): SelectiveSearchOptions {
  const base = { seed: p.seed, maxBoxes: p.maxBoxes };
  if (p.mode === 'custom') return { ...base, strategy: { colorSpaces: p.custom.colorSpaces, ks: p.custom.ks, similarities: p.custom.similarities } };
  return { ...base, mode: p.mode };
}

function firstPerSegmentation(opts: SelectiveSearchOptions): number[] {
  const seen = new Set<string>();
  const out: number[] = [];
  runsFromOptions(opts).forEach((spec, i) => {
    const k = segmentationKey(spec);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(i);
    }
  });
  return out;
}

export function proposalsUpToDate(): boolean {
  const s = useStore.getState();
  return !!s.image && !!s.proposals && s.proposals.imageKey === s.image.key && JSON.stringify(s.proposals.params) === JSON.stringify(s.proposalParams);
}

/** Selective search on the current image with the current parameters. */
export async function computeProposals(): Promise<ProposalsResult | null> {
  const s = useStore.getState();
  const img = s.image;
  if (!img) return null;
  if (proposalsUpToDate()) return s.proposals;
  const ctl = beginTask();
  const params = s.proposalParams;
  const opts = searchOptions(params);
  const startedAt = performance.now();
  s.setProgress({ label: 'Selective search', stage: 'proposals', done: 0, total: 1, startedAt, detail: 'segmenting…' });
  try {
    const r = await proposalEngine.propose(img.image, opts, {
      signal: ctl.signal,
      // One base segmentation per (colour space, k): runs that share it share the labels.
      labelsFor: firstPerSegmentation(opts),
      onProgress: (p) => {
        if (ctl.signal.aborted) return;
        useStore.getState().setProgress({
          label: 'Selective search',
          stage: 'proposals',
          done: p.done,
          total: p.total,
          startedAt,
          detail: `run ${p.done}/${p.total} done: ${p.spec.colorSpace} k=${p.spec.k} ${p.spec.similarity}`,
        });
      },
    });
    if (ctl.signal.aborted || useStore.getState().image?.key !== img.key) return null;
    const byKey = new Map<string, Int32Array>();
    r.runs.forEach((run, i) => run.labels && byKey.set(segmentationKey(r.specs[i]), run.labels));
    r.runs.forEach((run, i) => {
      if (!run.labels) run.labels = byKey.get(segmentationKey(r.specs[i]));
    });
    const result: ProposalsResult = {
      imageKey: img.key,
      params,
      boxes: r.boxes,
      runIndex: r.runIndex,
      regionId: r.regionId,
      specs: r.specs,
      runs: r.runs,
      counts: r.counts,
      ms: r.ms,
      workers: r.workers,
    };
    const st = useStore.getState();
    st.setProposals(result);
    st.setTiming('proposals', r.ms);
    st.setView('proposalsView', { topN: Math.min(st.proposalsView.topN, result.boxes.length / 4) || Math.min(200, result.boxes.length / 4), mergeStep: 0, selectedRun: 0 });
    st.setHoveredProposal(null);
    return result;
  } catch (e) {
    if (isAbort(e)) return null;
    useStore.getState().pushMessage({ kind: 'error', text: `Selective search failed: ${(e as Error).message}`, hint: 'Try again; if it keeps failing, reload the page.' });
    return null;
  } finally {
    endTask(ctl);
  }
}

/**
 * Selective search on the current photo in the app's worker pool with the current settings, the
 * result dropped: `rcnn bench app`'s peer for the stage (what the pool itself takes, without the
 * store and the panels). `runMs`: the runs' own time inside the workers, summed, to compare with
 * the CLI pool's on the same photo (the same code; a gap there is the engine, not the app).
 */
export async function benchSearchOnly(): Promise<{ ms: number; runMs: number }> {
  const s = useStore.getState();
  if (!s.image) throw new Error('no photo loaded');
  const opts = searchOptions(s.proposalParams);
  const r = await proposalEngine.propose(s.image.image, opts, { labelsFor: firstPerSegmentation(opts) });
  return { ms: r.ms, runMs: r.runs.reduce((t, run) => t + run.timings.totalMs, 0) };
}
