import { afterAll, describe, expect, it } from 'vitest';
import { createNodeProposalPool } from './ssPool';
import { selectiveSearch } from '../core/selectiveSearch/index';
import { syntheticScene } from '../core/selectiveSearch/syntheticImages';
import type { ProposalProgress } from '../runner/proposalWorkerPool';

// Real worker_threads (started through ssWorker.mjs, which registers tsx), two of them.
const pool = createNodeProposalPool(2);
afterAll(() => pool.dispose());

describe('selective-search worker pool (Node worker_threads)', () => {
  const img = syntheticScene(400, 300, 17, 16);

  it('gives exactly the single-thread result for the same seed, streaming one progress event per run', async () => {
    const progress: ProposalProgress[] = [];
    const r = await pool.run(img, { seed: 9, labelsFor: [2], onProgress: (p) => progress.push(p) });
    const local = selectiveSearch(img, { seed: 9 });
    expect([...r.boxes]).toEqual([...local.boxes]);
    expect([...r.runIndex]).toEqual([...local.runIndex]);
    expect(r.workers).toBe(2);
    expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new Set(progress.map((p) => p.runIndex)).size).toBe(8);
    expect(progress.every((p) => p.total === 8 && p.result.spec.k === p.spec.k)).toBe(true);
    // Labels only for the run asked for, at the resized size.
    expect(r.runs[2].labels?.length).toBe(r.resizedWidth * r.resizedHeight);
    expect(r.runs.filter((x) => x.labels).length).toBe(1);
    expect(r.runs[5].merges.length).toBe(2 * (r.runs[5].segmentCount - 1));
  });

  it('abort rejects at once with an AbortError, and the pool keeps working', async () => {
    const big = syntheticScene(500, 375, 3, 20);
    const ac = new AbortController();
    const pending = pool.run(big, { mode: 'quality', signal: ac.signal });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    // At once: the workers are terminated, not waited for (a quality search takes seconds; 1 s allows a busy machine).
    expect(performance.now() - t0).toBeLessThan(1000);
    const after = await pool.run(img, { seed: 9, maxBoxes: 10 });
    expect(after.boxes.length).toBe(40);
    // An already aborted signal never starts.
    await expect(pool.run(img, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects bad options before touching a worker', async () => {
    await expect(pool.run(img, { runs: [{ colorSpace: 'HSV', k: -1, similarity: 'S' }] })).rejects.toThrow(/k must be/);
  });

  it('dispose rejects what is still running', async () => {
    const p2 = createNodeProposalPool(1);
    const pending = p2.run(img);
    p2.dispose();
    await expect(pending).rejects.toThrow(/disposed/);
    await expect(p2.run(img)).rejects.toThrow(/disposed/);
  });
});
