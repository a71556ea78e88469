/**
 * Box labels on the image overlays (scores, ranks, class names) placed so that they do not cover
 * each other: neighbouring proposals often share a top-left corner, and labels drawn at that
 * corner overprinted into an unreadable smear. Labels are placed in priority order (the first
 * gets its preferred spot), each at the first free one of a few spots around its box, kept inside
 * the image; when none is free, at the spot that overlaps least. Labels are drawn after every
 * box line: ImageCanvas runs each overlay inside `withLabelLayer`, which queues its labels (the
 * stage's and the ground truth's) and places and draws them together, last.
 */
import type { ViewTransform } from './ImageCanvas';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type LabelAnchor = 'above' | 'inside' | 'below';

/** Area shared by two rectangles. */
export function overlapArea(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * Positions for labels of size w x h attached to boxes [x0, y0, x1, y1], in priority order, inside
 * [0, W] x [0, H]. Spots tried: the preferred anchor at the left edge (above the box, just inside
 * its top, or below it), then the others (above, inside the top, below, inside the bottom), the
 * top-right corner, then down the box's left edge one label height at a time.
 */
export function placeLabels(items: ReadonlyArray<{ box: ArrayLike<number>; w: number; h: number; prefer?: LabelAnchor }>, W: number, H: number): Rect[] {
  const placed: Rect[] = [];
  for (const { box: b, w, h, prefer = 'above' } of items) {
    const clamp = (x: number, y: number): Rect => ({ x: Math.max(0, Math.min(x, W - w)), y: Math.max(0, Math.min(y, H - h)), w, h });
    const anchors = { above: clamp(b[0], b[1] - h), inside: clamp(b[0], b[1]), below: clamp(b[0], b[3]) };
    const spots = [anchors[prefer], anchors.above, anchors.inside, anchors.below, clamp(b[0], b[3] - h), clamp(b[2] - w, b[1] - h), clamp(b[2] - w, b[1])];
    for (let y = b[1] + h; y + h <= b[3] - h; y += h) spots.push(clamp(b[0], y));
    let best = spots[0], bestOverlap = Infinity;
    for (const s of spots) {
      const o = placed.reduce((sum, p) => sum + overlapArea(s, p), 0);
      if (o < bestOverlap) {
        best = s;
        bestOverlap = o;
        if (o === 0) break;
      }
    }
    placed.push(best);
  }
  return placed;
}

export interface Label {
  box: ArrayLike<number>;
  text: string;
  /** Tab colour. */
  bg: string;
  /** Text colour (default black). */
  fg?: string;
}

export interface LabelStyle {
  /** CSS pixels, at any zoom. */
  fontPx?: number;
  fontWeight?: number;
  /** Tab height in CSS pixels. */
  heightPx?: number;
  prefer?: LabelAnchor;
}

interface Measured {
  label: Label;
  w: number;
  h: number;
  prefer: LabelAnchor;
  font: string;
  pad: number;
  baseline: number;
}

function measure(ctx: CanvasRenderingContext2D, vt: ViewTransform, labels: readonly Label[], style: LabelStyle): Measured[] {
  const { fontPx = 12, fontWeight = 400, heightPx = 16, prefer = 'above' } = style;
  const s = vt.scale;
  const font = `${fontWeight} ${fontPx / s}px system-ui, sans-serif`;
  ctx.font = font;
  const pad = 4 / s;
  return labels.map((label) => ({ label, w: ctx.measureText(label.text).width + 2 * pad, h: heightPx / s, prefer, font, pad, baseline: (heightPx / 2 + fontPx * 0.36) / s }));
}

function place(ctx: CanvasRenderingContext2D, vt: ViewTransform, items: Measured[]): Rect[] {
  const rects = placeLabels(items.map((m) => ({ box: m.label.box, w: m.w, h: m.h, prefer: m.prefer })), vt.width / vt.scale, vt.height / vt.scale);
  // Lowest priority first, so that if tabs must overlap the important one is on top.
  for (let i = items.length - 1; i >= 0; i--) {
    const { label, font, pad, baseline } = items[i];
    const r = rects[i];
    ctx.font = font;
    ctx.fillStyle = label.bg;
    ctx.fillRect(r.x, r.y, r.w, r.h);
    ctx.fillStyle = label.fg ?? '#000';
    ctx.fillText(label.text, r.x + pad, r.y + baseline);
  }
  return rects;
}

const layers = new WeakMap<CanvasRenderingContext2D, Measured[]>();

/**
 * Draws `labels` (highest priority first) as filled tabs without overlaps where the image has
 * room; sizes are CSS pixels whatever the zoom. Inside `withLabelLayer` they are queued and drawn
 * with the layer's other labels after every box.
 */
export function drawLabels(ctx: CanvasRenderingContext2D, vt: ViewTransform, labels: readonly Label[], style: LabelStyle = {}): void {
  const items = measure(ctx, vt, labels, style);
  const layer = layers.get(ctx);
  if (layer) layer.push(...items);
  else place(ctx, vt, items);
}

/** A label as drawn: its text and tab, in working-image pixels. */
export interface PlacedLabel {
  text: string;
  rect: Rect;
}

/**
 * Runs `draw` with its labels (every drawLabels call on ctx, in call order as priority) held back,
 * then places them together on top of everything `draw` drew. Returns draw's value and the labels.
 */
export function withLabelLayer<T>(ctx: CanvasRenderingContext2D, vt: ViewTransform, draw: () => T): { value: T; labels: PlacedLabel[] } {
  const items: Measured[] = [];
  layers.set(ctx, items);
  let value: T;
  try {
    value = draw();
  } finally {
    layers.delete(ctx);
  }
  const rects = place(ctx, vt, items);
  return { value, labels: items.map((m, i) => ({ text: m.label.text, rect: rects[i] })) };
}
