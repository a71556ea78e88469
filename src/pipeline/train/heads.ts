/**
 * Stages 2 and 3 of R-CNN training on the fine-tuned CNN's features:
 * - per-class linear SVMs on fc7 with hard-negative mining (docs/algorithm.md section 5):
 *   ground-truth boxes are the positives, proposals under 0.3 IoU with every instance of the class
 *   the negatives, one pass over the training images;
 * - per-class ridge box regressors on pool5 (section 6) from proposals over 0.6 IoU.
 * Features are scaled so their mean L2 norm is 20, the factor measured on a sample of training
 * windows first, as rcnn_feature_stats.m does.
 *
 * Shell-neutral (source.ts): `rcnn train --stages svm,bbox` drives it with its worker threads and
 * disk cache, the app's Train view with its CNN worker pool; both get the same heads from the
 * same features. Besides the heads it reports what the app shows of the recipe (`insight`): the
 * negatives the final SVMs scored highest and every regression pair's IoU before and after.
 */
import { labelProposals, SVM_NEGATIVE, type ProposalSampling } from '../../core/learn/sampling';
import { FeatureNormAccumulator, featureScaleFactor, scaleFeaturesInPlace } from '../../core/learn/featureScale';
import { HardNegativeMiner, SVM_DEFAULTS, type RetrainStats } from '../../core/learn/svm';
import { BBOX_LAMBDA_DEFAULT, predictBoxDeltas, trainClassBoxRegressor, type ClassBoxRegressor } from '../../core/learn/bboxRegression';
import { mulberry32, shuffleInPlace } from '../../core/learn/random';
import { decodeBoxes, iou } from '../../core/geometry';
import type { SvmHead, BoxRegressorHead } from '../../model/package';
import { forEachOnWorkers, formatEta, toRaster, type FeatureAugment, type FeatureSource, type RunHooks, type TrainImage } from './source';

export interface HeadOptions {
  /** Proposals per image used for mining (best-ranked first); R-CNN uses all (~2000). */
  proposalsPerImage: number;
  seed: number;
  /** Train the SVMs / the box regressors. */
  svm: boolean;
  bbox: boolean;
  /** Box-regression samples kept per image (random subset of the > 0.6 IoU proposals; 0 = all). */
  bboxSamplesPerImage: number;
  /**
   * SVM regularisation C values (docs/algorithm.md section 5: 0.001). With several, one set of SVMs
   * per value is mined in the same pass over the images (the CNN features are the cost, not the
   * solver), for the caller to choose between on validation images.
   */
  svmC?: readonly number[];
  /**
   * Extra SVM positives: this many randomly augmented copies of every ground-truth box (default 0,
   * the paper's ground truth only), warped with `positiveAugment` (use the fine-tuning augmentation,
   * so the SVMs accept what the CNN was taught to tolerate: mirror, colour casts, blur).
   */
  positiveCopies?: number;
  positiveAugment?: Omit<FeatureAugment, 'seed'>;
  /**
   * Ridge lambda of the box regressors (docs/algorithm.md section 6: 1000). With several, one set
   * of regressors per value is solved on the same pairs, for the caller to choose between on
   * validation images.
   */
  bboxLambda?: readonly number[];
  /**
   * SVM negatives: proposals whose IoU with every instance of the class is below this
   * (docs/algorithm.md section 5: 0.3, which the paper chose on validation from 0-0.5).
   */
  svmNegativeIou?: number;
  /**
   * Passes of hard-negative mining over the images (the release's max_hard_epochs; default 1).
   * Every pass ends with a retrain, so the next one mines with a model that has seen every
   * image: one pass leaves out the negatives that only the final model scores above -1.
   */
  hardEpochs?: number;
}

