/**
 * The Train view's training, off the page's thread: the same steps and the same code as
 * `rcnn train --stages svm,bbox` (src/pipeline/train), on the page's worker pools.
 *
 *   prepare    every photo decoded (the CLI's pure-JS decoders for JPEG and PNG), its working
 *              image searched by selective search (fast mode, 2000 boxes, seed 1, in the page's
 *              pool; cached in IndexedDB per photo), boxes mapped to the photo's pixels
 *   stats, positives, mining, bbox   trainHeads (feature scale, SVMs with hard-negative mining,
 *              ridge box regressors) on fc7 / pool5 from the page's CNN workers, warped from an
 *              800 px raster as the CLI does
 *   evaluate   evaluateModels on the held-out photos (the heads on this worker's tfjs wasm backend)
 *   model      the active CNN's bundle (from a CNN worker) with the new heads and a model card
 *
 * Memory: rasters are decoded on demand and kept in a small LRU (not one per photo); features
 * exist one image at a time, as in the CLI; what grows is bounded by the mining rules (the
 * negative caches) and the regression pairs (32 per photo). Logic here, the worker entry in
 * train.worker.ts, so it runs under Node in tests with a fake page.
 */
import type { PreparedImage } from '../core/image/decode';
import type { RgbImage } from '../core/image/raster';
import { fitWithin, resizeRgb } from '../core/image/resize';
import { makeGroundTruth } from '../core/dataset/groundTruth';
import { DEFAULT_SEED, DEFAULT_MAX_BOXES } from '../core/selectiveSearch/index';
import type { RetrainStats } from '../core/learn/svm';
import { trainHeads, type HeadOptions } from '../pipeline/train/heads';
import { evaluateModels, EVAL_DEFAULTS } from '../pipeline/train/evaluate';
import { abortError, TRAIN_RASTER_MAX_SIDE, type FeatureSource, type TrainImage } from '../pipeline/train/source';
import { cliEquivalent } from '../pipeline/train/settings';
import { decodeBundle, encodeBundle, type ModelPackage } from '../model/package';
import type { DetectionEvaluation } from '../core/eval/ap';
import { proposalCacheKey, TRAIN_PROPOSALS, type ClassAp, type FromWorker, type ToWorker, type TrainPhaseId, type TrainPhotoSpec, type TrainReply, type TrainRequest, type TrainResult, type TrainStart } from './trainProtocol';

export interface TrainHostDeps {
  post: (msg: FromWorker, transfer?: Transferable[]) => void;
  /** A photo's original file bytes (IndexedDB in the browser). */
  photoBytes: (id: string) => Promise<Uint8Array | null>;
  /** Per-photo proposals kept across runs and reloads (IndexedDB in the browser). */
  cache: { get(key: string): Promise<ArrayBuffer | null>; put(key: string, value: ArrayBuffer): Promise<void> };
  /** Decodes a photo as the app does (pure-JS JPEG/PNG, the browser for the rest) and builds its working image. */
  decode: (bytes: Uint8Array, name: string) => Promise<PreparedImage>;
  /** Selects the tfjs backend the heads run on during evaluation (wasm, as `rcnn eval`). */
  useBackend: () => Promise<string>;
  /** Bytes of decoded rasters kept (default 192 MB). */
  rasterBudget?: number;
}

// The CLI's selective-search settings (src/cli/train/data.ts DEFAULT_PROPOSAL_PARAMS).
if (TRAIN_PROPOSALS.maxBoxes !== DEFAULT_MAX_BOXES || TRAIN_PROPOSALS.seed !== DEFAULT_SEED) throw new Error('the Train view must search as rcnn train does');

