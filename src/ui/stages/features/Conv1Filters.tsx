import { useMemo } from 'react';
import { PixelCanvas } from './PixelCanvas';
import { filterRgba } from './maps';
import type { Conv1Weights } from './conv1Weights';

/**
 * The model's conv1 filters as RGB tiles (the network reads BGR; shown as RGB), each scaled on its
 * own with 0 at mid-grey. Trained AlexNets learn oriented edges and colour blobs here; clicking a
 * filter shows where it fires on the selected crop.
 */
export function Conv1Filters({ weights, error, selected, onSelect }: { weights: Conv1Weights | null; error: string | null; selected: number | null; onSelect: (f: number) => void }) {
  const tiles = useMemo(() => {
    if (!weights) return [];
    const [kh, kw, cin, F] = weights.shape;
    return Array.from({ length: F }, (_, f) => filterRgba(weights.data, kh, kw, cin, F, f));
  }, [weights]);
  if (error) return <p className="small muted">The filters could not be read: {error}</p>;
  if (!weights) return <p className="small muted">Reading the filters from the CNN worker…</p>;
  const [kh, kw, cin, F] = weights.shape;
  const size = kh * 3;
  return (
    <div data-testid="conv1-filters" data-filters={F}>
      <p className="small muted">
        {F} filters of {kh} × {kw} × {cin}
        {cin === 3 ? ' (blue, green, red inputs, drawn as RGB)' : ''}; each tile is scaled to its own largest weight, 0 is grey.
      </p>
      <ul className="filter-grid" aria-label={`conv1 filters, ${F} tiles`}>
        {tiles.map((px, f) => (
          <li key={f}>
            <button className={`act-tile${f === selected ? ' act-tile-on' : ''}`} onClick={() => onSelect(f)} aria-label={`Filter ${f}: show its response`} aria-pressed={f === selected} title={`filter ${f}`}>
              <PixelCanvas width={kw} height={kh} pixels={px} cssWidth={size} cssHeight={size} testId="conv1-filter" />
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
