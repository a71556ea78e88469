import { useCallback, useRef, useState } from 'react';
import { useStore } from '../state/store';
import { addGroundTruthBox, loadVocAnnotation, markReloadableGroundTruth, removeGroundTruthBox } from '../runner/groundTruthActions';
import { SAMPLES, sampleUrl } from '../runner/decodeClient';
import type { ViewTransform } from './ImageCanvas';
import { drawLabels, type Label } from './labels';

async function loadSampleAnnotation(path: string): Promise<void> {
  const res = await fetch(sampleUrl(path));
  if (!res.ok) {
    useStore.getState().pushMessage({ kind: 'error', text: `Could not load ${path} (HTTP ${res.status}).` });
    return;
  }
  if (await loadVocAnnotation(new File([await res.text()], path.split('/').pop()!, { type: 'application/xml' }))) {
    markReloadableGroundTruth(useStore.getState().groundTruth);
  }
}

/** Known class names to offer when drawing (the fruit-animals classes; a loaded model adds its own). */
export const DEFAULT_GT_CLASSES = ['apple', 'banana', 'orange', 'raccoon', 'kangaroo'];

/** Ground-truth boxes: dashed white on black, drawn on top of any stage, labelled below the box. */
export function drawGroundTruth(ctx: CanvasRenderingContext2D, vt: ViewTransform, boxes: Float32Array, labels: string[], draft?: number[] | null): void {
  const lw = 2 / vt.scale;
  const one = (b: ArrayLike<number>) => {
    ctx.setLineDash([]);
    ctx.lineWidth = lw * 2;
    ctx.strokeStyle = 'rgba(0,0,0,0.8)';
    ctx.strokeRect(b[0], b[1], b[2] - b[0], b[3] - b[1]);
    ctx.setLineDash([6 / vt.scale, 4 / vt.scale]);
    ctx.lineWidth = lw;
    ctx.strokeStyle = '#FFFFFF';
    ctx.strokeRect(b[0], b[1], b[2] - b[0], b[3] - b[1]);
    ctx.setLineDash([]);
  };
  const tabs: Label[] = [];
  for (let i = 0; i < labels.length; i++) {
    const b = boxes.subarray(4 * i, 4 * i + 4);
    one(b);
    if (labels[i]) tabs.push({ box: b, text: `GT ${labels[i]}`, bg: 'rgba(0,0,0,0.75)', fg: '#fff' });
  }
  drawLabels(ctx, vt, tabs, { prefer: 'below' });
  if (draft) one(draft);
}

/** Drawing ground-truth boxes on the image by dragging (when draw mode is on). */
export function useGroundTruthDrawing() {
  const drawing = useStore((s) => s.gtDrawing);
  const start = useRef<{ x: number; y: number } | null>(null);
  const [draft, setDraft] = useState<number[] | null>(null);
  const clampBox = (a: { x: number; y: number }, b: { x: number; y: number }) => {
    const img = useStore.getState().image!.image;
    const x1 = Math.max(0, Math.min(a.x, b.x)), y1 = Math.max(0, Math.min(a.y, b.y));
    const x2 = Math.min(img.width, Math.max(a.x, b.x)), y2 = Math.min(img.height, Math.max(a.y, b.y));
    return [x1, y1, x2, y2];
  };
  const onDragStart = useCallback((p: { x: number; y: number }) => {
    start.current = p;
    setDraft([p.x, p.y, p.x, p.y]);
  }, []);
  const onDragMove = useCallback((p: { x: number; y: number }) => {
    if (start.current) setDraft(clampBox(start.current, p));
  }, []);
  const onDragEnd = useCallback((p: { x: number; y: number }) => {
    if (!start.current) return;
    const b = clampBox(start.current, p);
    start.current = null;
    setDraft(null);
    if (b[2] - b[0] >= 4 && b[3] - b[1] >= 4) addGroundTruthBox(b as [number, number, number, number], useStore.getState().gtClass.trim() || 'object');
  }, []);
  return drawing ? { onDragStart, onDragMove, onDragEnd, draft, cursor: 'crosshair' } : { draft: null };
}

