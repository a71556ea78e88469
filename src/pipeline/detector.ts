/**
 * R-CNN as one object, tfjs-models style: load it, call detect(), dispose() it.
 *
 *   const detector = await loadDetector('public/models/fruit-animals');   // Node: pipeline/node.ts
 *   const { detections } = await detector.detect(image);
 *   detector.dispose();
 *
 * A Detector owns two engines, chosen by the shell that drives it: one that proposes regions
 * (selective search in-process, or a pool of Web Workers / worker_threads) and one that runs the
 * CNN with the model's heads (tfjs in-process, or a pool of CNN workers). The stages are public
 * too, because the app shows each of them: propose() -> score() -> finish(). detect() is exactly
 * those three calls. `rcnn eval` and the trainer's validation, which score many images with
 * candidate heads on features they already have, call the same two pieces score() is made of
 * (model/heads.ts RcnnHeads, core/detect.ts finishDetections), so every path scores, regresses
 * and suppresses with the same code (pipeline.test.ts checks the app's path against eval's).
 */
import type { RgbImage } from '../core/image/raster';
import type { SelectiveSearchOptions } from '../core/selectiveSearch/types';
import { type FinishOptions, type FinishedDetections, type ScoredProposals, finishDetections } from '../core/detect';
import type { FeatureBatch, FeatureMode } from '../model/extract';
import type { RoiOptions } from '../model/sharedConv';

export interface Cancellable {
  signal?: AbortSignal;
}

/** Proposals for one image: flat N x 4 boxes in the image's pixels, best-ranked first. */
export interface Proposals {
  boxes: Float32Array;
  ms: number;
}

export interface ProposalEngine<P extends Proposals = Proposals, H extends Cancellable = Cancellable> {
  propose(image: RgbImage, options: SelectiveSearchOptions, hooks?: H): Promise<P>;
}

/** What to compute per proposal, beyond the heads' outputs, and how. */
export interface FeatureOptions {
  fc7?: boolean;
  pool5?: boolean;
  batchSize?: number;
  /**
   * 'warp' (R-CNN, default): the whole network on a warped crop of every proposal; 'roi'
   * (SPPnet / Fast R-CNN, model/sharedConv.ts): conv1..conv5 once on the photo, RoI pooling, then
   * fc6, fc7 and the heads per proposal. Same outputs, other features.
   */
  features?: FeatureMode;
  roi?: RoiOptions;
}

/** How a feature run went: wall time, and what tfjs holds afterwards where the engine can tell. */
export interface FeatureRunSummary {
  ms: number;
  memory?: { numTensors: number; numBytes: number; workers: number };
}

export interface FeatureEngine {
  /**
   * Runs `boxes` through the CNN and the model's heads; each batch goes to onBatch as it
   * completes (batches may arrive out of order: place them by `start`).
   */
  extract(image: RgbImage, boxes: Float32Array, options: FeatureOptions & { svmScores: boolean; bboxDeltas: boolean }, hooks: Cancellable & { onBatch: (b: FeatureBatch) => void }): Promise<FeatureRunSummary>;
}

/** What a Detector needs to know of its model. */
export interface DetectorModel {
  name: string;
  /** The classes the SVMs score, in output order; null for a features-only model (no detection). */
  svmClasses: string[] | null;
  hasBoxRegressor: boolean;
  /** The model's own NMS threshold (chosen on its validation photos), if it has one. */
  detection?: { nmsThreshold: number } | null;
}

export interface DetectOptions extends FinishOptions, Cancellable, Pick<FeatureOptions, 'features' | 'roi' | 'batchSize'> {
  /** Selective-search settings, or the proposals themselves. */
  proposals?: SelectiveSearchOptions | Float32Array;
}

export interface DetectResult extends FinishedDetections {
  scored: ScoredProposals;
  /** ms; cnnStages: the CNN stage's parts summed over its batches (FeatureBatch.timing). */
  timings: { proposals: number; cnn: number; nms: number; cnnStages: NonNullable<FeatureBatch['timing']> };
}

export class NoSvmHeadError extends Error {
  override name = 'NoSvmHeadError';
}

export class Detector {
  constructor(
    readonly model: DetectorModel,
    readonly engines: { proposals: ProposalEngine; features: FeatureEngine; dispose?: () => void | Promise<void> },
  ) {}

  /** The SVM classes; throws for a features-only model, which can describe crops but not detect. */
  get classes(): string[] {
    if (!this.model.svmClasses) throw new NoSvmHeadError(`${this.model.name} has no SVM head: it can extract features but not detect`);
    return this.model.svmClasses;
  }

