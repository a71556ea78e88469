import { loadModelForCli } from '../io';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { CliError, numberOption, stringOption, type Command, type CommandContext } from '../command';
import { readVocDataset, splitVocDataset, formatVocReport, type VocDataset } from '../dataset';
import { loadDatasetImages, type DatasetImage } from '../train/data';
import { fineTune, FINE_TUNE_DEFAULTS, buildWindows, type FineTuneOptions } from '../train/finetune';
import { FINE_TUNE_RECIPE } from '../../model/finetune/recipe';
import { trainHeads, type HeadOptions, type SvmCandidate, type BoxRegressorCandidate } from '../../pipeline/train/heads';
import { evaluateModels, EVAL_DEFAULTS, type EvalResult } from '../train/evaluate';
import { BBOX_LAMBDA_DEFAULT } from '../../core/learn/bboxRegression';
import { poolSource, startFeaturePool, type TrainerPool } from '../train/trainerPool';
import { FeatureCache, modelKey } from '../train/featureCache';
import { FEATURE_OPTIONS, featureCacheKey, readFeatureOptions } from '../featureOptions';
import { ROI_SCALE_TEXT } from '../../model/sharedConv';
import { STRATEGY_LAYERS, type AugmentMode, type FineTuneStrategy } from '../train/protocol';
import { caffeNetArch, type CaffeNetArch } from '../../model/architecture';
import { COLOUR_AUGMENT } from '../../model/finetune/cpuWarp';
import { savePackageDir } from '../../model/packageNode';
import type { ModelPackage, SvmHead } from '../../model/package';
import { SVM_DEFAULTS } from '../../core/learn/svm';
import { SVM_NEGATIVE_IOU } from '../../core/learn/sampling';
import type { NamedWeights } from '../../model/caffenet';
import { lossCurveSvg } from '../train/report';

const STAGES = ['cnn', 'svm', 'bbox'] as const;
type Stage = (typeof STAGES)[number];

