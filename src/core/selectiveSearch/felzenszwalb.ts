/**
 * Felzenszwalb-Huttenlocher graph-based segmentation (IJCV 2004), as in the authors' C++ code that
 * the selective-search release wraps (mexFelzenSegmentIndex): each channel smoothed by a Gaussian
 * (sigma 0.8), an 8-connected pixel graph weighted by the Euclidean colour distance, edges sorted
 * by weight, union-find merging while w <= Int(C) + k/|C| for both components, then a pass that
 * merges every component smaller than minSize into its neighbour along the cheapest edges.
 *
 * Split in two steps because everything up to the sorted edge list depends on the colour space
 * only, not on k: the runs for k = 50, 100, ... of one colour space share one sorted graph.
 */
import type { ColourPlanes } from './colorSpace';

/** Edge directions from pixel p = y * width + x, in the order of the authors' code. */
export const EDGE_RIGHT = 0;
export const EDGE_DOWN = 1;
export const EDGE_DOWN_RIGHT = 2;
export const EDGE_UP_RIGHT = 3;

/** The 8-connected pixel graph, edges sorted by ascending weight. */
export interface PixelGraph {
  width: number;
  height: number;
  edgeCount: number;
  /** Edge weights, ascending. */
  weights: Float32Array;
  /** Edge ids in the same order: pixel * 4 + direction (EDGE_*); the other end follows from the direction. */
  codes: Uint32Array;
}

export interface Segmentation {
  width: number;
  height: number;
  /** Number of segments n; labels are 0..n-1, numbered in raster order of their first pixel. */
  count: number;
  labels: Int32Array;
}

/** The authors' Gaussian mask: half-kernel of length ceil(4 sigma) + 1, normalised to sum 1 over both sides. */
export function gaussianHalfMask(sigma: number): Float32Array {
  sigma = Math.max(sigma, 0.01);
  const len = Math.ceil(sigma * 4) + 1;
  const mask = new Float32Array(len);
  for (let i = 0; i < len; i++) mask[i] = Math.exp(-0.5 * (i / sigma) * (i / sigma));
  let sum = 0;
  for (let i = 1; i < len; i++) sum += Math.abs(mask[i]);
  sum = 2 * sum + Math.abs(mask[0]);
  for (let i = 0; i < len; i++) mask[i] /= sum;
  return mask;
}

/**
 * Smooth each channel with the authors' separable even convolution (borders clamped), into float
 * planes. sigma <= 0 skips smoothing (the authors' mask degenerates to the identity there).
 */
export function smoothPlanes(planes: Uint8Array, channels: number, width: number, height: number, sigma: number): Float32Array {
  const n = width * height;
  const out = new Float32Array(channels * n);
  if (!(sigma > 0.01)) {
    for (let i = 0; i < out.length; i++) out[i] = planes[i];
    return out;
  }
  const mask = gaussianHalfMask(sigma);
  const len = mask.length;
  const m0 = mask[0];
  const tmp = new Float32Array(n);
  const wm1 = width - 1;
  const hm1 = height - 1;
  for (let c = 0; c < channels; c++) {
    const base = c * n;
    // Horizontal pass; the clamped border columns are handled apart so the interior loop has no branches.
    const lo = Math.min(len - 1, width);
    const hi = Math.max(lo, width - len + 1);
    for (let y = 0; y < height; y++) {
      const row = base + y * width;
      const trow = y * width;
      for (let x = 0; x < width; x++) {
        if (x === lo) x = hi;
        if (x >= width) break;
        let s = m0 * planes[row + x];
        for (let i = 1; i < len; i++) {
          const xl = x - i < 0 ? 0 : x - i;
          const xr = x + i > wm1 ? wm1 : x + i;
          s += mask[i] * (planes[row + xl] + planes[row + xr]);
        }
        tmp[trow + x] = s;
      }
      for (let x = lo; x < hi; x++) {
        const q = row + x;
        let s = m0 * planes[q];
        for (let i = 1; i < len; i++) s += mask[i] * (planes[q - i] + planes[q + i]);
        tmp[trow + x] = s;
      }
    }
    // Vertical pass, row by row so the inner loop walks memory contiguously.
    for (let y = 0; y < height; y++) {
      const orow = base + y * width;
      const trow = y * width;
      for (let x = 0; x < width; x++) out[orow + x] = m0 * tmp[trow + x];
      for (let i = 1; i < len; i++) {
        const up = (y - i < 0 ? 0 : y - i) * width;
        const dn = (y + i > hm1 ? hm1 : y + i) * width;
        const m = mask[i];
        for (let x = 0; x < width; x++) out[orow + x] += m * (tmp[up + x] + tmp[dn + x]);
      }
    }
  }
  return out;
}

