import { useCallback } from 'react';
import { useStore } from '../../../state/store';
import { strokeBox, type DrawnBoxes, type ViewTransform } from '../../ImageCanvas';
import { drawLabels, type Label } from '../../labels';

const SELECTED = '#E69F00';
const HOVERED = '#56B4E9';

/** CNN-features stage on the main image: the selected proposal, and the one hovered in the fc7 map. */
export function useFeaturesOverlay() {
  const proposals = useStore((s) => s.proposals);
  const selected = useStore((s) => s.selectedProposal);
  const hovered = useStore((s) => s.hoveredProposal);
  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, vt: ViewTransform): DrawnBoxes | void => {
      if (!proposals) return;
      // Reported for tests in draw order: the hovered proposal (if any), then the selected one.
      const drawn: DrawnBoxes = [];
      const n = proposals.boxes.length / 4;
      const sel = selected ?? 0;
      const labels: Label[] = [];
      if (hovered !== null && hovered !== sel && hovered < n) {
        const b = proposals.boxes.subarray(4 * hovered, 4 * hovered + 4);
        strokeBox(ctx, b, HOVERED, 2.5, vt, [6, 4]);
        labels.push({ box: b, text: `#${hovered + 1}`, bg: HOVERED });
        drawn.push(b);
      }
      if (sel < n) {
        const b = proposals.boxes.subarray(4 * sel, 4 * sel + 4);
        strokeBox(ctx, b, SELECTED, 3, vt);
        labels.unshift({ box: b, text: `#${sel + 1}`, bg: SELECTED });
        drawn.push(b);
      }
      drawLabels(ctx, vt, labels);
      return drawn;
    },
    [proposals, selected, hovered],
  );
  return { draw, key: `${selected}:${hovered}` };
}