function formatAp(e: EvalResult['withoutRegression']): string {
  return e.perClass.map((c) => `${c.name} ${(100 * c.ap).toFixed(1)}`).join(', ') + ` | mAP ${(100 * e.map).toFixed(1)}`;
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train an R-CNN on a PASCAL VOC folder: fine-tune the CNN, then SVMs with hard negatives, then box regressors.',
  usage: 'train --data DIR --out DIR [--init MODEL] [--stages cnn,svm,bbox] [--width W] [--epochs E | --iterations N] [--seed S] [--features warp|roi]',
  details: [
    '  --data DIR        PASCAL VOC layout (JPEGImages/, Annotations/, ImageSets/Main/trainval.txt)',
    '  --out DIR         where the model package, training log and checkpoints go (resumes from a checkpoint there)',
    '  --init MODEL      start the CNN from this model package or .onnx (fine-tuning at a tenth of the learning rate);',
    '                    default: from scratch (He initialisation), since no ImageNet weights can be shipped',
    '  --stages LIST     any of cnn,svm,bbox (default all three); svm/bbox without cnn use --init or --out\'s CNN',
    '  --width W         CaffeNet width multiplier for a new network (default 1 = full CaffeNet)',
    '  --epochs E        fine-tuning length in passes over the positive windows (32 per mini-batch); default 6',
    '  --iterations N    fine-tuning length in mini-batches of 128 (overrides --epochs)',
    `  --lr LR           base learning rate (default ${FINE_TUNE_RECIPE.baseLr} from scratch, ${FINE_TUNE_RECIPE.initLr} with --init)`,
    `  --weight-decay D  L2 decay on the CNN's weights, not biases (default ${FINE_TUNE_DEFAULTS.weightDecay}, Caffe's)`,
    '  --strategy S      all | upper (conv3-5 + fc) | fc (fc layers only); default all',
    '  --augment A       window (mirror + small colour jitter, Caffe\'s window layer; default) | colour',
    `                    (window + hue +-${COLOUR_AUGMENT.hueDegrees} degrees, saturation x${COLOUR_AUGMENT.saturation.join('-')}, brightness x${COLOUR_AUGMENT.brightness.join('-')}) | none`,
    '  --wb W            half-range of the per-channel gain jitter, white-balance-like casts (default 0.08:',
    '                    the window layer\'s 0.92-1.08)',
    '  --blur P          fraction of training crops given a Gaussian blur, sigma uniform in [0, 2) px (default 0)',
    '  --val-fraction F  held-out validation share of the images, stratified by class (default 0.15)',
    '  --extra DIR       more training photos (a VOC folder, e.g. tools/augment\'s output made from the training',
    '                    split): added to the training side of every stage, never to validation; its classes',
    '                    must be among --data\'s',
    '  --svm-proposals N proposals per image for hard-negative mining (default 2000)',
    '  --svm-c LIST      SVM regularisation C (default 0.001, the paper\'s); several values (0.001,0.01) mine one set of',
    '                    SVMs each in the same pass and keep the one with the best validation mAP',
    `  --svm-neg-iou T   SVM negatives: proposals under IoU T with every instance of the class (default ${SVM_NEGATIVE_IOU},`,
    '                    the paper\'s, chosen on validation from 0-0.5)',
    '  --hard-epochs N   passes of hard-negative mining over the images (default 1, the release\'s max_hard_epochs);',
    '                    each pass ends with a retrain, and the log counts the hard negatives each later pass still',
    '                    finds (a pass costs the CNN again unless --feature-cache holds the features)',
    '  --svm-aug K       K augmented copies of every ground-truth box as extra SVM positives, warped with the',
    '                    fine-tuning augmentation (--augment, --wb, --blur; give the CNN\'s own with --stages svm,bbox);',
    '                    default 0: ground truth only, as the paper',
    '  --bbox-samples N  box-regression pairs kept per image, a random subset of the proposals over 0.6 IoU',
    '                    (default 32; 0 = all of them, as docs/algorithm.md section 6)',
    '  --bbox-lambda LIST ridge regularisation of the box regressors (default 1000, the paper\'s); several values',
    '                    (100,1000) solve one set each on the same pairs and keep the one with the best validation mAP',
    '  --refit           after validation has chosen C and lambda, train the SVMs and box regressors again on',
    '                    train + val with them (as the paper trains on trainval; the feature scales are measured',
    '                    again on all images); the reported mAP stays the validation one, measured before the refit',
    '  --feature-cache DIR  keep every fc7/pool5 feature the SVM, box-regression and validation stages compute in',
    '                    DIR (keyed by the network, image, boxes; ~8 MB per image at width 0.25, ~6 GB for',
    '                    fruit-animals): a re-run on the same CNN (--stages svm,bbox, other --svm-c) then skips the CNN;',
    '                    nothing is deleted: `rcnn cache DIR --max-size 6G` drops the least recently used entries',
    '  --eval-proposals N proposals per image when evaluating on the validation split (default 2000)',
    '  --max-images N    use only the first N images (quick runs)',
    `  --threads N       CNN worker threads (default ${availableParallelism()})`,
    '  --cache DIR       proposal cache (default .cache/rcnn)',
    '  --checkpoint-every N  save weights and momentum every N iterations (default 200); a rerun resumes there',
    '  --seed S          seed of the split, initialisation and sampling (default 1)',
    '  --features M      what the SVMs and box regressors are trained and validated on: warp (R-CNN\'s warped crops,',
    '                    default) | roi (RoI pooling out of the photo\'s conv5, as Fast R-CNN; the package records it in',
    '                    headFeatures, so detect / eval / the app use the same path); the cnn stage fine-tunes on warped',
    '                    crops either way',
    '  --roi-scale S     the photo\'s size for --features roi: fast-rcnn (shorter side 600, longer at most 1000, default) |',
    '                    search (500 px wide, the image selective search segments)',
  ].join('\n'),
  options: {
    data: { type: 'string' },
    out: { type: 'string' },
    init: { type: 'string' },
    stages: { type: 'string' },
    width: { type: 'string' },
    epochs: { type: 'string' },
    iterations: { type: 'string' },
    lr: { type: 'string' },
    'weight-decay': { type: 'string' },
    strategy: { type: 'string' },
    'val-fraction': { type: 'string' },
    extra: { type: 'string' },
    'svm-proposals': { type: 'string' },
    'svm-c': { type: 'string' },
    'feature-cache': { type: 'string' },
    'svm-aug': { type: 'string' },
    'hard-epochs': { type: 'string' },
    'bbox-samples': { type: 'string' },
    'bbox-lambda': { type: 'string' },
    'svm-neg-iou': { type: 'string' },
    refit: { type: 'boolean' },
    'eval-proposals': { type: 'string' },
    'max-images': { type: 'string' },
    threads: { type: 'string' },
    cache: { type: 'string' },
    seed: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    augment: { type: 'string' },
    wb: { type: 'string' },
    blur: { type: 'string' },
    ...FEATURE_OPTIONS,
  },
  async run({ values, stderr, stdout }) {
    const say = (l: string) => stderr(`[${new Date().toISOString().slice(11, 19)}] ${l}\n`);
    const o = readTrainOptions(values);
    const { base, existing, baseLr } = await loadStartingModel(o, values);
    mkdirSync(o.outDir, { recursive: true });
    const tStart = performance.now();
    const timings: Record<string, number> = {};
    const { classes, trainIds, valIds, train, val, extraCount } = await loadTrainingData(o, say, timings);
    const numOut = classes.length + 1;
    const arch = base ? { ...base.architecture, fc8: numOut } : caffeNetArch({ width: o.width, numClasses: numOut });
    let weights = await startingWeights(base, arch, classes, o, say);
    const log: Record<string, unknown> = { command: ['rcnn', 'train', ...process.argv.slice(3)].join(' '), classes, split: { train: trainIds.size, val: valIds.size, seed: o.seed, ...(o.extraDir ? { extra: extraCount, extraDir: o.extraDir } : {}) } };
    const r: TrainRun = { o, say, classes, train, val, arch, log, timings };
    let finetuneLog: unknown = null;
    if (o.stages.has('cnn')) ({ weights, finetuneLog } = await fineTuneStage(r, base, baseLr, weights));
    if (!weights) throw new CliError('no CNN weights to continue with', 1);

    const pkg = newPackage(r, weights, base, existing);
    const featureCache = await headsAndValidation(r, pkg, weights);
    if (featureCache) {
      log.featureCache = { dir: featureCache.dir, hits: featureCache.hits, computed: featureCache.misses };
      say(featureCache.summary());
    }
    timings.totalSeconds = (performance.now() - tStart) / 1000;
    log.timings = timings;
    await savePackageDir(pkg, o.outDir);
    writeFileSync(join(o.outDir, 'train-log.json'), JSON.stringify({ ...log, finetuneLog }, null, 1));
    say(`saved the model package to ${o.outDir} (${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')})`);
    stdout(JSON.stringify({ out: o.outDir, metrics: pkg.provenance.metrics, timings }) + '\n');
    return 0;
  },
};

