/**
 * Data derived from the stage results (computed, not stored, per zustand's guidance): regressed
 * boxes, NMS and detections. Memoised on their inputs so moving an NMS slider re-runs NMS only.
 */
import { useMemo } from 'react';
import { useStore, type NmsParams } from './store';
import type { FeaturesResult } from '../runner/cnnActions';
import { finishDetections, regressAllClasses, type Detection } from '../core/detect';
import { InteractiveNms, type ClassNmsResult } from '../core/nms';

const regressedCache = new WeakMap<FeaturesResult['deltas'] & object, { done: number; boxes: Float32Array }>();

/** Class-major C x N x 4 regressed boxes in working pixels (null without a regression head). */
export function regressedBoxes(f: FeaturesResult | null, width: number, height: number): Float32Array | null {
  if (!f || !f.deltas || !f.classes) return null;
  const hit = regressedCache.get(f.deltas);
  if (hit && hit.done === f.done) return hit.boxes;
  const boxes = regressAllClasses(f.proposals.boxes, f.deltas, f.classes.length, width, height);
  regressedCache.set(f.deltas, { done: f.done, boxes });
  return boxes;
}

export function useRegressedBoxes(): Float32Array | null {
  const f = useStore((s) => s.features);
  const image = useStore((s) => s.image);
  return useMemo(() => (image ? regressedBoxes(f, image.image.width, image.image.height) : null), [f, image]);
}

const nmsCache = new WeakMap<Float32Array, Map<string, InteractiveNms>>();

function interactiveNms(boxes: Float32Array, scores: Float32Array, C: number, tag: string, done: number): InteractiveNms {
  let m = nmsCache.get(scores);
  if (!m) nmsCache.set(scores, (m = new Map()));
  const key = `${tag}:${done}`;
  let inst = m.get(key);
  if (!inst) {
    m.clear();
    m.set(key, (inst = new InteractiveNms(boxes, scores, C)));
  }
  return inst;
}

export interface NmsView {
  results: ClassNmsResult[];
  /** The boxes NMS ran on (class-major regressed, or the shared proposals). */
  boxes: Float32Array;
  regressed: boolean;
  detections: Detection[];
  ms: number;
}

/** Per-class NMS with the given parameters, before or after regression. */
export function computeNms(f: FeaturesResult, regressed: Float32Array | null, p: NmsParams, useRegression = p.useRegression): NmsView | null {
  if (!f.scores || !f.classes) return null;
  const C = f.classes.length;
  const useReg = useRegression && !!regressed;
  const t0 = performance.now();
  const image = { width: 0, height: 0 }; // unused: the regressed boxes come decoded and clipped
  const fin = finishDetections(
    { proposals: f.proposals.boxes, scores: f.scores, deltas: useReg ? f.deltas : null, classes: f.classes, ...image },
    { scoreThreshold: p.scoreThreshold, iouThreshold: p.iouThreshold, convention: p.convention, useRegression: useReg },
    // Box regression decoded once per run, NMS reused while the sliders move: the same results as plain NMS.
    { regressedBoxes: regressed, runNms: (boxes, o) => interactiveNms(boxes, f.scores!, C, useReg ? 'reg' : 'prop', f.done).run(o) },
  );
  return { ...fin, ms: performance.now() - t0 };
}

export function useNms(useRegression?: boolean): NmsView | null {
  const f = useStore((s) => s.features);
  const p = useStore((s) => s.nmsParams);
  const regressed = useRegressedBoxes();
  return useMemo(() => (f ? computeNms(f, regressed, p, useRegression) : null), [f, regressed, p, useRegression]);
}
