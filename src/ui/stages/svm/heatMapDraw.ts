/**
 * The heat map's canvas drawing, as plain functions of what is in view (no React): the score cells,
 * the selection and cursor marks, the class and proposal headers and the sort corner. Each draws
 * only the visible cells; the cells go one pixel each into an ImageData that is then blown up
 * without smoothing, so the cost follows the viewport, not the matrix.
 */
import { divergingLut } from './scores';

export const ROW_HEADER_W = 46;
const LUT_SIZE = 256;
const LUT = divergingLut(LUT_SIZE);
const FONT = '11px system-ui, sans-serif';

/** Where the pointer or keyboard is: a row position in `order` and a class column (-1: the row header). */
export interface Cell {
  pos: number;
  col: number;
}

/** What the pointer is over, with its position in the viewport (for the tooltip). */
export interface Hover {
  cell: Cell | 'header';
  col: number;
  x: number;
  y: number;
}

/** Cell sizes and the full matrix's size in CSS pixels. */
export interface Layout {
  cellW: number;
  rowH: number;
  headerH: number;
  totalW: number;
  totalH: number;
}

export function layoutFor(n: number, C: number, availW: number): Layout {
  const cellW = Math.max(14, Math.min(72, Math.floor((availW - ROW_HEADER_W) / Math.max(1, C))));
  const rowH = n <= 60 ? 14 : n <= 400 ? 7 : 4;
  const vertical = cellW < 56;
  const headerH = vertical ? 78 : 24;
  return { cellW, rowH, headerH, totalW: ROW_HEADER_W + C * cellW, totalH: headerH + n * rowH };
}

/**
 * The part of the matrix in a vw x vh viewport scrolled to (sl, st): columns [c0, c1), row
 * positions [r0, r1), and (ox, oy), where cell (r0, c0)'s top-left corner lands on the canvas.
 */
export interface Visible {
  vw: number;
  vh: number;
  sl: number;
  st: number;
  cellW: number;
  rowH: number;
  headerH: number;
  cellsW: number;
  cellsH: number;
  c0: number;
  c1: number;
  r0: number;
  r1: number;
  nc: number;
  nr: number;
  ox: number;
  oy: number;
}

export function visibleWindow(L: Layout, n: number, C: number, vw: number, vh: number, sl: number, st: number): Visible {
  const { cellW, rowH, headerH } = L;
  const cellsW = vw - ROW_HEADER_W, cellsH = vh - headerH;
  const c0 = Math.max(0, Math.floor(sl / cellW)), c1 = Math.min(C, Math.ceil((sl + cellsW) / cellW));
  const r0 = Math.max(0, Math.floor(st / rowH)), r1 = Math.min(n, Math.ceil((st + cellsH) / rowH));
  const nc = Math.max(0, c1 - c0), nr = Math.max(0, r1 - r0);
  const ox = ROW_HEADER_W + c0 * cellW - sl, oy = headerH + r0 * rowH - st;
  return { vw, vh, sl, st, cellW, rowH, headerH, cellsW, cellsH, c0, c1, r0, r1, nc, nr, ox, oy };
}

/** The data of one frame. */
export interface HeatMapFrame {
  /** N x C row-major SVM scores. */
  scores: Float32Array;
  classes: readonly string[];
  computed: Uint8Array;
  order: Int32Array;
  centre: number;
  half: number;
  sortBy: number | null;
  focusClass: number;
  /** Row position of the selected proposal, -1 if none. */
  selPos: number;
  /** The keyboard cell (when focused) or the hovered cell, outlined. */
  mark: Cell | null;
  hover: Hover | null;
}

/** Canvases and patterns kept between frames. */
export interface Scratch {
  hatch: CanvasPattern | null;
  off: HTMLCanvasElement | null;
}

/** One frame, on a context already scaled to CSS pixels and cleared. */
export function drawHeatMap(ctx: CanvasRenderingContext2D, v: Visible, f: HeatMapFrame, scratch: Scratch): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(ROW_HEADER_W, v.headerH, v.cellsW, v.cellsH);
  ctx.clip();
  drawCells(ctx, v, f, scratch);
  drawMarks(ctx, v, f.selPos, f.mark, f.classes.length);
  ctx.restore();
  const headerHover = f.hover && f.hover.cell === 'header' ? f.hover.col : null;
  drawColumnHeaders(ctx, v, f.classes, f.sortBy, f.focusClass, headerHover);
  drawHeaderRules(ctx, v);
  drawRowHeaders(ctx, v, f.order, f.selPos);
  drawCorner(ctx, v, f.sortBy, headerHover === -1);
}

