import { useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type RefObject } from 'react';
import { fmtScore } from './useScores';
import { drawHeatMap, layoutFor, visibleWindow, ROW_HEADER_W, type Cell, type Hover, type Layout, type Scratch } from './heatMapDraw';
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

const MAX_VIEW_H = 300;

/** Inner size (w, h: the canvas) and outer width of the scroller, in CSS pixels. */
interface Size {
  w: number;
  h: number;
  outerW: number;
}

/** Frame times of the last draws, for the status line and the e2e benchmark. */
const drawTimes: number[] = [];

/** Everything a frame reads; kept in a ref so that the draw callback never changes. */
interface FrameState {
  props: Props;
  L: Layout;
  size: Size;
  hover: Hover | null;
  active: Cell | null;
  focused: boolean;
  posOf: Int32Array;
}

/**
 * Sizes the canvas to the viewport, draws the visible part of the matrix and records the frame
 * time (on the canvas's data attributes too, for the e2e benchmark).
 */
function paintFrame(canvas: HTMLCanvasElement, el: HTMLElement, s: FrameState, scratch: Scratch): void {
  const t0 = performance.now();
  const { props: p, L, size, hover, active, focused, posOf } = s;
  const { n, order } = p;
  const vw = size.w, vh = size.h;
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(vw * dpr) || canvas.height !== Math.round(vh * dpr)) {
    canvas.width = Math.round(vw * dpr);
    canvas.height = Math.round(vh * dpr);
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, vw, vh);
  const v = visibleWindow(L, n, p.classes.length, vw, vh, el.scrollLeft, el.scrollTop);
  drawHeatMap(ctx, v, {
    scores: p.scores,
    classes: p.classes,
    computed: p.computed,
    order,
    centre: p.centre,
    half: p.half,
    sortBy: p.sortBy,
    focusClass: p.focusClass,
    selPos: p.selected !== null && p.selected < n ? posOf[p.selected] : -1,
    mark: focused && active ? active : hover && hover.cell !== 'header' ? hover.cell : null,
    hover,
  }, scratch);

  const ms = performance.now() - t0;
  drawTimes.push(ms);
  if (drawTimes.length > 120) drawTimes.shift();
  canvas.dataset.drawMs = ms.toFixed(3);
  canvas.dataset.draws = String(Number(canvas.dataset.draws ?? 0) + 1);
  canvas.dataset.firstRow = order.length ? String(order[0]) : '';
}

/** What is under a viewport point: a cell, a column header (col -1: the corner), or nothing. */
function hitTest(el: HTMLElement, L: Layout, size: Size, n: number, C: number, clientX: number, clientY: number): Hover | null {
  const r = el.getBoundingClientRect();
  const x = clientX - r.left, y = clientY - r.top;
  if (x < 0 || y < 0 || x > size.w || y > size.h) return null;
  const col = x < ROW_HEADER_W ? -1 : Math.floor((x - ROW_HEADER_W + el.scrollLeft) / L.cellW);
  if (col >= C) return null;
  if (y < L.headerH) return { cell: 'header', col, x, y };
  const pos = Math.floor((y - L.headerH + el.scrollTop) / L.rowH);
  if (pos >= n) return null;
  return { cell: { pos, col }, col, x, y };
}

/** Scrolls the least that brings cell c fully into view. */
function scrollCellIntoView(el: HTMLElement, L: Layout, size: Size, c: Cell): void {
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
}

/** The cell a navigation key moves to from `cur` (`page` rows per PageUp/PageDown); null for other keys. */
function movedCell(key: string, cur: Cell, n: number, C: number, page: number): Cell | null {
  switch (key) {
    case 'ArrowDown': return { ...cur, pos: Math.min(n - 1, cur.pos + 1) };
    case 'ArrowUp': return { ...cur, pos: Math.max(0, cur.pos - 1) };
    case 'ArrowRight': return { ...cur, col: Math.min(C - 1, cur.col + 1) };
    case 'ArrowLeft': return { ...cur, col: Math.max(0, cur.col - 1) };
    case 'PageDown': return { ...cur, pos: Math.min(n - 1, cur.pos + page) };
    case 'PageUp': return { ...cur, pos: Math.max(0, cur.pos - page) };
    case 'Home': return { ...cur, pos: 0 };
    case 'End': return { ...cur, pos: n - 1 };
    default: return null;
  }
}