  propose(image: RgbImage, options: SelectiveSearchOptions = {}, hooks: Cancellable = {}): Promise<Proposals> {
    return this.engines.proposals.propose(image, options, hooks);
  }

  /**
   * The CNN stage: every proposal through the network and whatever heads the model has (SVM
   * scores; box-regression deltas unless `regression` is false), batch by batch to onBatch.
   * Works for a features-only model too (fc7 / pool5 only).
   */
  extract(
    image: RgbImage,
    proposals: Float32Array,
    opts: FeatureOptions & Cancellable & { regression?: boolean; onBatch: (b: FeatureBatch) => void },
  ): Promise<FeatureRunSummary> {
    const svmScores = !!this.model.svmClasses;
    const bboxDeltas = svmScores && (opts.regression ?? true) && this.model.hasBoxRegressor;
    return this.engines.features.extract(
      image,
      proposals,
      { fc7: opts.fc7 ?? false, pool5: opts.pool5 ?? false, batchSize: opts.batchSize, svmScores, bboxDeltas, features: opts.features ?? 'warp', roi: opts.roi },
      { signal: opts.signal, onBatch: opts.onBatch },
    );
  }

  /**
   * SVM scores and box-regression deltas of every proposal, gathered from the batches (which
   * also reach `onBatch` as they complete, for a caller that shows them streaming in).
   */
  async score(
    image: RgbImage,
    proposals: Float32Array,
    opts: FeatureOptions &
      Cancellable & {
        regression?: boolean;
        onBatch?: (b: FeatureBatch) => void;
        /** false: only stream (the caller places the batches itself); the arrays returned stay empty. */
        collect?: boolean;
      } = {},
  ): Promise<ScoredProposals & { fc7: Float32Array | null; pool5: Float32Array | null; ms: number }> {
    const classes = this.classes;
    const n = proposals.length >> 2;
    const C = classes.length;
    const wantDeltas = (opts.regression ?? true) && this.model.hasBoxRegressor;
    const collect = opts.collect ?? true;
    const scores = collect ? new Float32Array(n * C).fill(NaN) : new Float32Array(0);
    const deltas = wantDeltas && collect ? new Float32Array(n * C * 4) : null;
    let fc7: Float32Array | null = null;
    let pool5: Float32Array | null = null;
    const { ms } = await this.extract(image, proposals, {
      ...opts,
      regression: wantDeltas,
      onBatch: (b) => {
        opts.onBatch?.(b);
        if (!collect) return;
        scores.set(b.svmScores!, b.start * C);
        if (deltas && b.bboxDeltas) deltas.set(b.bboxDeltas, b.start * C * 4);
        if (b.fc7) (fc7 ??= new Float32Array(n * (b.fc7.length / b.count))).set(b.fc7, b.start * (b.fc7.length / b.count));
        if (b.pool5) (pool5 ??= new Float32Array(n * (b.pool5.length / b.count))).set(b.pool5, b.start * (b.pool5.length / b.count));
      },
    });
    return { proposals, scores, deltas, classes, width: image.width, height: image.height, fc7, pool5, ms };
  }

  /** Box regression and per-class NMS (the model's own NMS threshold unless one is given). */
  finish(scored: ScoredProposals, options: FinishOptions = {}): FinishedDetections {
    return finishDetections(scored, { ...options, iouThreshold: options.iouThreshold ?? this.model.detection?.nmsThreshold });
  }

  /** The whole pipeline on one image. Boxes are in the image's pixels. */
  async detect(image: RgbImage, options: DetectOptions = {}): Promise<DetectResult> {
    void this.classes; // a features-only model fails here, before any work
    const t0 = performance.now();
    const proposals = options.proposals instanceof Float32Array ? options.proposals : (await this.propose(image, options.proposals ?? {}, { signal: options.signal })).boxes;
    const t1 = performance.now();
    const cnnStages: NonNullable<FeatureBatch['timing']> = {};
    const scored = await this.score(image, proposals, {
      signal: options.signal,
      regression: options.useRegression,
      features: options.features,
      roi: options.roi,
      batchSize: options.batchSize,
      onBatch: (b) => {
        for (const [k, v] of Object.entries(b.timing ?? {}) as Array<[keyof typeof cnnStages, number]>) cnnStages[k] = (cnnStages[k] ?? 0) + v;
      },
    });
    const t2 = performance.now();
    const finished = this.finish(scored, options);
    const t3 = performance.now();
    return { ...finished, scored, timings: { proposals: t1 - t0, cnn: t2 - t1, nms: t3 - t2, cnnStages } };
  }

  async dispose(): Promise<void> {
    await this.engines.dispose?.();
  }
}
