import { describe, expect, it } from 'vitest';
import { convertColourSpace } from './colorSpace';
import { felzenszwalb } from './felzenszwalb';
import { regionFeatures, textureBins, type RegionFeatures } from './features';
import { hierarchicalGrouping, similarity } from './grouping';
import { parseSimilaritySet } from './plan';
import { syntheticScene } from './syntheticImages';

/** Regions built by hand: sizes, boxes, 2-bin "histograms", adjacency pairs. */
function constructed(opts: { sizes: number[]; boxes: number[][]; colour: number[][]; texture: number[][]; pairs: Array<[number, number]>; imageSize: number }): RegionFeatures {
  const n = opts.sizes.length;
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of opts.pairs) {
    adj[a].push(b);
    adj[b].push(a);
  }
  const adjStart = new Int32Array(n + 1);
  adj.forEach((l, i) => (adjStart[i + 1] = adjStart[i] + l.length));
  return {
    count: n,
    imageSize: opts.imageSize,
    sizes: Float64Array.from(opts.sizes),
    boxes: Float32Array.from(opts.boxes.flat()),
    colourLength: opts.colour[0].length,
    colourHist: Float32Array.from(opts.colour.flat()),
    textureLength: opts.texture[0].length,
    textureHist: Float32Array.from(opts.texture.flat()),
    adjStart,
    adjIndex: Int32Array.from(adj.flatMap((l) => l.sort((a, b) => a - b))),
  };
}

describe('similarity measures', () => {
  // Image 10 x 10 = 100 px. Region 0: 20 px in [0,0,4,5); region 1: 30 px in [4,0,10,5).
  const f = constructed({
    sizes: [20, 30],
    boxes: [
      [0, 0, 4, 5],
      [4, 0, 10, 5],
    ],
    colour: [
      [0.75, 0.25],
      [0.5, 0.5],
    ],
    texture: [
      [1, 0],
      [0.125, 0.875],
    ],
    pairs: [[0, 1]],
    imageSize: 100,
  });
  const sim = (set: string) => similarity(parseSimilaritySet(set), 0, 1, f.sizes, f.boxes, f.imageSize, f.colourHist, f.colourLength, f.textureHist, f.textureLength);

  it('colour and texture: histogram intersection', () => {
    expect(sim('C')).toBeCloseTo(0.5 + 0.25, 6);
    expect(sim('T')).toBeCloseTo(0.125, 6);
  });

  it('size: 1 - (size_a + size_b) / size_image', () => {
    expect(sim('S')).toBeCloseTo(1 - 50 / 100, 6);
  });

  it('fill: 1 - (joint box area - size_a - size_b) / size_image', () => {
    // Joint box [0,0,10,5) = 50 px, exactly filled by the two regions.
    expect(sim('F')).toBeCloseTo(1, 6);
    const g = constructed({ ...{ sizes: [10, 10], boxes: [[0, 0, 2, 5], [8, 5, 10, 10]], colour: [[1], [1]], texture: [[1], [1]], pairs: [[0, 1]] }, imageSize: 100 });
    // Two corner regions: joint box is the whole image, 80 px of it empty.
    expect(similarity(parseSimilaritySet('F'), 0, 1, g.sizes, g.boxes, 100, g.colourHist, 1, g.textureHist, 1)).toBeCloseTo(0.2, 6);
  });

  it('a set sums its measures', () => {
    expect(sim('CTSF')).toBeCloseTo(0.75 + 0.125 + 0.5 + 1, 6);
    expect(sim('TSF')).toBeCloseTo(0.125 + 0.5 + 1, 6);
  });
});

