import { useEffect, useMemo, useRef, useState } from 'react';
import { useStore } from '../../../state/store';
import type { FeaturesResult } from '../../../runner/cnnActions';
import { mapFeatures, type FeatureMap } from '../../../runner/pcaClient';
import { classColor } from '../../palette';
import { nearestPoint, scatterFrame, toScreen, topClass, type ScatterFrame } from './maps';

const HEIGHT = 260;
const BACKGROUND = '#9aa3ad';
const UNSCORED = '#0072b2';

type MapState = { status: 'idle' } | { status: 'running'; of: FeaturesResult } | { status: 'ready'; of: FeaturesResult; map: FeatureMap } | { status: 'error'; message: string };

/** Colour index per mapped point: SVM class, -1 background (every score < 0), -2 not scored. */
function pointClasses(map: FeatureMap, f: FeaturesResult | null): Int32Array {
  const out = new Int32Array(map.n).fill(-2);
  if (!f?.scores || !f.classes || f.proposals !== map.proposals) return out;
  const C = f.classes.length;
  for (let k = 0; k < map.n; k++) {
    const i = map.index[k];
    if (f.computed[i]) out[k] = topClass(f.scores, C, i).cls;
  }
  return out;
}

/** The scatter: axes through the mean, every point coloured by its class, rings on the hovered and selected proposals. */
function drawScatter(c: HTMLCanvasElement, width: number, frame: ScatterFrame, map: FeatureMap, classes: Int32Array, slot: Int32Array, hovered: number | null, selected: number): void {
  const dpr = window.devicePixelRatio || 1;
  c.width = Math.round(width * dpr);
  c.height = Math.round(HEIGHT * dpr);
  const ctx = c.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#fbfcfd';
  ctx.fillRect(0, 0, width, HEIGHT);
  drawAxes(ctx, width, frame);
  const dot = (k: number, r: number, color: string) => {
    const [x, y] = toScreen(frame, map.coords[2 * k], map.coords[2 * k + 1]);
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fillStyle = color;
    ctx.fill();
    ctx.strokeStyle = 'rgba(0,0,0,0.45)';
    ctx.lineWidth = 0.6;
    ctx.stroke();
  };
  // Background first so class points stay visible on top.
  for (let k = 0; k < map.n; k++) if (classes[k] === -1) dot(k, 2.5, BACKGROUND);
  for (let k = 0; k < map.n; k++) if (classes[k] === -2) dot(k, 2.5, UNSCORED);
  for (let k = 0; k < map.n; k++) if (classes[k] >= 0) dot(k, 3.2, classColor(classes[k]));
  const ring = (i: number | null, color: string, r: number) => {
    if (i === null || i >= slot.length || slot[i] < 0) return;
    const k = slot[i];
    const [x, y] = toScreen(frame, map.coords[2 * k], map.coords[2 * k + 1]);
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.lineWidth = 4;
    ctx.strokeStyle = 'rgba(0,0,0,0.6)';
    ctx.stroke();
    ctx.lineWidth = 2.2;
    ctx.strokeStyle = color;
    ctx.stroke();
  };
  ring(hovered, '#56B4E9', 7);
  ring(selected, '#E69F00', 8);
}

/** Axes through the mean (the origin of the principal components), labelled. */
function drawAxes(ctx: CanvasRenderingContext2D, width: number, frame: ScatterFrame): void {
  const [ox, oy] = toScreen(frame, 0, 0);
  ctx.strokeStyle = '#d9dee5';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(0, oy);
  ctx.lineTo(width, oy);
  ctx.moveTo(ox, 0);
  ctx.lineTo(ox, HEIGHT);
  ctx.stroke();
  ctx.fillStyle = '#5b6573';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.fillText('PC1', width - 4, Math.min(HEIGHT - 4, Math.max(12, oy - 4)));
  ctx.textAlign = 'left';
  ctx.fillText('PC2', Math.min(width - 24, Math.max(4, ox + 4)), 12);
}

