/**
 * Detection on a set of images with a trained model and PASCAL VOC evaluation (AP at IoU 0.5),
 * with and without box regression as the paper reports. Runs the same steps as the app:
 * proposals -> warp -> CNN (the shell's FeatureSource) -> the heads (model/heads.ts RcnnHeads, on
 * the calling thread's tfjs backend, which the caller chooses) -> box regression and per-class
 * NMS (core/detect.ts finishDetections), the two pieces src/pipeline's Detector.score/finish are
 * made of. Shell-neutral: `rcnn train` / `rcnn eval` and the app's Train view run this.
 */
import { RCNN_NMS_THRESHOLD } from '../../core/nms';
import { finishDetections, type FinishedDetections } from '../../core/detect';
import { RcnnHeads, type SoftmaxHead } from '../../model/heads';
import { evaluateDetections, groupDetectionsByClass, type ApMetric, type DetectionEvaluation, type ImageDetections } from '../../core/eval/ap';
import type { SvmHead, BoxRegressorHead } from '../../model/package';
import { forEachOnWorkers, formatEta, toRaster, type FeatureSource, type RunHooks, type TrainImage } from './source';

export interface EvalOptions {
  proposals: number;
  nmsThreshold: number;
  /** Detections kept per class and image after NMS (highest scores). */
  maxPerClass: number;
  metric: ApMetric;
}

export const EVAL_DEFAULTS: EvalOptions = { proposals: 2000, nmsThreshold: RCNN_NMS_THRESHOLD, maxPerClass: 100, metric: 'voc2010' };

export interface ImageDetectionsRaw {
  /** Per box regressor, per class: flat boxes and scores after NMS, best first. */
  withRegression: Array<Array<{ boxes: Float32Array; scores: Float32Array }>>;
  withoutRegression: Array<{ boxes: Float32Array; scores: Float32Array }>;
}

/** One class's kept boxes and scores, best first, from finishDetections' per-class results. */
function perClassLists(fin: FinishedDetections, scores: Float32Array, C: number, n: number): Array<{ boxes: Float32Array; scores: Float32Array }> {
  return fin.results.map((r) => {
    const c = r.classIndex;
    const off = fin.boxes.length === 4 * n * C && C > 1 ? 4 * n * c : 0;
    const b = new Float32Array(r.keep.length * 4);
    const s = new Float32Array(r.keep.length);
    r.keep.forEach((i, k) => {
      b.set(fin.boxes.subarray(off + 4 * i, off + 4 * i + 4), 4 * k);
      s[k] = scores[i * C + c];
    });
    return { boxes: b, scores: s };
  });
}

export interface EvalResult {
  withRegression: DetectionEvaluation | null;
  withoutRegression: DetectionEvaluation;
  seconds: number;
  images: number;
  /** Per image: the detections after NMS (best first, at most maxPerClass per class), per class. */
  detections: ImageDetectionsRaw[];
}

/** One scorer's evaluation with every box regressor given (evaluateModels). */
export interface EvalResults {
  withoutRegression: DetectionEvaluation;
  /** One per box regressor, in the order given. */
  withRegression: DetectionEvaluation[];
  seconds: number;
  images: number;
  detections: ImageDetectionsRaw[];
}

export async function evaluateModel(
  source: FeatureSource,
  images: readonly TrainImage[],
  classes: string[],
  scorer: SvmHead | SoftmaxHead,
  bbox: BoxRegressorHead | undefined,
  o: EvalOptions,
  say: (line: string) => void,
  /** Index of images[0] in the workers' raster list. */
  rasterOffset = 0,
): Promise<EvalResult> {
  const [r] = await evaluateModels(source, images, classes, [scorer], bbox ? [bbox] : [], o, say, rasterOffset);
  return { withoutRegression: r.withoutRegression, withRegression: r.withRegression[0] ?? null, seconds: r.seconds, images: r.images, detections: r.detections };
}

/**
 * evaluateModel for several sets of SVMs (e.g. one per value of C) and several sets of box
 * regressors (one per lambda) on the same CNN: the features of each image are computed once, and
 * every scorer is evaluated without box regression and with each set of regressors.
 */
