import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { RgbImage } from '../core/image/raster';
import { rgbToRgba } from '../core/image/raster';
import { type PlacedLabel, withLabelLayer } from './labels';

/** Boxes an overlay drew, in working-image pixels. */
export type DrawnBoxes = ArrayLike<number>[];

export interface ViewTransform {
  /** CSS pixels per working-image pixel. */
  scale: number;
  /** CSS size of the drawn image. */
  width: number;
  height: number;
}

interface Props {
  image: RgbImage;
  /**
   * Draws on top of the photo, in working-image coordinates (the context is already scaled). It
   * may return the boxes it drew; they are exposed as data attributes so tests can check what
   * is drawn, not just the DOM, and so are the labels it drew with drawLabels (data-labels).
   */
  drawOverlay?: (ctx: CanvasRenderingContext2D, view: ViewTransform) => DrawnBoxes | void;
  /** Pointer position in working-image pixels (null when the pointer leaves). */
  onHover?: (p: { x: number; y: number } | null) => void;
  onClick?: (p: { x: number; y: number }) => void;
  /** Drag interactions in working-image pixels (e.g. drawing a ground-truth box). */
  onDragStart?: (p: { x: number; y: number }) => void;
  onDragMove?: (p: { x: number; y: number }) => void;
  onDragEnd?: (p: { x: number; y: number }) => void;
  cursor?: string;
  /** Extra layers (e.g. an SVG of interactive boxes) positioned over the photo. */
  children?: (view: ViewTransform) => ReactNode;
  label: string;
  /**
   * Redraw trigger for the overlay: a value, or an array of values compared element by element
   * (see sameOverlayKey).
   */
  overlayKey?: unknown;
}

/**
 * Whether two overlay keys ask for the same picture: equal values, or arrays of the same length
 * whose elements are identical. The stages build their key as a fresh array at every render
 * (`[view, rule, hovered]`), which as an effect dependency redrew the whole canvas whenever the
 * App re-rendered, e.g. when a search starts and the stepper shows it running: 15-50 ms of
 * main-thread time (draw, canvas commit, raster) taken from the selective-search workers on a
 * 2-core machine (issue 24; scripts/profile-search.mjs).
 */
export function sameOverlayKey(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((x, i) => Object.is(x, b[i]));
}

/** The previous key while the new one is the same (sameOverlayKey), so that effects keyed on it do not re-run. */
function useStableKey(key: unknown): unknown {
  const ref = useRef(key);
  if (!sameOverlayKey(ref.current, key)) ref.current = key;
  return ref.current;
}

const bitmapCache = new WeakMap<RgbImage, HTMLCanvasElement>();

/** The viewer's last measured size: a canvas mounted for the next stage starts at it, not at a guess. */
let lastBox = { w: 640, h: 480 };

/** The photo as an offscreen canvas, built once per raster. */
function photoCanvas(image: RgbImage): HTMLCanvasElement {
  let c = bitmapCache.get(image);
  if (!c) {
    c = document.createElement('canvas');
    c.width = image.width;
    c.height = image.height;
    const ctx = c.getContext('2d')!;
    ctx.putImageData(new ImageData(rgbToRgba(image) as Uint8ClampedArray<ArrayBuffer>, image.width, image.height), 0, 0);
    bitmapCache.set(image, c);
  }
  return c;
}

/** The working image scaled to fit its box, with a crisp overlay layer (device-pixel aware). */
export function ImageCanvas({ image, drawOverlay, onHover, onClick, onDragStart, onDragMove, onDragEnd, cursor, children, label, overlayKey }: Props) {
  const dragging = useRef(false);
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [box, setBox] = useState(lastBox);
  const stableOverlayKey = useStableKey(overlayKey);

  useEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    const ro = new ResizeObserver(([entry]) => {
      const r = entry.contentRect;
      lastBox = { w: Math.max(50, r.width), h: Math.max(50, r.height) };
      setBox(lastBox);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const scale = Math.min(box.w / image.width, box.h / image.height);
  const view: ViewTransform = { scale, width: Math.round(image.width * scale), height: Math.round(image.height * scale) };

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(view.width * dpr));
    canvas.height = Math.max(1, Math.round(view.height * dpr));
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(photoCanvas(image), 0, 0, canvas.width, canvas.height);
    let drawn: DrawnBoxes | void = undefined;
    let labels: PlacedLabel[] = [];
    if (drawOverlay) {
      ctx.save();
      ctx.setTransform(view.scale * dpr, 0, 0, view.scale * dpr, 0, 0);
      // Labels go on top of every box, placed so that they do not cover each other.
      ({ value: drawn, labels } = withLabelLayer(ctx, view, () => drawOverlay(ctx, view)));
      ctx.restore();
    }
    const r1 = (v: number) => Math.round(v * 10) / 10;
    canvas.dataset.drawnCount = drawn ? String(drawn.length) : '';
    canvas.dataset.drawnBoxes = drawn ? JSON.stringify(drawn.map((b) => Array.from(b, r1))) : '';
    canvas.dataset.labels = JSON.stringify(labels.map((l) => ({ text: l.text, rect: [r1(l.rect.x), r1(l.rect.y), r1(l.rect.w), r1(l.rect.h)] })));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [image, view.width, view.height, drawOverlay, stableOverlayKey]);

  const toImage = (e: React.PointerEvent | React.MouseEvent) => {
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    return { x: (e.clientX - r.left) / view.scale, y: (e.clientY - r.top) / view.scale };
  };

  return (
    <div className="image-canvas" ref={wrapRef}>
      <div
        className="image-canvas-inner"
        style={{ width: view.width, height: view.height, cursor }}
        onPointerDown={
          onDragStart
            ? (e) => {
                dragging.current = true;
                (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
                onDragStart(toImage(e));
              }
            : undefined
        }
        onPointerMove={(e) => {
          if (dragging.current) onDragMove?.(toImage(e));
          else onHover?.(toImage(e));
        }}
        onPointerUp={(e) => {
          if (dragging.current) {
            dragging.current = false;
            onDragEnd?.(toImage(e));
          }
        }}
        onPointerLeave={onHover ? () => onHover(null) : undefined}
        onClick={onClick ? (e) => onClick(toImage(e)) : undefined}
      >
        <canvas
          ref={canvasRef}
          role="img"
          aria-label={label}
          data-testid="main-canvas"
          style={{ width: view.width, height: view.height }}
        />
        {children?.(view)}
      </div>
    </div>
  );
}

/** Stroke a box with a dark halo so the colour reads on light and dark photos. */
export function strokeBox(ctx: CanvasRenderingContext2D, b: ArrayLike<number>, color: string, widthCss: number, view: ViewTransform, dash?: number[]): void {
  const lw = widthCss / view.scale;
  ctx.setLineDash(dash ? dash.map((d) => d / view.scale) : []);
  ctx.lineWidth = lw * 2.2;
  ctx.strokeStyle = 'rgba(0,0,0,0.55)';
  ctx.strokeRect(b[0], b[1], b[2] - b[0], b[3] - b[1]);
  ctx.lineWidth = lw;
  ctx.strokeStyle = color;
  ctx.strokeRect(b[0], b[1], b[2] - b[0], b[3] - b[1]);
  ctx.setLineDash([]);
}

/** What a stage draws over the photo and how it reacts to the pointer. */
export interface StageOverlay {
  draw: (ctx: CanvasRenderingContext2D, view: ViewTransform) => DrawnBoxes | void;
  /** Changes whenever the drawing must be redone. */
  key?: unknown;
  onHover?: (p: { x: number; y: number } | null) => void;
}