/** Every option of `rcnn train` but --lr (whose default depends on the starting model), read and checked. */
interface TrainOptions {
  dataDir: string;
  outDir: string;
  stages: Set<Stage>;
  seed: number;
  threads: number;
  width: number;
  valFraction: number;
  /** --extra: a VOC folder of more training-only photos. */
  extraDir: string | null;
  strategy: FineTuneStrategy;
  cacheDir: string;
  svmC: number[];
  bboxLambda: number[];
  augmentation: { augment: AugmentMode; gainJitter: number; blur: number };
  svmAug: number;
  svmNegativeIou: number;
  hardEpochs: number;
  refit: boolean;
  feat: ReturnType<typeof readFeatureOptions>;
  maxImages: number;
  /** --iterations (null: from --epochs). */
  iterations: number | null;
  epochs: number;
  weightDecay: number;
  checkpointEvery: number;
  /** Fine-tuning validates as often as it checkpoints when --checkpoint-every is given. */
  evalEvery: number;
  svmProposals: number;
  bboxSamples: number;
  evalProposals: number;
  /** --init and --feature-cache as given. */
  init: string | undefined;
  featureCache: string | undefined;
}

/**
 * Every option the later stages use is read here: a typo must not cost the dataset read, the
 * proposals and the CNN features first.
 */