export class TrainWorkerHost {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: TrainReply) => void; reject: (e: Error) => void }>();
  private readonly ctl = new AbortController();
  private rasters = new Map<number, RgbImage>();
  private rasterBytes = 0;

  constructor(private readonly deps: TrainHostDeps) {}

  handle(msg: ToWorker): void {
    if (msg.type === 'start') {
      void this.run(msg).catch((e: Error) => {
        if (e.name !== 'AbortError') this.deps.post({ type: 'failed', message: e.message ?? String(e) });
      });
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.type === 'error') p.reject(new Error(msg.message));
    else p.resolve(msg);
  }

  /** Stops the run at the next image (the page terminates the worker anyway; tests use this). */
  cancel(): void {
    this.ctl.abort();
    for (const p of this.pending.values()) p.reject(abortError());
    this.pending.clear();
  }

  private ask<T extends TrainReply['type']>(req: TrainRequest extends infer R ? (R extends TrainRequest ? Omit<R, 'id'> : never) : never, transfer: Transferable[] = []): Promise<Extract<TrainReply, { type: T }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: TrainReply) => void, reject });
      this.deps.post({ ...req, id } as TrainRequest, transfer);
    });
  }

  private phase(phase: TrainPhaseId, done: number, total: number, detail?: string): void {
    this.deps.post({ type: 'phase', phase, done, total, detail });
  }

  private say = (line: string): void => {
    this.deps.post({ type: 'log', line });
  };

  private async run(start: TrainStart): Promise<void> {
    const { settings: s, classes } = start;
    const photos = [...start.train, ...start.heldOut];
    const signal = this.ctl.signal;
    this.say(`classes ${classes.join(', ')}; ${start.train.length} training photos, ${start.heldOut.length} held out (seed ${s.seed}); CNN ${start.cnn.name}; the same run on the command line: ${cliEquivalent(s)}`);

    // 1. Proposals for every photo (cached per photo).
    const images: TrainImage[] = new Array(photos.length);
    let prepared = 0;
    this.phase('prepare', 0, photos.length);
    let next = 0;
    const lane = async () => {
      while (next < photos.length) {
        if (signal.aborted) throw abortError();
        const k = next++;
        images[k] = await this.prepare(photos[k], k);
        this.phase('prepare', ++prepared, photos.length, photos[k].name);
      }
    };
    // Two at a time: one photo decodes here while the page's pool searches the other.
    await Promise.all([lane(), lane()]);

    const train = images.slice(0, start.train.length);
    const heldOut = images.slice(start.train.length);
    const source: FeatureSource = {
      lanes: Math.max(1, start.cnn.lanes),
      features: async (lane, index, boxes, pool5Rows) => {
        if (signal.aborted) throw abortError();
        const r = await this.raster(photos[index], index);
        const data = r.data.slice().buffer;
        const reply = await this.ask<'features'>({ type: 'features', lane, key: photos[index].id, image: { width: r.width, height: r.height, data }, boxes, pool5Rows }, [data, boxes.buffer]);
        return { fc7: reply.fc7, pool5: reply.pool5, ms: reply.ms };
      },
    };

    // 2. The heads, exactly as `rcnn train --stages svm,bbox` trains them.
    const o: HeadOptions = {
      proposalsPerImage: s.proposals,
      seed: s.seed,
      svm: true,
      bbox: true,
      bboxSamplesPerImage: s.bboxSamples,
      svmC: [s.svmC],
      bboxLambda: [s.bboxLambda],
      hardEpochs: s.hardEpochs,
    };
    const phaseOf: Record<string, TrainPhaseId> = { stats: 'stats', positives: 'positives', mining: 'mining', evaluate: 'evaluate' };
    const heads = await trainHeads(source, classes, train, start.cnn.fc7, o, this.say, {
      signal,
      onProgress: (p, done, total) => this.phase(phaseOf[p] ?? 'mining', done, total),
      onRetrain: (c, k, stats: RetrainStats, pass) => k === 0 && this.deps.post({ type: 'retrain', classIndex: c, pass, stats }),
    });
    this.phase('bbox', 1, 1);
    const svm = heads.svmCandidates[0];
    const bbox = heads.bboxCandidates[0];

    // 3. AP on the held-out photos (the heads on wasm, as `rcnn eval`).
    let evaluation: TrainResult['evaluation'] = null;
    if (heldOut.length) {
      this.phase('evaluate', 0, heldOut.length);
      const backend = await this.deps.useBackend();
      const [e] = await evaluateModels(source, heldOut, classes, [svm.head], [bbox.head], { ...EVAL_DEFAULTS, proposals: s.proposals }, this.say, train.length, {
        signal,
        onProgress: (_p, done, total) => this.phase('evaluate', done, total),
      });
      const pct = (v: number) => (100 * v).toFixed(1);
      this.say(`held-out AP (heads on ${backend}) without box regression: ${e.withoutRegression.perClass.map((c) => `${c.name} ${pct(c.ap)}`).join(', ')} | mAP ${pct(e.withoutRegression.map)}`);
      this.say(`held-out AP with box regression: ${e.withRegression[0].perClass.map((c) => `${c.name} ${pct(c.ap)}`).join(', ')} | mAP ${pct(e.withRegression[0].map)}`);
      evaluation = { photos: heldOut.length, proposals: s.proposals, withoutRegression: summariseAp(e.withoutRegression), withRegression: summariseAp(e.withRegression[0]) };
    }

    // 4. The model: the active CNN as it is, with the new heads and a model card.
    this.phase('model', 0, 1);
    const cnn = await decodeBundle(new Uint8Array((await this.ask<'cnnBundle'>({ type: 'cnnBundle' })).bytes), start.cnn.name);
    const card = modelCard(start, evaluation, heads.fc7Scale, heads.pool5Scale);
    const pkg: ModelPackage = {
      ...cnn,
      name: `Your detector (${classes.join(', ')})`,
      svm: svm.head,
      boxRegressor: bbox.head,
      // Trained on warped crops (the CNN workers' warp path), whatever the active model's heads scored.
      headFeatures: undefined,
      detection: undefined,
      provenance: {
        createdBy: 'R-CNN Explorer, Train view',
        createdAt: new Date().toISOString(),
        source: `${photos.length} photos of the user's own (${start.counts.map((c) => `${c.name} ${c.boxes} boxes`).join(', ')})`,
        method: `SVMs with hard-negative mining and ridge box regressors, as rcnn train --stages svm,bbox, on the features of ${start.cnn.name} (its CNN as it was: not fine-tuned)`,
        metrics: evaluation
          ? {
              'held-out mAP (box regression)': round4(evaluation.withRegression!.map),
              'held-out mAP (no box regression)': round4(evaluation.withoutRegression.map),
              'held-out photos': evaluation.photos,
              'svm C': s.svmC,
              'box regression lambda': s.bboxLambda,
            }
          : { 'svm C': s.svmC, 'box regression lambda': s.bboxLambda },
        notes: [`Trained in the browser on ${start.train.length} photos (${start.heldOut.length} held out); the settings and the held-out AP per class are in the model card.`],
        card,
      },
    };
    const bytes = await encodeBundle(pkg);
    const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    this.phase('model', 1, 1);

    const result: TrainResult = {
      featureScale: { fc7: heads.fc7Scale, pool5: heads.pool5Scale },
      mining: svm.stats.map((x) => ({ name: x.class, positives: x.positives, candidateNegatives: x.candidateNegatives, addedPerPass: x.addedPerPass, retrains: x.retrains })),
      hardNegatives: heads.insight.hardNegatives.map((list) => list.map((h) => ({ photo: photos[h.image].id, box: h.box, score: h.score, iou: h.iou }))),
      regression: classes.map((name, c) => {
        const r = heads.insight.regression[c];
        if (!r) return { name, pairs: 0, iouBefore: [], iouAfter: [], examples: [] };
        // A few pairs to draw: the ones the regression moved most, one per photo.
        const order = Array.from(r.iouAfter.keys()).sort((a, b) => r.iouAfter[b] - r.iouBefore[b] - (r.iouAfter[a] - r.iouBefore[a]));
        const seen = new Set<number>();
        const examples: ClassRegressionExample[] = [];
        for (const i of order) {
          if (examples.length >= 4) break;
          if (seen.has(r.image[i])) continue;
          seen.add(r.image[i]);
          const b = (a: Float32Array) => Array.from(a.subarray(4 * i, 4 * i + 4));
          examples.push({ photo: photos[r.image[i]].id, proposal: b(r.proposals), regressed: b(r.regressed), target: b(r.targets) });
        }
        return { name, pairs: r.pairs, iouBefore: Array.from(r.iouBefore), iouAfter: Array.from(r.iouAfter), examples };
      }),
      evaluation,
      model: { name: pkg.name, bytes: buf, card },
    };
    this.deps.post({ type: 'result', result }, [buf]);
  }

  /** Proposals of one photo (original pixels): from the cache, or decoded and searched. */
  private async prepare(p: TrainPhotoSpec, index: number): Promise<TrainImage> {
    const fit = fitWithin(p.width, p.height, TRAIN_RASTER_MAX_SIDE);
    const key = proposalCacheKey(p.id);
    let proposals: Float32Array;
    const hit = await this.deps.cache.get(key).catch(() => null);
    if (hit && hit.byteLength % 16 === 0) {
      proposals = new Float32Array(hit);
    } else {
      const prep = await this.decodePhoto(p, index);
      const data = prep.image.data.slice().buffer;
      const r = await this.ask<'proposed'>({ type: 'propose', image: { width: prep.image.width, height: prep.image.height, data } }, [data]);
      // Working-image pixels to the photo's pixels (as `rcnn train` caches them).
      proposals = new Float32Array(r.boxes.length);
      for (let k = 0; k < r.boxes.length; k += 4) {
        proposals[k] = r.boxes[k] * prep.scaleX;
        proposals[k + 1] = r.boxes[k + 1] * prep.scaleY;
        proposals[k + 2] = r.boxes[k + 2] * prep.scaleX;
        proposals[k + 3] = r.boxes[k + 3] * prep.scaleY;
      }
      await this.deps.cache.put(key, proposals.slice().buffer).catch(() => undefined);
    }
    return {
      id: p.name,
      sx: p.width / fit.width,
      sy: p.height / fit.height,
      width: p.width,
      height: p.height,
      proposals,
      gt: makeGroundTruth(p.boxes, p.labels, p.difficult),
    };
  }

  private async decodePhoto(p: TrainPhotoSpec, index: number): Promise<PreparedImage> {
    const bytes = await this.deps.photoBytes(p.id);
    if (!bytes) throw new Error(`the bytes of ${p.name} are missing from the dataset's storage: delete the photo and add it again`);
    let prep: PreparedImage;
    try {
      prep = await this.deps.decode(bytes, p.name);
    } catch (e) {
      throw new Error(`${p.name} could not be decoded (${(e as Error).message}): delete it from the dataset or add a readable copy`);
    }
    if (prep.originalWidth !== p.width || prep.originalHeight !== p.height) {
      throw new Error(`${p.name} decodes to ${prep.originalWidth} x ${prep.originalHeight}, but its header said ${p.width} x ${p.height}, so its boxes may not fit: delete it and add it again`);
    }
    this.keepRaster(index, prep);
    return prep;
  }

  /** The 800 px raster training warps from (as `rcnn train` builds it from the working image). */
  private keepRaster(index: number, prep: PreparedImage): RgbImage {
    const fit = fitWithin(prep.originalWidth, prep.originalHeight, TRAIN_RASTER_MAX_SIDE);
    const raster = fit.width === prep.image.width && fit.height === prep.image.height ? prep.image : resizeRgb(prep.image, fit.width, fit.height);
    this.rasters.delete(index);
    this.rasters.set(index, raster);
    this.rasterBytes += raster.data.length;
    const budget = this.deps.rasterBudget ?? 192 * 2 ** 20;
    for (const [k, r] of this.rasters) {
      if (this.rasterBytes <= budget || this.rasters.size <= 2) break;
      this.rasters.delete(k);
      this.rasterBytes -= r.data.length;
    }
    return raster;
  }

  private async raster(p: TrainPhotoSpec, index: number): Promise<RgbImage> {
    const r = this.rasters.get(index);
    if (r) {
      // Most recently used last.
      this.rasters.delete(index);
      this.rasters.set(index, r);
      return r;
    }
    await this.decodePhoto(p, index);
    return this.rasters.get(index)!;
  }
}

