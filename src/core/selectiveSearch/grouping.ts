/**
 * Hierarchical grouping (Uijlings et al., Algorithm 1; the release's
 * BlobStruct2HierarchicalGrouping): repeatedly merge the most similar pair of adjacent regions
 * until one region is left. Every region ever formed is a proposal.
 *
 * The release re-sorts its whole similarity list after every merge (so does OpenCV's ximgproc);
 * here the pairs live in a binary max-heap with lazy deletion: a merge pushes the new region's
 * pairs and leaves the pairs of the two merged regions in the heap, to be discarded when popped
 * (a pair is live while both its regions are). Same merges, O(log P) per pair instead of a sort.
 */
import type { RegionFeatures } from './features';
import type { SimilarityFlags } from './plan';

export interface GroupingResult {
  /** n: base segments. */
  segmentCount: number;
  /** Merges performed: n - 1 for a connected region graph (always, for a segmentation of one image). */
  mergeCount: number;
  /** 4 * (n + mergeCount) boxes: base segments, then the region of each merge. */
  boxes: Float32Array;
  /** Release priority per region: merged region j gets mergeCount - j, base segments mergeCount + 1. */
  hierarchyPositions: Int32Array;
  /** 2 * mergeCount: the two region ids of each merge. */
  merges: Int32Array;
  /** Similarity of each merged pair. */
  mergeSimilarity: Float32Array;
}

/**
 * Similarity of regions i and j (sum of the enabled measures, each in [0, 1]); exported for tests.
 * Colour/texture: histogram intersection; size: 1 - (size_i + size_j) / size_image;
 * fill: 1 - (area of the joint bounding box - size_i - size_j) / size_image.
 */
export function similarity(
  flags: SimilarityFlags,
  i: number,
  j: number,
  sizes: ArrayLike<number>,
  boxes: ArrayLike<number>,
  imageSize: number,
  colourHist: Float32Array,
  colourLength: number,
  textureHist: Float32Array,
  textureLength: number,
): number {
  let s = 0;
  if (flags.colour) s += intersection(colourHist, i * colourLength, j * colourLength, colourLength);
  if (flags.texture) s += intersection(textureHist, i * textureLength, j * textureLength, textureLength);
  if (flags.size) s += 1 - (sizes[i] + sizes[j]) / imageSize;
  if (flags.fill) {
    const w = Math.max(boxes[4 * i + 2], boxes[4 * j + 2]) - Math.min(boxes[4 * i], boxes[4 * j]);
    const h = Math.max(boxes[4 * i + 3], boxes[4 * j + 3]) - Math.min(boxes[4 * i + 1], boxes[4 * j + 1]);
    s += 1 - (w * h - sizes[i] - sizes[j]) / imageSize;
  }
  return s;
}

function intersection(h: Float32Array, a: number, b: number, len: number): number {
  let s = 0;
  for (let k = 0; k < len; k++) {
    const x = h[a + k];
    const y = h[b + k];
    s += x < y ? x : y;
  }
  return s;
}

/** Run the hierarchical grouping of one base segmentation with one similarity set. */
export function hierarchicalGrouping(f: RegionFeatures, flags: SimilarityFlags): GroupingResult {
  return new Grouper(f, flags).run();
}

class Grouper {
  private readonly n: number;
  private readonly total: number;
  private readonly sizes: Float64Array;
  private readonly boxes: Float32Array;
  private readonly cl: number;
  private readonly tl: number;
  private readonly colour: Float32Array;
  private readonly texture: Float32Array;
  private readonly imageSize: number;
  private readonly parent: Int32Array;
  private readonly alive: Uint8Array;
  private readonly mark: Int32Array;
  // Neighbour lists: region r's (possibly stale) neighbour ids at pool[listStart[r] .. + listLen[r]).
  private readonly listStart: Int32Array;
  private readonly listLen: Int32Array;
  private pool: Int32Array;
  private poolLen: number;
  // Max-heap of candidate pairs.
  private heapKey: Float64Array;
  private heapA: Int32Array;
  private heapB: Int32Array;
  private heapSize = 0;