/** The PCA of `fresh`'s fc7 features in a Web Worker: started by itself once every proposal has them, or by `run`. */
function useFeatureMap(fresh: FeaturesResult | null) {
  const [state, setState] = useState<MapState>({ status: 'idle' });
  const run = (f: FeaturesResult) => {
    setState({ status: 'running', of: f });
    mapFeatures(f).then(
      (map) => setState((s) => (s.status === 'running' && s.of === f ? { status: 'ready', of: f, map } : s)),
      (e: Error) => setState({ status: 'error', message: e.message }),
    );
  };
  // Map automatically once every proposal has its features.
  useEffect(() => {
    if (fresh?.complete && !(state.status !== 'idle' && state.status !== 'error' && state.of === fresh)) run(fresh);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [fresh]);
  return { state, run };
}

/** An element's content width (at least 200 px), kept up to date; pass the element through a ref callback. */
function useElementWidth(el: HTMLElement | null, initial: number): number {
  const [width, setWidth] = useState(initial);
  useEffect(() => {
    if (!el) return;
    const ro = new ResizeObserver(([e]) => setWidth(Math.max(200, Math.floor(e.contentRect.width))));
    ro.observe(el);
    return () => ro.disconnect();
  }, [el]);
  return width;
}

/** What the point of proposal i is: its class or why it has none, its top score, its coordinates. */
function describePoint(i: number | null, map: FeatureMap | null, slot: Int32Array | null, classes: Int32Array | null, f: FeaturesResult): string | null {
  if (i === null || !slot || !map || slot[i] < 0) return null;
  const k = slot[i];
  const c = classes![k];
  const name = c >= 0 ? f.classes![c] : c === -1 ? 'background' : 'not scored';
  const sc = f.scores && f.classes ? topClass(f.scores, f.classes.length, i).score : null;
  return `#${i + 1}: ${name}${sc !== null ? ` (top score ${sc.toFixed(2)})` : ''}, PC1 ${map.coords[2 * k].toFixed(1)}, PC2 ${map.coords[2 * k + 1].toFixed(1)}`;
}

/** The colours with how many points each has. */
function MapLegend({ names, classes }: { names: readonly string[] | null | undefined; classes: Int32Array | null }) {
  const counts = new Map<number, number>();
  if (classes) for (const c of classes) counts.set(c, (counts.get(c) ?? 0) + 1);
  return (
    <ul className="legend small" aria-label="Colours">
      {names?.map((name, c) => (
        <li key={name}>
          <span className="swatch" style={{ background: classColor(c) }} aria-hidden="true" />
          {name} <span className="muted">{counts.get(c) ?? 0}</span>
        </li>
      ))}
      <li>
        <span className="swatch" style={{ background: BACKGROUND }} aria-hidden="true" />
        background <span className="muted">{counts.get(-1) ?? 0}</span>
      </li>
      {(counts.get(-2) ?? 0) > 0 && (
        <li>
          <span className="swatch" style={{ background: UNSCORED }} aria-hidden="true" />
          no SVM score <span className="muted">{counts.get(-2)}</span>
        </li>
      )}
    </ul>
  );
}

function PcaInfo({ map }: { map: FeatureMap }) {
  return (
    <p className="small muted" data-testid="pca-info">
      PC1 explains {(100 * map.explained[0]).toFixed(1)}% of the fc7 variance, PC2 {(100 * map.explained[1]).toFixed(1)}%. PCA of {map.n} × {map.d} features by block power
      iteration in a Web Worker: {map.workerMs.toFixed(0)} ms ({map.iterations} iterations{map.converged ? '' : ', not fully converged'}), {map.wallMs.toFixed(0)} ms with the copy.
    </p>
  );
}

/**
 * Every proposal's fc7 vector projected on its first two principal components (computed in a Web
 * Worker), coloured by the top SVM class once scores exist: proposals of one object class should
 * gather, background spreads out. Hover a point to see its box on the photo, click to select it.
 */
export function FeatureMapView() {
  const features = useStore((s) => s.features);
  const image = useStore((s) => s.image);
  const selected = useStore((s) => s.selectedProposal) ?? 0;
  const select = useStore((s) => s.setSelectedProposal);
  const hovered = useStore((s) => s.hoveredProposal);
  const setHovered = useStore((s) => s.setHoveredProposal);
  const [wrapEl, setWrapEl] = useState<HTMLDivElement | null>(null);
  const width = useElementWidth(wrapEl, 380);
  const canvas = useRef<HTMLCanvasElement>(null);
  const fresh = features && image && features.imageKey === image.key ? features : null;
  const { state, run } = useFeatureMap(fresh);
  useEffect(() => () => setHovered(null), [setHovered]);

  const map = state.status === 'ready' && fresh && state.map.proposals === fresh.proposals ? state.map : null;
  const frame = useMemo(() => (map ? scatterFrame(map.coords, width, HEIGHT, 12) : null), [map, width]);
  const classes = useMemo(() => (map ? pointClasses(map, fresh) : null), [map, fresh]);
  const slot = useMemo(() => {
    if (!map) return null;
    const s = new Int32Array(map.total).fill(-1);
    map.index.forEach((i, k) => (s[i] = k));
    return s;
  }, [map]);

  useEffect(() => {
    const c = canvas.current;
    if (!c || !map || !frame || !classes || !slot) return;
    drawScatter(c, width, frame, map, classes, slot, hovered, selected);
  }, [map, frame, classes, slot, width, hovered, selected]);

  if (!fresh) {
    return <p className="small muted">The map needs fc7 features: run the CNN above.</p>;
  }
  const pointAt = (e: React.PointerEvent | React.MouseEvent) => {
    if (!map || !frame) return -1;
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const k = nearestPoint(map.coords, frame, e.clientX - r.left, e.clientY - r.top, 9);
    return k >= 0 ? map.index[k] : -1;
  };
  const hoverInfo = describePoint(hovered, map, slot, classes, fresh);
  return (
    <div className="fmap" data-testid="feature-map" data-points={map?.n ?? 0} data-pca-ms={map ? map.workerMs.toFixed(1) : undefined}>
      {!fresh.complete && state.status !== 'running' && (
        <div className="row">
          <button className="btn" onClick={() => run(fresh)} disabled={fresh.done < 3} data-testid="map-partial">
            Map the {fresh.done} proposals computed so far
          </button>
          <span className="small muted">The map redraws by itself when all {fresh.total} are done.</span>
        </div>
      )}
      <div ref={setWrapEl} className="fmap-wrap">
        {map ? (
          <canvas
            ref={canvas}
            style={{ width, height: HEIGHT }}
            className="fmap-canvas"
            role="img"
            aria-label={`Scatter plot of ${map.n} proposals on the first two principal components of fc7. Click a point to select its proposal.`}
            data-testid="feature-map-canvas"
            onPointerMove={(e) => {
              const i = pointAt(e);
              setHovered(i >= 0 ? i : null);
            }}
            onPointerLeave={() => setHovered(null)}
            onClick={(e) => {
              const i = pointAt(e);
              if (i >= 0) select(i);
            }}
          />
        ) : (
          <div className="fmap-empty" style={{ height: HEIGHT }}>
            {state.status === 'running' ? 'Computing the principal components in a Web Worker…' : state.status === 'error' ? `The map failed: ${state.message}` : fresh.complete ? '' : `Waiting for features: ${fresh.done} of ${fresh.total} proposals done.`}
          </div>
        )}
      </div>
      <div className="small fmap-hover" aria-live="polite">
        {hoverInfo ?? (map ? 'Hover a point to see its box on the photo; click to select it.' : '')}
      </div>
      {map && (
        <>
          <MapLegend names={fresh.classes} classes={classes} />
          <PcaInfo map={map} />
        </>
      )}
    </div>
  );
}
