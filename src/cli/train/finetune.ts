/**
 * Stage 1 of R-CNN training (docs/algorithm.md section 4): fine-tune the CNN as an (N + 1)-way
 * classifier of warped proposals. Windows with IoU >= 0.5 to a ground truth are positives of its
 * class (ground-truth boxes included, as the release's window file does), the rest background; each
 * mini-batch has 32 positives and 96 background windows drawn uniformly at random from the whole
 * training set, like Caffe's window data layer.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync, rmSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { labelProposals } from '../../core/learn/sampling';
import { mulberry32 } from '../../core/learn/random';
import type { DatasetImage } from './data';
import { toRaster } from './data';
import { formatEta } from '../../pipeline/train/source';
import { TrainerPool, packRasters, packWindows, type WindowSet } from './trainerPool';
import { STRATEGY_LAYERS, type AugmentMode, type FineTuneStrategy } from './protocol';
import type { CaffeNetArch } from '../../model/architecture';
import type { NamedWeights } from '../../model/caffenet';
import { savePackageDir, loadPackageDir } from '../../model/packageNode';
import type { ModelPackage } from '../../model/package';
import { FINE_TUNE_RECIPE as R } from '../../model/finetune/recipe';

export interface FineTuneOptions {
  iterations: number;
  baseLr: number;
  /** Fractions of `iterations` at which the learning rate is multiplied by 0.1 (Caffe "multistep"). */
  lrSteps: number[];
  /** Linear warm-up from lr/10 over this many iterations (helps training from scratch start stably). */
  warmup: number;
  positivesPerBatch: number;
  backgroundPerBatch: number;
  weightDecay: number;
  momentum: number;
  strategy: FineTuneStrategy;
  seed: number;
  threads: number;
  checkpointEvery: number;
  evalEvery: number;
  augment: AugmentMode;
  /** Half-range of the per-channel gain jitter (0.08 = Caffe's window layer, 0.92-1.08). */
  gainJitter: number;
  /** Fraction of training crops given a Gaussian blur (sigma uniform in [0, 2) px); 0: none. */
  blur: number;
}

/** The recipe's constants (src/model/finetune/recipe.ts, shared with tools/gpu-finetune) and the run's defaults. */
export const FINE_TUNE_DEFAULTS: FineTuneOptions = {
  iterations: 4000,
  baseLr: R.baseLr,
  lrSteps: [...R.lrSteps],
  warmup: R.warmup,
  positivesPerBatch: R.positivesPerBatch,
  backgroundPerBatch: R.backgroundPerBatch,
  weightDecay: R.weightDecay,
  momentum: R.momentum,
  strategy: 'all',
  seed: 1,
  threads: 2,
  checkpointEvery: 200,
  evalEvery: 200,
  augment: 'window',
  gainJitter: R.augment.gainJitter,
  blur: 0,
};

export interface FineTuneLogEntry {
  iteration: number;
  lr: number;
  loss: number;
  accuracy: number;
  msPerIteration: number;
  val?: { loss: number; accuracy: number; foregroundRecall: number; foregroundPrecision: number };
}

/** Fine-tuning windows of a set of images: GT boxes + proposals, labelled by the >= 0.5 rule. */
export function buildWindows(images: readonly DatasetImage[], numClasses: number): WindowSet & { fg: Int32Array; bg: Int32Array } {
  const boxes: number[] = [];
  const image: number[] = [];
  const label: number[] = [];
  images.forEach((im, i) => {
    const cand = new Float32Array(im.gt.boxes.length + im.proposals.length);
    cand.set(im.gt.boxes, 0);
    cand.set(im.proposals, im.gt.boxes.length);
    const s = labelProposals(cand, im.gt, numClasses);
    const rb = toRaster(im, cand);
    for (let k = 0; k < s.numProposals; k++) {
      // Degenerate boxes cannot be warped meaningfully.
      if (rb[4 * k + 2] - rb[4 * k] < 1 || rb[4 * k + 3] - rb[4 * k + 1] < 1) continue;
      for (let q = 0; q < 4; q++) boxes.push(rb[4 * k + q]);
      image.push(i);
      label.push(s.fineTuneLabel[k]);
    }
  });
  const set = packWindows(boxes, image, label);
  const fg: number[] = [];
  const bg: number[] = [];
  for (let w = 0; w < set.count; w++) (set.label[w] > 0 ? fg : bg).push(w);
  return { ...set, fg: Int32Array.from(fg), bg: Int32Array.from(bg) };
}