  constructor(private readonly f: RegionFeatures, private readonly flags: SimilarityFlags) {
    const n = f.count;
    this.n = n;
    const total = Math.max(1, 2 * n - 1);
    this.total = total;
    this.sizes = new Float64Array(total);
    this.sizes.set(f.sizes);
    this.boxes = new Float32Array(4 * total);
    this.boxes.set(f.boxes);
    // Histograms are copied only when the similarity set uses them (F and S runs need none).
    this.cl = flags.colour ? f.colourLength : 0;
    this.tl = flags.texture ? f.textureLength : 0;
    if (flags.colour && (f.colourLength === 0 || f.colourHist.length !== n * f.colourLength)) throw new Error('colour similarity needs colour histograms');
    if (flags.texture && (f.textureLength === 0 || f.textureHist.length !== n * f.textureLength)) throw new Error('texture similarity needs texture histograms');
    this.colour = new Float32Array(total * this.cl);
    if (this.cl) this.colour.set(f.colourHist);
    this.texture = new Float32Array(total * this.tl);
    if (this.tl) this.texture.set(f.textureHist);
    this.imageSize = f.imageSize;
    this.parent = new Int32Array(total);
    for (let i = 0; i < total; i++) this.parent[i] = i;
    this.alive = new Uint8Array(total);
    this.alive.fill(1, 0, n);
    this.mark = new Int32Array(total).fill(-1);
    this.listStart = new Int32Array(total);
    this.listLen = new Int32Array(total);
    const adj = f.adjIndex;
    // Room for the base lists plus the new regions' lists (their sizes sum to a few times n).
    this.pool = new Int32Array(Math.max(16, 3 * adj.length + 8 * n));
    this.pool.set(adj);
    this.poolLen = adj.length;
    for (let r = 0; r < n; r++) {
      this.listStart[r] = f.adjStart[r];
      this.listLen[r] = f.adjStart[r + 1] - f.adjStart[r];
    }
    const cap = Math.max(16, 2 * adj.length);
    this.heapKey = new Float64Array(cap);
    this.heapA = new Int32Array(cap);
    this.heapB = new Int32Array(cap);
  }

  run(): GroupingResult {
    const { n, f } = this;
    const adjStart = f.adjStart, adj = f.adjIndex;
    for (let r = 0; r < n; r++) {
      for (let i = adjStart[r]; i < adjStart[r + 1]; i++) {
        const q = adj[i];
        if (q > r) this.push(this.sim(r, q), r, q);
      }
    }
    const maxMerges = Math.max(0, n - 1);
    const merges = new Int32Array(2 * maxMerges);
    const mergeSim = new Float32Array(maxMerges);
    const alive = this.alive;
    let m = 0;
    while (m < maxMerges && this.heapSize > 0) {
      const s = this.heapKey[0];
      const a = this.heapA[0];
      const b = this.heapB[0];
      this.popTop();
      if (!alive[a] || !alive[b]) continue; // stale pair of an already merged region
      const t = n + m;
      this.mergeInto(a, b, t);
      merges[2 * m] = a;
      merges[2 * m + 1] = b;
      mergeSim[m] = s;
      m++;
      this.linkNeighbours(a, b, t);
    }
    const regions = n + m;
    const hierarchyPositions = new Int32Array(regions);
    for (let r = 0; r < n; r++) hierarchyPositions[r] = m + 1;
    for (let j = 0; j < m; j++) hierarchyPositions[n + j] = m - j;
    return {
      segmentCount: n,
      mergeCount: m,
      boxes: m === maxMerges && regions === this.total ? this.boxes : this.boxes.slice(0, 4 * regions),
      hierarchyPositions,
      merges: m === maxMerges ? merges : merges.slice(0, 2 * m),
      mergeSimilarity: m === maxMerges ? mergeSim : mergeSim.slice(0, m),
    };
  }

  private sim(i: number, j: number): number {
    return similarity(this.flags, i, j, this.sizes, this.boxes, this.imageSize, this.colour, this.cl, this.texture, this.tl);
  }