/** One set of per-class SVMs, for one value of C. */
export interface SvmCandidate {
  C: number;
  head: SvmHead;
  /** Per class: positives, candidate negatives offered to the miner (all images), hard negatives taken in each pass, retrains. */
  stats: Array<{ class: string; positives: number; candidateNegatives: number; addedPerPass: number[]; retrains: RetrainStats[] }>;
}

/** One set of per-class box regressors, for one value of lambda. */
export interface BoxRegressorCandidate {
  lambda: number;
  head: BoxRegressorHead;
  stats: Array<{ class: string; samples: number; method: string; seconds: number }>;
}

export interface HeadResult {
  /** The SVMs of every C value, in the order given (empty without the svm stage). */
  svmCandidates: SvmCandidate[];
  /** The box regressors of every lambda value, in the order given (empty without the bbox stage). */
  bboxCandidates: BoxRegressorCandidate[];
  fc7Scale: number;
  pool5Scale: number;
  seconds: number;
  insight: HeadInsight;
}

/** A negative the final SVM scores highest: the box it most wanted to call an object. */
export interface HardNegativeExample {
  /** Index into the training images, and the box (original pixels) with its score. */
  image: number;
  box: [number, number, number, number];
  score: number;
  /** Best IoU with a ground truth of the class (under 0.3 by the negative rule). */
  iou: number;
}

export interface RegressionInsight {
  pairs: number;
  /** IoU of each training pair's proposal with its ground truth, before and after the regression. */
  iouBefore: Float32Array;
  iouAfter: Float32Array;
  /** Image of each pair, its proposal and ground truth (flat, original pixels) and the regressed box. */
  image: Int32Array;
  proposals: Float32Array;
  targets: Float32Array;
  regressed: Float32Array;
}

/** What the app shows of the recipe besides the heads (for the first C and lambda). */
export interface HeadInsight {
  /** Per class: the cached negatives the final SVM scores highest, best first. */
  hardNegatives: HardNegativeExample[][];
  /** Per class: the box-regression pairs (null without pairs or without the bbox stage). */
  regression: Array<RegressionInsight | null>;
}

/** Progress and retrains as they happen (what the app draws while it trains), and Cancel. */
export interface HeadHooks extends RunHooks {
  /** Class c's k-th SVM retrained (in the mining pass `pass`, 0-based). */
  onRetrain?: (c: number, k: number, stats: RetrainStats, pass: number) => void;
  /** Hardest negatives kept per class in `insight` (default 12). */
  hardNegatives?: number;
}

/** Candidates of one image: its ground-truth boxes first (as the release's roidb), then proposals. */
function candidates(im: TrainImage, maxProposals: number): Float32Array {
  const p = im.proposals.subarray(0, 4 * Math.min(maxProposals, im.proposals.length >> 2));
  const out = new Float32Array(im.gt.boxes.length + p.length);
  out.set(im.gt.boxes, 0);
  out.set(p, im.gt.boxes.length);
  return out;
}