describe('hierarchical grouping', () => {
  it('merges the most similar adjacent pair first and averages histograms by size', () => {
    // A row of three regions 0 - 1 - 2; 1 and 2 have identical colour, 0 differs; 0 and 2 do not touch.
    const f = constructed({
      sizes: [10, 30, 10],
      boxes: [
        [0, 0, 1, 10],
        [1, 0, 4, 10],
        [4, 0, 5, 10],
      ],
      colour: [
        [1, 0],
        [0.2, 0.8],
        [0.2, 0.8],
      ],
      texture: [[1], [1], [1]],
      pairs: [
        [0, 1],
        [1, 2],
      ],
      imageSize: 50,
    });
    const g = hierarchicalGrouping(f, parseSimilaritySet('C'));
    expect(g.mergeCount).toBe(2);
    expect([...g.merges]).toEqual([1, 2, 3, 0]);
    expect(g.mergeSimilarity[0]).toBeCloseTo(1, 6);
    // Region 3 = 1 + 2 (40 px, same colour); similarity with 0 = min(1,.2) + min(0,.8) = 0.2.
    expect(g.mergeSimilarity[1]).toBeCloseTo(0.2, 6);
    expect([...g.boxes.subarray(12, 16)]).toEqual([1, 0, 5, 10]);
    expect([...g.boxes.subarray(16, 20)]).toEqual([0, 0, 5, 10]);
    expect([...g.hierarchyPositions]).toEqual([3, 3, 3, 2, 1]);
  });

  it('a region merged away is never merged again, even with stale pairs in the heap', () => {
    // Star: 0 touches 1, 2, 3; size-only similarity merges the smallest pairs first.
    const f = constructed({
      sizes: [5, 1, 2, 3],
      boxes: [
        [1, 1, 2, 2],
        [0, 1, 1, 2],
        [2, 1, 3, 2],
        [1, 0, 2, 1],
      ],
      colour: [[1], [1], [1], [1]],
      texture: [[1], [1], [1], [1]],
      pairs: [
        [0, 1],
        [0, 2],
        [0, 3],
      ],
      imageSize: 11,
    });
    const g = hierarchicalGrouping(f, parseSimilaritySet('S'));
    expect([...g.merges]).toEqual([0, 1, 4, 2, 5, 3]);
    expect([...g.mergeSimilarity].map((v) => +v.toFixed(4))).toEqual([+(1 - 6 / 11).toFixed(4), +(1 - 8 / 11).toFixed(4), 0]);
  });

  it('on a real segmentation: n - 1 merges, each region merged exactly once, boxes are unions of children', () => {
    const img = syntheticScene(160, 120, 11, 20);
    const colour = convertColourSpace(img, 'HSV');
    const seg = felzenszwalb(colour, { k: 50 });
    const f = regionFeatures(seg, colour, textureBins(colour));
    expect(f.count).toBeGreaterThan(10);
    for (const set of ['CTSF', 'TSF', 'F', 'S', 'C', 'T']) {
      const g = hierarchicalGrouping(f, parseSimilaritySet(set));
      const n = f.count;
      expect(g.mergeCount).toBe(n - 1);
      expect(g.boxes.length).toBe(4 * (2 * n - 1));
      const used = new Int32Array(2 * n - 1);
      for (let j = 0; j < n - 1; j++) {
        const a = g.merges[2 * j], b = g.merges[2 * j + 1];
        expect(a).toBeLessThan(n + j);
        expect(b).toBeLessThan(n + j);
        used[a]++;
        used[b]++;
        const t = n + j;
        const bx = g.boxes;
        expect(bx[4 * t]).toBe(Math.min(bx[4 * a], bx[4 * b]));
        expect(bx[4 * t + 1]).toBe(Math.min(bx[4 * a + 1], bx[4 * b + 1]));
        expect(bx[4 * t + 2]).toBe(Math.max(bx[4 * a + 2], bx[4 * b + 2]));
        expect(bx[4 * t + 3]).toBe(Math.max(bx[4 * a + 3], bx[4 * b + 3]));
      }
      // Every region but the root is merged exactly once; the root is the whole image.
      expect([...used.subarray(0, 2 * n - 2)].every((u) => u === 1)).toBe(true);
      expect(used[2 * n - 2]).toBe(0);
      expect([...g.boxes.subarray(4 * (2 * n - 2))]).toEqual([0, 0, 160, 120]);
      expect(g.hierarchyPositions[2 * n - 2]).toBe(1);
      expect(g.hierarchyPositions[n]).toBe(n - 1);
      expect(g.hierarchyPositions[0]).toBe(n);
    }
  });

  it('colour similarity needs colour histograms', () => {
    const img = syntheticScene(40, 30, 2);
    const colour = convertColourSpace(img, 'RGB');
    const f = regionFeatures(felzenszwalb(colour, { k: 50 }), null, null);
    expect(() => hierarchicalGrouping(f, parseSimilaritySet('C'))).toThrow(/colour histograms/);
    expect(hierarchicalGrouping(f, parseSimilaritySet('SF')).mergeCount).toBe(f.count - 1);
  });
});
