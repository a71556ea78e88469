/**
 * What the SVM-score and regression panels share: the current image's SVM scores (possibly still
 * filling in), per-class ranges, the focused class and the colour-scale centre.
 */
import { useMemo } from 'react';
import { useStore } from '../../../state/store';
import type { FeaturesResult } from '../../../runner/cnnActions';
import { bestClass, classRanges } from './scores';

export interface ScoreInfo {
  features: FeaturesResult & { scores: Float32Array; classes: string[] };
  C: number;
  n: number;
  ranges: { min: Float64Array; max: Float64Array; count: number };
  /** The focused class (the user's choice, else the best-scoring one). */
  cls: number;
  threshold: number;
  /** Centre of the diverging colour scales. */
  centre: number;
}

/** Null until the current image has features with an SVM head. */
export function useScores(): ScoreInfo | null {
  const f = useStore((s) => s.features);
  const image = useStore((s) => s.image);
  const threshold = useStore((s) => s.nmsParams.scoreThreshold);
  const chosen = useStore((s) => s.svmView.classIndex);
  const centreAt = useStore((s) => s.svmView.centreAt);
  const fresh = f && image && f.imageKey === image.key && f.scores && f.classes ? (f as ScoreInfo['features']) : null;
  const ranges = useMemo(() => (fresh ? classRanges(fresh.scores, fresh.classes.length, fresh.computed) : null), [fresh]);
  if (!fresh || !ranges) return null;
  const C = fresh.classes.length;
  const cls = chosen !== null && chosen < C ? chosen : bestClass(ranges.max);
  return { features: fresh, C, n: fresh.total, ranges, cls, threshold, centre: centreAt === 'threshold' ? threshold : 0 };
}

export function fmtScore(v: number): string {
  return Number.isFinite(v) ? (v < 0 ? '−' : '') + Math.abs(v).toFixed(3) : '–';
}