export async function trainHeads(
  source: FeatureSource,
  classes: string[],
  train: readonly TrainImage[],
  fc7Dim: number,
  o: HeadOptions,
  say: (line: string) => void,
  hooks: HeadHooks = {},
): Promise<HeadResult> {
  const t0 = performance.now();
  const r: HeadsRun = { source, classes, train, fc7Dim, o, say, hooks, C: classes.length, W: source.lanes };
  const rand = mulberry32(o.seed);
  const scales = await measureFeatureScales(r, rand);
  const posFeatures = await svmPositives(r, scales.fc7);
  const Cs = o.svmC?.length ? [...o.svmC] : [SVM_DEFAULTS.C];
  // miners[k][c]: class c's SVM for the k-th C value.
  const positives = posFeatures.map((p) => Float32Array.from(p));
  const miners = Cs.map((svmC) => positives.map((pos, c) => new HardNegativeMiner(fc7Dim, pos, pos.length / fc7Dim, { seed: o.seed + c, C: svmC })));
  const copies = o.positiveCopies ?? 0;
  const what = copies > 0 ? `ground-truth boxes and ${copies} augmented ${copies > 1 ? 'copies' : 'copy'} of each (${o.positiveAugment!.mode}, gains 1 +- ${o.positiveAugment!.gainJitter}, blur ${o.positiveAugment!.blur})` : 'ground-truth boxes';
  if (o.svm) say(`SVM positives (${what}): ${classes.map((n, c) => `${n} ${posFeatures[c].length / fc7Dim}`).join(', ')}${Cs.length > 1 ? `; C values ${Cs.join(', ')}` : ''}`);

  const mined = await minePasses(r, shuffleInPlace(Int32Array.from(train.keys()), rand), miners, Cs, scales);
  const result: HeadResult = { svmCandidates: [], bboxCandidates: [], fc7Scale: scales.fc7, pool5Scale: scales.pool5, seconds: 0, insight: { hardNegatives: [], regression: [] } };
  if (o.svm) {
    result.svmCandidates = svmCandidates(r, miners, Cs, posFeatures, mined, scales.fc7);
    result.insight.hardNegatives = miners[0].map((m, c) => hardestNegatives(m, train, c, o.proposalsPerImage, hooks.hardNegatives ?? 12));
  }
  if (o.bbox) result.bboxCandidates = boxRegressorCandidates(r, mined.pairs, scales, result.insight);
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}

/** What the steps of trainHeads share: its arguments, the class count and the lane count. */
interface HeadsRun {
  source: FeatureSource;
  classes: string[];
  train: readonly TrainImage[];
  fc7Dim: number;
  o: HeadOptions;
  say: (line: string) => void;
  hooks: HeadHooks;
  C: number;
  W: number;
}

/** The factors that bring the mean fc7 and pool5 norms to 20, and pool5's dimension. */
interface FeatureScales {
  fc7: number;
  pool5: number;
  pool5Dim: number;
}

/** Per class: box-regression features (pool5), proposal boxes, their ground-truth boxes and images. */
interface BoxPairs {
  feat: GrowableF32[];
  p: number[][];
  g: number[][];
  image: number[][];
}

/** 1. Feature statistics on up to 200 images x 200 random boxes (rcnn_feature_stats.m). */
async function measureFeatureScales(r: HeadsRun, rand: () => number): Promise<FeatureScales> {
  const { source, train, o, fc7Dim } = r;
  let statsDone = 0;
  const statImages = shuffleInPlace(Int32Array.from(train.keys()), rand).slice(0, Math.min(200, train.length));
  const fc7Norms = new FeatureNormAccumulator();
  const pool5Norms = new FeatureNormAccumulator();
  let pool5Dim = 0;
  await forEachOnWorkers(
    statImages.length,
    r.W,
    async (k, w) => {
      const im = train[statImages[k]];
      const cand = candidates(im, o.proposalsPerImage);
      const n = cand.length >> 2;
      const pickRand = mulberry32(o.seed + statImages[k]);
      // 40 random boxes per image where rcnn_feature_stats.m takes 200: the mean of 8,000 norms
      // (200 images) instead of 40,000, at a fifth of the CNN passes. Kept: the bundled heads were
      // trained with it.
      const rows = shuffleInPlace(Int32Array.from({ length: n }, (_, i) => i), pickRand).slice(0, Math.min(n, 40));
      return source.features(w, statImages[k], toRaster(im, pickRows(cand, rows)), Int32Array.from(rows.keys()));
    },
    (_k, f) => {
      const n = f.fc7.length / fc7Dim;
      fc7Norms.add(f.fc7, n, fc7Dim);
      pool5Dim = f.pool5.length / n;
      pool5Norms.add(f.pool5, n, pool5Dim);
      r.hooks.onProgress?.('stats', ++statsDone, statImages.length);
    },
    r.hooks.signal,
  );
  const fc7 = featureScaleFactor(fc7Norms.mean);
  const pool5 = featureScaleFactor(pool5Norms.mean);
  r.say(`feature scale: fc7 mean norm ${fc7Norms.mean.toFixed(2)} -> x${fc7.toFixed(4)}, pool5 mean norm ${pool5Norms.mean.toFixed(2)} -> x${pool5.toFixed(4)} (${fc7Norms.count} windows)`);
  return { fc7, pool5, pool5Dim };
}

