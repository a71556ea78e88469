import { useCallback } from 'react';
import { useStore } from '../../state/store';
import { useNms } from '../../state/derived';
import { computeFeatures } from '../../runner/cnn';
import { classColor } from '../palette';
import { strokeBox, type ViewTransform } from '../ImageCanvas';

export function useDetectionsOverlay() {
  const nms = useNms();
  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, vt: ViewTransform) => {
      if (!nms) return;
      ctx.font = `${13 / vt.scale}px system-ui, sans-serif`;
      for (const d of nms.detections) {
        const color = classColor(d.classIndex);
        strokeBox(ctx, d.box, color, 3, vt);
        const label = `${d.className} ${d.score.toFixed(2)}`;
        const tw = ctx.measureText(label).width + 8 / vt.scale;
        const th = 18 / vt.scale;
        const y = d.box[1] >= th ? d.box[1] - th : d.box[1];
        ctx.fillStyle = color;
        ctx.fillRect(d.box[0], y, tw, th);
        ctx.fillStyle = '#000';
        ctx.fillText(label, d.box[0] + 4 / vt.scale, y + 13 / vt.scale);
      }
    },
    [nms],
  );
  return { draw, key: nms };
}

export function DetectionsStage() {
  const features = useStore((s) => s.features);
  const image = useStore((s) => s.image);
  const nms = useNms();
  if (!features || !image || features.imageKey !== image.key) {
    return (
      <div className="stage-body pending" data-testid="stage-pending">
        <p>
          <strong>Not computed yet.</strong> Detections need the CNN's SVM scores for every proposal.
        </p>
        <button className="btn btn-primary" onClick={() => void computeFeatures()} data-testid="run-all">
          Run the whole pipeline
        </button>
      </div>
    );
  }
  return (
    <div className="stage-body">
      <p data-testid="detections-summary">
        {nms ? `${nms.detections.length} detection${nms.detections.length === 1 ? '' : 's'}` : 'No SVM head in this model.'}
        {!features.complete && ` (${features.done}/${features.total} proposals scored so far)`}
      </p>
      {nms && (
        <ul className="det-list" data-testid="detections-list">
          {nms.detections.map((d, k) => (
            <li key={k}>
              <span className="swatch" style={{ background: classColor(d.classIndex) }} aria-hidden="true" />
              {d.className} {d.score.toFixed(3)} [{d.box.map((v, q) => Math.round(v * (q % 2 ? image.scaleY : image.scaleX))).join(', ')}]
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
