/**
 * Per-class linear SVMs of R-CNN (docs/algorithm.md section 5, rcnn_train.m).
 *
 * The release trains each class with liblinear type 3 (`-s 3 -c 0.001 -w1 2 -B 10`):
 * L2-regularised L1-hinge loss, solved in the dual by the coordinate descent of Hsieh et al.,
 * "A Dual Coordinate Descent Method for Large-scale Linear SVM" (ICML 2008). This is that
 * algorithm (liblinear's solve_l2r_l1l2_svc, L1-loss case), on dense Float32 rows:
 *
 *   primal  min_{w,v}  1/2 (|w|^2 + v^2) + sum_i C_i max(0, 1 - y_i (w.x_i + B v))
 *   dual    max_a      sum_i a_i - 1/2 |sum_i a_i y_i [x_i; B]|^2,   0 <= a_i <= C_i
 *
 * with B = 10 the bias multiplier: liblinear appends the constant feature B to every row, so the
 * bias b = B v is regularised as (b / B)^2 / 2 (a large B makes the bias almost free, which is
 * why the release uses 10), and C_i = 2C for positives (-w1 2: positives are few and precious).
 * Because the bias is a regularised feature there is no equality constraint in the dual, which
 * is what lets coordinate descent update one a_i at a time.
 *
 * Stopping: liblinear's rule, projected-gradient spread max PG - min PG <= epsilon over a sweep
 * (liblinear's default epsilon for type 3 is 0.1; max 1000 sweeps), with its shrinking heuristic.
 * The visiting order is a seeded random permutation per sweep, so results are reproducible.
 */
import { mulberry32, randomInt } from './random';

export interface SvmOptions {
  /** Loss weight C (release: 0.001). */
  C?: number;
  /** Positive-class loss multiplier (release: 2, i.e. C_pos = 2C). */
  positiveWeight?: number;
  /** Value of the appended bias feature (release: 10). 0 trains without a bias. */
  biasMultiplier?: number;
  /** Stopping tolerance on the projected-gradient spread (liblinear default for type 3: 0.1). */
  epsilon?: number;
  /** Maximum sweeps over the data (liblinear: 1000). */
  maxIterations?: number;
  /** liblinear's shrinking heuristic (skip variables stuck at a bound). Default true. */
  shrinking?: boolean;
  /** Seed of the per-sweep random visiting order. */
  seed?: number;
  /**
   * Warm start: dual variables per row (positives first, then negatives), clipped to their box.
   * Any value is feasible (no equality constraint), so a warm start changes only the speed.
   */
  initialAlpha?: Float64Array;
}

export const SVM_DEFAULTS = {
  C: 0.001,
  positiveWeight: 2,
  biasMultiplier: 10,
  epsilon: 0.1,
  maxIterations: 1000,
  shrinking: true,
  seed: 1,
} as const;

/** Training rows split by label, each a row-major Float32Array (count x dim). */
export interface SvmProblem {
  dim: number;
  positives: Float32Array;
  numPositives: number;
  negatives: Float32Array;
  numNegatives: number;
}

export interface SvmObjective {
  /** 1/2 |w|^2 + 1/2 (b / B)^2 */
  regulariser: number;
  /** C_pos sum over positives of max(0, 1 - s_i) */
  lossPositive: number;
  /** C sum over negatives of max(0, 1 + s_i) */
  lossNegative: number;
  primal: number;
}

export interface SvmSolution extends SvmObjective {
  w: Float32Array;
  b: number;
  /** Dual objective sum a - 1/2 |w~|^2; primal - dual >= 0 is the duality gap. */
  dual: number;
  /** Dual variables (positives first, then negatives). */
  alpha: Float64Array;
  iterations: number;
  converged: boolean;
  /** Rows with a > 0. */
  supportVectors: number;
}