/**
 * 2. Positives: fc7 of every ground-truth box, per class (then of its augmented copies, if asked);
 * only the SVMs use them.
 */
async function svmPositives(r: HeadsRun, fc7Scale: number): Promise<number[][]> {
  const { source, train, o, fc7Dim } = r;
  const posFeatures: number[][] = Array.from({ length: r.C }, () => []);
  const copies = o.positiveCopies ?? 0;
  if (copies > 0 && !o.positiveAugment) throw new Error('positiveCopies needs positiveAugment');
  for (let copy = 0; o.svm && copy <= copies; copy++) {
    const augment = (i: number): FeatureAugment | undefined =>
      copy === 0 ? undefined : { ...o.positiveAugment!, seed: (o.seed * 7919 + i * 104729 + copy * 15485863) >>> 0 };
    let posDone = 0;
    await forEachOnWorkers(
      train.length,
      r.W,
      (i, w) => (train[i].gt.labels.length ? source.features(w, i, toRaster(train[i], train[i].gt.boxes), new Int32Array(0), augment(i)) : Promise.resolve(null)),
      (i, f) => {
        r.hooks.onProgress?.('positives', copy * train.length + ++posDone, (copies + 1) * train.length);
        if (!f) return;
        scaleFeaturesInPlace(f.fc7, fc7Scale);
        train[i].gt.labels.forEach((c, j) => {
          for (let k = 0; k < fc7Dim; k++) posFeatures[c].push(f.fc7[j * fc7Dim + k]);
        });
      },
      r.hooks.signal,
    );
  }
  return posFeatures;
}

/**
 * 3. Passes over the training images: hard negatives for every class; regression pairs (first
 * pass only). Later passes make the same feature requests, so a feature cache answers them.
 * Returns the candidate negatives per class (first pass), the hard negatives taken per pass
 * (added[epoch][k][c]: by class c's k-th SVM) and the regression pairs.
 */
async function minePasses(r: HeadsRun, order: Int32Array, miners: HardNegativeMiner[][], Cs: number[], scales: FeatureScales) {
  const { o, C, classes, say } = r;
  const pairs: BoxPairs = { feat: Array.from({ length: C }, () => new GrowableF32()), p: Array.from({ length: C }, () => []), g: Array.from({ length: C }, () => []), image: Array.from({ length: C }, () => []) };
  const candidateNegatives = new Array<number>(C).fill(0);
  const epochs = o.svm ? (o.hardEpochs ?? 1) : 1;
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`hardEpochs must be a positive integer, not ${epochs}`);
  const tagC = (k: number) => (Cs.length > 1 ? ` (C ${Cs[k]})` : '');
  const added: number[][][] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const first = epoch === 0;
    const addedNow = Cs.map(() => new Array<number>(C).fill(0));
    added.push(addedNow);
    const tPass = performance.now();
    let done = 0;
    await forEachOnWorkers(
      order.length,
      r.W,
      (k, w) => imageFeatures(r, order[k], w),
      (_k, { i, cand, s, rows, f }) => {
        if (o.svm) {
          scaleFeaturesInPlace(f.fc7, scales.fc7);
          offerNegatives(r, i, s, f.fc7, miners, addedNow, first ? candidateNegatives : null, tagC, epoch);
        }
        if (first) collectBoxPairs(pairs, i, r.train[i], cand, s, rows, f.pool5, scales.pool5Dim);
        done++;
        r.hooks.onProgress?.('mining', epoch * order.length + done, epochs * order.length);
        if (done % 20 === 0 || done === order.length) {
          const el = (performance.now() - tPass) / 1000;
          say(`svm/bbox features${epochs > 1 ? ` (pass ${epoch + 1} of ${epochs})` : ''}: ${done}/${order.length} images, ETA ${formatEta((el / done) * (order.length - done))}`);
        }
      },
      r.hooks.signal,
    );
    // Every pass ends with a retrain on the cache (the release's last-image update).
    if (o.svm) miners.forEach((perClass, k) =>
      perClass.forEach((m, c) => {
        const st = m.finish();
        if (st) r.hooks.onRetrain?.(c, k, st, epoch);
        if (st) say(`svm ${classes[c]}${tagC(k)}: ${epoch + 1 < epochs ? `end of pass ${epoch + 1}` : 'final'} retrain, cache ${st.cacheSize}, objective ${st.primal.toFixed(4)}, support vectors ${st.positiveSupportVectors}+${st.negativeSupportVectors}`);
      }),
    );
    if (!first) say(`hard negatives new in pass ${epoch + 1}: ${Cs.map((_, k) => classes.map((n, c) => `${n} ${addedNow[k][c]}`).join(', ') + tagC(k)).join('; ')}`);
  }
  return { candidateNegatives, added, pairs };
}

