import { useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { divergingLut } from './scores';
import { fmtScore } from './useScores';
import './svm.css';

interface Props {
  /** N x C row-major SVM scores. */
  scores: Float32Array;
  classes: readonly string[];
  n: number;
  /** computed[i] = 1 once proposal i is scored (the CNN streams batches). */
  computed: Uint8Array;
  /** Changes whenever more rows are scored (redraw trigger). */
  done: number;
  /** Row order: proposal index of each row. */
  order: Int32Array;
  sortBy: number | null;
  onSort: (c: number | null) => void;
  centre: number;
  half: number;
  threshold: number;
  selected: number | null;
  onSelect: (i: number) => void;
  /** The focused class (its header is highlighted). */
  focusClass: number;
}

const ROW_HEADER_W = 46;
const MAX_VIEW_H = 300;
const LUT_SIZE = 256;
const LUT = divergingLut(LUT_SIZE);
const FONT = '11px system-ui, sans-serif';

/** Where the pointer or keyboard is: a row position in `order` and a class column (-1: the row header). */
interface Cell {
  pos: number;
  col: number;
}

/** Frame times of the last draws, for the status line and the e2e benchmark. */
const drawTimes: number[] = [];

function layoutFor(n: number, C: number, availW: number) {
  const cellW = Math.max(14, Math.min(72, Math.floor((availW - ROW_HEADER_W) / Math.max(1, C))));
  const rowH = n <= 60 ? 14 : n <= 400 ? 7 : 4;
  const vertical = cellW < 56;
  const headerH = vertical ? 78 : 24;
  return { cellW, rowH, headerH, totalW: ROW_HEADER_W + C * cellW, totalH: headerH + n * rowH };
}

function hatchPattern(ctx: CanvasRenderingContext2D): CanvasPattern | null {
  const c = document.createElement('canvas');
  c.width = c.height = 6;
  const g = c.getContext('2d')!;
  g.fillStyle = '#f2f4f7';
  g.fillRect(0, 0, 6, 6);
  g.strokeStyle = '#c9d0d9';
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(0, 6);
  g.lineTo(6, 0);
  g.stroke();
  return ctx.createPattern(c, 'repeat');
}

function fitText(ctx: CanvasRenderingContext2D, s: string, w: number): string {
  if (ctx.measureText(s).width <= w) return s;
  let lo = 0, hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(s.slice(0, mid) + '…').width <= w) lo = mid;
    else hi = mid - 1;
  }
  return s.slice(0, lo) + '…';
}

/**
 * The proposals x classes SVM-score matrix on one canvas. Virtualised: the canvas is the size of
 * the viewport (sticky inside a scroller whose spacer has the full matrix size) and each frame
 * draws only the visible cells, one pixel per cell into an ImageData blown up without smoothing,
 * so 2000 x 200 scrolls as smoothly as 40 x 5.
 */
