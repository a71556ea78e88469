import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { decodeImageBytes } from '../image/decode';
import { createRgbImage } from '../image/raster';
import { SearchContext, executeRun, poolRuns, prepareSearchImage, selectiveSearch, type RunResult } from './index';
import { flatRectangles, syntheticScene } from './syntheticImages';

function boxList(boxes: Float32Array): string[] {
  const out: string[] = [];
  for (let i = 0; i < boxes.length; i += 4) out.push([boxes[i], boxes[i + 1], boxes[i + 2], boxes[i + 3]].map((v) => +v.toFixed(3)).join(','));
  return out;
}

function expectValidProposals(r: { boxes: Float32Array; width: number; height: number }, minSide: number): void {
  const b = r.boxes;
  for (let i = 0; i < b.length; i += 4) {
    expect(b[i]).toBeGreaterThanOrEqual(0);
    expect(b[i + 1]).toBeGreaterThanOrEqual(0);
    expect(b[i + 2]).toBeLessThanOrEqual(r.width + 1e-3);
    expect(b[i + 3]).toBeLessThanOrEqual(r.height + 1e-3);
    expect(b[i + 2] - b[i]).toBeGreaterThanOrEqual(minSide - 1e-3);
    expect(b[i + 3] - b[i + 1]).toBeGreaterThanOrEqual(minSide - 1e-3);
  }
  expect(new Set(boxList(b)).size).toBe(b.length / 4);
}

describe('selectiveSearch (fast mode, end to end)', () => {
  const twoRects = flatRectangles(500, 300, [235, 235, 235], [
    { box: [50, 60, 200, 220], colour: [200, 30, 30] },
    { box: [300, 40, 450, 260], colour: [30, 60, 200] },
  ]);

  it('two flat rectangles: their exact boxes, their union and the whole image are proposed', () => {
    const r = selectiveSearch(twoRects);
    const list = boxList(r.boxes);
    expect(list).toContain('50,60,200,220');
    expect(list).toContain('300,40,450,260');
    expect(list).toContain('0,0,500,300');
    expect(r.boxes.length / 4).toBeLessThanOrEqual(2000);
    expectValidProposals(r, 20);
  });

  it('boxes come back in the input image\'s pixels (resized to 500 wide inside)', () => {
    const big = flatRectangles(1000, 600, [235, 235, 235], [
      { box: [100, 120, 400, 440], colour: [200, 30, 30] },
      { box: [600, 80, 900, 520], colour: [30, 60, 200] },
    ]);
    const r = selectiveSearch(big);
    expect(r.resizedWidth).toBe(500);
    expect(r.resizedHeight).toBe(300);
    expect(r.scaleX).toBe(2);
    const list = boxList(r.boxes);
    expect(list).toContain('100,120,400,440');
    expect(list).toContain('600,80,900,520');
    expect(list).toContain('0,0,1000,600');
    expectValidProposals(r, 40);
  });

  it('same seed, same ranking; another seed re-orders the same set', () => {
    const img = syntheticScene(320, 240, 4, 16);
    const a = selectiveSearch(img, { seed: 7 });
    const b = selectiveSearch(img, { seed: 7 });
    const c = selectiveSearch(img, { seed: 8 });
    expect(boxList(b.boxes)).toEqual(boxList(a.boxes));
    expect([...b.runIndex]).toEqual([...a.runIndex]);
    expect(boxList(c.boxes)).not.toEqual(boxList(a.boxes));
    expect(a.counts.unique).toBe(c.counts.unique);
    if (a.counts.unique <= 2000) expect(new Set(boxList(c.boxes))).toEqual(new Set(boxList(a.boxes)));
  });

  it('ranking: keys ascend, key = hierarchy position x u with u in [0, 1), the first run per segmentation adds the base segments', () => {
    const r = selectiveSearch(syntheticScene(400, 300, 21, 16), { maxBoxes: 100000 });
    expect(r.runs.length).toBe(8);
    for (let i = 1; i < r.rankKey.length; i++) expect(r.rankKey[i]).toBeGreaterThanOrEqual(r.rankKey[i - 1]);
    for (let i = 0; i < r.rankKey.length; i++) {
      expect(r.rankKey[i]).toBeLessThan(r.hierarchyPosition[i]);
      expect(r.hierarchyPosition[i]).toBe(r.runs[r.runIndex[i]].hierarchyPositions[r.regionId[i]]);
    }
    // Base segments (region id < n) only come from the CTSF runs, the first of each (colour space, k).
    for (let i = 0; i < r.regionId.length; i++) {
      if (r.regionId[i] < r.runs[r.runIndex[i]].segmentCount) expect(r.runs[r.runIndex[i]].spec.similarity).toBe('CTSF');
    }
    const expectedPooled = r.runs.reduce((s, run, i) => s + run.segmentCount - 1 + (i % 2 === 0 ? run.segmentCount : 0), 0);
    expect(r.counts.pooled).toBe(expectedPooled);
    expect(r.counts.unique).toBe(r.boxes.length / 4);
    expect(r.counts.afterMinSide).toBeGreaterThanOrEqual(r.counts.unique);
    expectValidProposals(r, 20 * r.scaleX);
  });

  it('top-N: maxBoxes keeps the best-ranked prefix', () => {
    const img = syntheticScene(320, 240, 4, 16);
    const all = selectiveSearch(img, { seed: 3 });
    const top = selectiveSearch(img, { seed: 3, maxBoxes: 50 });
    expect(boxList(top.boxes)).toEqual(boxList(all.boxes).slice(0, 50));
    expect(selectiveSearch(img, { maxBoxes: 0 }).boxes.length).toBe(0);
  });
});