  /** Size-weighted average of the histograms, summed size, union of boxes (MergeBlobStructure). */
  private mergeInto(a: number, b: number, t: number): void {
    const sa = this.sizes[a], sb = this.sizes[b];
    const st = sa + sb;
    this.sizes[t] = st;
    const bx = this.boxes;
    bx[4 * t] = Math.min(bx[4 * a], bx[4 * b]);
    bx[4 * t + 1] = Math.min(bx[4 * a + 1], bx[4 * b + 1]);
    bx[4 * t + 2] = Math.max(bx[4 * a + 2], bx[4 * b + 2]);
    bx[4 * t + 3] = Math.max(bx[4 * a + 3], bx[4 * b + 3]);
    const wa = sa / st, wb = sb / st;
    if (this.cl) weightedSum(this.colour, this.cl, a, b, t, wa, wb);
    if (this.tl) weightedSum(this.texture, this.tl, a, b, t, wa, wb);
    this.alive[a] = 0;
    this.alive[b] = 0;
    this.alive[t] = 1;
    this.parent[a] = t;
    this.parent[b] = t;
  }

  /** The new region's neighbours are the current regions of a's and b's neighbours; push their pairs. */
  private linkNeighbours(a: number, b: number, t: number): void {
    const need = this.listLen[a] + this.listLen[b];
    if (this.poolLen + need > this.pool.length) {
      const grown = new Int32Array(Math.max(2 * this.pool.length, this.poolLen + need));
      grown.set(this.pool.subarray(0, this.poolLen));
      this.pool = grown;
    }
    const pool = this.pool;
    const start = this.poolLen;
    let len = 0;
    const mark = this.mark;
    for (let side = 0; side < 2; side++) {
      const r0 = side === 0 ? a : b;
      const s = this.listStart[r0];
      const e = s + this.listLen[r0];
      for (let i = s; i < e; i++) {
        const q = this.find(pool[i]);
        if (q === t || mark[q] === t) continue;
        mark[q] = t;
        pool[start + len++] = q;
        this.push(this.sim(t, q), t, q);
      }
    }
    this.listStart[t] = start;
    this.listLen[t] = len;
    this.poolLen = start + len;
  }

  private find(x: number): number {
    const parent = this.parent;
    while (parent[x] !== x) {
      const g = parent[parent[x]];
      parent[x] = g;
      x = g;
    }
    return x;
  }

  private push(key: number, a: number, b: number): void {
    if (this.heapSize === this.heapKey.length) {
      const cap = 2 * this.heapKey.length;
      const k = new Float64Array(cap);
      k.set(this.heapKey);
      const ha = new Int32Array(cap);
      ha.set(this.heapA);
      const hb = new Int32Array(cap);
      hb.set(this.heapB);
      this.heapKey = k;
      this.heapA = ha;
      this.heapB = hb;
    }
    const keys = this.heapKey, A = this.heapA, B = this.heapB;
    let i = this.heapSize++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p] >= key) break;
      keys[i] = keys[p];
      A[i] = A[p];
      B[i] = B[p];
      i = p;
    }
    keys[i] = key;
    A[i] = a;
    B[i] = b;
  }

  private popTop(): void {
    const keys = this.heapKey, A = this.heapA, B = this.heapB;
    const size = --this.heapSize;
    if (size === 0) return;
    const key = keys[size], a = A[size], b = B[size];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && keys[c + 1] > keys[c]) c++;
      if (keys[c] <= key) break;
      keys[i] = keys[c];
      A[i] = A[c];
      B[i] = B[c];
      i = c;
    }
    keys[i] = key;
    A[i] = a;
    B[i] = b;
  }
}

function weightedSum(h: Float32Array, len: number, a: number, b: number, t: number, wa: number, wb: number): void {
  const oa = a * len, ob = b * len, ot = t * len;
  for (let k = 0; k < len; k++) h[ot + k] = wa * h[oa + k] + wb * h[ob + k];
}
