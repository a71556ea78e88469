/**
 * docs/algorithm.md's defaults that no behavioural test pinned (found by changing each constant and
 * running the tests: nothing failed). Each is checked here by what it does where that is cheap,
 * else by value, with the spec's section.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BOXES } from './selectiveSearch/rank';
import { TARGET_FEATURE_NORM, featureScaleFactor, meanFeatureNorm, scaleFeaturesInPlace } from './learn/featureScale';
import { BBOX_LAMBDA_DEFAULT } from './learn/bboxRegression';
import { ridgeRegression } from './learn/ridge';
import { MINING_DEFAULTS } from './learn/svm';
import { FINE_TUNE_FOREGROUND_IOU, labelProposals } from './learn/sampling';
import { makeGroundTruth } from './dataset/groundTruth';
import { nms } from './nms';
import { FINE_TUNE_DEFAULTS } from '../cli/train/finetune';
import { warpBoxInto } from '../model/finetune/cpuWarp';
import { IMAGENET_MEAN_BGR } from '../model/architecture';
import { useStore } from '../state/store';

describe('docs/algorithm.md defaults', () => {
  it('section 1: about 2000 proposals, in the core, the app and the CLI', () => {
    expect(DEFAULT_MAX_BOXES).toBe(2000);
    expect(useStore.getState().proposalParams.maxBoxes).toBe(2000);
  });

  it('section 5: features are scaled so their mean L2 norm is 20', () => {
    expect(TARGET_FEATURE_NORM).toBe(20);
    const d = 8, n = 50;
    const f = Float32Array.from({ length: n * d }, (_, i) => Math.abs(Math.sin(i * 1.7)) * (1 + (i % 5)));
    scaleFeaturesInPlace(f, featureScaleFactor(meanFeatureNorm(f, n, d)));
    expect(meanFeatureNorm(f, n, d)).toBeCloseTo(20, 4);
  });

  it('section 5: hard negatives above -1.0001, easy ones below -1.2 evicted, retrain after 2000 new ones', () => {
    expect(MINING_DEFAULTS).toMatchObject({ hardThreshold: -1.0001, evictThreshold: -1.2, retrainLimit: 2000 });
  });

  it('section 6: ridge lambda is 1000 by default, in the trainer and in the solver', () => {
    expect(BBOX_LAMBDA_DEFAULT).toBe(1000);
    const X = Float64Array.from({ length: 40 * 3 }, (_, i) => Math.cos(i * 0.37) * 30);
    const Y = Float64Array.from({ length: 40 }, (_, i) => X[3 * i] * 0.02 - X[3 * i + 2] * 0.01 + 0.5);
    const byDefault = ridgeRegression(X, 40, 3, Y, 1);
    const at1000 = ridgeRegression(X, 40, 3, Y, 1, { lambda: 1000 });
    const at100 = ridgeRegression(X, 40, 3, Y, 1, { lambda: 100 });
    expect(Array.from(byDefault.weights)).toEqual(Array.from(at1000.weights));
    expect(Array.from(byDefault.weights)).not.toEqual(Array.from(at100.weights));
  });

  it('section 4: fine-tuning positives need IoU >= 0.5 (0.45 is background); 32 positives + 96 background per batch', () => {
    expect(FINE_TUNE_FOREGROUND_IOU).toBe(0.5);
    const gt = makeGroundTruth([0, 0, 10, 10], [0]);
    // IoU 0.5, 0.45 and 0.55 with the ground truth (continuous areas).
    const s = labelProposals(Float32Array.from([0, 0, 10, 5, 0, 0, 10, 4.5, 0, 0, 10, 5.5]), gt, 1);
    expect(Array.from(s.fineTuneLabel)).toEqual([1, 0, 1]);
    expect([FINE_TUNE_DEFAULTS.positivesPerBatch, FINE_TUNE_DEFAULTS.backgroundPerBatch]).toEqual([32, 96]);
  });

  it('section 4: the trainer warps with 16 px of context by default, as the app does (section 2)', () => {
    const img = { width: 40, height: 30, data: Uint8Array.from({ length: 40 * 30 * 3 }, (_, i) => (i * 37) % 256) };
    const size = 31; // small, so the padding is a large share of the crop
    const byDefault = new Float32Array(size * size * 3);
    const at16 = new Float32Array(size * size * 3);
    const at8 = new Float32Array(size * size * 3);
    warpBoxInto(img, [5, 4, 30, 25], IMAGENET_MEAN_BGR, byDefault, 0, size);
    warpBoxInto(img, [5, 4, 30, 25], IMAGENET_MEAN_BGR, at16, 0, size, 16);
    warpBoxInto(img, [5, 4, 30, 25], IMAGENET_MEAN_BGR, at8, 0, size, 8);
    expect(Array.from(byDefault)).toEqual(Array.from(at16));
    expect(Array.from(byDefault)).not.toEqual(Array.from(at8));
  });

  it('section 7: a box scoring exactly the score threshold is kept (below it is dropped)', () => {
    const boxes = [0, 0, 10, 10, 50, 50, 60, 60, 100, 100, 110, 110];
    const r = nms(boxes, [0, -0.5, -1e-6], { scoreThreshold: 0 });
    expect(Array.from(r.keep)).toEqual([0]);
    expect(Array.from(nms(boxes, [0.2, -1, -1.5], { scoreThreshold: -1 }).keep)).toEqual([0, 1]);
  });
});
