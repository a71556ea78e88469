/**
 * What the SVM-scores stage draws on the main image: the focused class's score map (best score of
 * the proposals covering each point), its top-k proposals labelled with their scores, the selected
 * proposal, and the proposal behind the score map under the pointer.
 */
import { useCallback } from 'react';
import { useStore } from '../../../state/store';
import type { FeaturesResult } from '../../../runner/cnnActions';
import { strokeBox, type DrawnBoxes, type StageOverlay, type ViewTransform } from '../../ImageCanvas';
import { drawLabels, type Label } from '../../labels';
import { paintScoreMap, scoreGridRgba, type ScoreGrid } from './scoreMap';
import { classRanges, divergingLut, maxAbsDeviation, sequentialLut, topKByClass } from './scores';
import { fmtScore, useScores } from './useScores';

/** Score-map cells are this many working pixels wide (1/4 resolution, see scoreMap.ts). */
export const SCORE_MAP_FACTOR = 4;
const DIVERGING = divergingLut(256);
const SEQUENTIAL = sequentialLut(256);

type Scored = FeaturesResult & { scores: Float32Array; classes: string[] };

export interface ScoreMapImage {
  grid: ScoreGrid;
  canvas: HTMLCanvasElement;
  /** Diverging around `centre`, or sequential over the class's range [centre - half, centre + half]. */
  kind: 'diverging' | 'sequential';
  centre: number;
  half: number;
  /** Painting the grid, and painting plus colouring, ms. */
  paintMs: number;
  ms: number;
}

const cache = new WeakMap<FeaturesResult, { key: string; value: ScoreMapImage }>();

/** The focused class's score map as a canvas (cached per features snapshot, class and scale). */
export function scoreMapImage(f: Scored, cls: number, centre: number, stretch: boolean, width: number, height: number): ScoreMapImage {
  const key = `${cls}:${centre}:${stretch}:${f.done}:${width}x${height}`;
  const hit = cache.get(f);
  if (hit && hit.key === key) return hit.value;
  const t0 = performance.now();
  const C = f.classes.length;
  const grid = paintScoreMap(f.proposals.boxes, f.scores, C, cls, f.computed, width, height, SCORE_MAP_FACTOR);
  let kind: ScoreMapImage['kind'] = 'diverging', c = centre, half: number;
  if (stretch) {
    const r = classRanges(f.scores, C, f.computed);
    const lo = r.min[cls], hi = r.max[cls];
    kind = 'sequential';
    c = Number.isFinite(lo) ? (lo + hi) / 2 : 0;
    half = hi > lo ? (hi - lo) / 2 : 1;
  } else half = maxAbsDeviation(f.scores, C, centre, f.computed, cls);
  const canvas = hit?.value.canvas ?? document.createElement('canvas');
  canvas.width = grid.width;
  canvas.height = grid.height;
  const rgba = scoreGridRgba(grid, kind === 'diverging' ? DIVERGING : SEQUENTIAL, c, half, 150);
  canvas.getContext('2d')!.putImageData(new ImageData(rgba, grid.width, grid.height), 0, 0);
  const value = { grid, canvas, kind, centre: c, half, paintMs: grid.ms, ms: performance.now() - t0 };
  cache.set(f, { key, value });
  return value;
}

export function useSvmOverlay(): StageOverlay {
  const info = useScores();
  const image = useStore((s) => s.image);
  const selected = useStore((s) => s.selectedProposal);
  const showScoreMap = useStore((s) => s.svmView.showScoreMap);
  const stretch = useStore((s) => s.svmView.stretchMap);
  const showTopK = useStore((s) => s.svmView.showTopK);
  const k = useStore((s) => s.svmView.topK);
  const mapHover = useStore((s) => s.svmView.mapHover);
  const f = info?.features;
  const cls = info?.cls ?? 0;
  const centre = info?.centre ?? 0;
  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, vt: ViewTransform): DrawnBoxes | void => {
      if (!f || !image) return;
      const drawn: DrawnBoxes = [];
      const W = image.image.width, H = image.image.height;
      const C = f.classes.length;
      if (showScoreMap) {
        const m = scoreMapImage(f, cls, centre, stretch, W, H);
        ctx.imageSmoothingEnabled = true;
        ctx.drawImage(m.canvas, 0, 0, m.grid.width * SCORE_MAP_FACTOR, m.grid.height * SCORE_MAP_FACTOR);
      }
      const boxes = f.proposals.boxes;
      // Labels after every box, the selected proposal's first, then by rank.
      const labels: Label[] = [];
      if (showTopK) {
        const top = topKByClass(f.scores, C, cls, k, f.computed);
        // Worst first so the best box ends up on top.
        for (let r = top.length - 1; r >= 0; r--) {
          const i = top[r];
          const b = boxes.subarray(4 * i, 4 * i + 4);
          strokeBox(ctx, b, '#FFFFFF', r === 0 ? 3 : 2, vt);
          drawn.push(b);
          labels.unshift({ box: b, text: `${r + 1}. ${fmtScore(f.scores[i * C + cls])}`, bg: '#FFFFFF' });
        }
      }
      if (selected !== null && selected < f.total) {
        const b = boxes.subarray(4 * selected, 4 * selected + 4);
        strokeBox(ctx, b, '#F0E442', 3, vt, [8, 4]);
        drawn.push(b);
        labels.unshift({ box: b, text: `#${selected + 1} ${f.computed[selected] ? fmtScore(f.scores[selected * C + cls]) : 'not scored'}`, bg: '#F0E442' });
      }
      drawLabels(ctx, vt, labels, { fontWeight: 600 });
      if (showScoreMap && mapHover && mapHover.proposal < f.total && mapHover.proposal !== selected) {
        strokeBox(ctx, boxes.subarray(4 * mapHover.proposal, 4 * mapHover.proposal + 4), '#CC79A7', 2.5, vt, [3, 3]);
      }
      return drawn;
    },
    [f, image, cls, centre, stretch, showScoreMap, showTopK, k, selected, mapHover],
  );
  const onHover = useCallback(
    (p: { x: number; y: number } | null) => {
      const view = useStore.getState().svmView;
      let next: { proposal: number; score: number } | null = null;
      if (p && f && image && view.showScoreMap) {
        const m = scoreMapImage(f, cls, centre, view.stretchMap, image.image.width, image.image.height);
        const gx = Math.floor(p.x / SCORE_MAP_FACTOR), gy = Math.floor(p.y / SCORE_MAP_FACTOR);
        if (gx >= 0 && gy >= 0 && gx < m.grid.width && gy < m.grid.height) {
          const i = m.grid.index[gy * m.grid.width + gx];
          if (i >= 0) next = { proposal: i, score: m.grid.values[gy * m.grid.width + gx] };
        }
      }
      const cur = view.mapHover;
      if ((cur?.proposal ?? -1) !== (next?.proposal ?? -1)) useStore.getState().setView('svmView', { mapHover: next });
    },
    [f, image, cls, centre],
  );
  return { draw, key: draw, onHover };
}
