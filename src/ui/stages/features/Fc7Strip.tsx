import { useMemo, useRef, useState } from 'react';
import { PixelCanvas } from './PixelCanvas';
import { stripRgba, summarizeVector } from './maps';

/**
 * The crop's fc7 vector, R-CNN's feature, as a 1 x D colour bar (viridis on [0, max]; fc7 is after
 * its ReLU, so most units are exactly 0). Sorted, it shows how few units carry the activation.
 */
export function Fc7Strip({ values, name = 'fc7', proposal, backend, model }: { values: Float32Array; name?: string; proposal?: number; backend?: string; model?: string }) {
  const [sorted, setSorted] = useState(false);
  const [hover, setHover] = useState<number | null>(null);
  const ref = useRef<HTMLDivElement>(null);
  const s = useMemo(() => summarizeVector(values, 5), [values]);
  const shown = useMemo(() => (sorted ? Float32Array.from(values).sort().reverse() : values), [values, sorted]);
  const px = useMemo(() => stripRgba(shown, s.max), [shown, s.max]);
  const D = values.length;
  // Every value, for tests that compare backends on the numbers the panel shows.
  const valuesAttr = useMemo(() => Array.from(values, (v) => (v === 0 ? '0' : v.toPrecision(7))).join(','), [values]);
  const onMove = (e: React.PointerEvent) => {
    const r = ref.current!.getBoundingClientRect();
    setHover(Math.max(0, Math.min(D - 1, Math.floor(((e.clientX - r.left) / r.width) * D))));
  };
  return (
    <div
      className="fc7"
      data-testid="fc7-strip"
      data-proposal={proposal}
      data-backend={backend}
      data-model={model}
      data-dim={D}
      data-norm={s.norm}
      data-max={s.max}
      data-active={s.active}
      data-values={valuesAttr}
    >
      <div ref={ref} className="fc7-bar" onPointerMove={onMove} onPointerLeave={() => setHover(null)}>
        <PixelCanvas
          width={D}
          height={1}
          pixels={px}
          cssWidth="100%"
          cssHeight={28}
          label={`${name}: ${D} units${sorted ? ', sorted by value' : ''}; ${s.active} above zero, largest ${s.max.toFixed(2)} at unit ${s.argmax}`}
          testId="fc7-canvas"
        />
      </div>
      <div className="fc7-axis small muted" aria-hidden="true">
        <span>{sorted ? 'largest' : 'unit 0'}</span>
        <span>{hover !== null ? (sorted ? `rank ${hover + 1}: ${shown[hover].toFixed(3)}` : `unit ${hover}: ${values[hover].toFixed(3)}`) : ''}</span>
        <span>{sorted ? 'smallest' : `unit ${D - 1}`}</span>
      </div>
      <div className="fc7-stats small">
        <span>
          ‖{name}‖ = <span data-testid="fc7-norm">{s.norm.toFixed(4)}</span> · {s.active} of {D} units above zero ({((100 * s.active) / D).toFixed(0)}%) · colour 0 (dark) to {s.max.toFixed(2)} (yellow)
        </span>
        <label className="check">
          <input type="checkbox" checked={sorted} onChange={(e) => setSorted(e.target.checked)} /> sorted
        </label>
      </div>
      <p className="small muted fc7-top">
        Strongest units: {s.top.map((i) => `#${i} ${values[i].toFixed(3)}`).join(', ')}
      </p>
    </div>
  );
}
