import { describe, expect, it } from 'vitest';
import { executeRun, prepareSearchImage } from './index';
import { mergeParents, segmentRegionsAtStep } from './replay';
import { syntheticScene } from './syntheticImages';

describe('merge replay', () => {
  // Hand-made history: segments 0..3; merge 0: (1,2) -> 4; merge 1: (0,4) -> 5; merge 2: (5,3) -> 6.
  const run = { segmentCount: 4, merges: Int32Array.from([1, 2, 0, 4, 5, 3]) };

  it('parents form the merge tree', () => {
    expect([...mergeParents(run)]).toEqual([5, 4, 4, 6, 5, 6, -1]);
  });

  it('regions of the base segments at every step', () => {
    expect([...segmentRegionsAtStep(run, 0)]).toEqual([0, 1, 2, 3]);
    expect([...segmentRegionsAtStep(run, 1)]).toEqual([0, 4, 4, 3]);
    expect([...segmentRegionsAtStep(run, 2)]).toEqual([5, 5, 5, 3]);
    expect([...segmentRegionsAtStep(run, 3)]).toEqual([6, 6, 6, 6]);
    expect([...segmentRegionsAtStep(run, 99)]).toEqual([6, 6, 6, 6]);
  });

  it('on a real run: region count falls by one per merge and the region boxes cover their segments', () => {
    const img = prepareSearchImage(syntheticScene(200, 150, 6, 20)).resized;
    const r = executeRun(img, { colorSpace: 'HSV', k: 100, similarity: 'CTSF' }, { labels: true });
    const n = r.segmentCount;
    for (const step of [0, 1, Math.floor(n / 2), n - 2, n - 1]) {
      const regionOf = segmentRegionsAtStep(r, step);
      expect(new Set(regionOf).size).toBe(n - step);
      // Every pixel lies inside the box of the region its segment belongs to at this step.
      let inside = true;
      for (let p = 0; p < r.labels!.length; p++) {
        const reg = regionOf[r.labels![p]];
        const x = p % r.width, y = Math.floor(p / r.width);
        const b = r.boxes.subarray(4 * reg, 4 * reg + 4);
        if (x < b[0] || y < b[1] || x >= b[2] || y >= b[3]) inside = false;
      }
      expect(inside).toBe(true);
    }
  });
});