function readTrainOptions(values: CommandContext['values']): TrainOptions {
  if (!values.data || !values.out) throw new CliError('--data and --out are required', 2);
  const dataDir = resolve(String(values.data));
  const outDir = resolve(String(values.out));
  const stages = new Set(String(values.stages ?? 'cnn,svm,bbox').split(',').map((s) => s.trim()) as Stage[]);
  for (const s of stages) if (!STAGES.includes(s)) throw new CliError(`unknown stage "${s}" (use cnn, svm, bbox)`, 2);
  const seed = numberOption(values, 'seed', 1, { integer: true });
  const threads = numberOption(values, 'threads', availableParallelism(), { min: 1, max: 64, integer: true });
  const width = numberOption(values, 'width', 1, { min: 0.05, max: 2 });
  const valFraction = numberOption(values, 'val-fraction', 0.15, { min: 0, max: 0.9 });
  const extraDir = values.extra === undefined ? null : resolve(String(values.extra));
  const strategy = stringOption<FineTuneStrategy>(values, 'strategy', 'all', ['all', 'upper', 'fc']);
  const cacheDir = resolve(String(values.cache ?? '.cache/rcnn'));
  const svmC = parseSvmC(values['svm-c']);
  const bboxLambda = parseNumberList(values['bbox-lambda'], '--bbox-lambda', [BBOX_LAMBDA_DEFAULT]);
  const augmentation = {
    augment: stringOption<AugmentMode>(values, 'augment', 'window', ['window', 'colour', 'none']),
    gainJitter: numberOption(values, 'wb', FINE_TUNE_DEFAULTS.gainJitter, { min: 0, max: 0.5 }),
    blur: numberOption(values, 'blur', FINE_TUNE_DEFAULTS.blur, { min: 0, max: 1 }),
  };
  const svmAug = numberOption(values, 'svm-aug', 0, { min: 0, max: 50, integer: true });
  const svmNegativeIou = numberOption(values, 'svm-neg-iou', SVM_NEGATIVE_IOU, { min: 0, max: 1 });
  const hardEpochs = numberOption(values, 'hard-epochs', 1, { min: 1, max: 10, integer: true });
  if (svmAug > 0 && augmentation.augment === 'none') throw new CliError('--svm-aug copies the ground truth with the fine-tuning augmentation: use --augment window or colour', 2);
  const feat = readFeatureOptions(values);
  if (svmAug > 0 && feat.features === 'roi') throw new CliError('--svm-aug makes augmented warped crops, which --features roi does not use: drop one of them', 2);
  const refit = values.refit === true;
  if (refit && valFraction === 0) throw new CliError('--refit trains the heads again on train + val after choosing on val: --val-fraction must be above 0', 2);
  if (refit && !stages.has('svm') && !stages.has('bbox')) throw new CliError('--refit refits the svm / bbox stages: add them to --stages', 2);
  if (svmC.length > 1 && valFraction === 0) throw new CliError('several --svm-c values are chosen between on the validation split: --val-fraction must be above 0', 2);
  if (bboxLambda.length > 1 && valFraction === 0) throw new CliError('several --bbox-lambda values are chosen between on the validation split: --val-fraction must be above 0', 2);
  const maxImages = numberOption(values, 'max-images', 0, { min: 2, integer: true });
  const iterations = values.iterations !== undefined ? numberOption(values, 'iterations', 0, { min: 1, integer: true }) : null;
  const epochs = numberOption(values, 'epochs', 6, { min: 0.01 });
  const weightDecay = numberOption(values, 'weight-decay', FINE_TUNE_DEFAULTS.weightDecay, { min: 0, max: 0.1 });
  const checkpointEvery = numberOption(values, 'checkpoint-every', FINE_TUNE_DEFAULTS.checkpointEvery, { min: 1, integer: true });
  const svmProposals = numberOption(values, 'svm-proposals', 2000, { min: 1, integer: true });
  const bboxSamples = numberOption(values, 'bbox-samples', 32, { min: 0, integer: true });
  const evalProposals = numberOption(values, 'eval-proposals', 2000, { min: 1, integer: true });
  return {
    dataDir, outDir, stages, seed, threads, width, valFraction, extraDir, strategy, cacheDir, svmC, bboxLambda, augmentation, svmAug, svmNegativeIou, hardEpochs, refit, feat,
    maxImages, iterations, epochs, weightDecay, checkpointEvery, svmProposals, bboxSamples, evalProposals,
    evalEvery: values['checkpoint-every'] !== undefined ? checkpointEvery : FINE_TUNE_DEFAULTS.evalEvery,
    init: values.init === undefined ? undefined : String(values.init),
    featureCache: values['feature-cache'] as string | undefined,
  };
}

/**
 * The CNN to start from: --init's, else (without the cnn stage) the model already in --out; and
 * --lr, whose default is a tenth for a network that starts trained.
 */
async function loadStartingModel(o: TrainOptions, values: CommandContext['values']): Promise<{ base: ModelPackage | null; existing: ModelPackage | null; baseLr: number }> {
  let initPkg: ModelPackage | null = null;
  if (o.init) initPkg = await loadModelForCli(o.init, '--init');
  const existing = !o.stages.has('cnn') && !initPkg && existsSync(join(o.outDir, 'model.json')) ? await loadModelForCli(o.outDir, '--out') : null;
  const base = initPkg ?? existing;
  const baseLr = numberOption(values, 'lr', base ? FINE_TUNE_RECIPE.initLr : FINE_TUNE_RECIPE.baseLr, { min: 0 });
  if ((o.refit || o.bboxLambda.length > 1) && !o.stages.has('svm') && !existing?.svm) {
    throw new CliError(`${o.refit ? '--refit' : 'several --bbox-lambda values'} need${o.refit ? 's' : ''} the validation pass, which scores with SVMs: add svm to --stages, or train into an --out folder whose model has them`, 2);
  }
  return { base, existing, baseLr };
}

/** The dataset, its split (ids written to --out), and the images of each side with their proposals. */
async function loadTrainingData(o: TrainOptions, say: (line: string) => void, timings: Record<string, number>) {
  const { dataDir, outDir, seed } = o;
  const dataset = readVocDataset(dataDir, { onProgress: (d, t) => d % 100 === 0 && say(`reading dataset: ${d}/${t}`) });
  say(formatVocReport(dataset.report, dataDir));
  const split = splitVocDataset(dataset, { valFraction: o.valFraction, seed });
  let trainIds = new Set(split.train);
  let valIds = new Set(split.val);
  if (o.maxImages) ({ trainIds, valIds } = limitSplit(split, o.maxImages, o.valFraction));
  writeFileSync(join(outDir, 'train.txt'), [...trainIds].join('\n') + '\n');
  writeFileSync(join(outDir, 'val.txt'), [...valIds].join('\n') + '\n');
  say(`split (seed ${seed}): ${trainIds.size} train, ${valIds.size} val images (ids in ${outDir}/train.txt, val.txt)`);

  const t1 = performance.now();
  const load = (ids: Set<string>, what: string) => loadImages(o, dataset.images.filter((r) => ids.has(r.id)), what, say);
  const train = await load(trainIds, 'train');
  const val = await load(valIds, 'val');
  const extra = o.extraDir ? await loadExtra(o, dataset.classes, trainIds, valIds, say) : [];
  timings.proposalsSeconds = (performance.now() - t1) / 1000;
  return { classes: dataset.classes, trainIds, valIds, train: [...train, ...extra], val, extraCount: extra.length };
}