function resolve(opts: SvmOptions) {
  const o = { ...SVM_DEFAULTS, ...stripUndefined(opts) };
  if (!(o.C > 0)) throw new Error(`SVM: C must be > 0, got ${o.C}`);
  if (!(o.positiveWeight > 0)) throw new Error(`SVM: positiveWeight must be > 0, got ${o.positiveWeight}`);
  if (!(o.biasMultiplier >= 0)) throw new Error(`SVM: biasMultiplier must be >= 0, got ${o.biasMultiplier}`);
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** w . x for row `off` of X (dimension d); float64 accumulation, unrolled by 4. */
function dotRow(w: Float64Array, X: Float32Array, off: number, d: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let k = 0;
  for (; k + 3 < d; k += 4) {
    s0 += w[k] * X[off + k];
    s1 += w[k + 1] * X[off + k + 1];
    s2 += w[k + 2] * X[off + k + 2];
    s3 += w[k + 3] * X[off + k + 3];
  }
  for (; k < d; k++) s0 += w[k] * X[off + k];
  return s0 + s1 + s2 + s3;
}

/** w += a x for row `off` of X. */
function axpyRow(a: number, X: Float32Array, off: number, w: Float64Array, d: number): void {
  let k = 0;
  for (; k + 3 < d; k += 4) {
    w[k] += a * X[off + k];
    w[k + 1] += a * X[off + k + 1];
    w[k + 2] += a * X[off + k + 2];
    w[k + 3] += a * X[off + k + 3];
  }
  for (; k < d; k++) w[k] += a * X[off + k];
}

function sqNormRow(X: Float32Array, off: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const v = X[off + k];
    s += v * v;
  }
  return s;
}

/**
 * Train one linear SVM by dual coordinate descent. Deterministic for a given seed.
 */
export function trainLinearSvm(problem: SvmProblem, opts: SvmOptions = {}): SvmSolution {
  const o = resolve(opts);
  const { dim: d, positives: P, negatives: N, numPositives: np, numNegatives: nn } = problem;
  if (P.length < np * d || N.length < nn * d) throw new Error('SVM: feature buffers are shorter than count x dim');
  const l = np + nn;
  const B = o.biasMultiplier;
  const Cp = o.C * o.positiveWeight;
  const Cn = o.C;

  const w = new Float64Array(d);
  let v = 0; // weight of the bias feature; b = B v
  const alpha = new Float64Array(l);
  const QD = new Float64Array(l);
  const index = new Int32Array(l);
  for (let i = 0; i < l; i++) {
    index[i] = i;
    QD[i] = (i < np ? sqNormRow(P, i * d, d) : sqNormRow(N, (i - np) * d, d)) + B * B;
  }
  if (o.initialAlpha) {
    if (o.initialAlpha.length !== l) throw new Error(`SVM: initialAlpha has ${o.initialAlpha.length} entries for ${l} rows`);
    for (let i = 0; i < l; i++) {
      const a = Math.min(Math.max(o.initialAlpha[i], 0), i < np ? Cp : Cn);
      if (!(a > 0)) continue;
      alpha[i] = a;
      if (i < np) axpyRow(a, P, i * d, w, d);
      else axpyRow(-a, N, (i - np) * d, w, d);
      v += (i < np ? a : -a) * B;
    }
  }

  const random = mulberry32(o.seed);
  let activeSize = l;
  let PGmaxOld = Infinity;
  let PGminOld = -Infinity;
  let iter = 0;
  let converged = false;
  while (iter < o.maxIterations) {
    let PGmaxNew = -Infinity;
    let PGminNew = Infinity;
    for (let i = 0; i < activeSize; i++) {
      const j = i + randomInt(random, activeSize - i);
      const t = index[i];
      index[i] = index[j];
      index[j] = t;
    }
    for (let s = 0; s < activeSize; s++) {
      const i = index[s];
      const pos = i < np;
      const X = pos ? P : N;
      const off = (pos ? i : i - np) * d;
      const yi = pos ? 1 : -1;
      const G = yi * (dotRow(w, X, off, d) + B * v) - 1;
      const C = pos ? Cp : Cn;
      const ai = alpha[i];
      let PG = 0;
      if (ai === 0) {
        if (G > PGmaxOld && o.shrinking) {
          activeSize--;
          index[s] = index[activeSize];
          index[activeSize] = i;
          s--;
          continue;
        } else if (G < 0) PG = G;
      } else if (ai === C) {
        if (G < PGminOld && o.shrinking) {
          activeSize--;
          index[s] = index[activeSize];
          index[activeSize] = i;
          s--;
          continue;
        } else if (G > 0) PG = G;
      } else PG = G;
      if (PG > PGmaxNew) PGmaxNew = PG;
      if (PG < PGminNew) PGminNew = PG;
      if (Math.abs(PG) > 1e-12) {
        const anew = Math.min(Math.max(ai - G / QD[i], 0), C);
        alpha[i] = anew;
        const delta = (anew - ai) * yi;
        axpyRow(delta, X, off, w, d);
        v += delta * B;
      }
    }
    iter++;
    if (PGmaxNew - PGminNew <= o.epsilon) {
      if (activeSize === l) {
        converged = true;
        break;
      }
      // Converged on the shrunk set: check every variable once more before stopping.
      activeSize = l;
      PGmaxOld = Infinity;
      PGminOld = -Infinity;
      continue;
    }
    PGmaxOld = PGmaxNew;
    PGminOld = PGminNew;
    if (PGmaxOld <= 0) PGmaxOld = Infinity;
    if (PGminOld >= 0) PGminOld = -Infinity;
  }

  let wsq = v * v;
  for (let k = 0; k < d; k++) wsq += w[k] * w[k];
  let sumAlpha = 0;
  let sv = 0;
  for (let i = 0; i < l; i++) {
    sumAlpha += alpha[i];
    if (alpha[i] > 0) sv++;
  }
  const wf = Float32Array.from(w);
  const b = B * v;
  // Primal terms from the float64 weights (the float32 copy is what gets stored and used).
  const obj = objectiveOf(problem, w, b, o);
  return {
    w: wf,
    b,
    ...obj,
    dual: sumAlpha - 0.5 * wsq,
    alpha,
    iterations: iter,
    converged,
    supportVectors: sv,
  };
}