type ClassRegressionExample = { photo: string; proposal: number[]; regressed: number[]; target: number[] };

function round4(v: number): number {
  return Number.isFinite(v) ? Number(v.toFixed(4)) : v;
}

/** Per-class AP with its precision/recall curve (at most 200 points, for drawing). */
function summariseAp(e: DetectionEvaluation): { perClass: ClassAp[]; map: number } {
  return {
    map: e.map,
    perClass: e.perClass.map((c) => {
      const n = c.precision.length;
      const step = Math.max(1, Math.ceil(n / 200));
      const precision: number[] = [];
      const recall: number[] = [];
      for (let i = 0; i < n; i += step) {
        precision.push(c.precision[i]);
        recall.push(c.recall[i]);
      }
      if (n && (n - 1) % step !== 0) {
        precision.push(c.precision[n - 1]);
        recall.push(c.recall[n - 1]);
      }
      return { name: c.name, ap: c.ap, positives: c.numPositives, precision, recall };
    }),
  };
}

/** The generated model card (Markdown): what it was trained on, how, and how well it does. */
export function modelCard(start: TrainStart, evaluation: TrainResult['evaluation'], fc7Scale: number, pool5Scale: number): string {
  const s = start.settings;
  const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : 'n/a');
  const lines = [
    `# Model card: your detector (${start.classes.join(', ')})`,
    '',
    `Made in R-CNN Explorer's Train view on ${new Date().toISOString().slice(0, 10)}: R-CNN's per-class linear SVMs (hard-negative mining) and ridge box regressors, trained on the features of **${start.cnn.name}**, whose CNN is used as it was (not fine-tuned on these photos).`,
    '',
    '## Data',
    '',
    '| class | boxes | photos |',
    '|---|---|---|',
    ...start.counts.map((c) => `| ${c.name} | ${c.boxes} | ${c.photos} |`),
    '',
    `${start.train.length} photos trained on, ${start.heldOut.length} held out (seeded split, seed ${s.seed}, stratified by the classes in each photo).`,
    '',
    '## Settings',
    '',
    `Proposals per photo ${s.proposals} (selective search, fast mode); SVM C ${s.svmC}, positive weight 2, bias multiplier 10; ${s.hardEpochs} hard-negative mining pass${s.hardEpochs > 1 ? 'es' : ''} (hard: score > -1.0001, easy: < -1.2, retrain every 2000 new); negatives under 0.3 IoU; box regression on pairs over 0.6 IoU, ${s.bboxSamples} per photo, ridge lambda ${s.bboxLambda}; feature scales fc7 x${fc7Scale.toFixed(4)}, pool5 x${pool5Scale.toFixed(4)} (mean norm 20).`,
    '',
    'The same run on the command line, on the exported VOC zip:',
    '',
    '    ' + cliEquivalent(s),
    '',
    '## How well it does',
    '',
  ];
  if (evaluation) {
    lines.push(`PASCAL VOC AP (IoU 0.5, all-point interpolation) on the ${evaluation.photos} held-out photos, ${evaluation.proposals} proposals each, NMS 0.3:`, '', '| class | AP, box regression | AP, proposals as they are | objects |', '|---|---|---|---|');
    evaluation.withoutRegression.perClass.forEach((c, k) => lines.push(`| ${c.name} | ${pct(evaluation.withRegression!.perClass[k].ap)} | ${pct(c.ap)} | ${c.positives} |`));
    lines.push(`| mean | ${pct(evaluation.withRegression!.map)} | ${pct(evaluation.withoutRegression.map)} | |`, '', 'A few held-out photos give a rough number: more photos per class measure (and train) better.');
  } else {
    lines.push('Not measured: no photos were held out.');
  }
  return lines.join('\n');
}