/**
 * --extra: more photos for the training side only (tools/augment writes them from the training
 * split), in --data's class order. A class --data does not have, or an id that is also one of
 * --data's validation photos, is refused: either would make the validation number a lie.
 */
async function loadExtra(o: TrainOptions, classes: string[], trainIds: Set<string>, valIds: Set<string>, say: (line: string) => void): Promise<DatasetImage[]> {
  const extraDir = o.extraDir as string;
  const extra = readVocDataset(extraDir, { classes, onProgress: (d, t) => d % 100 === 0 && say(`reading --extra: ${d}/${t}`) });
  say(formatVocReport(extra.report, extraDir));
  const unknown = Object.keys(extra.report.unknownClasses);
  if (unknown.length) throw new CliError(`--extra ${extraDir}: classes that --data does not have (${unknown.join(', ')}); give a folder made for these classes (${classes.join(', ')})`, 2);
  const clash = extra.images.filter((r) => valIds.has(r.id) || trainIds.has(r.id)).map((r) => r.id);
  if (clash.length) throw new CliError(`--extra ${extraDir}: ${clash.length} image id(s) also in --data (${clash.slice(0, 3).join(', ')}${clash.length > 3 ? ', ...' : ''}); the extra photos need their own ids`, 2);
  if (extra.images.length === 0) throw new CliError(`--extra ${extraDir}: no images could be read`, 2);
  say(`--extra: ${extra.images.length} more training images (never validation)`);
  return loadImages(o, extra.images, 'extra', say);
}

/** Decode `records` and compute (or read from --cache) their proposals, reporting every 25 images. */
function loadImages(o: TrainOptions, records: VocDataset['images'], what: string, say: (line: string) => void): Promise<DatasetImage[]> {
  return loadDatasetImages(records, {
    cacheDir: o.cacheDir, threads: o.threads, log: say, onProgress: (d, t) => (d % 25 === 0 || d === t) && say(`${what} images and proposals: ${d}/${t}`),
  });
}

/** The starting model's weights, with a new fc8 when its classes are not the dataset's; null from scratch. */
async function startingWeights(base: ModelPackage | null, arch: CaffeNetArch, classes: string[], o: TrainOptions, say: (line: string) => void): Promise<NamedWeights | null> {
  if (!base) {
    if (!o.stages.has('cnn')) throw new CliError('--stages without cnn needs a CNN: pass --init MODEL or train the cnn stage first', 2);
    return null;
  }
  const weights = { ...base.weights };
  if (base.architecture.fc8 !== arch.fc8 || !base.classes || base.classes.join() !== ['background', ...classes].join()) {
    // A new (N + 1)-way classifier, randomly initialised (docs/algorithm.md section 4).
    delete weights['fc8.weight'];
    delete weights['fc8.bias'];
    const { randomWeights } = await import('../../model/caffenet');
    const fresh = randomWeights(arch, { scheme: 'he', seed: o.seed });
    weights['fc8.weight'] = fresh['fc8.weight'];
    weights['fc8.bias'] = fresh['fc8.bias'];
    say('initialised a new fc8 for the dataset\'s classes');
  }
  return weights;
}

/** What the stages of one `rcnn train` share. */
interface TrainRun {
  o: TrainOptions;
  say: (line: string) => void;
  classes: string[];
  train: DatasetImage[];
  val: DatasetImage[];
  arch: CaffeNetArch;
  /** train-log.json, filled in by each stage. */
  log: Record<string, unknown>;
  timings: Record<string, number>;
}