/**
 * The release's objective report (rcnn_train.m): pos_loss + neg_loss + reg_loss with
 * reg_loss = 1/2 |w|^2 + 1/2 (b / bias_mult)^2.
 */
export function svmObjective(problem: SvmProblem, w: ArrayLike<number>, b: number, opts: SvmOptions = {}): SvmObjective {
  return objectiveOf(problem, w, b, resolve(opts));
}

function objectiveOf(
  problem: SvmProblem,
  w: ArrayLike<number>,
  b: number,
  o: { C: number; positiveWeight: number; biasMultiplier: number },
): SvmObjective {
  const { dim: d, positives: P, negatives: N, numPositives: np, numNegatives: nn } = problem;
  const w64 = w instanceof Float64Array ? w : Float64Array.from(w);
  let wsq = 0;
  for (let k = 0; k < d; k++) wsq += w64[k] * w64[k];
  const B = o.biasMultiplier;
  const regulariser = 0.5 * wsq + (B > 0 ? 0.5 * (b / B) ** 2 : 0);
  let lp = 0;
  for (let i = 0; i < np; i++) lp += Math.max(0, 1 - (dotRow(w64, P, i * d, d) + b));
  let ln = 0;
  for (let i = 0; i < nn; i++) ln += Math.max(0, 1 + (dotRow(w64, N, i * d, d) + b));
  const lossPositive = o.C * o.positiveWeight * lp;
  const lossNegative = o.C * ln;
  return { regulariser, lossPositive, lossNegative, primal: regulariser + lossPositive + lossNegative };
}

/** Convenience: train from one row-major matrix and labels (> 0 positive, otherwise negative). */
export function trainLinearSvmLabeled(
  features: Float32Array,
  n: number,
  d: number,
  labels: ArrayLike<number>,
  opts: SvmOptions = {},
): SvmSolution {
  return trainLinearSvm(splitByLabel(features, n, d, labels), opts);
}

export function splitByLabel(features: Float32Array, n: number, d: number, labels: ArrayLike<number>): SvmProblem {
  let np = 0;
  for (let i = 0; i < n; i++) if (labels[i] > 0) np++;
  const positives = new Float32Array(np * d);
  const negatives = new Float32Array((n - np) * d);
  let p = 0;
  let q = 0;
  for (let i = 0; i < n; i++) {
    const row = features.subarray(i * d, i * d + d);
    if (labels[i] > 0) positives.set(row, d * p++);
    else negatives.set(row, d * q++);
  }
  return { dim: d, positives, numPositives: np, negatives, numNegatives: n - np };
}

