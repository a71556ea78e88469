/** `rcnn eval --count-at`: what a user sees at a score threshold, counted by hand. (The scorers are model/heads.test.ts.) */
import { describe, expect, it } from 'vitest';
import { countAtThreshold, formatThresholdCount } from './evaluate';
import { makeGroundTruth } from '../../core/dataset/groundTruth';

describe('rcnn eval --count-at', () => {
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