/** Stage 1: fine-tune the CNN (from `weights`, or from scratch when null); its loss curve goes to --out. */
async function fineTuneStage(r: TrainRun, base: ModelPackage | null, baseLr: number, weights: NamedWeights | null): Promise<{ weights: NamedWeights; finetuneLog: unknown }> {
  const { o, arch, classes } = r;
  const windows = buildWindows(r.train, classes.length);
  const itersPerEpoch = Math.ceil(windows.fg.length / FINE_TUNE_DEFAULTS.positivesPerBatch);
  const iterations = o.iterations ?? Math.round(o.epochs * itersPerEpoch);
  const ft: FineTuneOptions = {
    ...FINE_TUNE_DEFAULTS,
    iterations,
    baseLr,
    weightDecay: o.weightDecay,
    warmup: base ? 0 : Math.min(FINE_TUNE_DEFAULTS.warmup, Math.floor(iterations / 10)),
    strategy: o.strategy,
    ...o.augmentation,
    seed: o.seed,
    threads: o.threads,
    checkpointEvery: o.checkpointEvery,
    evalEvery: o.evalEvery,
  };
  r.say(`fine-tuning ${base ? 'from ' + (o.init ?? 'the existing model') : 'from scratch'}: ${arch.conv.conv1.filters}/${arch.conv.conv2.filters}/${arch.conv.conv3.filters}/${arch.conv.conv4.filters}/${arch.conv.conv5.filters} filters, fc ${arch.fc6}, ${iterations} iterations (${(iterations / itersPerEpoch).toFixed(1)} epochs of ${itersPerEpoch}), lr ${ft.baseLr}, weight decay ${ft.weightDecay}, layers ${STRATEGY_LAYERS[o.strategy].join(',')}`);
  const result = await fineTune(arch, classes, r.train, r.val, weights, ft, o.outDir, r.say);
  r.timings.cnnSeconds = result.seconds;
  r.log.finetune = { options: ft, windows: result.windows, iterations: result.log.length };
  writeFileSync(join(o.outDir, 'loss-curve.svg'), lossCurveSvg(result.log));
  return { weights: result.weights, finetuneLog: result.log };
}

/** The package to save: the CNN, with the heads of the model in --out until new ones are trained. */
function newPackage(r: TrainRun, weights: NamedWeights, base: ModelPackage | null, existing: ModelPackage | null): ModelPackage {
  const { o, classes } = r;
  return {
    name: `R-CNN ${classes.join('/')}`,
    architecture: r.arch,
    classes: ['background', ...classes],
    weights,
    svm: existing?.svm,
    boxRegressor: existing?.boxRegressor,
    ...(existing?.headFeatures ? { headFeatures: existing.headFeatures } : {}),
    provenance: {
      createdBy: 'rcnn train',
      createdAt: new Date().toISOString(),
      source: o.dataDir,
      method: `${!o.stages.has('cnn') ? 'CNN of ' + (o.init ?? 'the existing model') + ' as it was' : base ? 'fine-tuned from ' + (o.init ?? 'an existing model') : 'trained from scratch'}; SVMs with hard-negative mining; ridge box regressors`,
      metrics: {},
      notes: [r.log.command as string],
    },
  };
}

/** The heads trained in one pass: one SVM set per --svm-c value, one regressor set per --bbox-lambda value. */
interface Candidates {
  svm: SvmCandidate[];
  bbox: BoxRegressorCandidate[];
}

/** Which candidate sets validation chose: SVM set `svm`, box-regressor set `bbox`. */
interface Choice {
  svm: number;
  bbox: number;
}

function keepSvm(r: TrainRun, pkg: ModelPackage, chosen: SvmCandidate): void {
  pkg.svm = chosen.head;
  r.log.svm = chosen.stats.map((s) => ({ class: s.class, positives: s.positives, candidateNegatives: s.candidateNegatives, hardNegativesPerPass: s.addedPerPass, retrains: s.retrains.length, finalCache: s.retrains.at(-1)?.cacheSize, objective: s.retrains.at(-1)?.primal }));
}

function keepBbox(r: TrainRun, pkg: ModelPackage, chosen: BoxRegressorCandidate): void {
  pkg.boxRegressor = chosen.head;
  r.log.bbox = chosen.stats;
}

function headOptionsOf(o: TrainOptions): HeadOptions {
  return {
    proposalsPerImage: o.svmProposals,
    seed: o.seed,
    svm: o.stages.has('svm'),
    bbox: o.stages.has('bbox'),
    bboxSamplesPerImage: o.bboxSamples,
    svmC: o.svmC,
    bboxLambda: o.bboxLambda,
    positiveCopies: o.svmAug,
    svmNegativeIou: o.svmNegativeIou,
    hardEpochs: o.hardEpochs,
    positiveAugment: o.augmentation.augment === 'none' ? undefined : { mode: o.augmentation.augment, gainJitter: o.augmentation.gainJitter, blur: o.augmentation.blur },
  };
}

/**
 * Stages 2 and 3 (SVMs, box regressors), then validation, which chooses between several C and
 * lambda values, then (--refit) the chosen heads again on train + val. Returns the feature cache
 * (--feature-cache), if any, for its summary.
 */
