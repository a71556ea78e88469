/**
 * The scorers of `rcnn eval`: the SVM score matrix and the fine-tuned softmax of appendix B,
 * checked against the network's own fc8 on a small random CaffeNet (tfjs, wasm).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { countAtThreshold, formatThresholdCount, softmaxScoreMatrix, svmScoreMatrix } from './evaluate';
import { makeGroundTruth } from '../../core/dataset/groundTruth';
import { caffeNetArch } from '../../model/architecture';
import { CaffeNet, randomWeights } from '../../model/caffenet';
import { useNodeBackend } from '../../model/node';
import { mulberry32 } from '../../core/learn/random';

describe('rcnn eval scorers', () => {
  it('softmax scores are the softmax of the network\'s fc8 without the background column', async () => {
    await useNodeBackend('wasm');
    const arch = caffeNetArch({ width: 0.1, numClasses: 4 });
    const weights = randomWeights(arch, { seed: 5 });
    const net = new CaffeNet(arch, weights);
    const rand = mulberry32(9);
    const n = 3;
    const x = tf.tensor4d(Float32Array.from({ length: n * 227 * 227 * 3 }, () => (rand() - 0.5) * 200), [n, 227, 227, 3]);
    const out = net.forward(x, { outputs: ['fc7', 'fc8'] });
    const fc7 = out.fc7!.dataSync() as Float32Array;
    const fc8 = out.fc8!.dataSync() as Float32Array;
    tf.dispose([x, out.fc7!, out.fc8!]);
    net.dispose();
    const K = arch.fc8;
    expect(K).toBe(4);
    const scores = softmaxScoreMatrix(fc7, n, { kind: 'softmax', classes: ['a', 'b', 'c'], weight: weights['fc8.weight']!.data, bias: weights['fc8.bias']!.data });
    expect(scores.length).toBe(n * (K - 1));
    for (let i = 0; i < n; i++) {
      const z = Array.from(fc8.subarray(i * K, (i + 1) * K));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const sum = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < K - 1; c++) expect(scores[i * (K - 1) + c]).toBeCloseTo(e[c + 1] / sum, 5);
    }
  });

  it('SVM scores are (fc7 x scale) . w + b per class', () => {
    const fc7 = Float32Array.from([1, 0, 2, 0.5, 3, 0]);
    const head = { classes: ['a', 'b'], featureLayer: 'fc7' as const, featureScale: 2, weights: Float32Array.from([1, 1, 1, -1, 0, 2]), bias: Float32Array.from([0.5, -1]) };
    expect(Array.from(svmScoreMatrix(fc7, 2, head))).toEqual([2 * 3 + 0.5, 2 * 3 - 1, 2 * 3.5 + 0.5, 2 * -0.5 - 1]);
  });

  it('--count-at: objects found, boxes right and empty images at a score threshold, by hand', () => {
    const classes = ['apple', 'kangaroo'];
    const f = (a: number[]) => Float32Array.from(a);
    // Image 0: an apple [0,0,10,10], a kangaroo [20,0,40,20] and a difficult apple [50,50,60,60].
    // Image 1: one kangaroo [0,0,30,30].
    const gt = [makeGroundTruth([0, 0, 10, 10, 20, 0, 40, 20, 50, 50, 60, 60], [0, 1, 0], [0, 0, 1]), makeGroundTruth([0, 0, 30, 30], [1])];
    const perImage = [
      [
        // apple: on the apple (IoU 0.81), a second box on it (a duplicate: wrong), one on the
        // difficult apple (neither), one below the threshold
        { boxes: f([0, 0, 9, 9, 1, 1, 10, 10, 50, 50, 60, 60, 0, 0, 10, 10]), scores: f([2, 1, 0.5, -0.1]) },
        // kangaroo: on the apple, the wrong class (wrong)
        { boxes: f([0, 0, 10, 10]), scores: f([0.3]) },
      ],
      // Image 1: the kangaroo is scored below the threshold only: nothing drawn.
      [{ boxes: f([]), scores: f([]) }, { boxes: f([0, 0, 30, 30]), scores: f([-0.5]) }],
    ];
    const at0 = countAtThreshold(perImage, gt, classes, 0);
    expect(at0).toEqual({ threshold: 0, objects: 3, found: 1, boxes: 3, correct: 1, emptyImages: 1, images: 2 });
    expect(formatThresholdCount(at0)).toBe('at score >= 0: 1 of 3 objects found, 1 of 3 boxes correct (IoU >= 0.5), nothing drawn on 1 of 2 images');
    // At -1 the kangaroo of image 1 is found, and image 0's fourth apple box is one more duplicate.
    expect(countAtThreshold(perImage, gt, classes, -1)).toEqual({ threshold: -1, objects: 3, found: 2, boxes: 5, correct: 2, emptyImages: 0, images: 2 });
  });
});
