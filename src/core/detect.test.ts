import { describe, expect, it } from 'vitest';
import { collectDetections, detectionsToJson, regressAllClasses, scaleDetection } from './detect';
import { encodeBoxes } from './geometry';
import { nmsPerClass } from './nms';

describe('detection assembly', () => {
  const proposals = new Float32Array([10, 10, 50, 50, 12, 12, 52, 52, 100, 100, 140, 160]);

  it('applies each class\'s deltas once and clips to the image', () => {
    // Class 0 moves proposal 0 onto [20, 20, 60, 60]; class 1 leaves it; proposal 2 is pushed off the image.
    const C = 2;
    const deltas = new Float32Array(3 * C * 4);
    deltas.set(encodeBoxes([10, 10, 50, 50], [20, 20, 60, 60]), 0);
    deltas.set(encodeBoxes([100, 100, 140, 160], [150, 100, 250, 160]), (2 * C + 0) * 4);
    const out = regressAllClasses(proposals, deltas, C, 200, 150);
    expect(Array.from(out.subarray(0, 4)).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([20, 20, 60, 60]);
    expect(Array.from(out.subarray(4 * 3, 4 * 3 + 4))).toEqual([10, 10, 50, 50]); // class 1, proposal 0
    expect(Array.from(out.subarray(8, 12)).map(Math.round)).toEqual([150, 100, 200, 150]); // clipped
  });

  it('collects NMS survivors per class with their proposals, best first', () => {
    const scores = new Float32Array([0.9, -2, 0.8, 0.5, -1.5, 1.2]);
    const res = nmsPerClass(proposals, scores, 2, { iouThreshold: 0.3, scoreThreshold: -1 });
    const dets = collectDetections(res, proposals, proposals, scores, ['cat', 'dog']);
    expect(dets.map((d) => [d.className, d.proposalIndex, d.score])).toEqual([
      ['cat', 0, Math.fround(0.9)],
      ['dog', 2, Math.fround(1.2)],
      ['dog', 1, Math.fround(0.5)],
    ]);
    const scaled = scaleDetection(dets[0], 2, 3);
    expect(scaled.box).toEqual([20, 30, 100, 150]);
    const json = detectionsToJson(dets, { total: 12.4 });
    expect(json.detections[0]).toEqual({ class: 'cat', score: 0.9, box: [10, 10, 50, 50], proposal: [10, 10, 50, 50] });
    expect(json.timings.total).toBe(12);
  });
});
