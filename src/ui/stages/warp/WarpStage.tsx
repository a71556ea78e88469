import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useStore } from '../../../state/store';
import { contextBox, warpedCropRgba } from './crops';
import { strokeBox, type ViewTransform } from '../../ImageCanvas';
import { computeProposals } from '../../../runner/proposalActions';

const PAGE = 48;
type SortKey = 'rank' | 'area' | 'aspect';

/** The selected proposal and the context region the warp samples, on the main image. */
export function useWarpOverlay() {
  const proposals = useStore((s) => s.proposals);
  const selected = useStore((s) => s.selectedProposal);
  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, vt: ViewTransform) => {
      if (!proposals) return;
      const i = selected ?? 0;
      if (i >= proposals.boxes.length / 4) return;
      const b = proposals.boxes.subarray(4 * i, 4 * i + 4);
      strokeBox(ctx, contextBox(b), '#56B4E9', 2, vt, [6, 4]);
      strokeBox(ctx, b, '#E69F00', 3, vt);
    },
    [proposals, selected],
  );
  return { draw, key: selected };
}

function CropCanvas({ index, size, className, label }: { index: number; size: number; className?: string; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const image = useStore((s) => s.image);
  const proposals = useStore((s) => s.proposals);
  useEffect(() => {
    const c = ref.current;
    if (!c || !image || !proposals) return;
    c.width = 227;
    c.height = 227;
    const ctx = c.getContext('2d')!;
    ctx.putImageData(warpedCropRgba(image.image, proposals.boxes.subarray(4 * index, 4 * index + 4)), 0, 0);
  }, [index, image, proposals]);
  // An empty label marks a thumbnail inside a labelled button: the canvas is then decoration.
  return label ? (
    <canvas ref={ref} className={className} style={{ width: size, height: size }} role="img" aria-label={label} data-crop={index} />
  ) : (
    <canvas ref={ref} className={className} style={{ width: size, height: size }} aria-hidden="true" data-crop={index} />
  );
}

export function WarpStage() {
  const proposals = useStore((s) => s.proposals);
  const image = useStore((s) => s.image);
  const selected = useStore((s) => s.selectedProposal);
  const select = useStore((s) => s.setSelectedProposal);
  const [sort, setSort] = useState<SortKey>('rank');
  const [page, setPage] = useState(0);
  const n = proposals ? proposals.boxes.length / 4 : 0;
  const order = useMemo(() => {
    if (!proposals) return new Int32Array(0);
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    const b = proposals.boxes;
    const key = (i: number) => {
      const w = b[4 * i + 2] - b[4 * i], h = b[4 * i + 3] - b[4 * i + 1];
      return sort === 'area' ? -w * h : sort === 'aspect' ? -Math.max(w / h, h / w) : i;
    };
    return idx.sort((a, c) => key(a) - key(c));
  }, [proposals, sort, n]);
  if (!proposals || !image || proposals.imageKey !== image.key) {
    return (
      <div className="stage-body pending" data-testid="stage-pending">
        <p>
          <strong>Not computed yet.</strong> Warping needs the proposals.
        </p>
        <button className="btn btn-primary" onClick={() => void computeProposals()} disabled={!image}>
          Compute proposals
        </button>
      </div>
    );
  }
  const sel = selected ?? 0;
  const b = proposals.boxes.subarray(4 * sel, 4 * sel + 4);
  const w = b[2] - b[0], h = b[3] - b[1];
  const pages = Math.ceil(n / PAGE);
  const p = Math.min(page, pages - 1);
  return (
    <div className="stage-body">
      <p>
        The CNN needs a fixed 227 × 227 input, whatever the proposal's shape. R-CNN first enlarges each box so that, after
        warping, 16 pixels of surrounding context frame it (dashed blue on the image), then stretches it to 227 × 227
        without keeping the aspect ratio. Parts of the enlarged box outside the photo are filled with the mean colour.
      </p>
      <div className="crop-detail">
        <div className="crop-frame">
          <CropCanvas index={sel} size={227} label={`Warped crop of proposal ${sel + 1}`} />
          <div className="crop-inner" aria-hidden="true" />
        </div>
        <div className="small">
          <strong>Proposal #{sel + 1}</strong>
          <div>
            {Math.round(w * image.scaleX)} × {Math.round(h * image.scaleY)} px (aspect {(w / h).toFixed(2)})
          </div>
          <div>
            stretched ×{(195 / w / image.scaleX).toFixed(2)} horizontally, ×{(195 / h / image.scaleY).toFixed(2)} vertically
          </div>
          <div className="muted">The inner 195 × 195 (dashed) is the proposal; the 16 px border is context.</div>
        </div>
      </div>
      <div className="row">
        <label>
          Sort by{' '}
          <select value={sort} onChange={(e) => { setSort(e.target.value as SortKey); setPage(0); }}>
            <option value="rank">rank</option>
            <option value="area">size (largest first)</option>
            <option value="aspect">most elongated first</option>
          </select>
        </label>
        <button className="btn" disabled={p === 0} onClick={() => setPage(p - 1)} aria-label="Previous page of crops">
          ‹
        </button>
        <span className="small">
          {p * PAGE + 1}–{Math.min(n, (p + 1) * PAGE)} of {n}
        </span>
        <button className="btn" disabled={p >= pages - 1} onClick={() => setPage(p + 1)} aria-label="Next page of crops">
          ›
        </button>
      </div>
      <div className="crop-grid" role="list" aria-label="Warped crops" data-testid="crop-grid">
        {Array.from(order.subarray(p * PAGE, Math.min(n, (p + 1) * PAGE))).map((i) => (
          <div key={i} role="listitem" className="crop-item">
            <button
              className={`crop-thumb${i === sel ? ' crop-selected' : ''}`}
              onClick={() => select(i)}
              onMouseEnter={() => select(i)}
              onFocus={() => select(i)}
              aria-label={`Proposal ${i + 1}`}
              aria-pressed={i === sel}
            >
              <CropCanvas index={i} size={72} label="" />
            </button>
          </div>
        ))}
      </div>
    </div>
  );
}