/** Scores w . x + b of n rows of X into `out` (allocated when absent). */
export function svmScores(
  X: Float32Array,
  n: number,
  d: number,
  w: ArrayLike<number>,
  b: number,
  out: Float32Array = new Float32Array(n),
): Float32Array {
  const w64 = w instanceof Float64Array ? w : Float64Array.from(w);
  for (let i = 0; i < n; i++) out[i] = dotRow(w64, X, i * d, d) + b;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hard negative mining (rcnn_train.m): one pass over the training images per class.
// ---------------------------------------------------------------------------------------------

export interface HardNegativeMiningOptions extends Omit<SvmOptions, 'initialAlpha'> {
  /** A candidate negative is hard when its score is above this (release: -1.0001, i.e. inside the margin). */
  hardThreshold?: number;
  /** After each retrain, cached negatives scoring below this are evicted (release: -1.2). */
  evictThreshold?: number;
  /** Retrain when more than this many negatives were added since the last retrain (release: 2000). */
  retrainLimit?: number;
  /**
   * Start each retrain from the previous dual variables of the cached rows. Evicted rows scored
   * below -1.2, i.e. outside the margin, where the optimal dual variable is 0, so dropping them
   * keeps the warm start consistent. Changes speed only (liblinear in the release starts cold).
   */
  warmStart?: boolean;
}

export const MINING_DEFAULTS = {
  hardThreshold: -1.0001,
  evictThreshold: -1.2,
  retrainLimit: 2000,
  warmStart: true,
} as const;

export interface RetrainStats {
  /** 1-based retrain count. */
  retrain: number;
  /** Images offered so far. */
  imagesSeen: number;
  numPositives: number;
  /** Negatives in the cache when training (before eviction). */
  numNegatives: number;
  /** Negatives evicted as easy after training. */
  evicted: number;
  /** Cache size after eviction. */
  cacheSize: number;
  primal: number;
  dual: number;
  lossPositive: number;
  lossNegative: number;
  regulariser: number;
  iterations: number;
  converged: boolean;
  /** Positives with score < 1 and negatives with score > -1 (margin violators or on it). */
  positiveSupportVectors: number;
  negativeSupportVectors: number;
  /** Wall time of the solver and scoring, seconds. */
  seconds: number;
}

export interface OfferResult {
  /** Negatives added to the cache from this offer. */
  added: number;
  /** Set when the offer triggered a retrain. */
  retrained: RetrainStats | null;
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * The hard-negative mining driver of one class, free of I/O: the caller computes (scaled) fc7
 * features for an image's candidate negatives (proposals with IoU < 0.3 to every ground truth of
 * this class, see sampling.ts) and offers them image by image; the miner keeps the hard ones,
 * retrains when the release would, and evicts easy negatives after each retrain.
 *
 * As in the release: the first image's negatives are all taken (the zero model scores them all
 * 0, inside the margin) and trigger the first training; afterwards a retrain happens when more
 * than `retrainLimit` (2000) negatives were added since the last one; `finish()` retrains once
 * more at the end of the pass. Optional keys (image, proposal) keep a negative from being cached
 * twice when images are offered again (a second epoch).
 */
export class HardNegativeMiner {
  readonly dim: number;
  readonly w: Float32Array;
  b = 0;
  readonly stats: RetrainStats[] = [];
  private readonly positives: Float32Array;
  private readonly numPositives: number;
  private readonly opts: ReturnType<typeof resolve> & typeof MINING_DEFAULTS;
  private neg: Float32Array;
  private negAlpha: Float64Array;
  private negKeys: Float64Array;
  private posAlpha: Float64Array;
  private count = 0;
  private keySet = new Set<number>();
  private addedSinceTrain = 0;
  private images = 0;
  private trainedOnce = false;
  private scratchScores = new Float32Array(0);
  private seedCounter = 0;

  constructor(dim: number, positives: Float32Array, numPositives: number, opts: HardNegativeMiningOptions = {}) {
    if (positives.length < numPositives * dim) throw new Error('miner: positives buffer shorter than count x dim');
    this.dim = dim;
    this.positives = positives.subarray(0, numPositives * dim);
    this.numPositives = numPositives;
    this.opts = { ...resolve(opts), ...MINING_DEFAULTS, ...stripUndefined(opts) } as ReturnType<typeof resolve> & typeof MINING_DEFAULTS;
    this.w = new Float32Array(dim);
    const cap = 1024;
    this.neg = new Float32Array(cap * dim);
    this.negAlpha = new Float64Array(cap);
    this.negKeys = new Float64Array(cap);
    this.posAlpha = new Float64Array(numPositives);
  }

  /** Negatives currently cached. */
  get cacheSize(): number {
    return this.count;
  }

  /** Cached negative features (row-major, cacheSize x dim); a view, valid until the next offer. */
  get cachedNegatives(): Float32Array {
    return this.neg.subarray(0, this.count * this.dim);
  }

  /** Keys (image * 2^32 + proposal) of the cached negatives, -1 where none was given. */
  get cachedKeys(): Float64Array {
    return this.negKeys.subarray(0, this.count);
  }

  /** Scores of n candidate rows under the current model. */
  score(features: Float32Array, n: number, out?: Float32Array): Float32Array {
    return svmScores(features, n, this.dim, this.w, this.b, out);
  }

