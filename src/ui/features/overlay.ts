import { useCallback } from 'react';
import { useStore } from '../../state/store';
import { strokeBox, type DrawnBoxes, type ViewTransform } from '../ImageCanvas';
import { useFeaturesView } from './featuresView';

const SELECTED = '#E69F00';
const HOVERED = '#56B4E9';

function label(ctx: CanvasRenderingContext2D, b: ArrayLike<number>, text: string, color: string, vt: ViewTransform) {
  ctx.font = `${12 / vt.scale}px system-ui, sans-serif`;
  const tw = ctx.measureText(text).width + 8 / vt.scale;
  const th = 16 / vt.scale;
  const y = b[1] >= th ? b[1] - th : b[1];
  ctx.fillStyle = color;
  ctx.fillRect(b[0], y, tw, th);
  ctx.fillStyle = '#000';
  ctx.fillText(text, b[0] + 4 / vt.scale, y + 12 / vt.scale);
}

/** CNN-features stage on the main image: the selected proposal, and the one hovered in the fc7 map. */
export function useFeaturesOverlay() {
  const proposals = useStore((s) => s.proposals);
  const selected = useStore((s) => s.selectedProposal);
  const hovered = useFeaturesView((s) => s.hovered);
  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, vt: ViewTransform): DrawnBoxes | void => {
      if (!proposals) return;
      // Reported for tests in draw order: the hovered proposal (if any), then the selected one.
      const drawn: DrawnBoxes = [];
      const n = proposals.boxes.length / 4;
      const sel = selected ?? 0;
      if (hovered !== null && hovered !== sel && hovered < n) {
        const b = proposals.boxes.subarray(4 * hovered, 4 * hovered + 4);
        strokeBox(ctx, b, HOVERED, 2.5, vt, [6, 4]);
        label(ctx, b, `#${hovered + 1}`, HOVERED, vt);
        drawn.push(b);
      }
      if (sel < n) {
        const b = proposals.boxes.subarray(4 * sel, 4 * sel + 4);
        strokeBox(ctx, b, SELECTED, 3, vt);
        label(ctx, b, `#${sel + 1}`, SELECTED, vt);
        drawn.push(b);
      }
      return drawn;
    },
    [proposals, selected, hovered],
  );
  return { draw, key: `${selected}:${hovered}` };
}