/** Cells: hatched where not scored yet, then one pixel per visible cell, scaled up, and grid lines. */
function drawCells(ctx: CanvasRenderingContext2D, v: Visible, f: HeatMapFrame, scratch: Scratch): void {
  const { nc, nr, ox, oy, cellW, rowH } = v;
  const hatch = scratch.hatch ?? (scratch.hatch = hatchPattern(ctx));
  ctx.fillStyle = hatch ?? '#f2f4f7';
  ctx.fillRect(ox, oy, nc * cellW, nr * rowH);
  if (nc <= 0 || nr <= 0) return;
  const off = scratch.off ?? (scratch.off = document.createElement('canvas'));
  if (off.width < nc || off.height < nr) {
    off.width = Math.max(off.width, nc);
    off.height = Math.max(off.height, nr);
  }
  const octx = off.getContext('2d')!;
  const img = octx.createImageData(nc, nr);
  fillCellPixels(img.data, f, v.r0, nr, v.c0, v.c1);
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

/** RGBA of rows [r0, r0 + nr) x columns [c0, c1) through the diverging LUT; unscored rows stay transparent. */
function fillCellPixels(d: Uint8ClampedArray, f: HeatMapFrame, r0: number, nr: number, c0: number, c1: number): void {
  const { scores, computed, order } = f;
  const C = f.classes.length;
  const nc = c1 - c0;
  const scale = (LUT_SIZE - 1) / (2 * f.half);
  const mid = (LUT_SIZE - 1) / 2;
  const centre = f.centre;
  for (let r = 0; r < nr; r++) {
    const i = order[r0 + r];
    if (!computed[i]) continue;
    const row = i * C;
    let o = r * nc * 4;
    for (let c = c0; c < c1; c++, o += 4) {
      let t = Math.round((scores[row + c] - centre) * scale + mid);
      t = t < 0 ? 0 : t > LUT_SIZE - 1 ? LUT_SIZE - 1 : t;
      d[o] = LUT[3 * t];
      d[o + 1] = LUT[3 * t + 1];
      d[o + 2] = LUT[3 * t + 2];
      d[o + 3] = 255;
    }
  }
}

/** The selected proposal's row, then the hovered or keyboard cell. */
function drawMarks(ctx: CanvasRenderingContext2D, v: Visible, selPos: number, mark: Cell | null, C: number): void {
  const { cellW, rowH, headerH, sl, st } = v;
  if (selPos >= v.r0 && selPos < v.r1) {
    const y = headerH + selPos * rowH - st;
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#000';
    ctx.strokeRect(ROW_HEADER_W + 1, y - 1, Math.min(v.cellsW, C * cellW - sl) - 2, rowH + 2);
  }
  if (mark && mark.col >= 0) {
    const x = ROW_HEADER_W + mark.col * cellW - sl, y = headerH + mark.pos * rowH - st;
    ctx.lineWidth = 3;
    ctx.strokeStyle = '#000';
    ctx.strokeRect(x - 1, y - 1, cellW + 2, rowH + 2);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = '#fff';
    ctx.strokeRect(x - 1, y - 1, cellW + 2, rowH + 2);
  }
}

/** Column headers: class names; the sorted column gets a triangle, the focused class a tint. */
function drawColumnHeaders(ctx: CanvasRenderingContext2D, v: Visible, classes: readonly string[], sortBy: number | null, focusClass: number, hoverCol: number | null): void {
  const { cellW, headerH, sl } = v;
  ctx.save();
  ctx.beginPath();
  ctx.rect(ROW_HEADER_W, 0, v.cellsW, headerH);
  ctx.clip();
  ctx.fillStyle = '#fff';
  ctx.fillRect(ROW_HEADER_W, 0, v.cellsW, headerH);
  ctx.font = FONT;
  ctx.textBaseline = 'middle';
  for (let c = v.c0; c < v.c1; c++) {
    const x = ROW_HEADER_W + c * cellW - sl;
    const isSort = sortBy === c, isFocus = focusClass === c;
    const hov = hoverCol === c;
    if (isFocus || hov) {
      ctx.fillStyle = hov ? '#d6e6f2' : '#e6f1f8';
      ctx.fillRect(x, 0, cellW, headerH);
    }
    ctx.fillStyle = isSort ? '#0072b2' : '#1b1f24';
    ctx.font = isSort || isFocus ? `600 ${FONT}` : FONT;
    const label = (isSort ? '▼ ' : '') + classes[c];
    if (headerH > 30) {
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
}

/** The rules under the column headers and right of the row headers. */
function drawHeaderRules(ctx: CanvasRenderingContext2D, v: Visible): void {
  ctx.strokeStyle = '#d9dee5';
  ctx.beginPath();
  ctx.moveTo(0, v.headerH - 0.5);
  ctx.lineTo(v.vw, v.headerH - 0.5);
  ctx.moveTo(ROW_HEADER_W - 0.5, 0);
  ctx.lineTo(ROW_HEADER_W - 0.5, v.vh);
  ctx.stroke();
}

/** Row headers: the proposal number of each row (every few rows when rows are thin), the selected one always. */
function drawRowHeaders(ctx: CanvasRenderingContext2D, v: Visible, order: Int32Array, selPos: number): void {
  const { rowH, headerH, st, r0, r1 } = v;
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, headerH, ROW_HEADER_W - 1, v.cellsH);
  ctx.clip();
  ctx.fillStyle = '#f6f7f9';
  ctx.fillRect(0, headerH, ROW_HEADER_W - 1, v.cellsH);
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
}

/** The corner: sort by rank. */
function drawCorner(ctx: CanvasRenderingContext2D, v: Visible, sortBy: number | null, hovered: boolean): void {
  ctx.fillStyle = hovered ? '#d6e6f2' : '#fff';
  ctx.fillRect(0, 0, ROW_HEADER_W - 1, v.headerH - 1);
  ctx.font = sortBy === null ? `600 ${FONT}` : FONT;
  ctx.fillStyle = sortBy === null ? '#0072b2' : '#1b1f24';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText(sortBy === null ? '▼ rank' : 'rank', ROW_HEADER_W / 2, v.headerH - 4);
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