async function headsAndValidation(r: TrainRun, pkg: ModelPackage, weights: NamedWeights): Promise<FeatureCache | null> {
  const { o, train, val, arch } = r;
  const needHeads = o.stages.has('svm') || o.stages.has('bbox');
  const headOptions = headOptionsOf(o);
  // Heads and validation share one feature pool; validation images follow the training images.
  const pool = needHeads || val.length > 0 ? await startFeaturePool(o.threads, arch, weights, [...train, ...val], o.feat) : null;
  const featureCache = pool && o.featureCache ? new FeatureCache(resolve(o.featureCache), featureCacheKey(modelKey(arch, weights), o.feat), [...train, ...val].map((im) => im.raster)) : null;
  if (needHeads) {
    // The heads say which features they score (detect, eval and the app follow it).
    if (o.feat.features === 'roi') pkg.headFeatures = { mode: 'roi', roiScale: o.feat.roiScale };
    else delete pkg.headFeatures;
    if (o.feat.features === 'roi') r.say(`SVMs and box regressors on RoI-pooled features (${ROI_SCALE_TEXT[o.feat.roiScale]}), not warped crops`);
  }
  if (pool && featureCache) pool.features = featureCache.wrap(pool.features.bind(pool));
  try {
    let heads: Candidates = { svm: [], bbox: [] };
    if (needHeads && pool) heads = await headsStage(r, pool, pkg, headOptions);
    if (val.length > 0 && pkg.svm && pool) {
      const choice = await validate(r, pool, pkg, pkg.svm, heads);
      if (o.refit && needHeads) await refitHeads(r, pool, pkg, headOptions, heads, choice);
    }
  } finally {
    await pool?.dispose();
  }
  return featureCache;
}

/** Trains the heads on the training images; keeps the first candidate of each until validation chooses. */
async function headsStage(r: TrainRun, pool: TrainerPool, pkg: ModelPackage, headOptions: HeadOptions): Promise<Candidates> {
  const h = await trainHeads(poolSource(pool), r.classes, r.train, r.arch.fc7, headOptions, r.say);
  if (h.svmCandidates.length) keepSvm(r, pkg, h.svmCandidates[0]);
  if (h.bboxCandidates.length) keepBbox(r, pkg, h.bboxCandidates[0]);
  r.timings.headsSeconds = h.seconds;
  r.log.featureScale = { fc7: h.fc7Scale, pool5: h.pool5Scale };
  return { svm: h.svmCandidates, bbox: h.bboxCandidates };
}

/**
 * Validation mAP of every SVM set with every regressor set; keeps the best pair and records its
 * mAP in the package's metrics and the log.
 */
async function validate(r: TrainRun, pool: TrainerPool, pkg: ModelPackage, svm: SvmHead, heads: Candidates): Promise<Choice> {
  const { o, say } = r;
  // Validation images sit after the training images in the workers' shared raster list.
  const evalOptions = { ...EVAL_DEFAULTS, proposals: o.evalProposals };
  const scorers = heads.svm.length > 1 ? heads.svm.map((c) => c.head) : [svm];
  const regressors = heads.bbox.length ? heads.bbox.map((c) => c.head) : pkg.boxRegressor ? [pkg.boxRegressor] : [];
  const all = await evaluateModels(pool, r.val, r.classes, scorers, regressors, evalOptions, say, r.train.length);
  const choice = bestPair(all, regressors.length);
  const { svm: best, bbox: bestJ } = choice;
  const pct = (v: number) => (100 * v).toFixed(1);
  if (heads.svm.length > 1) {
    const atLambda = heads.bbox.length > 1 ? ` (lambda ${heads.bbox[bestJ].lambda})` : '';
    all.forEach((e, k) => say(`validation mAP with SVM C ${heads.svm[k].C}: ${pct(e.withoutRegression.map)} without box regression, ${regressors.length ? pct(e.withRegression[bestJ].map) : '-'} with${atLambda}`));
    say(`keeping the SVMs with C ${heads.svm[best].C} (best validation mAP${regressors.length ? ' with box regression' : ''})`);
    keepSvm(r, pkg, heads.svm[best]);
    r.log.svmSelection = all.map((e, k) => ({ C: heads.svm[k].C, mapWithout: e.withoutRegression.map, mapWith: regressors.length ? e.withRegression[bestJ].map : null }));
  }
  if (heads.bbox.length > 1) {
    heads.bbox.forEach((c, j) => say(`validation mAP with box-regression lambda ${c.lambda}: ${pct(all[best].withRegression[j].map)} (${pct(all[best].withoutRegression.map)} without box regression)`));
    say(`keeping the box regressors with lambda ${heads.bbox[bestJ].lambda} (best validation mAP)`);
    keepBbox(r, pkg, heads.bbox[bestJ]);
    r.log.bboxSelection = heads.bbox.map((c, j) => ({ lambda: c.lambda, mapWith: all[best].withRegression[j].map, bySvmC: all.map((e) => e.withRegression[j].map) }));
  }
  recordValidation(r, pkg, heads, choice, { withoutRegression: all[best].withoutRegression, withRegression: all[best].withRegression[bestJ] ?? null, seconds: all[best].seconds });
  return choice;
}

/** The SVM set and regressor set with the best headline mAP (with box regression when there is any); the first on ties. */
function bestPair(all: ReadonlyArray<{ withoutRegression: { map: number }; withRegression: Array<{ map: number }> }>, nRegressors: number): Choice {
  const headline = (k: number, j: number) => (nRegressors ? all[k].withRegression[j] : all[k].withoutRegression).map;
  let best = 0;
  let bestJ = 0;
  for (let k = 0; k < all.length; k++) {
    for (let j = 0; j < Math.max(1, nRegressors); j++) {
      if (headline(k, j) > headline(best, bestJ)) [best, bestJ] = [k, j];
    }
  }
  return { svm: best, bbox: bestJ };
}