describe('runs and pooling', () => {
  const img = prepareSearchImage(syntheticScene(300, 200, 13, 20)).resized;

  it('one run: boxes of every region, merges = regions - 1, labels on request', () => {
    const r = executeRun(img, { colorSpace: 'Lab', k: 100, similarity: 'CTSF' }, { labels: true });
    const n = r.segmentCount;
    expect(r.merges.length).toBe(2 * (n - 1));
    expect(r.mergeSimilarity.length).toBe(n - 1);
    expect(r.boxes.length).toBe(4 * (2 * n - 1));
    expect(r.labels?.length).toBe(img.width * img.height);
    expect(r.labels!.reduce((m, v) => Math.max(m, v), 0)).toBe(n - 1);
    expect(r.spec).toEqual({ colorSpace: 'Lab', k: 100, similarity: 'CTSF', sigma: 0.8, minSize: 100 });
    expect(executeRun(img, { colorSpace: 'Lab', k: 100, similarity: 'S' }).labels).toBeUndefined();
  });

  it('a shared context gives the same runs as separate executions, and reuses segmentations', () => {
    const ctx = new SearchContext(img);
    const a = ctx.execute({ colorSpace: 'HSV', k: 50, similarity: 'CTSF' });
    const b = ctx.execute({ colorSpace: 'HSV', k: 50, similarity: 'TSF' });
    expect(b.timings.segmentationMs).toBeLessThan(a.timings.segmentationMs);
    const b2 = executeRun(img, { colorSpace: 'HSV', k: 50, similarity: 'TSF' });
    expect([...b2.boxes]).toEqual([...b.boxes]);
    expect([...b2.merges]).toEqual([...b.merges]);
  });

  it('every colour space and the release\'s four similarity sets run', () => {
    for (const colorSpace of ['RGB', 'HSV', 'Lab', 'rgI', 'H', 'I'] as const) {
      for (const similarity of ['CTSF', 'TSF', 'F', 'S']) {
        const r = executeRun(img, { colorSpace, k: 150, similarity });
        expect(r.merges.length / 2).toBe(r.segmentCount - 1);
      }
    }
  });

  it('pooling drops boxes under the minimum side and duplicates, keeping the best-ranked copy', () => {
    const runs: RunResult[] = [
      executeRun(img, { colorSpace: 'HSV', k: 100, similarity: 'CTSF' }),
      executeRun(img, { colorSpace: 'HSV', k: 100, similarity: 'TSF' }),
    ];
    const p = poolRuns(runs, { seed: 5, maxBoxes: 1e9, minBoxSide: 40 });
    expectValidProposals(p, 40);
    // Both runs share their last merge (the whole image) and base segments: each box appears once.
    expect(boxList(p.boxes).filter((b) => b === `0,0,${img.width},${img.height}`).length).toBe(1);
    expect(() => poolRuns([])).toThrow(/at least one/);
  });

  it('quality mode pools 80 runs', () => {
    const small = syntheticScene(200, 150, 8, 20);
    const r = selectiveSearch(small, { mode: 'quality', resizeWidth: 200 });
    expect(r.runs.length).toBe(80);
    expectValidProposals(r, 20);
    const fast = selectiveSearch(small, { mode: 'fast', resizeWidth: 200 });
    expect(r.counts.unique).toBeGreaterThan(fast.counts.unique);
  });
});

