/**
 * Engines that run in the calling thread (Node's CLI and tests; a browser worker could use them
 * too): selective search from src/core, and the CNN with its heads on the active tfjs backend.
 * The app runs the same modules in pools of workers instead (src/runner).
 */
import type { RgbImage } from '../core/image/raster';
import { selectiveSearch } from '../core/selectiveSearch/index';
import { extractFeatures } from '../model/extract';
import type { ModelPackage } from '../model/package';
import { RcnnModel, type RcnnModelOptions } from '../model/rcnnModel';
import { Detector, type FeatureEngine, type ProposalEngine } from './detector';

export const inProcessProposals: ProposalEngine = {
  async propose(image, options, hooks = {}) {
    if (hooks.signal?.aborted) throw Object.assign(new Error('selective search cancelled'), { name: 'AbortError' });
    const r = selectiveSearch(image, options);
    return { boxes: r.boxes, ms: r.ms };
  },
};

/** The CNN and heads of `model` on the active tfjs backend, one batch at a time. */
export function inProcessFeatures(model: RcnnModel): FeatureEngine {
  return {
    async extract(image: RgbImage, boxes, options, hooks) {
      const t0 = performance.now();
      for await (const b of extractFeatures(model, image, { boxes, ...options, signal: hooks.signal })) hooks.onBatch(b);
      return { ms: performance.now() - t0 };
    },
  };
}

/** A Detector for a loaded package, uploaded to the active tfjs backend (select it first). */
export function createInProcessDetector(pkg: ModelPackage, opts: RcnnModelOptions & { proposals?: ProposalEngine } = {}): Detector {
  const model = new RcnnModel(pkg, opts);
  return new Detector(
    { name: pkg.name, svmClasses: pkg.svm?.classes ?? null, hasBoxRegressor: model.heads.hasBoxRegressor, detection: pkg.detection ?? null },
    { proposals: opts.proposals ?? inProcessProposals, features: inProcessFeatures(model), dispose: () => model.dispose() },
  );
}
