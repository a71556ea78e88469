import { loadModelForCli } from '../io';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { CliError, numberOption, stringOption, type Command } from '../command';
import { readVocDataset, formatVocReport } from '../dataset';
import { loadDatasetImages } from '../train/data';
import { countAtThreshold, formatThresholdCount, evaluateModel, EVAL_DEFAULTS } from '../train/evaluate';
import type { SoftmaxHead } from '../../model/heads';
import type { SvmHead } from '../../model/package';
import { defaultNmsThreshold } from '../../core/nms';
import { startFeaturePool } from '../train/trainerPool';
import { FeatureCache, modelKey } from '../train/featureCache';
import { BUNDLED_MODEL_DIR } from '../defaults';
import type { ApMetric, DetectionEvaluation } from '../../core/eval/ap';
import { FEATURE_OPTIONS, featureCacheKey, featureMismatchNote, featureOptionsHelp, readFeatureOptions } from '../featureOptions';

function apLines(e: DetectionEvaluation): string {
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'nan');
  return e.perClass.map((c) => `AP ${c.name} ${fmt(c.ap)}`).join('\n') + `\nmAP ${fmt(e.map)}\n`;
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'PASCAL VOC detection AP (IoU 0.5) of a model on a VOC folder: one "AP <class> <value>" line per class, then "mAP <value>".',
  usage: 'eval --data DIR [--split FILE] [--model DIR] [--proposals N] [--nms T] [--metric voc2010|voc2007] [--scorer svm|softmax] [--no-regression] [--count-at T] [--threads N] [--cache DIR] [--feature-cache DIR] [--features warp|roi] [--roi-scale S]',
  details: [
    '  --data DIR        PASCAL VOC layout (JPEGImages/, Annotations/, ImageSets/Main/)',
    '  --split FILE      image ids to evaluate, one per line (default: ImageSets/Main/test.txt if present, else trainval.txt,\n                    else every annotation in Annotations/)',
    `  --model DIR       model package folder, .rcnn or .onnx (default: the bundled model)`,
    '  --proposals N     selective-search proposals per image (default 2000)',
    '  --metric M        voc2010: area under the interpolated precision/recall curve at all points (default);',
    '                    voc2007: the 11-point variant',
    '  --nms T           per-class NMS threshold (default: the model\'s own, chosen on its validation photos, else 0.3)',
    '  --scorer S        svm: the per-class SVMs on fc7 (R-CNN; default) | softmax: the fine-tuned CNN\'s own fc8 softmax,',
    '                    the comparison of the paper\'s appendix B',
    '  --no-regression   evaluate the proposal boxes (stdout); by default stdout has the regressed boxes and stderr',
    '                    the other variant, as the paper reports both',
    '  --count-at T      also count, on stderr, what is drawn at score threshold T (the app\'s default is 0): objects',
    '                    found, boxes correct at IoU 0.5, images with nothing drawn (regressed boxes unless --no-regression)',
    `  --threads N       CNN worker threads (default ${availableParallelism()})`,
    '  --cache DIR       proposal cache (default .cache/rcnn)',
    '  --feature-cache DIR  read and keep the CNN features in DIR (as rcnn train --feature-cache; keyed by the',
    '                    network, image and boxes): evaluating other heads on the same CNN then skips the CNN',
    ...featureOptionsHelp('the CNN features the heads score'),
    'Difficult objects are ignored; a detection must overlap a ground truth with IoU >= 0.5.',
  ].join('\n'),
  options: {
    data: { type: 'string' },
    split: { type: 'string' },
    'count-at': { type: 'string' },
    model: { type: 'string' },
    proposals: { type: 'string' },
    metric: { type: 'string' },
    nms: { type: 'string' },
    'no-regression': { type: 'boolean' },
    scorer: { type: 'string' },
    threads: { type: 'string' },
    cache: { type: 'string' },
    'feature-cache': { type: 'string' },
    ...FEATURE_OPTIONS,
  },
  async run({ values, stdout, stderr }) {
    const say = (l: string) => stderr(`${l}\n`);
    if (!values.data) throw new CliError('--data is required', 2);
    const dataDir = resolve(String(values.data));
    const metric = stringOption<ApMetric>(values, 'metric', 'voc2010', ['voc2010', 'voc2007']);
    const proposals = numberOption(values, 'proposals', EVAL_DEFAULTS.proposals, { min: 1, integer: true });
    const threads = numberOption(values, 'threads', availableParallelism(), { min: 1, max: 64, integer: true });
    const countAt = values['count-at'] !== undefined ? numberOption(values, 'count-at', 0, { min: -100, max: 100 }) : null;
    const modelPath = String(values.model ?? BUNDLED_MODEL_DIR);
    const pkg = await loadModelForCli(modelPath);
    const nmsThreshold = numberOption(values, 'nms', defaultNmsThreshold(pkg), { min: 0, max: 1 });
    const scorer = stringOption<'svm' | 'softmax'>(values, 'scorer', 'svm', ['svm', 'softmax']);
    let head: SvmHead | SoftmaxHead;
    if (scorer === 'softmax') {
      const w = pkg.weights['fc8.weight'];
      const b = pkg.weights['fc8.bias'];
      if (!w || !b || !pkg.classes || pkg.classes[0] !== 'background' || pkg.classes.length !== b.data.length) {
        throw new CliError(`${modelPath} has no fc8 with a background output and named classes, so --scorer softmax cannot score`, 1);
      }
      head = { kind: 'softmax', classes: pkg.classes.slice(1), weight: w.data, bias: b.data };
    } else {
      if (!pkg.svm) throw new CliError(`${modelPath} has no SVM head, so it cannot detect (--scorer softmax uses fc8)`, 1);
      head = pkg.svm;
    }
    const classes = head.classes;
    const feat = readFeatureOptions(values, pkg);
    const mismatch = featureMismatchNote(pkg, feat);
    if (mismatch) say(mismatch);
    if (pkg.boxRegressor && pkg.boxRegressor.classes.join() !== classes.join()) {
      throw new CliError(`${modelPath}: the box regressors' classes (${pkg.boxRegressor.classes.join(', ')}) are not the scorer's (${classes.join(', ')})`, 1);
    }

    // test.txt when the folder has one, else trainval.txt, else every annotation in the folder.
    const setFile = (n: string) => existsSync(resolve(dataDir, `ImageSets/Main/${n}.txt`));
    let imageSet: string | undefined = setFile('test') ? 'test' : setFile('trainval') ? 'trainval' : undefined;
    let ids: Set<string> | null = null;
    if (values.split) {
      const f = resolve(String(values.split));
      if (!existsSync(f)) throw new CliError(`--split ${f}: no such file`);
      if (statSync(f).isDirectory()) throw new CliError(`--split ${f} is a folder; give a text file of image ids, one per line (e.g. ImageSets/Main/val.txt)`, 2);
      ids = new Set(readFileSync(f, 'utf8').split(/\r?\n/).map((l) => l.trim().split(/\s+/)[0]).filter(Boolean));
      imageSet = setFile('trainval') ? 'trainval' : undefined;
    }
    const dataset = readVocDataset(dataDir, { imageSet, classes, ids: ids ?? undefined });
    say(formatVocReport(dataset.report, dataDir));
    const records = ids ? dataset.images.filter((r) => ids!.has(r.id)) : dataset.images;
    if (ids && records.length < ids.size) say(`warning: ${ids.size - records.length} ids of the split were not found or could not be read`);
    if (records.length === 0) throw new CliError('no images to evaluate');
    const images = await loadDatasetImages(records, {
      cacheDir: resolve(String(values.cache ?? '.cache/rcnn')),
      threads,
      log: say,
      onProgress: (d, t) => (d % 50 === 0 || d === t) && say(`images and proposals: ${d}/${t}`),
    });
    const pool = await startFeaturePool(threads, pkg.architecture, pkg.weights, images, feat);
    const featureCache = values['feature-cache'] ? new FeatureCache(resolve(String(values['feature-cache'])), featureCacheKey(modelKey(pkg.architecture, pkg.weights), feat), images.map((im) => im.raster)) : null;
    if (featureCache) pool.features = featureCache.wrap(pool.features.bind(pool));
    try {
      const useReg = !values['no-regression'] && !!pkg.boxRegressor;
      const e = await evaluateModel(pool, images, classes, head, useReg || pkg.boxRegressor ? pkg.boxRegressor : undefined, { ...EVAL_DEFAULTS, proposals, nmsThreshold, metric }, say);
      const primary = useReg && e.withRegression ? e.withRegression : e.withoutRegression;
      const other = useReg && e.withRegression ? e.withoutRegression : e.withRegression;
      if (other) say(`${useReg ? 'without' : 'with'} box regression:\n${apLines(other).trimEnd()}`);
      if (countAt !== null) {
        const t = countAt;
        const lists = e.detections.map((d) => (useReg && e.withRegression ? d.withRegression[0] : d.withoutRegression));
        say(formatThresholdCount(countAtThreshold(lists, images.map((im) => im.gt), classes, t)));
      }
      if (featureCache) say(featureCache.summary());
      say(`${images.length} images, ${proposals} proposals each, ${feat.features === 'roi' ? `RoI-pooled features (${feat.roiScale})` : 'warped crops'}, ${scorer} scores, NMS ${nmsThreshold}${values.nms === undefined && pkg.detection ? ' (the model\'s)' : ''}, ${metric} AP, ${useReg ? 'with' : 'without'} box regression on stdout; ${e.seconds.toFixed(0)} s`);
      stdout(apLines(primary));
    } finally {
      await pool.dispose();
    }
    return 0;
  },
};
