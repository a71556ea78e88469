/**
 * Pure helpers over the SVM score matrix (N proposals x C classes, row-major, as the model's head
 * produces it) for the SVM-score and box-regression panels. Rows not scored yet (the CNN streams
 * batches in any order) are skipped through the `computed` mask. No DOM, no React.
 */

import { sequential } from '../../palette';

/** Per-class minimum and maximum over scored rows (NaN for a class with no scored row). */
export function classRanges(scores: ArrayLike<number>, C: number, computed: ArrayLike<number> | null): { min: Float64Array; max: Float64Array; count: number } {
  const n = C ? Math.floor(scores.length / C) : 0;
  const min = new Float64Array(C).fill(Infinity);
  const max = new Float64Array(C).fill(-Infinity);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (computed && !computed[i]) continue;
    count++;
    const row = i * C;
    for (let c = 0; c < C; c++) {
      const v = scores[row + c];
      if (v < min[c]) min[c] = v;
      if (v > max[c]) max[c] = v;
    }
  }
  for (let c = 0; c < C; c++) if (min[c] === Infinity) min[c] = max[c] = NaN;
  return { min, max, count };
}

/** The class whose best proposal scores highest (0 when nothing is scored yet). */
export function bestClass(max: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < max.length; c++) if (max[c] > max[best] || !(max[best] === max[best])) best = c;
  return best;
}

/** Scores of class c over scored rows, in proposal order. */
export function classColumn(scores: ArrayLike<number>, C: number, c: number, computed: ArrayLike<number> | null): Float32Array {
  const n = C ? Math.floor(scores.length / C) : 0;
  let m = 0;
  for (let i = 0; i < n; i++) if (!computed || computed[i]) m++;
  const out = new Float32Array(m);
  let k = 0;
  for (let i = 0; i < n; i++) if (!computed || computed[i]) out[k++] = scores[i * C + c];
  return out;
}

/**
 * Row order for the heat map: by rank (proposal order) when `byClass` is null, else by that
 * class's score, best first, rows not scored yet last (in rank order). Ties keep rank order.
 */
export function rowOrder(scores: ArrayLike<number>, C: number, n: number, byClass: number | null, computed: ArrayLike<number> | null): Int32Array {
  const order = new Int32Array(n);
  if (byClass === null || C === 0) {
    for (let i = 0; i < n; i++) order[i] = i;
    return order;
  }
  let k = 0;
  for (let i = 0; i < n; i++) if (!computed || computed[i]) order[k++] = i;
  const scored = k;
  for (let i = 0; i < n; i++) if (computed && !computed[i]) order[k++] = i;
  const head = order.subarray(0, scored);
  head.sort((a, b) => scores[b * C + byClass] - scores[a * C + byClass] || a - b);
  return order;
}

/** The k best-scored proposals of class c (scored rows only), best first. */
export function topKByClass(scores: ArrayLike<number>, C: number, c: number, k: number, computed: ArrayLike<number> | null): Int32Array {
  const n = C ? Math.floor(scores.length / C) : 0;
  const order = rowOrder(scores, C, n, c, computed);
  let scored = 0;
  for (let i = 0; i < n; i++) if (!computed || computed[i]) scored++;
  return order.slice(0, Math.max(0, Math.min(k, scored)));
}

/** Largest |score - centre| over scored rows: the half-width of a diverging colour scale. */
export function maxAbsDeviation(scores: ArrayLike<number>, C: number, centre: number, computed: ArrayLike<number> | null, onlyClass?: number): number {
  const n = C ? Math.floor(scores.length / C) : 0;
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (computed && !computed[i]) continue;
    const c0 = onlyClass ?? 0, c1 = onlyClass === undefined ? C : onlyClass + 1;
    for (let c = c0; c < c1; c++) {
      const d = Math.abs(scores[i * C + c] - centre);
      if (d > m) m = d;
    }
  }
  return m > 1e-9 ? m : 1;
}

/**
 * Diverging colour table (blue below the centre, near-white at it, orange above: the Okabe-Ito
 * friendly blue/orange pair, readable with the common colour-vision deficiencies). `size` RGB
 * triples; index 0 is -1, size-1 is +1.
 */
export function divergingLut(size = 256): Uint8Array {
  const lut = new Uint8Array(size * 3);
  const white = [247, 247, 247], neg = [33, 102, 172], pos = [230, 97, 1];
  for (let i = 0; i < size; i++) {
    const t = (i / (size - 1)) * 2 - 1;
    const c = t < 0 ? neg : pos;
    const f = Math.abs(t);
    for (let q = 0; q < 3; q++) lut[3 * i + q] = Math.round(white[q] + (c[q] - white[q]) * f);
  }
  return lut;
}

/**
 * Sequential colour table (viridis, perceptually ordered and colour-blind-safe) for stretching one
 * class's score range when all its scores sit on one side of the threshold.
 */
export function sequentialLut(size = 256): Uint8Array {
  const lut = new Uint8Array(size * 3);
  for (let i = 0; i < size; i++) {
    const c = sequential(i / (size - 1));
    for (let q = 0; q < 3; q++) lut[3 * i + q] = Math.round(c[q]);
  }
  return lut;
}

/** Index into a diverging table of `size` for value v on a scale centred at `centre`, half-width `half`. */
export function lutIndex(v: number, centre: number, half: number, size: number): number {
  const t = (v - centre) / half;
  const x = t < -1 ? -1 : t > 1 ? 1 : t;
  return Math.round(((x + 1) / 2) * (size - 1));
}