/** The readout of one cell, as the tooltip and the screen-reader line say it. */
function describeCell(c: Cell, p: Pick<Props, 'order' | 'computed' | 'scores' | 'classes' | 'threshold'>): string {
  const i = p.order[c.pos];
  if (i === undefined) return '';
  const head = `Row ${c.pos + 1}: proposal #${i + 1}`;
  if (c.col < 0) return `${head}. Click to select it.`;
  if (!p.computed[i]) return `${head}, ${p.classes[c.col]}: not scored yet`;
  const v = p.scores[i * p.classes.length + c.col];
  return `${head}, ${p.classes[c.col]}: score ${fmtScore(v)} (${v >= p.threshold ? 'at or above' : 'below'} the threshold ${fmtScore(p.threshold)})`;
}

function tooltipText(hover: Hover, p: Props): string {
  if (hover.cell !== 'header') return describeCell(hover.cell, p);
  if (hover.col < 0) return 'Sort rows by proposal rank';
  return `${p.classes[hover.col]}: click to sort by this class's score${p.sortBy === hover.col ? ' (click again: by rank)' : ''}`;
}

/** The scroller's inner and outer size, kept up to date. */
function useViewportSize(ref: RefObject<HTMLDivElement | null>): Size {
  const [size, setSize] = useState<Size>({ w: 380, h: 200, outerW: 380 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setSize({ w: el.clientWidth, h: el.clientHeight, outerW: el.offsetWidth });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return size;
}

/** The median of the last frame times, refreshed now and then (not every frame: that would re-render on scroll). */
function useMedianFrameMs(): number | null {
  const [frameMs, setFrameMs] = useState<number | null>(null);
  useEffect(() => {
    const t = setInterval(() => {
      if (!drawTimes.length) return;
      const s = [...drawTimes].sort((a, b) => a - b);
      setFrameMs(s[s.length >> 1]);
    }, 1000);
    return () => clearInterval(t);
  }, []);
  return frameMs;
}

/** `draw` at the next animation frame, at most once per frame. */
function useScheduledDraw(draw: () => void): () => void {
  const frame = useRef(0);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);
  return useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      draw();
    });
  }, [draw]);
}

/** The cell under the pointer, cleared when the pointer leaves or the matrix scrolls under it. */
function useHoverCell(ref: RefObject<HTMLDivElement | null>, L: Layout, size: Size, n: number, C: number) {
  const [hover, setHover] = useState<Hover | null>(null);
  const hit = (clientX: number, clientY: number) => (ref.current ? hitTest(ref.current, L, size, n, C, clientX, clientY) : null);
  return {
    hover,
    hit,
    onPointerMove: (e: React.PointerEvent) => setHover(hit(e.clientX, e.clientY)),
    onPointerLeave: () => setHover(null),
    clear: () => {
      if (hover) setHover(null);
    },
  };
}

/**
 * Keyboard cell navigation: arrows, PageUp/PageDown, Home/End move the active cell (scrolled into
 * view); Enter or Space selects its proposal, S sorts by its class (again: by rank), R by rank.
 */
function useCellNavigation(ref: RefObject<HTMLDivElement | null>, L: Layout, size: Size, posOf: Int32Array, props: Props) {
  const { n, classes, order, sortBy, onSort, selected, onSelect, focusClass } = props;
  const [active, setActive] = useState<Cell | null>(null);
  const [focused, setFocused] = useState(false);
  const onKeyDown = (e: React.KeyboardEvent) => {
    const cur = active ?? { pos: 0, col: focusClass };
    const page = Math.max(1, Math.floor((size.h - L.headerH) / L.rowH) - 1);
    const next = movedCell(e.key, cur, n, classes.length, page);
    if (next) {
      setActive(next);
      if (ref.current) scrollCellIntoView(ref.current, L, size, next);
    } else if (e.key === 'Enter' || e.key === ' ') onSelect(order[cur.pos]);
    else if (e.key === 's') onSort(sortBy === cur.col ? null : cur.col);
    else if (e.key === 'r') onSort(null);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };
  const onFocus = () => {
    setFocused(true);
    if (!active) setActive({ pos: selected !== null && posOf[selected] >= 0 ? posOf[selected] : 0, col: focusClass });
  };
  return { active, setActive, focused, onKeyDown, onFocus, onBlur: () => setFocused(false) };
}

