/**
 * The Train view's training worker, in Node with a stand-in page, against `rcnn train`'s own data
 * path on the same photos: the CLI's loadDatasetImages (decode, selective search, 800 px raster)
 * with its split and its head options, and the worker's own preparation (bytes, decode, the page's
 * proposals, the raster it warps from) must give exactly the same SVMs, box regressors and
 * held-out AP when both read features from the same CNN. A tiny synthetic VOC set (six 160 x 120
 * PNGs named .jpg, as in the real dataset) and 24 proposals per photo keep it quick.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useNodeBackend } from '../model/node';
import { loadModelPath } from '../model/packageNode';
import { decodeBundle, encodeBundle, type ModelPackage } from '../model/package';
import { RcnnModel } from '../model/rcnnModel';
import { extractAll } from '../model/extract';
import type { RgbImage } from '../core/image/raster';
import { decodeAndPrepare } from '../core/image/decode';
import { selectiveSearch } from '../core/selectiveSearch/index';
import { makeDataset } from '../cli/train/testDataset';
import { readVocDataset, splitVocDataset } from '../cli/dataset';
import { loadDatasetImages } from '../cli/train/data';
import { trainHeads, type HeadOptions } from '../pipeline/train/heads';
import { evaluateModels, EVAL_DEFAULTS } from '../pipeline/train/evaluate';
import type { FeatureSource } from '../pipeline/train/source';
import { DEFAULT_TRAIN_SETTINGS } from '../pipeline/train/settings';
import { TrainWorkerHost } from './trainWorkerHost';
import type { FromWorker, TrainPhotoSpec, TrainResult } from './trainProtocol';

const P = 24;
const SEED = 3;
const VAL = 0.25;

let pkg: ModelPackage;
let model: RcnnModel;

beforeAll(async () => {
  await useNodeBackend('wasm');
  pkg = await loadModelPath('public/models/fruit-animals');
  model = new RcnnModel(pkg);
});

/** fc7 of every box and pool5 of some rows of one raster: what both shells' CNN workers return. */
async function features(raster: RgbImage, boxes: Float32Array, rows: Int32Array) {
  const r = await extractAll(model, raster, { boxes, fc7: true, pool5: rows.length > 0, svmScores: false, bboxDeltas: false });
  const d5 = r.pool5 ? r.pool5.length / r.total : 0;
  const pool5 = new Float32Array(rows.length * d5);
  rows.forEach((row, k) => pool5.set(r.pool5!.subarray(row * d5, (row + 1) * d5), k * d5));
  return { fc7: r.fc7!, pool5, ms: r.ms };
}

