/**
 * Drawing and editing boxes on one photo of the dataset, with the mouse (drag on the photo to
 * draw, click a box to select it, drag the selected box to move it or its corners to resize it)
 * and the keyboard (the editor is one
 * tab stop: arrows move the selected box, Shift+arrows resize it, Delete removes it, [ and ]
 * select the previous and next box, Insert adds one in the middle, Escape deselects). Boxes are
 * kept in the photo's own upright pixels, snapped to whole pixels.
 */
import { useEffect, useRef, useState } from 'react';
import { useStore } from '../../state/store';
import { cleanClassName, nudgeBox, snapBox, type Box4, type TrainBox, type TrainPhoto } from '../../core/dataset/trainingSet';
import { setBoxes } from '../../runner/datasetActions';
import { classColor } from '../palette';
import { usePhotoUrl } from './usePhotoUrl';

type Drag =
  | { kind: 'draw'; from: [number, number]; box: Box4; hit: number }
  | { kind: 'move'; index: number; from: [number, number]; start: Box4; box: Box4 }
  | { kind: 'resize'; index: number; corner: [0 | 2, 1 | 3]; box: Box4 };

/** Index of each class in the sorted class list, for its colour (the same colour everywhere in the view). */
export function useClassIndex(): (label: string) => number {
  const photos = useStore((s) => s.train.photos);
  const classes = [...new Set(photos.flatMap((p) => p.boxes.map((b) => b.label)))].sort();
  return (l) => Math.max(0, classes.indexOf(l));
}

function describeBox(b: TrainBox, i: number): string {
  const [x1, y1, x2, y2] = b.box;
  return `Box ${i + 1}, ${b.label}: ${Math.round(x2 - x1)} × ${Math.round(y2 - y1)} px at ${Math.round(x1)}, ${Math.round(y1)}`;
}

/** Adds a box of a third of the photo in its middle, with the current class, and selects it (the keyboard's way to draw). */
export function addMiddleBox(photo: TrainPhoto): boolean {
  const label = cleanClassName(useStore.getState().train.boxClass);
  if (!label) {
    useStore.getState().pushMessage({ kind: 'warning', text: 'Type a class name for the new box first.', hint: 'The “Class” field, above the list of boxes.', group: 'train' });
    return false;
  }
  const W = photo.width, H = photo.height;
  const box = snapBox([W / 3, H / 3, (2 * W) / 3, (2 * H) / 3], W, H);
  if (!box) return false;
  void setBoxes(photo.id, [...photo.boxes, { box, label }], photo.boxes.length);
  return true;
}