/**
 * Image i's labelled candidates and their features: fc7 of every candidate for the SVMs (pool5
 * of the regression rows with it), else pool5 of the regression rows alone (a random subset of
 * --bbox-samples when there are more).
 */
async function imageFeatures(r: HeadsRun, i: number, w: number) {
  const { o, source } = r;
  const im = r.train[i];
  const cand = candidates(im, o.proposalsPerImage);
  const s = labelProposals(cand, im.gt, r.C, { svmNegativeIou: o.svmNegativeIou });
  let rows: number[] = [];
  if (o.bbox) {
    for (let q = 0; q < s.numProposals; q++) if (s.bboxClass[q] >= 0) rows.push(q);
    if (o.bboxSamplesPerImage > 0 && rows.length > o.bboxSamplesPerImage) {
      const rr = mulberry32(o.seed * 31 + i);
      rows = Array.from(shuffleInPlace(Int32Array.from(rows), rr).slice(0, o.bboxSamplesPerImage)).sort((a, b) => a - b);
    }
  }
  const f = o.svm ? await source.features(w, i, toRaster(im, cand), Int32Array.from(rows)) : await source.features(w, i, toRaster(im, pickRows(cand, rows)), Int32Array.from(rows.keys()));
  return { i, cand, s, rows, f };
}

/** Offers image i's negatives of every class (scaled fc7) to every class's miners, counting what they take. */
function offerNegatives(
  r: HeadsRun,
  i: number,
  s: ProposalSampling,
  fc7: Float32Array,
  miners: HardNegativeMiner[][],
  addedNow: number[][],
  candidateNegatives: number[] | null,
  tagC: (k: number) => string,
  pass: number,
): void {
  const { C, fc7Dim } = r;
  const n = s.numProposals;
  for (let c = 0; c < C; c++) {
    const idx: number[] = [];
    for (let q = 0; q < n; q++) if (s.svmLabel[q * C + c] === SVM_NEGATIVE) idx.push(q);
    if (candidateNegatives) candidateNegatives[c] += idx.length;
    const feats = new Float32Array(idx.length * fc7Dim);
    idx.forEach((q, j) => feats.set(fc7.subarray(q * fc7Dim, (q + 1) * fc7Dim), j * fc7Dim));
    miners.forEach((perClass, k) => {
      const res = perClass[c].offerImage(feats, idx.length, i, idx);
      addedNow[k][c] += res.added;
      if (res.retrained) {
        const st = res.retrained;
        r.hooks.onRetrain?.(c, k, st, pass);
        r.say(`svm ${r.classes[c]}${tagC(k)}: retrain ${st.retrain} after ${st.imagesSeen} images, cache ${st.numNegatives} -> ${st.cacheSize}, objective ${st.primal.toFixed(4)}, ${st.seconds.toFixed(1)} s`);
      }
    });
  }
}