/**
 * The fixed validation sample that fine-tuning reports on: 256 positive then 768 background
 * windows (the training batch's 1:3 ratio), drawn with replacement from seed + 99; indices into
 * `val`'s windows. Empty when there are none.
 */
export function validationSample(val: { count: number; fg: Int32Array; bg: Int32Array }, seed: number): Int32Array {
  if (val.count === 0) return new Int32Array(0);
  const { positives, background, seedOffset } = R.validationSample;
  const r = mulberry32(seed + seedOffset);
  const draw = (list: Int32Array, k: number) => Array.from({ length: Math.min(k, list.length) }, () => list[Math.floor(r() * list.length)]);
  return Int32Array.from([...draw(val.fg, positives), ...draw(val.bg, background)]);
}

export function learningRate(o: FineTuneOptions, it: number): number {
  let lr = o.baseLr;
  for (const s of o.lrSteps) if (it >= Math.floor(s * o.iterations)) lr *= R.lrStepFactor;
  if (it < o.warmup) lr *= R.warmupStart + ((1 - R.warmupStart) * it) / o.warmup;
  return lr;
}

interface Checkpoint {
  iteration: number;
  log: FineTuneLogEntry[];
  optionsKey: string;
}

export interface FineTuneResult {
  weights: NamedWeights;
  log: FineTuneLogEntry[];
  seconds: number;
  windows: { train: number; trainPositives: number; val: number };
}

/**
 * Runs (or resumes) fine-tuning. Checkpoints go to `workDir/checkpoint` every checkpointEvery
 * iterations (weights, momentum, log), so an interrupted run continues where it stopped.
 */