export function HeatMap(props: Props) {
  const { scores, classes, n, computed, done, order, sortBy, onSort, centre, half, threshold, selected, onSelect, focusClass } = props;
  const C = classes.length;
  const scrollRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const offRef = useRef<HTMLCanvasElement | null>(null);
  const hatchRef = useRef<CanvasPattern | null>(null);
  const liveId = useId();
  const [size, setSize] = useState({ w: 380, h: 200, outerW: 380 });
  const [hover, setHover] = useState<{ cell: Cell | 'header'; col: number; x: number; y: number } | null>(null);
  const [active, setActive] = useState<Cell | null>(null);
  const [focused, setFocused] = useState(false);
  const [frameMs, setFrameMs] = useState<number | null>(null);
  const frame = useRef(0);

  const L = useMemo(() => layoutFor(n, C, size.outerW), [n, C, size.outerW]);
  const viewH = Math.min(MAX_VIEW_H, L.totalH) + (L.totalW > size.outerW ? 16 : 0);
  const posOf = useMemo(() => {
    const p = new Int32Array(n).fill(-1);
    for (let k = 0; k < order.length; k++) p[order[k]] = k;
    return p;
  }, [order, n]);

  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const measure = () => setSize({ w: el.clientWidth, h: el.clientHeight, outerW: el.offsetWidth });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const state = useRef({ props, L, size, hover, active, focused, posOf });
  state.current = { props, L, size, hover, active, focused, posOf };

  const draw = useCallback(() => {
    const t0 = performance.now();
    const canvas = canvasRef.current, el = scrollRef.current;
    if (!canvas || !el) return;
    const { props: p, L, size, hover, active, focused, posOf } = state.current;
    const { scores, classes, n, computed, order } = p;
    const C = classes.length;
    const vw = size.w, vh = size.h;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(vw * dpr) || canvas.height !== Math.round(vh * dpr)) {
      canvas.width = Math.round(vw * dpr);
      canvas.height = Math.round(vh * dpr);
    }
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, vw, vh);
    const sl = el.scrollLeft, st = el.scrollTop;
    const { cellW, rowH, headerH } = L;
    const cellsW = vw - ROW_HEADER_W, cellsH = vh - headerH;
    const c0 = Math.max(0, Math.floor(sl / cellW)), c1 = Math.min(C, Math.ceil((sl + cellsW) / cellW));
    const r0 = Math.max(0, Math.floor(st / rowH)), r1 = Math.min(n, Math.ceil((st + cellsH) / rowH));
    const nc = Math.max(0, c1 - c0), nr = Math.max(0, r1 - r0);
    const ox = ROW_HEADER_W + c0 * cellW - sl, oy = headerH + r0 * rowH - st;

    // Cells: hatched where not scored yet, then one pixel per visible cell, scaled up.
    ctx.save();
    ctx.beginPath();
    ctx.rect(ROW_HEADER_W, headerH, cellsW, cellsH);
    ctx.clip();
    const hatch = hatchRef.current ?? (hatchRef.current = hatchPattern(ctx));
    ctx.fillStyle = hatch ?? '#f2f4f7';
    ctx.fillRect(ox, oy, nc * cellW, nr * rowH);
    if (nc > 0 && nr > 0) {
      const off = offRef.current ?? (offRef.current = document.createElement('canvas'));
      if (off.width < nc || off.height < nr) {
        off.width = Math.max(off.width, nc);
        off.height = Math.max(off.height, nr);
      }
      const octx = off.getContext('2d')!;
      const img = octx.createImageData(nc, nr);
      const d = img.data;
      const scale = (LUT_SIZE - 1) / (2 * p.half);
      const mid = (LUT_SIZE - 1) / 2;
      for (let r = 0; r < nr; r++) {
        const i = order[r0 + r];
        if (!computed[i]) continue;
        const row = i * C;
        let o = r * nc * 4;
        for (let c = c0; c < c1; c++, o += 4) {
          let t = Math.round((scores[row + c] - p.centre) * scale + mid);
          t = t < 0 ? 0 : t > LUT_SIZE - 1 ? LUT_SIZE - 1 : t;
          d[o] = LUT[3 * t];
          d[o + 1] = LUT[3 * t + 1];
          d[o + 2] = LUT[3 * t + 2];
          d[o + 3] = 255;
        }
      }
      octx.clearRect(0, 0, nc, nr);
      octx.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(off, 0, 0, nc, nr, ox, oy, nc * cellW, nr * rowH);
      // Grid lines where cells are big enough to read them.
      ctx.strokeStyle = 'rgba(255,255,255,0.9)';
      ctx.lineWidth = 1;
      ctx.beginPath();
      if (cellW >= 10) for (let c = 1; c < nc; c++) { const x = Math.round(ox + c * cellW) + 0.5; ctx.moveTo(x, oy); ctx.lineTo(x, oy + nr * rowH); }
      if (rowH >= 10) for (let r = 1; r < nr; r++) { const y = Math.round(oy + r * rowH) + 0.5; ctx.moveTo(ox, y); ctx.lineTo(ox + nc * cellW, y); }
      ctx.stroke();
    }
    // Selected proposal's row, then the hovered or keyboard cell.
    const selPos = p.selected !== null && p.selected < n ? posOf[p.selected] : -1;
    if (selPos >= r0 && selPos < r1) {
      const y = headerH + selPos * rowH - st;
      ctx.lineWidth = 2;
      ctx.strokeStyle = '#000';
      ctx.strokeRect(ROW_HEADER_W + 1, y - 1, Math.min(cellsW, C * cellW - sl) - 2, rowH + 2);
    }
    const mark = focused && active ? active : hover && hover.cell !== 'header' ? hover.cell : null;
    if (mark && mark.col >= 0) {
      const x = ROW_HEADER_W + mark.col * cellW - sl, y = headerH + mark.pos * rowH - st;
      ctx.lineWidth = 3;
      ctx.strokeStyle = '#000';
      ctx.strokeRect(x - 1, y - 1, cellW + 2, rowH + 2);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = '#fff';
      ctx.strokeRect(x - 1, y - 1, cellW + 2, rowH + 2);
    }
    ctx.restore();

    // Column headers (class names; the sorted column gets a triangle, the focused class a tint).
    ctx.save();
    ctx.beginPath();
    ctx.rect(ROW_HEADER_W, 0, cellsW, headerH);
    ctx.clip();
    ctx.fillStyle = '#fff';
    ctx.fillRect(ROW_HEADER_W, 0, cellsW, headerH);
    ctx.font = FONT;
    ctx.textBaseline = 'middle';
    for (let c = c0; c < c1; c++) {
      const x = ROW_HEADER_W + c * cellW - sl;
      const isSort = p.sortBy === c, isFocus = p.focusClass === c;
      const hov = hover && hover.cell === 'header' && hover.col === c;
      if (isFocus || hov) {
        ctx.fillStyle = hov ? '#d6e6f2' : '#e6f1f8';
        ctx.fillRect(x, 0, cellW, headerH);
      }
      ctx.fillStyle = isSort ? '#0072b2' : '#1b1f24';
      ctx.font = isSort || isFocus ? `600 ${FONT}` : FONT;
      const label = (isSort ? '▼ ' : '') + classes[c];
      if (L.headerH > 30) {
        ctx.save();
        ctx.translate(x + cellW / 2, headerH - 4);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = 'left';
        ctx.fillText(fitText(ctx, label, headerH - 8), 0, 0);
        ctx.restore();
      } else {
        ctx.textAlign = 'center';
        ctx.fillText(fitText(ctx, label, cellW - 4), x + cellW / 2, headerH / 2);
      }
    }
    ctx.restore();
    ctx.strokeStyle = '#d9dee5';
    ctx.beginPath();
    ctx.moveTo(0, headerH - 0.5);
    ctx.lineTo(vw, headerH - 0.5);
    ctx.moveTo(ROW_HEADER_W - 0.5, 0);
    ctx.lineTo(ROW_HEADER_W - 0.5, vh);
    ctx.stroke();

    // Row headers: the proposal number of each row (every few rows when rows are thin).
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, headerH, ROW_HEADER_W - 1, cellsH);
    ctx.clip();
    ctx.fillStyle = '#f6f7f9';
    ctx.fillRect(0, headerH, ROW_HEADER_W - 1, cellsH);
    ctx.font = FONT;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const every = Math.max(1, Math.ceil(13 / rowH));
    for (let r = r0 - (r0 % every); r < r1; r += every) {
      const y = headerH + r * rowH - st;
      ctx.fillStyle = r === selPos ? '#0072b2' : '#5b6573';
      // Centred on its row when rows are tall enough; hanging from the row's top edge when thin.
      ctx.textBaseline = rowH >= 12 ? 'middle' : 'top';
      ctx.fillText(`#${order[r] + 1}`, ROW_HEADER_W - 5, rowH >= 12 ? y + rowH / 2 : y + 1);
    }
    if (selPos >= r0 && selPos < r1 && selPos % every !== 0) {
      const y = headerH + selPos * rowH - st;
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, y - 1, ROW_HEADER_W - 1, 14);
      ctx.fillStyle = '#0072b2';
      ctx.textBaseline = 'top';
      ctx.fillText(`#${order[selPos] + 1}`, ROW_HEADER_W - 5, y + 1);
    }
    ctx.restore();

    // Corner: sort by rank.
    ctx.fillStyle = hover && hover.cell === 'header' && hover.col === -1 ? '#d6e6f2' : '#fff';
    ctx.fillRect(0, 0, ROW_HEADER_W - 1, headerH - 1);
    ctx.font = p.sortBy === null ? `600 ${FONT}` : FONT;
    ctx.fillStyle = p.sortBy === null ? '#0072b2' : '#1b1f24';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText(p.sortBy === null ? '▼ rank' : 'rank', ROW_HEADER_W / 2, headerH - 4);

    const ms = performance.now() - t0;
    drawTimes.push(ms);
    if (drawTimes.length > 120) drawTimes.shift();
    canvas.dataset.drawMs = ms.toFixed(3);
    canvas.dataset.draws = String(Number(canvas.dataset.draws ?? 0) + 1);
    canvas.dataset.firstRow = order.length ? String(order[0]) : '';
  }, []);

  const schedule = useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      draw();
    });
  }, [draw]);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  // Redraw on any input change (synchronously, so tests and screenshots see the current frame).
  useEffect(() => {
    draw();
  }, [draw, scores, done, order, sortBy, centre, half, selected, focusClass, hover, active, focused, size, L]);

  // Show the median frame time now and then (not every frame: that would re-render on scroll).
  useEffect(() => {
    const t = setInterval(() => {
      if (!drawTimes.length) return;
      const s = [...drawTimes].sort((a, b) => a - b);
      setFrameMs(s[s.length >> 1]);
    }, 1000);
    return () => clearInterval(t);
  }, []);

  const cellAt = (clientX: number, clientY: number): { cell: Cell | 'header'; col: number; x: number; y: number } | null => {
    const el = scrollRef.current;
    if (!el) return null;
    const r = el.getBoundingClientRect();
    const x = clientX - r.left, y = clientY - r.top;
    if (x < 0 || y < 0 || x > size.w || y > size.h) return null;
    const col = x < ROW_HEADER_W ? -1 : Math.floor((x - ROW_HEADER_W + el.scrollLeft) / L.cellW);
    if (col >= C) return null;
    if (y < L.headerH) return { cell: 'header', col, x, y };
    const pos = Math.floor((y - L.headerH + el.scrollTop) / L.rowH);
    if (pos >= n) return null;
    return { cell: { pos, col }, col, x, y };
  };

  const ensureVisible = (c: Cell) => {
    const el = scrollRef.current;
    if (!el) return;
    const top = c.pos * L.rowH, bottom = top + L.rowH;
    const ch = size.h - L.headerH;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (bottom > el.scrollTop + ch) el.scrollTop = bottom - ch;
    if (c.col >= 0) {
      const left = c.col * L.cellW, right = left + L.cellW;
      const cw = size.w - ROW_HEADER_W;
      if (left < el.scrollLeft) el.scrollLeft = left;
      else if (right > el.scrollLeft + cw) el.scrollLeft = right - cw;
    }
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    const cur = active ?? { pos: 0, col: focusClass };
    let next: Cell | null = null;
    const page = Math.max(1, Math.floor((size.h - L.headerH) / L.rowH) - 1);
    switch (e.key) {
      case 'ArrowDown': next = { ...cur, pos: Math.min(n - 1, cur.pos + 1) }; break;
      case 'ArrowUp': next = { ...cur, pos: Math.max(0, cur.pos - 1) }; break;
      case 'ArrowRight': next = { ...cur, col: Math.min(C - 1, cur.col + 1) }; break;
      case 'ArrowLeft': next = { ...cur, col: Math.max(0, cur.col - 1) }; break;
      case 'PageDown': next = { ...cur, pos: Math.min(n - 1, cur.pos + page) }; break;
      case 'PageUp': next = { ...cur, pos: Math.max(0, cur.pos - page) }; break;
      case 'Home': next = { ...cur, pos: 0 }; break;
      case 'End': next = { ...cur, pos: n - 1 }; break;
      case 'Enter':
      case ' ':
        onSelect(order[cur.pos]);
        break;
      case 's':
        onSort(sortBy === cur.col ? null : cur.col);
        break;
      case 'r':
        onSort(null);
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
    if (next) {
      setActive(next);
      ensureVisible(next);
    }
  };

  const describe = (c: Cell): string => {
    const i = order[c.pos];
    if (i === undefined) return '';
    const head = `Row ${c.pos + 1}: proposal #${i + 1}`;
    if (c.col < 0) return `${head}. Click to select it.`;
    if (!computed[i]) return `${head}, ${classes[c.col]}: not scored yet`;
    const v = scores[i * C + c.col];
    return `${head}, ${classes[c.col]}: score ${fmtScore(v)} (${v >= threshold ? 'at or above' : 'below'} the threshold ${fmtScore(threshold)})`;
  };

  const tip = hover ? (hover.cell === 'header' ? (hover.col < 0 ? 'Sort rows by proposal rank' : `${classes[hover.col]}: click to sort by this class's score${sortBy === hover.col ? ' (click again: by rank)' : ''}`) : describe(hover.cell)) : null;
  const readout = focused && active ? describe(active) : null;

  return (
    <div className="hm">
      <div
        ref={scrollRef}
        className="hm-scroll"
        style={{ height: viewH }}
        tabIndex={0}
        role="application"
        aria-roledescription="heat map"
        aria-label={`SVM scores, ${n} proposals by ${C} classes. Arrow keys move between cells, Enter selects the proposal, S sorts by the current class, R by rank.`}
        aria-describedby={liveId}
        data-testid="heatmap"
        onScroll={() => {
          schedule();
          if (hover) setHover(null);
        }}
        onKeyDown={onKeyDown}
        onFocus={() => {
          setFocused(true);
          if (!active) setActive({ pos: selected !== null && posOf[selected] >= 0 ? posOf[selected] : 0, col: focusClass });
        }}
        onBlur={() => setFocused(false)}
        onPointerMove={(e) => setHover(cellAt(e.clientX, e.clientY))}
        onPointerLeave={() => setHover(null)}
        onClick={(e) => {
          const h = cellAt(e.clientX, e.clientY);
          if (!h) return;
          if (h.cell === 'header') onSort(h.col < 0 ? null : sortBy === h.col ? null : h.col);
          else {
            onSelect(order[h.cell.pos]);
            setActive(h.cell);
          }
        }}
      >
        <canvas ref={canvasRef} className="hm-canvas" style={{ width: size.w, height: size.h }} data-testid="heatmap-canvas" />
        <div style={{ width: L.totalW, height: Math.max(0, L.totalH - size.h) }} />
      </div>
      {tip && hover && (
        <div className="hm-tip" role="tooltip" data-testid="heatmap-tooltip" style={{ left: Math.min(hover.x + 14, size.w - 200), top: hover.y + 16 }}>
          {tip}
        </div>
      )}
      <div id={liveId} className="hm-readout small" aria-live="polite" data-testid="heatmap-readout">
        {readout ?? (
          <span className="muted">
            {n} × {C} scores{done < n ? `, ${done} rows scored so far` : ''}. Hover a cell; click a row to select its proposal; click a class name to sort.
          </span>
        )}
      </div>
      {frameMs !== null && (
        <div className="muted small" data-testid="heatmap-frame">
          Frame: {frameMs.toFixed(2)} ms (median of the last draws; only visible cells are drawn)
        </div>
      )}
    </div>
  );
}