  /**
   * Offer one image's candidate negatives (n rows of `features`). `proposalIndices` (with
   * `imageIndex`) identify them for de-duplication across epochs.
   */
  offerImage(features: Float32Array, n: number, imageIndex = -1, proposalIndices?: ArrayLike<number>): OfferResult {
    const d = this.dim;
    if (features.length < n * d) throw new Error('miner: features buffer shorter than n x dim');
    this.images++;
    if (this.scratchScores.length < n) this.scratchScores = new Float32Array(Math.max(n, 2 * this.scratchScores.length));
    const scores = this.score(features, n, this.scratchScores);
    const firstTime = !this.trainedOnce;
    let added = 0;
    for (let i = 0; i < n; i++) {
      if (!firstTime && !(scores[i] > this.opts.hardThreshold)) continue;
      let key = -1;
      if (imageIndex >= 0 && proposalIndices) {
        key = imageIndex * 4294967296 + proposalIndices[i];
        if (this.keySet.has(key)) continue;
        this.keySet.add(key);
      }
      this.push(features, i * d, key);
      added++;
    }
    this.addedSinceTrain += added;
    let retrained: RetrainStats | null = null;
    if ((firstTime || this.addedSinceTrain > this.opts.retrainLimit) && this.count > 0) retrained = this.retrain();
    return { added, retrained };
  }

  /** End of the pass: retrain on the final cache (the release's "last image" update). */
  finish(): RetrainStats | null {
    return this.count > 0 ? this.retrain() : null;
  }

  /** Train on the current cache, update w and b, evict easy negatives. */
  retrain(): RetrainStats {
    const t0 = now();
    const d = this.dim;
    const np = this.numPositives;
    const nn = this.count;
    const problem: SvmProblem = {
      dim: d,
      positives: this.positives,
      numPositives: np,
      negatives: this.neg.subarray(0, nn * d),
      numNegatives: nn,
    };
    let initialAlpha: Float64Array | undefined;
    if (this.opts.warmStart && this.trainedOnce) {
      initialAlpha = new Float64Array(np + nn);
      initialAlpha.set(this.posAlpha, 0);
      initialAlpha.set(this.negAlpha.subarray(0, nn), np);
    }
    const sol = trainLinearSvm(problem, { ...this.opts, seed: this.opts.seed + this.seedCounter++, initialAlpha });
    this.w.set(sol.w);
    this.b = sol.b;
    this.posAlpha.set(sol.alpha.subarray(0, np));
    this.negAlpha.set(sol.alpha.subarray(np, np + nn), 0);
    this.trainedOnce = true;
    this.addedSinceTrain = 0;

    const posScores = svmScores(this.positives, np, d, this.w, this.b);
    let posSv = 0;
    for (let i = 0; i < np; i++) if (posScores[i] < 1) posSv++;
    const negScores = svmScores(problem.negatives, nn, d, this.w, this.b);
    let negSv = 0;
    let kept = 0;
    for (let i = 0; i < nn; i++) {
      const s = negScores[i];
      if (s > -1) negSv++;
      if (s < this.opts.evictThreshold) {
        if (this.negKeys[i] >= 0) this.keySet.delete(this.negKeys[i]);
        continue;
      }
      if (kept !== i) {
        this.neg.copyWithin(kept * d, i * d, i * d + d);
        this.negAlpha[kept] = this.negAlpha[i];
        this.negKeys[kept] = this.negKeys[i];
      }
      kept++;
    }
    this.count = kept;
    const stats: RetrainStats = {
      retrain: this.stats.length + 1,
      imagesSeen: this.images,
      numPositives: np,
      numNegatives: nn,
      evicted: nn - kept,
      cacheSize: kept,
      primal: sol.primal,
      dual: sol.dual,
      lossPositive: sol.lossPositive,
      lossNegative: sol.lossNegative,
      regulariser: sol.regulariser,
      iterations: sol.iterations,
      converged: sol.converged,
      positiveSupportVectors: posSv,
      negativeSupportVectors: negSv,
      seconds: (now() - t0) / 1000,
    };
    this.stats.push(stats);
    return stats;
  }

  private push(src: Float32Array, off: number, key: number): void {
    const d = this.dim;
    if (this.count === this.negAlpha.length) {
      // Grow by 1.5x: caches of fc7 rows are large (16 KB each), doubling would overshoot.
      const cap = Math.ceil(this.negAlpha.length * 1.5);
      const neg = new Float32Array(cap * d);
      neg.set(this.neg.subarray(0, this.count * d));
      this.neg = neg;
      const a = new Float64Array(cap);
      a.set(this.negAlpha.subarray(0, this.count));
      this.negAlpha = a;
      const k = new Float64Array(cap);
      k.set(this.negKeys.subarray(0, this.count));
      this.negKeys = k;
    }
    this.neg.set(src.subarray(off, off + d), this.count * d);
    this.negAlpha[this.count] = 0;
    this.negKeys[this.count] = key;
    this.count++;
  }
}