describe('bad input: no crash, no hang, sensible output', () => {
  it('1 x 1: the whole image is the only proposal', () => {
    const r = selectiveSearch({ width: 1, height: 1, data: new Uint8Array([10, 200, 30]) });
    expect(boxList(r.boxes)).toEqual(['0,0,1,1']);
  });

  it('1 x N and N x 1 strips: proposals spanning the strip, in its pixels', () => {
    const tall = flatRectangles(1, 1000, [0, 0, 0], [{ box: [0, 300, 1, 700], colour: [255, 255, 0] }]);
    const r = selectiveSearch(tall);
    expect(r.resizedWidth).toBe(2);
    expect(r.resizedHeight).toBe(2000);
    expect(r.boxes.length).toBeGreaterThan(0);
    expect(boxList(r.boxes)).toContain('0,0,1,1000');
    expect(boxList(r.boxes)).toContain('0,300,1,700');
    expectValidProposals(r, 0);
    const wide = flatRectangles(3000, 1, [0, 0, 0], [{ box: [1000, 0, 2000, 1], colour: [255, 255, 0] }]);
    const w = selectiveSearch(wide);
    expect(w.resizedHeight).toBe(1);
    expect(boxList(w.boxes)).toContain('0,0,3000,1');
    // 6 input pixels per resized pixel, and x = 1000 falls inside one: the segment edge is within a pixel of it.
    const bar = boxList(w.boxes).map((b) => b.split(',').map(Number)).filter((b) => Math.abs(b[0] - 1000) <= 6 && Math.abs(b[2] - 2000) <= 6);
    expect(bar.length).toBeGreaterThanOrEqual(1);
  });

  it('a flat single-colour image: one proposal, the whole image', () => {
    const r = selectiveSearch(flatRectangles(640, 480, [90, 90, 90], []), { mode: 'quality' });
    expect(boxList(r.boxes)).toEqual(['0,0,640,480']);
    expect(r.runs.every((run) => run.segmentCount === 1 && run.merges.length === 0)).toBe(true);
  });

  it('a very large image is searched at 500 px wide in bounded time', () => {
    const w = 6000, h = 4000;
    const big = createRgbImage(w, h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) big.data.set([(x * 7) & 255, (y * 3) & 255, ((x ^ y) >> 4) & 255], 3 * (y * w + x));
    const t0 = performance.now();
    const r = selectiveSearch(big);
    expect(performance.now() - t0).toBeLessThan(60_000);
    expect(r.resizedWidth).toBe(500);
    expect(r.boxes.length / 4).toBeGreaterThan(10);
    expectValidProposals(r, 20 * (w / 500));
  });

  it('an RGBA PNG decoded through decode.ts (alpha composited over white)', () => {
    const w = 500, h = 300;
    const rgba = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = 4 * (y * w + x);
        const inside = x >= 130 && x < 390 && y >= 70 && y < 230;
        rgba.set(inside ? [20, 120, 40, 255] : [0, 0, 0, 0], o); // transparent outside: white after decoding
      }
    }
    const png = encodePng({ width: w, height: h, data: rgba, channels: 4, depth: 8 });
    const decoded = decodeImageBytes(png, 'alpha.png');
    expect([...decoded.image.data.subarray(0, 3)]).toEqual([255, 255, 255]);
    const r = selectiveSearch(decoded.image);
    expect(boxList(r.boxes)).toContain('130,70,390,230');
    expect(boxList(r.boxes)).toContain('0,0,500,300');
  });

  it('rejects a raster whose data does not match its size', () => {
    expect(() => selectiveSearch({ width: 10, height: 10, data: new Uint8Array(10) })).toThrow(/expected 300/);
    expect(() => selectiveSearch({ width: 0, height: 10, data: new Uint8Array(0) })).toThrow();
  });
});