export function BoxEditor({ photo }: { photo: TrainPhoto }) {
  const url = usePhotoUrl(photo.id);
  const wrap = useRef<HTMLDivElement>(null);
  const [area, setArea] = useState({ w: 640, h: 480 });
  const [drag, setDrag] = useState<Drag | null>(null);
  const [said, setSaid] = useState('');
  const selected = useStore((s) => s.train.selectedBox);
  const boxClass = useStore((s) => s.train.boxClass);
  const classIndex = useClassIndex();

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(([e]) => setArea({ w: Math.max(80, e.contentRect.width), h: Math.max(80, e.contentRect.height) }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const scale = Math.min(area.w / photo.width, area.h / photo.height);
  const W = Math.max(1, Math.round(photo.width * scale));
  const H = Math.max(1, Math.round(photo.height * scale));
  const boxes = photo.boxes;
  const sel = selected !== null && selected < boxes.length ? selected : null;
  const select = (i: number | null) => {
    useStore.getState().setTrain({ selectedBox: i });
    if (i !== null) {
      useStore.getState().setTrain({ boxClass: boxes[i].label });
      setSaid(`${describeBox(boxes[i], i)} selected.`);
    }
  };

  const toPhoto = (e: React.PointerEvent): [number, number] => {
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    return [Math.min(photo.width, Math.max(0, (e.clientX - r.left) / scale)), Math.min(photo.height, Math.max(0, (e.clientY - r.top) / scale))];
  };

  const onPointerDown = (e: React.PointerEvent) => {
    if (e.button !== 0) return;
    const p = toPhoto(e);
    const tol = 8 / scale;
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    // A corner of the selected box: resize it; inside the selected box: move it; anywhere else:
    // draw a new box (so a box can be drawn inside a large one), or, on a click, select the
    // smallest box under the pointer.
    if (sel !== null) {
      const b = boxes[sel].box;
      for (const cx of [0, 2] as const) for (const cy of [1, 3] as const) {
        if (Math.abs(p[0] - b[cx]) <= tol && Math.abs(p[1] - b[cy]) <= tol) {
          setDrag({ kind: 'resize', index: sel, corner: [cx, cy], box: [...b] as Box4 });
          return;
        }
      }
      if (p[0] >= b[0] && p[0] <= b[2] && p[1] >= b[1] && p[1] <= b[3]) {
        setDrag({ kind: 'move', index: sel, from: p, start: [...b] as Box4, box: [...b] as Box4 });
        return;
      }
    }
    let hit = -1;
    let hitArea = Infinity;
    boxes.forEach((b, i) => {
      const [x1, y1, x2, y2] = b.box;
      const a = (x2 - x1) * (y2 - y1);
      if (p[0] >= x1 && p[0] <= x2 && p[1] >= y1 && p[1] <= y2 && a < hitArea) {
        hit = i;
        hitArea = a;
      }
    });
    setDrag({ kind: 'draw', from: p, box: [p[0], p[1], p[0], p[1]], hit });
  };

  const onPointerMove = (e: React.PointerEvent) => {
    if (!drag) return;
    const p = toPhoto(e);
    if (drag.kind === 'draw') setDrag({ ...drag, box: [drag.from[0], drag.from[1], p[0], p[1]] });
    else if (drag.kind === 'move') {
      const s = drag.start;
      setDrag({ ...drag, box: nudgeBox(s, p[0] - drag.from[0], p[1] - drag.from[1], 'move', photo.width, photo.height) });
    } else {
      const b = [...drag.box] as Box4;
      b[drag.corner[0]] = p[0];
      b[drag.corner[1]] = p[1];
      setDrag({ ...drag, box: b });
    }
  };

  const onPointerUp = () => {
    if (!drag) return;
    setDrag(null);
    const snapped = snapBox(drag.box, photo.width, photo.height);
    if (drag.kind === 'draw') {
      const moved = Math.abs(drag.box[2] - drag.box[0]) * scale >= 3 || Math.abs(drag.box[3] - drag.box[1]) * scale >= 3;
      if (!moved) {
        select(drag.hit >= 0 ? drag.hit : null); // a click: select the box under it, or none
        return;
      }
      const label = cleanClassName(boxClass);
      if (!label) {
        useStore.getState().pushMessage({ kind: 'warning', text: 'Type a class name before drawing a box.', hint: 'The “Class” field, above the list of boxes: e.g. “mug”.', group: 'train' });
        return;
      }
      if (!snapped) {
        useStore.getState().pushMessage({ kind: 'warning', text: 'That box is under 2 pixels of the photo wide or tall, so it was not added.', hint: 'Drag a larger box (zoom the page in for small objects).', group: 'train' });
        return;
      }
      void setBoxes(photo.id, [...boxes, { box: snapped, label }], boxes.length);
      setSaid(`Box ${boxes.length + 1} (${label}) added.`);
    } else if (snapped) {
      void setBoxes(photo.id, boxes.map((b, i) => (i === drag.index ? { ...b, box: snapped } : b)), drag.index);
    }
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    const dirs: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const handled = () => {
      e.preventDefault();
      e.stopPropagation(); // the app's arrow keys step through the stages; not here
    };
    if (e.key in dirs) {
      handled();
      if (sel === null) {
        if (boxes.length) select(0);
        return;
      }
      const step = e.altKey ? 1 : Math.max(1, Math.round(Math.max(photo.width, photo.height) / 100));
      const [dx, dy] = dirs[e.key];
      const nb = nudgeBox(boxes[sel].box, dx * step, dy * step, e.shiftKey ? 'resize' : 'move', photo.width, photo.height);
      void setBoxes(photo.id, boxes.map((b, i) => (i === sel ? { ...b, box: nb } : b)), sel);
      setSaid(describeBox({ ...boxes[sel], box: nb }, sel));
    } else if ((e.key === 'Delete' || e.key === 'Backspace') && sel !== null) {
      handled();
      const gone = boxes[sel];
      void setBoxes(photo.id, boxes.filter((_, i) => i !== sel), boxes.length > 1 ? Math.min(sel, boxes.length - 2) : null);
      setSaid(`Box ${sel + 1} (${gone.label}) deleted.`);
    } else if ((e.key === ']' || e.key === '[') && boxes.length) {
      handled();
      const d = e.key === ']' ? 1 : -1;
      select(sel === null ? (d > 0 ? 0 : boxes.length - 1) : (sel + d + boxes.length) % boxes.length);
    } else if (e.key === 'Insert' || e.key === '+') {
      handled();
      if (addMiddleBox(photo)) setSaid(`Box ${boxes.length + 1} added in the middle; move it with the arrow keys, resize it with Shift and the arrow keys.`);
    } else if (e.key === 'Escape' && sel !== null) {
      handled();
      select(null);
      setSaid('No box selected.');
    }
  };

  const shown = boxes.map((b, i) => (drag && drag.kind !== 'draw' && drag.index === i ? { ...b, box: drag.box } : b));
  const r = (b: ArrayLike<number>) => {
    const x1 = Math.min(b[0], b[2]), y1 = Math.min(b[1], b[3]);
    return { x: x1 * scale, y: y1 * scale, width: Math.abs(b[2] - b[0]) * scale, height: Math.abs(b[3] - b[1]) * scale };
  };
  const helpId = `box-editor-help-${photo.id.slice(0, 8)}`;
  return (
    <div className="box-editor-area" ref={wrap}>
      <div
        className="box-editor"
        role="application"
        aria-roledescription="box editor"
        aria-label={`${photo.name}, ${photo.width} by ${photo.height} pixels, ${boxes.length} box${boxes.length === 1 ? '' : 'es'}${sel !== null ? `; ${describeBox(boxes[sel], sel)} selected` : ''}`}
        aria-describedby={helpId}
        tabIndex={0}
        style={{ width: W, height: H }}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => setDrag(null)}
        onKeyDown={onKeyDown}
        data-testid="box-editor"
        data-boxes={JSON.stringify(boxes.map((b) => [...b.box, b.label]))}
      >
        {url ? <img src={url} alt="" width={W} height={H} draggable={false} /> : <div className="box-editor-loading">Loading the photo…</div>}
        <svg width={W} height={H} aria-hidden="true">
          {shown.map((b, i) => {
            const c = classColor(classIndex(b.label));
            const rr = r(b.box);
            return (
              <g key={i}>
                <rect {...rr} fill="none" stroke="rgba(0,0,0,0.6)" strokeWidth={4} />
                <rect {...rr} fill={i === sel ? 'rgba(255,255,255,0.12)' : 'none'} stroke={c} strokeWidth={2} strokeDasharray={b.difficult ? '6 3' : undefined} />
                <text x={rr.x + 3} y={Math.max(12, rr.y - 4)} className="box-label" fill="#fff" stroke="#000" strokeWidth={3} paintOrder="stroke">
                  {b.label}
                </text>
                {i === sel &&
                  [0, 2].flatMap((cx) => [1, 3].map((cy) => <rect key={`${cx}${cy}`} x={b.box[cx] * scale - 5} y={b.box[cy] * scale - 5} width={10} height={10} fill="#fff" stroke="#000" />))}
              </g>
            );
          })}
          {drag?.kind === 'draw' && <rect {...r(drag.box)} fill="none" stroke="#fff" strokeWidth={2} strokeDasharray="6 4" />}
        </svg>
      </div>
      <p id={helpId} className="visually-hidden">
        Drag on the photo to draw a box of the class typed in the Class field; click a box to select it, drag it to move it, drag its corners to resize it. Arrow keys move the selected box, Shift with the arrow keys resizes it, Alt makes steps of one pixel. Delete removes it. Left and right square brackets select the previous and next box, Insert adds a box in the middle, Escape deselects.
      </p>
      <div className="visually-hidden" role="status" aria-live="polite" data-testid="box-editor-status">
        {said}
      </div>
    </div>
  );
}
