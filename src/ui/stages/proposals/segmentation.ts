import type { RunResult } from '../../../core/selectiveSearch/types';
import { segmentRegionsAtStep } from '../../../core/selectiveSearch/replay';

/** A stable, well-spread colour per region id (golden-ratio hue steps). */
function regionColor(id: number): [number, number, number] {
  const h = ((id * 0.618033988749895) % 1) * 6;
  const s = 0.65;
  const v = 0.95 - (id % 3) * 0.12;
  const i = Math.floor(h);
  const f = h - i;
  const p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  const rgb = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6];
  return [rgb[0] * 255, rgb[1] * 255, rgb[2] * 255];
}

const cache = new WeakMap<RunResult, { step: number; canvas: HTMLCanvasElement }>();

/**
 * The regions of a run after `step` merges as a false-colour canvas at the search resolution
 * (500 px wide): base segments at step 0, and each merge repaints its two regions as one.
 */
export function regionCanvas(run: RunResult, step: number): HTMLCanvasElement | null {
  if (!run.labels) return null;
  const hit = cache.get(run);
  if (hit && hit.step === step) return hit.canvas;
  const regionOf = segmentRegionsAtStep(run, step);
  const colors = new Map<number, [number, number, number]>();
  const { width, height, labels } = run;
  const canvas = hit?.canvas ?? document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(width, height);
  const d = img.data;
  for (let i = 0; i < width * height; i++) {
    const r = regionOf[labels[i]];
    let c = colors.get(r);
    if (!c) colors.set(r, (c = regionColor(r)));
    d[4 * i] = c[0];
    d[4 * i + 1] = c[1];
    d[4 * i + 2] = c[2];
    d[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  cache.set(run, { step, canvas });
  return canvas;
}