export async function fineTune(
  arch: CaffeNetArch,
  classes: string[],
  train: readonly DatasetImage[],
  val: readonly DatasetImage[],
  init: NamedWeights | null,
  o: FineTuneOptions,
  workDir: string,
  say: (line: string) => void,
): Promise<FineTuneResult> {
  const t0 = performance.now();
  const C = classes.length;
  const all = [...train, ...val];
  const trainWin = buildWindows(train, C);
  const valWinAll = buildWindows(val, C);
  // Offset val windows' image indices into the combined raster list.
  const combined = packWindows(
    [...trainWin.boxes, ...valWinAll.boxes],
    [...trainWin.image, ...Array.from(valWinAll.image, (i) => i + train.length)],
    [...trainWin.label, ...valWinAll.label],
  );
  const rand = mulberry32(o.seed);
  const pick = (list: Int32Array, k: number) => Int32Array.from({ length: k }, () => list[Math.floor(rand() * list.length)]);
  const valWindows = validationSample(valWinAll, o.seed).map((w) => w + trainWin.count);
  say(`fine-tuning windows: ${trainWin.count} train (${trainWin.fg.length} positive), ${valWinAll.count} val; mini-batch ${o.positivesPerBatch} + ${o.backgroundPerBatch}`);
  if (trainWin.fg.length === 0) throw new Error('no positive fine-tuning windows: does the training set have ground-truth boxes?');

  const ckDir = join(workDir, 'checkpoint');
  const optionsKey = JSON.stringify({ arch, classes, o: { ...o, threads: 0, checkpointEvery: 0, evalEvery: 0 }, n: train.length });
  let start = 0;
  let log: FineTuneLogEntry[] = [];
  let weights = init;
  let velocity: Float32Array | null = null;
  if (existsSync(join(ckDir, 'state.json'))) {
    const ck = JSON.parse(readFileSync(join(ckDir, 'state.json'), 'utf8')) as Checkpoint;
    if (ck.optionsKey === optionsKey) {
      const pkg = await loadPackageDir(join(ckDir, 'model'));
      weights = pkg.weights;
      const vb = readFileSync(join(ckDir, 'velocity.bin'));
      velocity = new Float32Array(vb.buffer.slice(vb.byteOffset, vb.byteOffset + vb.byteLength));
      start = ck.iteration;
      log = ck.log;
      // Replay the sampler so the remaining mini-batches are those of an uninterrupted run.
      for (let it = 0; it < start; it++) {
        pick(trainWin.fg, o.positivesPerBatch);
        pick(trainWin.bg, o.backgroundPerBatch);
      }
      say(start >= o.iterations ? `fine-tuning already finished (checkpoint at iteration ${start}): reusing its weights` : `resuming fine-tuning from the checkpoint at iteration ${start}`);
    } else {
      say('a checkpoint exists but was made with other settings: starting over');
    }
  }

  const pool = new TrainerPool(o.threads);
  await pool.start({
    arch,
    weights,
    velocity,
    seed: o.seed,
    rasters: packRasters(all),
    windows: combined.shared,
    trainableLayers: STRATEGY_LAYERS[o.strategy],
    weightDecay: o.weightDecay,
    momentum: o.momentum,
    augment: o.augment,
    gainJitter: o.gainJitter,
    blur: o.blur,
  });
  const logFile = join(workDir, 'finetune-log.jsonl');
  try {
    let recentMs: number[] = [];
    for (let it = start; it < o.iterations; it++) {
      const lr = learningRate(o, it);
      const batch = Int32Array.from([...pick(trainWin.fg, o.positivesPerBatch), ...pick(trainWin.bg, o.backgroundPerBatch)]);
      const r = await pool.step(batch, it, lr);
      if (!Number.isFinite(r.loss)) throw new Error(`fine-tuning diverged at iteration ${it} (loss ${r.loss}); lower --lr`);
      recentMs.push(r.ms);
      if (recentMs.length > 50) recentMs = recentMs.slice(-50);
      const entry: FineTuneLogEntry = { iteration: it + 1, lr, loss: r.loss, accuracy: r.accuracy, msPerIteration: r.ms };
      const last = it + 1 === o.iterations;
      if (valWindows.length > 0 && ((it + 1) % o.evalEvery === 0 || last)) {
        const v = await pool.predict(valWindows);
        let correct = 0, fgTrue = 0, fgPred = 0, fgHit = 0;
        for (let k = 0; k < valWindows.length; k++) {
          const truth = combined.label[valWindows[k]];
          const p = v.predicted[k];
          if (p === truth) correct++;
          if (truth > 0) fgTrue++;
          if (p > 0) fgPred++;
          if (truth > 0 && p === truth) fgHit++;
        }
        entry.val = { loss: v.loss, accuracy: correct / valWindows.length, foregroundRecall: fgHit / Math.max(1, fgTrue), foregroundPrecision: fgHit / Math.max(1, fgPred) };
      }
      log.push(entry);
      appendFileSync(logFile, JSON.stringify(entry) + '\n');
      if ((it + 1) % 10 === 0 || entry.val || last) {
        const avg = recentMs.reduce((a, b) => a + b, 0) / recentMs.length;
        const eta = ((o.iterations - it - 1) * avg) / 1000;
        const recent = log.slice(-20);
        const mLoss = recent.reduce((a, e) => a + e.loss, 0) / recent.length;
        const mAcc = recent.reduce((a, e) => a + e.accuracy, 0) / recent.length;
        say(
          `cnn ${it + 1}/${o.iterations} lr ${lr.toExponential(1)} loss ${mLoss.toFixed(3)} acc ${(100 * mAcc).toFixed(1)}%` +
            (entry.val ? ` | val loss ${entry.val.loss.toFixed(3)} acc ${(100 * entry.val.accuracy).toFixed(1)}% fg recall ${(100 * entry.val.foregroundRecall).toFixed(1)}% precision ${(100 * entry.val.foregroundPrecision).toFixed(1)}%` : '') +
            ` | ${(avg / 1000).toFixed(2)} s/it, ETA ${formatEta(eta)}`,
        );
      }
      if ((it + 1) % o.checkpointEvery === 0 || last) {
        await saveCheckpoint(pool, arch, classes, ckDir, { iteration: it + 1, log, optionsKey });
        say(`checkpoint saved at iteration ${it + 1}`);
      }
    }
    const state = await pool.state();
    return {
      weights: state.weights,
      log,
      seconds: (performance.now() - t0) / 1000,
      windows: { train: trainWin.count, trainPositives: trainWin.fg.length, val: valWinAll.count },
    };
  } finally {
    await pool.dispose();
  }
}

async function saveCheckpoint(pool: TrainerPool, arch: CaffeNetArch, classes: string[], ckDir: string, ck: Checkpoint): Promise<void> {
  const state = await pool.state();
  const tmp = `${ckDir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const pkg: ModelPackage = {
    name: 'checkpoint',
    architecture: arch,
    classes: ['background', ...classes],
    weights: state.weights,
    provenance: { createdBy: 'rcnn train (checkpoint)', createdAt: new Date().toISOString() },
  };
  await savePackageDir(pkg, join(tmp, 'model'));
  writeFileSync(join(tmp, 'velocity.bin'), new Uint8Array(state.velocity.buffer, state.velocity.byteOffset, state.velocity.byteLength));
  writeFileSync(join(tmp, 'state.json'), JSON.stringify(ck));
  // Swap in atomically so an interruption never leaves a half-written checkpoint.
  rmSync(ckDir, { recursive: true, force: true });
  renameSync(tmp, ckDir);
}

export { formatEta };
