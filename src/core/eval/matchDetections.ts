/**
 * True/false positives of one image's detections against its ground truth, PASCAL VOC style:
 * per class, detections in descending score order each find the ground truth they overlap most
 * (matched or not, as the devkit's VOCevaldet); at IoU >= the threshold (0.5) they take it if it is
 * still free and are a false positive if it was already found; below the threshold they are false
 * positives too.
 */
import { iou } from '../geometry';

export interface MatchResult {
  /** Per detection (input order): index of the matched ground truth, or -1 for a false positive. */
  matched: Int32Array;
  /** Per detection: best IoU with a ground truth of its class. */
  bestIou: Float32Array;
  truePositives: number;
  falsePositives: number;
  /** Ground truths of the detectable classes, and how many were found. */
  groundTruths: number;
  found: number;
}

export function matchDetections(
  detections: ReadonlyArray<{ className: string; score: number; box: ArrayLike<number> }>,
  gtBoxes: ArrayLike<number>,
  gtLabels: readonly string[],
  iouThreshold = 0.5,
): MatchResult {
  const n = detections.length;
  const matched = new Int32Array(n).fill(-1);
  const bestIou = new Float32Array(n);
  const used = new Uint8Array(gtLabels.length);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => detections[b].score - detections[a].score || a - b);
  for (const i of order) {
    const d = detections[i];
    let best = 0;
    let bestJ = -1;
    for (let j = 0; j < gtLabels.length; j++) {
      if (gtLabels[j] !== d.className) continue;
      const v = iou(d.box, [gtBoxes[4 * j], gtBoxes[4 * j + 1], gtBoxes[4 * j + 2], gtBoxes[4 * j + 3]]);
      if (v > best) {
        best = v;
        bestJ = j;
      }
    }
    bestIou[i] = best;
    if (bestJ >= 0 && best >= iouThreshold && !used[bestJ]) {
      used[bestJ] = 1;
      matched[i] = bestJ;
    }
  }
  const tp = matched.reduce((a, v) => a + (v >= 0 ? 1 : 0), 0);
  return { matched, bestIou, truePositives: tp, falsePositives: n - tp, groundTruths: gtLabels.length, found: used.reduce((a, v) => a + v, 0) };
}