function Tooltip({ hover, text, width }: { hover: Hover; text: string; width: number }) {
  return (
    <div className="hm-tip" role="tooltip" data-testid="heatmap-tooltip" style={{ left: Math.min(hover.x + 14, width - 200), top: hover.y + 16 }}>
      {text}
    </div>
  );
}

/** The active cell's readout while the map has focus (announced), else a hint. */
function Readout({ id, text, n, C, done }: { id: string; text: string | null; n: number; C: number; done: number }) {
  return (
    <div id={id} className="hm-readout small" aria-live="polite" data-testid="heatmap-readout">
      {text ?? (
        <span className="muted">
          {n} × {C} scores{done < n ? `, ${done} rows scored so far` : ''}. Hover a cell; click a row to select its proposal; click a class name to sort.
        </span>
      )}
    </div>
  );
}

/**
 * The proposals x classes SVM-score matrix on one canvas. Virtualised: the canvas is the size of
 * the viewport (sticky inside a scroller whose spacer has the full matrix size) and each frame
 * draws only the visible cells, one pixel per cell into an ImageData blown up without smoothing,
 * so 2000 x 200 scrolls as smoothly as 40 x 5.
 */
export function HeatMap(props: Props) {
  const { scores, classes, n, done, order, sortBy, onSort, centre, half, selected, onSelect, focusClass } = props;
  const C = classes.length;
  const scrollRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const scratch = useRef<Scratch>({ hatch: null, off: null });
  const liveId = useId();
  const size = useViewportSize(scrollRef);
  const frameMs = useMedianFrameMs();

  const L = useMemo(() => layoutFor(n, C, size.outerW), [n, C, size.outerW]);
  const viewH = Math.min(MAX_VIEW_H, L.totalH) + (L.totalW > size.outerW ? 16 : 0);
  const posOf = useMemo(() => {
    const p = new Int32Array(n).fill(-1);
    for (let k = 0; k < order.length; k++) p[order[k]] = k;
    return p;
  }, [order, n]);
  const pointer = useHoverCell(scrollRef, L, size, n, C);
  const nav = useCellNavigation(scrollRef, L, size, posOf, props);
  const { hover } = pointer;
  const { active, focused } = nav;

  const state = useRef<FrameState>({ props, L, size, hover, active, focused, posOf });
  state.current = { props, L, size, hover, active, focused, posOf };
  const draw = useCallback(() => {
    const canvas = canvasRef.current, el = scrollRef.current;
    if (canvas && el) paintFrame(canvas, el, state.current, scratch.current);
  }, []);
  const schedule = useScheduledDraw(draw);
  // Redraw on any input change (synchronously, so tests and screenshots see the current frame).
  useEffect(() => {
    draw();
  }, [draw, scores, done, order, sortBy, centre, half, selected, focusClass, hover, active, focused, size, L]);

  const tip = hover ? tooltipText(hover, props) : null;
  const readout = focused && active ? describeCell(active, props) : null;

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
          pointer.clear();
        }}
        onKeyDown={nav.onKeyDown}
        onFocus={nav.onFocus}
        onBlur={nav.onBlur}
        onPointerMove={pointer.onPointerMove}
        onPointerLeave={pointer.onPointerLeave}
        onClick={(e) => {
          const h = pointer.hit(e.clientX, e.clientY);
          if (!h) return;
          if (h.cell === 'header') onSort(h.col < 0 ? null : sortBy === h.col ? null : h.col);
          else {
            onSelect(order[h.cell.pos]);
            nav.setActive(h.cell);
          }
        }}
      >
        <canvas ref={canvasRef} className="hm-canvas" style={{ width: size.w, height: size.h }} data-testid="heatmap-canvas" />
        <div style={{ width: L.totalW, height: Math.max(0, L.totalH - size.h) }} />
      </div>
      {tip && hover && <Tooltip hover={hover} text={tip} width={size.w} />}
      <Readout id={liveId} text={readout} n={n} C={C} done={done} />
      {frameMs !== null && (
        <div className="muted small" data-testid="heatmap-frame">
          Frame: {frameMs.toFixed(2)} ms (median of the last draws; only visible cells are drawn)
        </div>
      )}
    </div>
  );
}
