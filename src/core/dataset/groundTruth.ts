/**
 * Ground truth of one image in the flat form every learning and evaluation module takes:
 * box i is boxes[4i .. 4i+4) in this project's continuous convention (src/core/geometry.ts),
 * labels[i] its class index into the dataset's class list, difficult[i] = 1 for PASCAL
 * "difficult" objects (ignored by evaluation: neither true nor false positives).
 */
export interface GroundTruth {
  boxes: Float32Array;
  labels: Int32Array;
  difficult: Uint8Array;
}

export function makeGroundTruth(
  boxes: ArrayLike<number>,
  labels: ArrayLike<number>,
  difficult?: ArrayLike<number | boolean>,
): GroundTruth {
  const n = labels.length;
  if (boxes.length !== 4 * n) throw new Error(`ground truth: ${boxes.length / 4} boxes but ${n} labels`);
  const d = new Uint8Array(n);
  if (difficult) {
    if (difficult.length !== n) throw new Error(`ground truth: ${difficult.length} difficult flags for ${n} boxes`);
    for (let i = 0; i < n; i++) d[i] = difficult[i] ? 1 : 0;
  }
  return { boxes: Float32Array.from(boxes), labels: Int32Array.from(labels), difficult: d };
}