/** Adds image i's regression pairs (pool5 row j for candidate rows[j]) to their classes. */
function collectBoxPairs(pairs: BoxPairs, i: number, im: TrainImage, cand: Float32Array, s: ProposalSampling, rows: number[], pool5: Float32Array, pool5Dim: number): void {
  for (let j = 0; j < rows.length; j++) {
    const q = rows[j];
    const c = s.bboxClass[q];
    const g = s.bboxTarget[q];
    pairs.feat[c].pushArray(pool5.subarray(j * pool5Dim, (j + 1) * pool5Dim));
    pairs.image[c].push(i);
    for (let e = 0; e < 4; e++) {
      pairs.p[c].push(cand[4 * q + e]);
      pairs.g[c].push(im.gt.boxes[4 * g + e]);
    }
  }
}

/** One SvmCandidate per C value from its miners. */
function svmCandidates(
  r: HeadsRun,
  miners: HardNegativeMiner[][],
  Cs: number[],
  posFeatures: number[][],
  mined: { candidateNegatives: number[]; added: number[][][] },
  fc7Scale: number,
): SvmCandidate[] {
  const { C, fc7Dim, classes } = r;
  return miners.map((perClass, k) => {
    const weights = new Float32Array(C * fc7Dim);
    const bias = new Float32Array(C);
    const stats: SvmCandidate['stats'] = [];
    perClass.forEach((m, c) => {
      weights.set(m.w, c * fc7Dim);
      bias[c] = m.b;
      stats.push({ class: classes[c], positives: posFeatures[c].length / fc7Dim, candidateNegatives: mined.candidateNegatives[c], addedPerPass: mined.added.map((a) => a[k][c]), retrains: m.stats });
    });
    return { C: Cs[k], head: { classes, featureLayer: 'fc7', featureScale: fc7Scale, weights, bias }, stats };
  });
}

/**
 * One BoxRegressorCandidate per lambda value: per class, ridge on its pairs (identity without
 * pairs); the first lambda's pairs, before and after, go into `insight`.
 */
function boxRegressorCandidates(r: HeadsRun, pairs: BoxPairs, scales: FeatureScales, insight: HeadInsight): BoxRegressorCandidate[] {
  const { C, classes, o, say } = r;
  const D = scales.pool5Dim;
  const pool5Scale = scales.pool5;
  const lambdas = o.bboxLambda?.length ? [...o.bboxLambda] : [BBOX_LAMBDA_DEFAULT];
  const tagL = (k: number) => (lambdas.length > 1 ? ` (lambda ${lambdas[k]})` : '');
  const heads = lambdas.map((lambda) => ({
    lambda,
    head: { classes, featureLayer: 'pool5' as const, featureScale: pool5Scale, weights: new Float32Array(C * D * 4), bias: new Float32Array(C * 4), targetMean: new Float32Array(C * 4), targetTransform: new Float32Array(C * 16) },
    stats: [] as BoxRegressorCandidate['stats'],
  }));
  for (let c = 0; c < C; c++) {
    const n = pairs.p[c].length / 4;
    heads.forEach(({ lambda, head, stats }, k) => {
      const reg: ClassBoxRegressor | null = n > 0 ? trainClassBoxRegressor(pairs.feat[c].view(), n, D, pairs.p[c], pairs.g[c], { lambda, featureScale: pool5Scale }) : null;
      if (k === 0) insight.regression[c] = reg ? regressionInsight(reg, pairs.feat[c].view(), pairs.p[c], pairs.g[c], pairs.image[c]) : null;
      if (reg) {
        head.weights.set(reg.weights, c * D * 4);
        head.bias.set(Array.from(reg.bias), c * 4);
        head.targetMean.set(Array.from(reg.whitening.mean), c * 4);
        head.targetTransform.set(Array.from(reg.whitening.Tinv), c * 16);
        const ins = k === 0 ? insight.regression[c] : null;
        const mean = (a: Float32Array) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
        say(`bbox ${classes[c]}${tagL(k)}: ${n} pairs, ridge (${reg.method}) ${reg.seconds.toFixed(1)} s${ins ? `, mean IoU with the ground truth ${mean(ins.iouBefore).toFixed(3)} -> ${mean(ins.iouAfter).toFixed(3)} on these pairs` : ''}`);
      } else {
        head.targetTransform.set([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], c * 16);
        if (k === 0) say(`bbox ${classes[c]}: no pairs over 0.6 IoU: this class keeps its proposal boxes`);
      }
      stats.push({ class: classes[c], samples: n, method: reg?.method ?? 'none', seconds: reg?.seconds ?? 0 });
    });
    // Frees the class's features before the next class's solve.
    pairs.feat[c] = new GrowableF32();
  }
  return heads;
}