describe('the Train view\'s training worker', () => {
  it('trains the same heads and measures the same AP as rcnn train\'s data path on the same photos', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rcnn-trainhost-'));
    makeDataset(join(dir, 'voc'), 6);
    const ds = readVocDataset(join(dir, 'voc'));
    const split = splitVocDataset(ds, { valFraction: VAL, seed: SEED });
    const classes = ds.classes;

    // rcnn train --stages svm,bbox --val-fraction 0.25 --seed 3 --svm-proposals 24 --eval-proposals 24.
    const pick = (ids: string[]) => ds.images.filter((r) => ids.includes(r.id));
    const train = await loadDatasetImages(pick(split.train), { cacheDir: join(dir, 'cache'), threads: 1 });
    const val = await loadDatasetImages(pick(split.val), { cacheDir: join(dir, 'cache'), threads: 1 });
    const all = [...train, ...val];
    const cliSource: FeatureSource = { lanes: 1, features: (_l, i, boxes, rows) => features(all[i].raster, boxes, rows) };
    const o: HeadOptions = { proposalsPerImage: P, seed: SEED, svm: true, bbox: true, bboxSamplesPerImage: 32, svmC: [0.001], bboxLambda: [1000], positiveCopies: 0, svmNegativeIou: 0.3, hardEpochs: 1, positiveAugment: { mode: 'window', gainJitter: 0.08, blur: 0 } };
    const cli = await trainHeads(cliSource, classes, train, pkg.architecture.fc7, o, () => undefined);
    const [cliEval] = await evaluateModels(cliSource, val, classes, [cli.svmCandidates[0].head], [cli.bboxCandidates[0].head], { ...EVAL_DEFAULTS, proposals: P }, () => undefined, train.length);

    // The worker, with a stand-in page answering its requests in-process.
    const spec = (id: string): TrainPhotoSpec => {
      const r = ds.images.find((x) => x.id === id)!;
      return { id, name: id, width: r.width, height: r.height, boxes: Array.from(r.groundTruth.boxes), labels: Array.from(r.groundTruth.labels), difficult: Array.from(r.groundTruth.difficult) };
    };
    const cache = new Map<string, ArrayBuffer>();
    const events: FromWorker[] = [];
    const result = await new Promise<TrainResult>((resolve, reject) => {
      const host: TrainWorkerHost = new TrainWorkerHost({
        photoBytes: async (id) => new Uint8Array(readFileSync(join(dir, 'voc', 'JPEGImages', `${id}.jpg`))),
        cache: { get: async (k) => cache.get(k) ?? null, put: async (k, v) => void cache.set(k, v) },
        decode: async (bytes, name) => decodeAndPrepare(bytes, name),
        useBackend: async () => 'wasm',
        post: (m) => {
          events.push(m);
          const image = (x: { width: number; height: number; data: ArrayBuffer }): RgbImage => ({ width: x.width, height: x.height, data: new Uint8Array(x.data) });
          if (m.type === 'propose') host.handle({ type: 'proposed', id: m.id, boxes: selectiveSearch(image(m.image), { mode: 'fast', maxBoxes: 2000, seed: 1 }).boxes, ms: 0 });
          else if (m.type === 'features') void features(image(m.image), m.boxes, m.pool5Rows).then((f) => host.handle({ type: 'features', id: m.id, ...f }), reject);
          else if (m.type === 'cnnBundle') void encodeBundle(pkg).then((b) => host.handle({ type: 'cnnBundle', id: m.id, bytes: b.slice().buffer }), reject);
          else if (m.type === 'result') resolve(m.result);
          else if (m.type === 'failed') reject(new Error(m.message));
        },
      });
      host.handle({
        type: 'start',
        classes,
        train: split.train.map(spec),
        heldOut: split.val.map(spec),
        settings: { ...DEFAULT_TRAIN_SETTINGS, heldOut: VAL, seed: SEED, proposals: P },
        cnn: { name: pkg.name, fc7: pkg.architecture.fc7, lanes: 2 },
        counts: classes.map((name) => ({ name, photos: 1, boxes: 1 })),
      });
    });
    const app = await decodeBundle(new Uint8Array(result.model.bytes));

    // Same heads, bit for bit, and the same AP.
    expect(app.svm!.classes).toEqual(classes);
    expect(app.svm!.featureScale).toBe(cli.fc7Scale);
    expect(Array.from(app.svm!.weights)).toEqual(Array.from(cli.svmCandidates[0].head.weights));
    expect(Array.from(app.svm!.bias)).toEqual(Array.from(cli.svmCandidates[0].head.bias));
    expect(Array.from(app.boxRegressor!.weights)).toEqual(Array.from(cli.bboxCandidates[0].head.weights));
    expect(Array.from(app.boxRegressor!.targetTransform)).toEqual(Array.from(cli.bboxCandidates[0].head.targetTransform));
    expect(result.evaluation!.withRegression!.perClass.map((c) => c.ap)).toEqual(cliEval.withRegression[0].perClass.map((c) => c.ap));
    expect(result.evaluation!.withoutRegression.perClass.map((c) => c.ap)).toEqual(cliEval.withoutRegression.perClass.map((c) => c.ap));
    expect(result.mining.map((m) => m.retrains.map((r) => r.cacheSize))).toEqual(cli.svmCandidates[0].stats.map((s) => s.retrains.map((r) => r.cacheSize)));
    // The CNN is the active model's, unchanged; the card names the classes and the held-out AP.
    expect(Array.from(app.weights['fc7.weight']!.data.subarray(0, 64))).toEqual(Array.from(pkg.weights['fc7.weight']!.data.subarray(0, 64)));
    expect(result.model.card).toContain(`| ${classes[0]} |`);
    expect(result.model.card).toContain(`on the ${split.val.length} held-out photos`);
    // It reported every phase, and proposals were searched once per photo and cached.
    expect(new Set(events.filter((e) => e.type === 'phase').map((e) => (e as { phase: string }).phase))).toEqual(new Set(['prepare', 'stats', 'positives', 'mining', 'bbox', 'evaluate', 'model']));
    expect(events.filter((e) => e.type === 'propose')).toHaveLength(6);
    expect(cache.size).toBe(6);
  }, 300_000);
});