/** Smooth, build the 8-connected graph and sort its edges by weight. */
export function buildPixelGraph(colour: ColourPlanes, sigma: number): PixelGraph {
  const { width, height, channels } = colour;
  const n = width * height;
  const sm = smoothPlanes(colour.planes, channels, width, height, sigma);
  const edgeCount = Math.max(0, (width - 1) * height + width * (height - 1) + 2 * Math.max(0, width - 1) * Math.max(0, height - 1));
  const weights = new Float32Array(edgeCount);
  const codes = new Uint32Array(edgeCount);
  const scale = colour.edgeWeightScale;
  let e = 0;
  if (channels === 1) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = y * width + x;
        const v = sm[p];
        if (x < width - 1) {
          weights[e] = scale * Math.abs(v - sm[p + 1]);
          codes[e++] = p * 4 + EDGE_RIGHT;
        }
        if (y < height - 1) {
          weights[e] = scale * Math.abs(v - sm[p + width]);
          codes[e++] = p * 4 + EDGE_DOWN;
        }
        if (x < width - 1 && y < height - 1) {
          weights[e] = scale * Math.abs(v - sm[p + width + 1]);
          codes[e++] = p * 4 + EDGE_DOWN_RIGHT;
        }
        if (x < width - 1 && y > 0) {
          weights[e] = scale * Math.abs(v - sm[p - width + 1]);
          codes[e++] = p * 4 + EDGE_UP_RIGHT;
        }
      }
    }
  } else {
    const o1 = n;
    const o2 = 2 * n;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = y * width + x;
        const r = sm[p], g = sm[o1 + p], b = sm[o2 + p];
        if (x < width - 1) {
          const q = p + 1;
          const dr = r - sm[q], dg = g - sm[o1 + q], db = b - sm[o2 + q];
          weights[e] = Math.sqrt(dr * dr + dg * dg + db * db);
          codes[e++] = p * 4 + EDGE_RIGHT;
        }
        if (y < height - 1) {
          const q = p + width;
          const dr = r - sm[q], dg = g - sm[o1 + q], db = b - sm[o2 + q];
          weights[e] = Math.sqrt(dr * dr + dg * dg + db * db);
          codes[e++] = p * 4 + EDGE_DOWN;
        }
        if (x < width - 1 && y < height - 1) {
          const q = p + width + 1;
          const dr = r - sm[q], dg = g - sm[o1 + q], db = b - sm[o2 + q];
          weights[e] = Math.sqrt(dr * dr + dg * dg + db * db);
          codes[e++] = p * 4 + EDGE_DOWN_RIGHT;
        }
        if (x < width - 1 && y > 0) {
          const q = p - width + 1;
          const dr = r - sm[q], dg = g - sm[o1 + q], db = b - sm[o2 + q];
          weights[e] = Math.sqrt(dr * dr + dg * dg + db * db);
          codes[e++] = p * 4 + EDGE_UP_RIGHT;
        }
      }
    }
  }
  if (channels !== 1 && channels !== 3) throw new Error(`expected 1 or 3 channels, got ${channels}`);
  sortEdgesByWeight(weights, codes);
  return { width, height, edgeCount, weights, codes };
}

/**
 * Sort (weight, code) pairs by ascending weight, in place: an LSD radix sort on the float bit
 * patterns (non-negative IEEE floats order like their bits as unsigned integers). Stable, so ties
 * keep the graph's raster order, which makes the segmentation deterministic on every engine.
 * Measured 17 ms against 260 ms for an index-array sort with a comparator (663k edges, 500 x 333).
 */
