import { describe, expect, it } from 'vitest';
import { paintScoreMap, scoreGridRgba } from './scoreMap';
import { bestClass, classColumn, classRanges, divergingLut, lutIndex, maxAbsDeviation, rowOrder, topKByClass } from './scores';

/** Brute-force reference: every cell tests every box. The painter's reference. */
function scoreMapReference(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  C: number,
  classIndex: number,
  computed: ArrayLike<number> | null,
  imageWidth: number,
  imageHeight: number,
  factor = 4,
): Float32Array {
  const W = Math.max(1, Math.ceil(imageWidth / factor));
  const H = Math.max(1, Math.ceil(imageHeight / factor));
  const out = new Float32Array(W * H).fill(-Infinity);
  const n = boxes.length >> 2;
  for (let gy = 0; gy < H; gy++) {
    const cy = (gy + 0.5) * factor;
    for (let gx = 0; gx < W; gx++) {
      const cx = (gx + 0.5) * factor;
      let best = -Infinity;
      for (let i = 0; i < n; i++) {
        if (computed && !computed[i]) continue;
        if (boxes[4 * i] <= cx && cx < boxes[4 * i + 2] && boxes[4 * i + 1] <= cy && cy < boxes[4 * i + 3]) {
          const s = scores[i * C + classIndex];
          if (s > best) best = s;
        }
      }
      out[gy * W + gx] = best;
    }
  }
  return out;
}


/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Proposal-like boxes: many sizes, many overlaps, some touching or crossing the border. */
function randomBoxes(n: number, W: number, H: number, seed: number): Float32Array {
  const r = rng(seed);
  const b = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const w = 2 + r() * W * 0.8, h = 2 + r() * H * 0.8;
    const x = r() * (W - w * 0.5) - w * 0.1, y = r() * (H - h * 0.5) - h * 0.1;
    b.set([x, y, Math.min(W, x + w), Math.min(H, y + h)], 4 * i);
  }
  return b;
}

function randomScores(n: number, C: number, seed: number, quantise = false): Float32Array {
  const r = rng(seed);
  const s = new Float32Array(n * C);
  for (let i = 0; i < s.length; i++) s[i] = quantise ? Math.round(r() * 6 - 4) : r() * 4 - 3;
  return s;
}

describe('score map painter', () => {
  it('equals the brute-force reference on random proposals, for several factors and classes', () => {
    for (const [W, H, n, C, f, seed] of [
      [97, 61, 50, 3, 1, 1],
      [200, 150, 300, 5, 4, 2],
      [123, 211, 120, 2, 3, 3],
      [64, 64, 400, 1, 2.5, 4],
    ] as const) {
      const boxes = randomBoxes(n, W, H, seed);
      const scores = randomScores(n, C, seed + 10, seed === 4); // seed 4: many tied scores
      for (let c = 0; c < C; c++) {
        const got = paintScoreMap(boxes, scores, C, c, null, W, H, f);
        const ref = scoreMapReference(boxes, scores, C, c, null, W, H, f);
        expect(got.width * got.height).toBe(ref.length);
        expect(Array.from(got.values)).toEqual(Array.from(ref));
        // The recorded proposal covers the cell and has the cell's score.
        for (let k = 0; k < got.values.length; k++) {
          const i = got.index[k];
          if (got.values[k] === -Infinity) expect(i).toBe(-1);
          else expect(scores[i * C + c]).toBe(got.values[k]);
        }
      }
    }
  });

  it('skips rows not scored yet and leaves uncovered cells empty', () => {
    const boxes = new Float32Array([0, 0, 8, 8, 4, 4, 16, 16, 12, 0, 16, 4]);
    const scores = new Float32Array([1, 5, -2]);
    const computed = new Uint8Array([1, 0, 1]);
    const g = paintScoreMap(boxes, scores, 1, 0, computed, 16, 16, 4);
    expect(g.width).toBe(4);
    expect(Array.from(g.values)).toEqual([
      1, 1, -Infinity, -2,
      1, 1, -Infinity, -Infinity,
      -Infinity, -Infinity, -Infinity, -Infinity,
      -Infinity, -Infinity, -Infinity, -Infinity,
    ]);
    expect(Array.from(g.values)).toEqual(Array.from(scoreMapReference(boxes, scores, 1, 0, computed, 16, 16, 4)));
    // Cell centres decide coverage: a box edge exactly on a centre includes it on the left/top only.
    const edge = paintScoreMap(new Float32Array([2, 2, 6, 6]), new Float32Array([0.5]), 1, 0, null, 8, 8, 4);
    expect(Array.from(edge.values)).toEqual([0.5, -Infinity, -Infinity, -Infinity]);
  });

  it('colours cells on the diverging table and leaves uncovered cells transparent', () => {
    const lut = divergingLut(256);
    const g = { width: 3, height: 1, factor: 1, values: new Float32Array([-Infinity, -2, 2]), index: new Int32Array([-1, 0, 1]), ms: 0 };
    const px = scoreGridRgba(g, lut, 0, 2, 200);
    expect(Array.from(px.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(px.subarray(4, 8))).toEqual([33, 102, 172, 200]);
    expect(Array.from(px.subarray(8, 12))).toEqual([230, 97, 1, 200]);
    expect(lutIndex(0, 0, 1, 256)).toBe(128);
    expect(lutIndex(-5, 0, 1, 256)).toBe(0);
  });
});

describe('score matrix helpers', () => {
  const C = 3;
  // 4 proposals x 3 classes; row 2 is not scored yet.
  const scores = new Float32Array([0.5, -1, 2, 1.5, -2, 0, 9, 9, 9, -0.5, 3, 1]);
  const computed = new Uint8Array([1, 1, 0, 1]);
  it('ranges, best class, column and deviation skip unscored rows', () => {
    const r = classRanges(scores, C, computed);
    expect(Array.from(r.max)).toEqual([1.5, 3, 2]);
    expect(Array.from(r.min)).toEqual([-0.5, -2, 0]);
    expect(r.count).toBe(3);
    expect(bestClass(r.max)).toBe(1);
    expect(Array.from(classColumn(scores, C, 0, computed))).toEqual([0.5, 1.5, -0.5]);
    expect(maxAbsDeviation(scores, C, 0, computed)).toBe(3);
    expect(maxAbsDeviation(scores, C, 1, computed, 1)).toBe(3);
  });
  it('orders rows by a class score, unscored rows last, ties by rank', () => {
    expect(Array.from(rowOrder(scores, C, 4, null, computed))).toEqual([0, 1, 2, 3]);
    expect(Array.from(rowOrder(scores, C, 4, 0, computed))).toEqual([1, 0, 3, 2]);
    expect(Array.from(rowOrder(scores, C, 4, 1, computed))).toEqual([3, 0, 1, 2]);
    expect(Array.from(rowOrder(new Float32Array([1, 1, 1]), 1, 3, 0, null))).toEqual([0, 1, 2]);
    expect(Array.from(topKByClass(scores, C, 2, 2, computed))).toEqual([0, 3]);
    expect(Array.from(topKByClass(scores, C, 2, 10, computed))).toEqual([0, 3, 1]);
  });
});
