/**
 * What the box-regression stage draws on the main image: for the focused class's top-k proposals,
 * the proposal (dashed blue), the box blended between proposal and regressed box (solid orange; the
 * regressed box itself at blend 1) and an arrow from the proposal's centre to the regressed centre.
 */
import { useCallback } from 'react';
import { useStore } from '../../../state/store';
import { useRegressedBoxes } from '../../../state/derived';
import { strokeBox, type DrawnBoxes, type StageOverlay, type ViewTransform } from '../../ImageCanvas';
import { drawLabels, type Label } from '../../labels';
import { topKByClass } from '../svm/scores';
import { useScores } from '../svm/useScores';
import { boxCentre, lerpBox, regressedOf } from './rows';

export const PROPOSAL_COLOR = '#56B4E9';
export const REGRESSED_COLOR = '#E69F00';

/** A centre-to-centre arrow with a dark halo; a dot when the centre barely moves. */
function arrow(ctx: CanvasRenderingContext2D, from: [number, number], to: [number, number], vt: ViewTransform) {
  const s = 1 / vt.scale;
  const dx = to[0] - from[0], dy = to[1] - from[1];
  const len = Math.hypot(dx, dy);
  if (len * vt.scale < 3) {
    ctx.fillStyle = '#000';
    ctx.beginPath();
    ctx.arc(from[0], from[1], 3.5 * s, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = '#fff';
    ctx.beginPath();
    ctx.arc(from[0], from[1], 2.2 * s, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  const ux = dx / len, uy = dy / len;
  const head = Math.min(9 * s, len * 0.6);
  const bx = to[0] - ux * head, by = to[1] - uy * head;
  for (const [color, w] of [['rgba(0,0,0,0.7)', 4.2], ['#FFFFFF', 2]] as const) {
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = w * s;
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(bx, by);
    ctx.stroke();
    const hw = (color === '#FFFFFF' ? 4 : 5.5) * s;
    ctx.beginPath();
    ctx.moveTo(to[0] + (color === '#FFFFFF' ? 0 : ux * 1.5 * s), to[1] + (color === '#FFFFFF' ? 0 : uy * 1.5 * s));
    ctx.lineTo(bx - uy * hw, by + ux * hw);
    ctx.lineTo(bx + uy * hw, by - ux * hw);
    ctx.closePath();
    ctx.fill();
  }
}

export function useRegressionOverlay(): StageOverlay {
  const info = useScores();
  const regressed = useRegressedBoxes();
  const selected = useStore((s) => s.selectedProposal);
  const hasRegressors = useStore((s) => !s.model || !!s.model.bboxClasses);
  const k = useStore((s) => s.svmView.regTopK);
  const blend = useStore((s) => s.svmView.blend);
  const showArrows = useStore((s) => s.svmView.showArrows);
  const f = info?.features;
  const cls = info?.cls ?? 0;
  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, vt: ViewTransform): DrawnBoxes | void => {
      if (!f || !regressed || !hasRegressors) return;
      const drawn: DrawnBoxes = [];
      const C = f.classes.length, n = f.total;
      const boxes = f.proposals.boxes;
      const top = Array.from(topKByClass(f.scores, C, cls, k, f.computed));
      const focus = selected !== null && selected < n && f.computed[selected] ? selected : top[0];
      if (focus !== undefined && !top.includes(focus)) top.push(focus);
      // Draw the focused proposal last (on top); the rest worst first.
      const drawOrder = top.filter((i) => i !== focus).reverse();
      if (focus !== undefined) drawOrder.push(focus);
      const labels: Label[] = [];
      for (const i of drawOrder) {
        const p = boxes.subarray(4 * i, 4 * i + 4);
        const r = regressedOf(regressed, n, i, cls);
        const b = lerpBox(p, r, blend);
        const isFocus = i === focus;
        if (showArrows) strokeBox(ctx, p, PROPOSAL_COLOR, isFocus ? 2.5 : 1.5, vt, [6, 4]);
        strokeBox(ctx, b, REGRESSED_COLOR, isFocus ? 3.5 : 2, vt);
        drawn.push(b);
        if (showArrows) arrow(ctx, boxCentre(p), boxCentre(r), vt);
        const rank = top.indexOf(i);
        // Labels after every box: the focused one first, then by rank.
        labels.unshift({ box: b, text: rank < k ? `${rank + 1}` : `#${i + 1}`, bg: isFocus ? '#F0E442' : REGRESSED_COLOR });
      }
      drawLabels(ctx, vt, labels, { fontWeight: 600, heightPx: 15 });
      return drawn;
    },
    [f, regressed, hasRegressors, cls, k, blend, showArrows, selected],
  );
  return { draw, key: draw };
}