export function sortEdgesByWeight(weights: Float32Array, codes: Uint32Array): void {
  const n = weights.length;
  if (n < 2) return;
  let keys: Uint32Array = new Uint32Array(weights.buffer, weights.byteOffset, n);
  let vals: Uint32Array = codes;
  let keys2: Uint32Array = new Uint32Array(n);
  let vals2: Uint32Array = new Uint32Array(n);
  const counts = new Uint32Array(2048);
  let swapped = false;
  for (let shift = 0; shift < 32; shift += 11) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(keys[i] >>> shift) & 2047]++;
    // Skip a pass where every key has the same digit.
    if (counts[(keys[0] >>> shift) & 2047] === n) continue;
    let sum = 0;
    for (let d = 0; d < 2048; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      const pos = counts[(k >>> shift) & 2047]++;
      keys2[pos] = k;
      vals2[pos] = vals[i];
    }
    const tk = keys;
    keys = keys2;
    keys2 = tk;
    const tv = vals;
    vals = vals2;
    vals2 = tv;
    swapped = !swapped;
  }
  if (swapped) {
    new Uint32Array(weights.buffer, weights.byteOffset, n).set(keys);
    codes.set(vals);
  }
}

/** Union-find root with path halving. */
function findRoot(parent: Int32Array, x: number): number {
  while (parent[x] !== x) {
    const g = parent[parent[x]];
    parent[x] = g;
    x = g;
  }
  return x;
}

/**
 * Segment a sorted pixel graph with threshold constant k and minimum component size minSize
 * (segment_graph + the min-size pass of the authors' segment_image).
 */
export function segmentGraph(graph: PixelGraph, k: number, minSize: number): Segmentation {
  const { width, height, weights, codes, edgeCount } = graph;
  const n = width * height;
  const parent = new Int32Array(n);
  const rank = new Uint8Array(n);
  const size = new Int32Array(n);
  const threshold = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    parent[i] = i;
    size[i] = 1;
    threshold[i] = k; // k / |C| with |C| = 1
  }
  const offsets = Int32Array.of(1, width, width + 1, 1 - width);
  // Edges that joined two different components without merging them, in sorted order: the only
  // edges the min-size pass can act on (an edge inside a component stays inside), so that pass
  // walks this short list instead of every edge again. Same result as the authors' second loop.
  const rejected = new Int32Array(minSize > 1 ? edgeCount : 0);
  let rejectedCount = 0;
  for (let e = 0; e < edgeCount; e++) {
    const code = codes[e];
    const a = code >>> 2;
    const b = a + offsets[code & 3];
    let ra = findRoot(parent, a);
    let rb = findRoot(parent, b);
    if (ra === rb) continue;
    const w = weights[e];
    if (!(w <= threshold[ra] && w <= threshold[rb])) {
      if (rejected.length) rejected[rejectedCount++] = e;
    } else {
      // Union by rank, as in the authors' universe::join.
      if (rank[ra] > rank[rb]) {
        parent[rb] = ra;
        size[ra] += size[rb];
      } else {
        parent[ra] = rb;
        size[rb] += size[ra];
        if (rank[ra] === rank[rb]) rank[rb]++;
        ra = rb;
      }
      threshold[ra] = w + k / size[ra];
    }
  }
  if (minSize > 1) {
    for (let i = 0; i < rejectedCount; i++) {
      const code = codes[rejected[i]];
      const a = code >>> 2;
      const b = a + offsets[code & 3];
      const ra = findRoot(parent, a);
      const rb = findRoot(parent, b);
      if (ra !== rb && (size[ra] < minSize || size[rb] < minSize)) {
        if (rank[ra] > rank[rb]) {
          parent[rb] = ra;
          size[ra] += size[rb];
        } else {
          parent[ra] = rb;
          size[rb] += size[ra];
          if (rank[ra] === rank[rb]) rank[rb]++;
        }
      }
    }
  }
  // Compact labels in raster order of each segment's first pixel. `size` is reused as the root -> label map.
  const labels = new Int32Array(n);
  const rootLabel = size;
  rootLabel.fill(-1);
  let count = 0;
  for (let p = 0; p < n; p++) {
    const r = findRoot(parent, p);
    let l = rootLabel[r];
    if (l < 0) {
      l = count++;
      rootLabel[r] = l;
    }
    labels[p] = l;
  }
  return { width, height, count, labels };
}

/** One-call segmentation (used by tests and by anyone wanting just the base segmentation). */
export function felzenszwalb(colour: ColourPlanes, options: { sigma?: number; k: number; minSize?: number }): Segmentation {
  const graph = buildPixelGraph(colour, options.sigma ?? 0.8);
  return segmentGraph(graph, options.k, options.minSize ?? options.k);
}
