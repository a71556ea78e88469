/**
 * The two bundled models (public/models, listed in BUNDLED_MODELS): both load with their checks,
 * share the layout and classes, and the Fast R-CNN model is what its card says: the R-CNN model's
 * network fine-tuned further through RoI pooling (conv1 frozen, the rest moved), with heads trained
 * on its RoI features, which score the ground truth of validation photos on the shared path better
 * than the R-CNN model's warped-crop heads do there.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend } from './node';
import { loadModelPath } from './packageNode';
import type { ModelPackage } from './package';
import { RcnnModel } from './rcnnModel';
import { extractRoiFeatures } from './sharedConv';
import { BUNDLED_MODELS } from '../runner/cnnActions';
import { readVocDataset } from '../cli/dataset';
import { loadImageFile } from '../cli/io';
import { defaultDataset } from '../cli/bench/shared';


let rcnn: ModelPackage;
let fast: ModelPackage;

beforeAll(async () => {
  await useNodeBackend('wasm');
  [rcnn, fast] = await Promise.all(BUNDLED_MODELS.map((m) => loadModelPath(join('public/models', m.dir))));
});

describe('the bundled models', () => {
  it('are both in public/models with their cards, one layout and one set of classes', () => {
    for (const m of BUNDLED_MODELS) expect(existsSync(join('public/models', m.dir, 'MODEL_CARD.md')), m.dir).toBe(true);
    expect(fast.architecture).toEqual(rcnn.architecture);
    expect(fast.svm!.classes).toEqual(rcnn.svm!.classes);
    expect(fast.boxRegressor!.classes).toEqual(rcnn.boxRegressor!.classes);
    expect(rcnn.headFeatures).toBeUndefined();
    expect(fast.headFeatures).toEqual({ mode: 'roi', roiScale: 'fast-rcnn' });
  });

  it('the Fast R-CNN network is the R-CNN one fine-tuned through RoI pooling: conv1 frozen, the rest moved', () => {
    const rel = (n: 'conv1.weight' | 'conv5.weight' | 'fc6.weight' | 'fc7.weight') => {
      const a = rcnn.weights[n]!.data;
      const b = fast.weights[n]!.data;
      let d = 0;
      let m = 0;
      for (let i = 0; i < a.length; i++) {
        d += (a[i] - b[i]) ** 2;
        m += a[i] ** 2;
      }
      return Math.sqrt(d / m);
    };
    expect(rel('conv1.weight')).toBe(0);
    // Moved, but still the same network (a fine-tuning, not a new training): a few per cent of each layer.
    for (const n of ['conv5.weight', 'fc6.weight', 'fc7.weight'] as const) {
      expect(rel(n), n).toBeGreaterThan(0.001);
      expect(rel(n), n).toBeLessThan(0.5);
    }
  });

  it('on the shared path its heads score validation ground truth higher than the R-CNN heads do', async () => {
    const ids = readFileSync('public/models/fruit-animals/val.txt', 'utf8').split(/\s+/).filter(Boolean).slice(0, 8);
    const ds = readVocDataset(defaultDataset(), { classes: rcnn.svm!.classes, ids: new Set(ids) });
    const margin = { rcnn: [] as number[], fast: [] as number[] };
    for (const [name, pkg] of [['rcnn', rcnn], ['fast', fast]] as const) {
      const model = new RcnnModel(pkg);
      const before = tf.memory().numTensors;
      for (const rec of ds.images) {
        const img = loadImageFile(rec.imagePath).image;
        expect([img.width, img.height]).toEqual([rec.width, rec.height]);
        const gt = rec.groundTruth;
        for await (const b of extractRoiFeatures(model, img, { boxes: gt.boxes, pool5: false, fc7: false, svmScores: true, bboxDeltas: false, roi: { scale: 'fast-rcnn' } })) {
          const C = pkg.svm!.classes.length;
          for (let k = 0; k < b.count; k++) {
            const label = gt.labels[b.start + k];
            const s = b.svmScores!.subarray(k * C, (k + 1) * C);
            // The box's own class against the best other class: > 0 when it would be labelled right.
            margin[name].push(s[label] - Math.max(...Array.from(s).filter((_, c) => c !== label)));
          }
        }
      }
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    }
    expect(margin.fast.length).toBeGreaterThan(8);
    const right = (l: number[]) => l.filter((v) => v > 0).length / l.length;
    const mean = (l: number[]) => l.reduce((a, b) => a + b, 0) / l.length;
    // Measured with the shipped files: 13 boxes, all 13 labelled right against 12, mean margin
    // 2.85 against 1.41 (SVM score units).
    expect(right(margin.fast), `ground-truth boxes labelled right: Fast R-CNN ${right(margin.fast)}, R-CNN heads on RoI features ${right(margin.rcnn)}`).toBeGreaterThanOrEqual(right(margin.rcnn));
    expect(mean(margin.fast) - mean(margin.rcnn)).toBeGreaterThan(0.5);
  }, 60_000);
});