/** The ground-truth section of the Image stage. */
export function GroundTruthEditor() {
  const image = useStore((s) => s.image);
  const gt = useStore((s) => s.groundTruth);
  const drawing = useStore((s) => s.gtDrawing);
  const setDrawing = useStore((s) => s.setGtDrawing);
  const gtClass = useStore((s) => s.gtClass);
  const setGtClass = useStore((s) => s.setGtClass);
  const show = useStore((s) => s.showGroundTruth);
  const setShow = useStore((s) => s.setShowGroundTruth);
  const xmlRef = useRef<HTMLInputElement>(null);
  const current = gt && image && gt.imageKey === image.key ? gt : null;
  const sample = image?.source === 'sample' ? SAMPLES.find((x) => x.file === image.name && x.annotation) : undefined;
  return (
    <section aria-labelledby="gt-heading">
      <h3 id="gt-heading">Ground truth (optional)</h3>
      <p className="muted small">
        With ground-truth boxes the app can measure proposal recall, show how each of R-CNN's three models labels
        the proposals during training, and mark detections as true or false positives.
      </p>
      <div className="row">
        <button className={`btn${drawing ? ' btn-primary' : ''}`} aria-pressed={drawing} onClick={() => setDrawing(!drawing)} disabled={!image} data-testid="gt-draw">
          {drawing ? 'Drawing: drag on the image' : 'Draw boxes'}
        </button>
        <label>
          Class{' '}
          <input list="gt-classes" value={gtClass} onChange={(e) => setGtClass(e.target.value)} style={{ width: 110 }} aria-label="Class of new boxes" />
        </label>
        <datalist id="gt-classes">
          {DEFAULT_GT_CLASSES.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
        <button className="btn" onClick={() => xmlRef.current?.click()} disabled={!image}>
          Load VOC XML…
        </button>
        {sample && (
          <button className="btn" onClick={() => void loadSampleAnnotation(sample.annotation!)} data-testid="gt-sample">
            Load this sample's boxes
          </button>
        )}
        <input
          ref={xmlRef}
          type="file"
          accept=".xml,text/xml,application/xml"
          className="visually-hidden"
          tabIndex={-1}
          data-testid="gt-xml-input"
          aria-label="Load a PASCAL VOC annotation"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) void loadVocAnnotation(f);
          }}
        />
      </div>
      {image && <BoxByNumbers />}
      {current && current.labels.length > 0 && (
        <>
          <label className="check">
            <input type="checkbox" checked={show} onChange={(e) => setShow(e.target.checked)} /> Show ground truth on every stage
          </label>
          <ul className="gt-list" data-testid="gt-list">
            {current.labels.map((l, i) => {
              const b = current.boxes.subarray(4 * i, 4 * i + 4);
              return (
                <li key={i}>
                  <span>
                    {l}: {Math.round((b[2] - b[0]) * image!.scaleX)} × {Math.round((b[3] - b[1]) * image!.scaleY)} px
                  </span>
                  <button className="btn-icon" onClick={() => removeGroundTruthBox(i)} aria-label={`Remove ground-truth box ${i + 1} (${l})`}>
                    ×
                  </button>
                </li>
              );
            })}
          </ul>
          <p className="muted small">{current.source === 'xml' ? `From ${current.name}.` : 'Drawn by you.'}</p>
        </>
      )}
    </section>
  );
}

/**
 * The keyboard way to add a box (and the precise one): its corners in the photo's own pixels
 * (left, top, right, bottom edges), with the class typed above.
 */
function BoxByNumbers() {
  const image = useStore((s) => s.image)!;
  const gtClass = useStore((s) => s.gtClass);
  const [v, setV] = useState(['', '', '', '']);
  const [error, setError] = useState<string | null>(null);
  const W = image.originalWidth, H = image.originalHeight;
  const add = (e: React.FormEvent) => {
    e.preventDefault();
    const [x1, y1, x2, y2] = v.map((t) => Number(t.trim()));
    if (v.some((t) => t.trim() === '') || ![x1, y1, x2, y2].every(Number.isFinite)) return setError('Fill in all four numbers.');
    if (x1 < 0 || y1 < 0 || x2 > W || y2 > H) return setError(`The box must lie inside the photo: 0-${W} across, 0-${H} down.`);
    if (x2 - x1 < 4 || y2 - y1 < 4) return setError('xmax must exceed xmin and ymax exceed ymin by at least 4 px.');
    setError(null);
    addGroundTruthBox([x1 / image.scaleX, y1 / image.scaleY, x2 / image.scaleX, y2 / image.scaleY], gtClass.trim() || 'object');
    setV(['', '', '', '']);
  };
  const names = ['xmin', 'ymin', 'xmax', 'ymax'];
  return (
    <details className="gt-numbers">
      <summary>Type a box's corners instead</summary>
      <form onSubmit={add} className="row" data-testid="gt-numbers" noValidate>
        {names.map((n, i) => (
          <label key={n} className="small">
            {n}{' '}
            <input
              type="number"
              inputMode="numeric"
              min={0}
              max={i % 2 === 0 ? W : H}
              value={v[i]}
              onChange={(e) => setV(v.map((x, k) => (k === i ? e.target.value : x)))}
              style={{ width: 70 }}
              data-testid={`gt-${n}`}
            />
          </label>
        ))}
        <button className="btn" type="submit" data-testid="gt-add">
          Add {gtClass.trim() || 'object'} box
        </button>
      </form>
      <p className="muted small">Edges in the photo's own pixels: 0 to {W} across, 0 to {H} down.</p>
      {error && (
        <p className="message message-error small" role="alert" data-testid="gt-numbers-error">
          {error}
        </p>
      )}
    </details>
  );
}