/**
 * The cached negatives class c's final SVM scores highest (the cache holds every negative that
 * scored above -1.2 at the last retrain, so the hardest of all are in it), with their boxes.
 */
function hardestNegatives(m: HardNegativeMiner, train: readonly TrainImage[], c: number, maxProposals: number, k: number): HardNegativeExample[] {
  const n = m.cacheSize;
  const scores = m.score(m.cachedNegatives, n);
  const keys = m.cachedKeys;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || keys[a] - keys[b]);
  const out: HardNegativeExample[] = [];
  for (const q of order.slice(0, k)) {
    if (keys[q] < 0) continue;
    const image = Math.floor(keys[q] / 4294967296);
    const row = keys[q] - image * 4294967296;
    const im = train[image];
    const b = candidates(im, maxProposals).subarray(4 * row, 4 * row + 4);
    let best = 0;
    im.gt.labels.forEach((l, j) => {
      if (l === c) best = Math.max(best, iou(b, im.gt.boxes.subarray(4 * j, 4 * j + 4)));
    });
    out.push({ image, box: [b[0], b[1], b[2], b[3]], score: scores[q], iou: best });
  }
  return out;
}

/** Each training pair's IoU with its ground truth before and after the learnt regression. */
function regressionInsight(reg: ClassBoxRegressor, features: Float32Array, P: number[], G: number[], image: number[]): RegressionInsight {
  const n = P.length / 4;
  const proposals = Float32Array.from(P);
  const targets = Float32Array.from(G);
  const regressed = decodeBoxes(proposals, predictBoxDeltas(reg, features, n));
  const iouBefore = new Float32Array(n);
  const iouAfter = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const g = targets.subarray(4 * i, 4 * i + 4);
    iouBefore[i] = iou(proposals.subarray(4 * i, 4 * i + 4), g);
    iouAfter[i] = iou(regressed.subarray(4 * i, 4 * i + 4), g);
  }
  return { pairs: n, iouBefore, iouAfter, image: Int32Array.from(image), proposals, targets, regressed };
}

/** An append-only Float32 buffer (JS number arrays would cost 8 bytes a value and re-copy on growth). */
class GrowableF32 {
  data = new Float32Array(1024);
  length = 0;
  pushArray(a: ArrayLike<number>): void {
    if (this.length + a.length > this.data.length) {
      const next = new Float32Array(Math.max(this.data.length * 2, this.length + a.length));
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    this.data.set(a, this.length);
    this.length += a.length;
  }
  view(): Float32Array {
    return this.data.subarray(0, this.length);
  }
}

/** The boxes of candidate rows `rows`, in that order. */
function pickRows(cand: Float32Array, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * 4);
  for (let j = 0; j < rows.length; j++) out.set(cand.subarray(4 * rows[j], 4 * rows[j] + 4), 4 * j);
  return out;
}