export async function evaluateModels(
  source: FeatureSource,
  images: readonly TrainImage[],
  classes: string[],
  scorers: ReadonlyArray<SvmHead | SoftmaxHead>,
  regressors: readonly BoxRegressorHead[],
  o: EvalOptions,
  say: (line: string) => void,
  rasterOffset = 0,
  hooks: RunHooks = {},
): Promise<EvalResults[]> {
  const t0 = performance.now();
  const C = classes.length;
  const perSvm: ImageDetectionsRaw[][] = scorers.map(() => new Array(images.length));
  let done = 0;
  // Uploaded once the first image tells the feature widths; freed at the end.
  let scorerHeads: RcnnHeads[] | null = null;
  let regressorHeads: RcnnHeads[] = [];
  try {
    await forEachOnWorkers(
      images.length,
      source.lanes,
      async (i, w) => {
        const im = images[i];
        const props = im.proposals.subarray(0, 4 * Math.min(o.proposals, im.proposals.length >> 2));
        const n = props.length >> 2;
        const f = await source.features(w, i + rasterOffset, toRaster(im, props), regressors.length ? Int32Array.from({ length: n }, (_, k) => k) : new Int32Array(0));
        return { props, f };
      },
      async (i, { props, f }) => {
        const im = images[i];
        const n = props.length >> 2;
        if (!scorerHeads && n > 0) {
          const dims = { fc7: f.fc7.length / n, pool5: regressors.length ? f.pool5.length / n : 0 };
          scorerHeads = scorers.map((svm) => new RcnnHeads({ svm }, dims));
          regressorHeads = regressors.map((boxRegressor) => new RcnnHeads({ boxRegressor }, dims));
        }
        const deltas = await Promise.all(regressorHeads.map(async (h) => (await h.applyToArrays(null, f.pool5, n)).deltas));
        for (let k = 0; k < scorers.length; k++) {
          const scores = scorerHeads ? (await scorerHeads[k].applyToArrays(f.fc7, null, n)).scores! : new Float32Array(0);
          const scored = { proposals: props, scores, deltas: null as Float32Array | null, classes, width: im.width, height: im.height };
          const finish = (d: Float32Array | null) => perClassLists(finishDetections({ ...scored, deltas: d }, { iouThreshold: o.nmsThreshold, maxPerClass: o.maxPerClass }), scores, C, n);
          perSvm[k][i] = { withoutRegression: finish(null), withRegression: deltas.map((d) => finish(d)) };
        }
        done++;
        hooks.onProgress?.('evaluate', done, images.length);
        if (done % 10 === 0 || done === images.length) {
          const el = (performance.now() - t0) / 1000;
          say(`eval: ${done}/${images.length} images, ETA ${formatEta((el / done) * (images.length - done))}`);
        }
      },
      hooks.signal,
    );
  } finally {
    for (const h of [...((scorerHeads as RcnnHeads[] | null) ?? []), ...regressorHeads]) h.dispose();
  }
  const evaluate = (lists: ReadonlyArray<ReadonlyArray<{ boxes: Float32Array; scores: Float32Array }>>) => {
    const perImage: ImageDetections[] = lists.map((perClass) => {
      const total = perClass.reduce((a, l) => a + l.scores.length, 0);
      const boxes = new Float32Array(4 * total);
      const scores = new Float32Array(total);
      const labels = new Int32Array(total);
      let k = 0;
      perClass.forEach((l, c) => {
        boxes.set(l.boxes, 4 * k);
        scores.set(l.scores, k);
        labels.fill(c, k, k + l.scores.length);
        k += l.scores.length;
      });
      return { boxes, scores, labels };
    });
    return evaluateDetections(groupDetectionsByClass(perImage, C), images.map((im) => im.gt), classes, { metric: o.metric });
  };
  const seconds = (performance.now() - t0) / 1000;
  return perSvm.map((per) => ({
    withoutRegression: evaluate(per.map((p) => p.withoutRegression)),
    withRegression: regressors.map((_, j) => evaluate(per.map((p) => p.withRegression[j]))),
    seconds,
    images: images.length,
    detections: per,
  }));
}
