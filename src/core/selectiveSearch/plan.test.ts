import { describe, expect, it } from 'vitest';
import { groupRunsIntoTasks, normaliseSimilaritySet, parseSimilaritySet, planRuns, resolveRunSpec, runsFromOptions, searchSize, segmentationKey } from './plan';

describe('run planning', () => {
  it('fast mode is the release\'s 8 runs: k outer, colour space, similarity set inner', () => {
    const runs = planRuns('fast');
    expect(runs.map((r) => `${r.k}/${r.colorSpace}/${r.similarity}`)).toEqual([
      '50/HSV/CTSF', '50/HSV/TSF', '50/Lab/CTSF', '50/Lab/TSF',
      '100/HSV/CTSF', '100/HSV/TSF', '100/Lab/CTSF', '100/Lab/TSF',
    ]);
    expect(runs.every((r) => r.sigma === 0.8 && r.minSize === r.k)).toBe(true);
  });

  it('quality mode: 5 colour spaces x 4 k x 4 similarity sets', () => {
    const runs = planRuns('quality');
    expect(runs.length).toBe(80);
    expect(new Set(runs.map((r) => r.colorSpace))).toEqual(new Set(['HSV', 'Lab', 'rgI', 'H', 'I']));
    expect(new Set(runs.map((r) => r.k))).toEqual(new Set([50, 100, 150, 300]));
    expect(new Set(runs.map((r) => r.similarity))).toEqual(new Set(['CTSF', 'TSF', 'F', 'S']));
    expect(new Set(runs.map(segmentationKey)).size).toBe(20);
  });

  it('custom strategies and explicit run lists', () => {
    expect(planRuns({ colorSpaces: ['RGB'], ks: [200], similarities: ['fs', 'C'] }).map((r) => r.similarity)).toEqual(['SF', 'C']);
    expect(runsFromOptions({ runs: [{ colorSpace: 'I', k: 10, similarity: 'S', minSize: 3 }] })[0]).toEqual({ colorSpace: 'I', k: 10, similarity: 'S', sigma: 0.8, minSize: 3 });
    expect(runsFromOptions({ mode: 'quality' }).length).toBe(80);
    expect(runsFromOptions({}).length).toBe(8);
  });

  it('rejects malformed similarity sets and specs', () => {
    expect(parseSimilaritySet('ctsf')).toEqual({ colour: true, texture: true, size: true, fill: true });
    expect(normaliseSimilaritySet('FTC')).toBe('CTF');
    for (const bad of ['', 'X', 'CC', 'CTSFC']) expect(() => parseSimilaritySet(bad)).toThrow(/similarity set/);
    expect(() => resolveRunSpec({ colorSpace: 'XYZ' as never, k: 50, similarity: 'S' })).toThrow(/colour space/);
    expect(() => resolveRunSpec({ colorSpace: 'HSV', k: 0, similarity: 'S' })).toThrow(/k must be/);
    expect(() => runsFromOptions({ runs: [] })).toThrow(/empty/);
  });

  it('tasks partition the runs; colour spaces are split by k only when there are more workers than colour spaces', () => {
    const fast = planRuns('fast');
    const one = groupRunsIntoTasks(fast, 1);
    expect(one.length).toBe(2); // never merges colour spaces, but never splits them without need
    const two = groupRunsIntoTasks(fast, 2);
    expect(two.length).toBe(2);
    for (const t of two) expect(new Set(t.map((i) => fast[i].colorSpace)).size).toBe(1);
    const four = groupRunsIntoTasks(fast, 4);
    expect(four.length).toBe(4);
    for (const t of four) expect(new Set(t.map((i) => segmentationKey(fast[i]))).size).toBe(1);
    expect(groupRunsIntoTasks(fast, 16).length).toBe(4); // a segmentation is never split
    const quality = planRuns('quality');
    for (const workers of [1, 2, 3, 8, 32]) {
      const tasks = groupRunsIntoTasks(quality, workers);
      expect(tasks.flat().sort((a, b) => a - b)).toEqual(quality.map((_, i) => i));
    }
  });

  it('search size: 500 px wide, long side capped for degenerate strips', () => {
    expect(searchSize(1000, 750)).toEqual({ width: 500, height: 375 });
    expect(searchSize(250, 100)).toEqual({ width: 500, height: 200 });
    expect(searchSize(1, 1)).toEqual({ width: 500, height: 500 });
    expect(searchSize(1, 1000)).toEqual({ width: 2, height: 2000 });
    expect(searchSize(10000, 10)).toEqual({ width: 500, height: 1 });
    expect(searchSize(640, 480, 0)).toEqual({ width: 640, height: 480 });
  });
});