/** The chosen pair's validation AP: said, and written to the package's metrics and the log. */
function recordValidation(r: TrainRun, pkg: ModelPackage, heads: Candidates, choice: Choice, e: Pick<EvalResult, 'withoutRegression' | 'withRegression' | 'seconds'>): void {
  r.timings.evalSeconds = e.seconds;
  r.say(`validation AP without box regression: ${formatAp(e.withoutRegression)}`);
  if (e.withRegression) r.say(`validation AP with box regression:    ${formatAp(e.withRegression)}`);
  const m = pkg.provenance.metrics!;
  m['val mAP (no box regression)'] = Number(e.withoutRegression.map.toFixed(4));
  if (e.withRegression) m['val mAP (box regression)'] = Number(e.withRegression.map.toFixed(4));
  m['val images'] = r.val.length;
  if (heads.svm.length) m['svm C'] = heads.svm[choice.svm].C;
  if (heads.svm.length && r.o.svmNegativeIou !== SVM_NEGATIVE_IOU) m['svm negative IoU'] = r.o.svmNegativeIou;
  if (heads.bbox.length) m['box regression lambda'] = heads.bbox[choice.bbox].lambda;
  r.log.validation = {
    withoutRegression: e.withoutRegression.perClass.map((c) => ({ class: c.name, ap: c.ap })),
    withRegression: e.withRegression?.perClass.map((c) => ({ class: c.name, ap: c.ap })) ?? null,
    mapWithout: e.withoutRegression.map,
    mapWith: e.withRegression?.map ?? null,
  };
}

/**
 * --refit: the values chosen on validation, solved once more on every image (the workers' raster
 * list is train then val, so the indices line up). The validation mAP stays the one measured
 * before, on heads that had not seen those images.
 */
async function refitHeads(r: TrainRun, pool: TrainerPool, pkg: ModelPackage, headOptions: HeadOptions, heads: Candidates, choice: Choice): Promise<void> {
  const all = [...r.train, ...r.val];
  const m = pkg.provenance.metrics!;
  r.say(`refitting the ${[headOptions.svm && `SVMs (C ${m['svm C']})`, headOptions.bbox && `box regressors (lambda ${m['box regression lambda']})`].filter(Boolean).join(' and ')} on all ${all.length} images (train + val)`);
  const h = await trainHeads(poolSource(pool), r.classes, all, r.arch.fc7, {
    ...headOptions,
    svmC: heads.svm.length ? [heads.svm[choice.svm].C] : headOptions.svmC,
    bboxLambda: heads.bbox.length ? [heads.bbox[choice.bbox].lambda] : headOptions.bboxLambda,
  }, r.say);
  if (h.svmCandidates.length) keepSvm(r, pkg, h.svmCandidates[0]);
  if (h.bboxCandidates.length) keepBbox(r, pkg, h.bboxCandidates[0]);
  r.timings.refitSeconds = h.seconds;
  r.log.refit = { images: all.length, featureScale: { fc7: h.fc7Scale, pool5: h.pool5Scale } };
  m['heads trained on'] = `${all.length} images (train + val), after choosing on val`;
}

/** `--svm-c 0.001,0.01`: positive numbers, in the order given, no repeats. */
export function parseSvmC(raw: unknown): number[] {
  return parseNumberList(raw, '--svm-c', [SVM_DEFAULTS.C]);
}

/** A comma-separated list of positive numbers for `flag`, in the order given, no repeats. */
export function parseNumberList(raw: unknown, flag: string, defaults: number[]): number[] {
  if (raw === undefined) return [...defaults];
  const parts = String(raw).split(',').map((p) => p.trim()).filter(Boolean);
  const values = parts.map(Number);
  if (!values.length || values.some((v) => !(Number.isFinite(v) && v > 0))) throw new CliError(`${flag} expects positive numbers separated by commas, got "${String(raw)}"`, 2);
  if (new Set(values).size !== values.length) throw new CliError(`${flag} lists a value twice: "${String(raw)}"`, 2);
  return values;
}

/**
 * --max-images N: N images in all, split as --val-fraction says (at least one validation image
 * when it is above 0), taken from the front of the full split so small runs are subsets of big ones.
 */
export function limitSplit(split: { train: string[]; val: string[] }, maxImages: number, valFraction: number): { trainIds: Set<string>; valIds: Set<string> } {
  const nVal = valFraction > 0 ? Math.min(split.val.length, Math.max(1, Math.round(maxImages * valFraction))) : 0;
  return { trainIds: new Set(split.train.slice(0, maxImages - nVal)), valIds: new Set(split.val.slice(0, nVal)) };
}
