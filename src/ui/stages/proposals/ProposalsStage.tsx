import { useCallback } from 'react';
import { useStore, type ProposalParams } from '../../../state/store';
import type { ProposalsView } from '../../../state/views';
import { computeProposals } from '../../../runner/proposalActions';
import { Slider } from '../../widgets/Slider';
import { classColor, sequentialCss } from '../../palette';
import { strokeBox, type ViewTransform } from '../../ImageCanvas';
import { regionCanvas } from './segmentation';
import { COLOR_SPACES, RELEASE_SIMILARITY_SETS, type ColorSpace } from '../../../core/selectiveSearch/types';
import { bestOverlaps } from '../../../core/geometry';
import { SamplingRules, useSamplingRules } from './SamplingRules';

/** For each ground-truth box: the best IoU among the top-N proposals and which proposal gives it. */
function gtMatches(gtBoxes: Float32Array, proposals: Float32Array, topN: number) {
  return bestOverlaps(gtBoxes, proposals.subarray(0, 4 * topN));
}

function RecallSection({ topN }: { topN: number }) {
  const proposals = useStore((s) => s.proposals)!;
  const gt = useStore((s) => s.groundTruth);
  const image = useStore((s) => s.image);
  const setView = (v: Partial<ProposalsView>) => useStore.getState().setView('proposalsView', v);
  const setHovered = useStore((s) => s.setHoveredProposal);
  if (!gt || !image || gt.imageKey !== image.key || gt.labels.length === 0) {
    return <p className="muted small">Draw or load ground-truth boxes (Image stage) to measure recall here.</p>;
  }
  const m = gtMatches(gt.boxes, proposals.boxes, topN);
  const n = gt.labels.length;
  const at = (t: number) => Array.from(m.overlap).filter((v) => v >= t).length;
  const mean = Array.from(m.overlap).reduce((a, b) => a + b, 0) / n;
  return (
    <div data-testid="recall">
      <p>
        With the top {topN}: recall <strong>{at(0.5)}/{n}</strong> at IoU 0.5, <strong>{at(0.7)}/{n}</strong> at IoU 0.7; mean best
        overlap <strong>{mean.toFixed(3)}</strong>.
      </p>
      <table className="table">
        <thead>
          <tr>
            <th>Ground truth</th>
            <th>Best IoU</th>
            <th>Proposal</th>
          </tr>
        </thead>
        <tbody>
          {gt.labels.map((l, i) => (
            <tr key={i}>
              <td>{l}</td>
              <td>{m.overlap[i].toFixed(3)}</td>
              <td>
                {m.index[i] >= 0 ? (
                  <button className="link" onClick={() => {
                    setHovered(m.index[i]);
                    setView({ showSegmentation: false });
                  }}>
                    #{m.index[i] + 1}
                  </button>
                ) : (
                  '–'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const SIM_TEXT: Record<string, string> = {
  CTSF: 'colour + texture + size + fill',
  TSF: 'texture + size + fill',
  F: 'fill only',
  S: 'size only',
};

function specText(spec: { colorSpace: string; k: number; similarity: string }): string {
  return `${spec.colorSpace}, k = ${spec.k}, ${SIM_TEXT[spec.similarity] ?? spec.similarity}`;
}

/** Boxes drawn for the Proposals stage: top-N by rank or strategy, the hovered one on top. */
export function useProposalsOverlay() {
  const proposals = useStore((s) => s.proposals);
  const view = useStore((s) => s.proposalsView);
  const hovered = useStore((s) => s.hoveredProposal);
  const rules = useSamplingRules(view.ruleClass);
  const rule = view.rule && rules ? rules.rules.find((r) => r.id === view.rule) : undefined;
  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, vt: ViewTransform) => {
      if (!proposals) return;
      if (rule) {
        rule.draw(ctx, vt.scale);
        return;
      }
      const { boxes, runIndex } = proposals;
      const n = Math.min(view.topN, boxes.length / 4);
      if (view.showSegmentation) {
        const run = proposals.runs[view.selectedRun];
        const c = run && regionCanvas(run, view.mergeStep);
        const img = useStore.getState().image;
        if (c && img) {
          ctx.globalAlpha = 0.6;
          ctx.imageSmoothingEnabled = false;
          ctx.drawImage(c, 0, 0, img.image.width, img.image.height);
          ctx.globalAlpha = 1;
          if (view.mergeStep > 0) {
            // The box the latest merge yields, in search pixels scaled to the working image.
            const r = run.segmentCount + view.mergeStep - 1;
            const sx = img.image.width / run.width, sy = img.image.height / run.height;
            const b = run.boxes;
            strokeBox(ctx, [b[4 * r] * sx, b[4 * r + 1] * sy, b[4 * r + 2] * sx, b[4 * r + 3] * sy], '#FFFFFF', 3, vt);
          }
          return;
        }
      }
      // Worst-ranked first so the best proposals end up on top.
      const thin = n > 300 ? 0.8 : n > 50 ? 1.2 : 2;
      for (let i = n - 1; i >= 0; i--) {
        const color = view.colorBy === 'rank' ? sequentialCss(1 - i / Math.max(1, n - 1), n > 300 ? 0.55 : 0.9) : classColor(runIndex[i]);
        const b = boxes.subarray(4 * i, 4 * i + 4);
        ctx.lineWidth = thin / vt.scale;
        ctx.strokeStyle = color;
        ctx.strokeRect(b[0], b[1], b[2] - b[0], b[3] - b[1]);
      }
      if (hovered !== null && hovered < boxes.length / 4) {
        const h = hovered;
        strokeBox(ctx, boxes.subarray(4 * h, 4 * h + 4), '#FFFFFF', 3, vt);
      }
    },
    [proposals, view, rule, hovered],
  );
  const onHover = useCallback(
    (p: { x: number; y: number } | null) => {
      const st = useStore.getState();
      const pr = st.proposals;
      if (!pr || st.proposalsView.showSegmentation) return;
      if (!p) {
        if (st.hoveredProposal !== null) st.setHoveredProposal(null);
        return;
      }
      // The smallest drawn box under the pointer is the most specific one.
      const n = Math.min(st.proposalsView.topN, pr.boxes.length / 4);
      let best = -1;
      let bestArea = Infinity;
      for (let i = 0; i < n; i++) {
        const b = pr.boxes;
        if (p.x >= b[4 * i] && p.x <= b[4 * i + 2] && p.y >= b[4 * i + 1] && p.y <= b[4 * i + 3]) {
          const a = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
          if (a < bestArea) {
            bestArea = a;
            best = i;
          }
        }
      }
      const hovered = best >= 0 ? best : null;
      if (hovered !== st.hoveredProposal) st.setHoveredProposal(hovered);
    },
    [],
  );
  return { draw, onHover, key: [view, rule, hovered] };
}

function ProposalInfo({ index }: { index: number }) {
  const proposals = useStore((s) => s.proposals)!;
  const image = useStore((s) => s.image)!;
  const b = proposals.boxes.subarray(4 * index, 4 * index + 4);
  const spec = proposals.specs[proposals.runIndex[index]];
  const run = proposals.runs[proposals.runIndex[index]];
  const region = proposals.regionId[index];
  const w = (b[2] - b[0]) * image.scaleX;
  const h = (b[3] - b[1]) * image.scaleY;
  return (
    <div className="info-card" data-testid="proposal-info" aria-live="polite">
      <strong>Proposal #{index + 1}</strong> of {proposals.boxes.length / 4}
      <div>
        {Math.round(w)} × {Math.round(h)} px at ({Math.round(b[0] * image.scaleX)}, {Math.round(b[1] * image.scaleY)})
      </div>
      <div>
        From run {proposals.runIndex[index] + 1}: {specText(spec)}
      </div>
      <div className="muted">
        {run && region >= run.segmentCount ? `Region made by merge ${region - run.segmentCount + 1} of ${run.segmentCount - 1}` : 'A base segment (before any merge)'}
      </div>
    </div>
  );
}

function StrategyControls() {
  const params = useStore((s) => s.proposalParams);
  const set = useStore((s) => s.setProposalParams);
  const custom = params.custom;
  const toggle = <T,>(list: T[], v: T): T[] => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);
  const setCustom = (c: Partial<ProposalParams['custom']>) => set({ custom: { ...custom, ...c } });
  return (
    <fieldset className="controls">
      <legend>Strategy</legend>
      <div className="radio-row" role="radiogroup" aria-label="Selective search mode">
        {(['fast', 'quality', 'custom'] as const).map((m) => (
          <label key={m}>
            <input type="radio" name="ss-mode" checked={params.mode === m} onChange={() => set({ mode: m })} data-testid={`ss-mode-${m}`} />
            {m === 'fast' ? 'Fast (R-CNN, 8 runs)' : m === 'quality' ? 'Quality (80 runs)' : 'Custom'}
          </label>
        ))}
      </div>
      {params.mode === 'custom' && (
        <div className="custom-grid">
          <div>
            <div className="muted small">Colour spaces</div>
            {(COLOR_SPACES as readonly ColorSpace[]).map((c) => (
              <label key={c} className="check">
                <input type="checkbox" checked={custom.colorSpaces.includes(c)} onChange={() => setCustom({ colorSpaces: toggle(custom.colorSpaces, c) })} />
                {c}
              </label>
            ))}
          </div>
          <div>
            <div className="muted small">k (segment scale)</div>
            {[50, 100, 150, 300].map((k) => (
              <label key={k} className="check">
                <input type="checkbox" checked={custom.ks.includes(k)} onChange={() => setCustom({ ks: toggle(custom.ks, k) })} />
                {k}
              </label>
            ))}
          </div>
          <div>
            <div className="muted small">Similarity</div>
            {RELEASE_SIMILARITY_SETS.map((sim) => (
              <label key={sim} className="check" title={SIM_TEXT[sim]}>
                <input type="checkbox" checked={custom.similarities.includes(sim)} onChange={() => setCustom({ similarities: toggle(custom.similarities, sim) })} />
                {sim}
              </label>
            ))}
          </div>
        </div>
      )}
      <div className="row">
        <label>
          Seed{' '}
          <input type="number" value={params.seed} min={0} step={1} style={{ width: 80 }} onChange={(e) => set({ seed: Math.max(0, Math.round(Number(e.target.value) || 0)) })} />
        </label>
        <label>
          Keep top{' '}
          <input type="number" value={params.maxBoxes} min={1} max={20000} step={100} style={{ width: 80 }} data-testid="ss-max" onChange={(e) => set({ maxBoxes: Math.min(20000, Math.max(1, Math.round(Number(e.target.value) || 2000))) })} />
        </label>
      </div>
    </fieldset>
  );
}

export function ProposalsStage() {
  const proposals = useStore((s) => s.proposals);
  const params = useStore((s) => s.proposalParams);
  const image = useStore((s) => s.image);
  const view = useStore((s) => s.proposalsView);
  const setView = (v: Partial<ProposalsView>) => useStore.getState().setView('proposalsView', v);
  const hovered = useStore((s) => s.hoveredProposal);
  const setHovered = useStore((s) => s.setHoveredProposal);
  // Only whether selective search is running: the progress object changes at every finished run,
  // and re-rendering this whole panel (its canvases) for each took main-thread time from the two
  // selective-search workers on a 2-core machine (issue 24).
  const running = useStore((s) => s.progress?.stage === 'proposals');
  const fresh = !!proposals && !!image && proposals.imageKey === image.key && JSON.stringify(proposals.params) === JSON.stringify(params);
  const customEmpty = params.mode === 'custom' && (!params.custom.colorSpaces.length || !params.custom.ks.length || !params.custom.similarities.length);
  const count = proposals ? proposals.boxes.length / 4 : 0;
  const run = proposals?.runs[view.selectedRun];

  return (
    <div className="stage-body">
      <p>
        Selective search first cuts the image into small superpixels (Felzenszwalb-Huttenlocher graph segmentation), then
        repeatedly merges the two most similar <em>neighbouring</em> regions until one region is left. Every region ever
        formed is a candidate box. Running this for several colour spaces and similarity measures diversifies the boxes;
        R-CNN keeps about 2000, ranked by when they formed (times a random factor).
      </p>
      <StrategyControls />
      <div className="row">
        <button className="btn btn-primary" disabled={!image || running || customEmpty} onClick={() => void computeProposals()} data-testid="compute-proposals">
          {fresh ? 'Recompute' : proposals ? 'Compute with these settings' : 'Compute proposals'}
        </button>
        {customEmpty && <span className="muted small">Pick at least one of each.</span>}
      </div>
      {proposals && (
        <>
          <p data-testid="proposal-summary">
            <strong>{count}</strong> proposals from {proposals.specs.length} runs in <strong>{(proposals.ms / 1000).toFixed(2)} s</strong> on{' '}
            {proposals.workers} worker{proposals.workers === 1 ? '' : 's'}. {proposals.counts.pooled} boxes pooled, {proposals.counts.afterMinSide} at least 20 px on
            each side, {proposals.counts.unique} after removing duplicates.
            {!fresh && <span className="muted"> (computed with earlier settings)</span>}
          </p>
          <Slider label="Proposals drawn" value={Math.min(view.topN, count)} min={1} max={Math.max(1, count)} step={1} onChange={(v) => setView({ topN: v })} help="The best-ranked N proposals." testId="topn-slider" />
          <div className="radio-row" role="radiogroup" aria-label="Colour boxes by">
            <span className="muted">Colour by</span>
            <label>
              <input type="radio" checked={view.colorBy === 'rank'} onChange={() => setView({ colorBy: 'rank' })} /> rank (yellow = best)
            </label>
            <label>
              <input type="radio" checked={view.colorBy === 'strategy'} onChange={() => setView({ colorBy: 'strategy' })} /> run
            </label>
          </div>
          <div className="row">
            <button className="btn" onClick={() => setHovered(hovered === null ? 0 : Math.max(0, hovered - 1))} aria-label="Previous proposal">
              ‹ prev
            </button>
            <button className="btn" onClick={() => setHovered(hovered === null ? 0 : Math.min(count - 1, hovered + 1))} aria-label="Next proposal">
              next ›
            </button>
            <span className="muted small">Hover a box, or step through them by rank.</span>
          </div>
          {hovered !== null && hovered < count && <ProposalInfo index={hovered} />}

          <h3>Recall against the ground truth</h3>
          <RecallSection topN={Math.min(view.topN, count)} />
          <SamplingRules />

          <h3>Runs</h3>
          <table className="table" data-testid="runs-table">
            <thead>
              <tr>
                <th>#</th>
                <th>Colour space, k, similarity</th>
                <th>Segments</th>
                <th>ms</th>
              </tr>
            </thead>
            <tbody>
              {proposals.specs.map((s, i) => (
                <tr key={i} className={i === view.selectedRun ? 'selected' : ''}>
                  <td>
                    <span className="swatch" style={{ background: classColor(i) }} aria-hidden="true" />
                    {i + 1}
                  </td>
                  <td>
                    <button className="link" onClick={() => setView({ selectedRun: i, mergeStep: 0, showSegmentation: true })}>
                      {specText(s)}
                    </button>
                  </td>
                  <td>{proposals.runs[i]?.segmentCount}</td>
                  <td>{proposals.runs[i]?.timings.totalMs.toFixed(0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted small">
            Work shared between runs (colour conversion, a segmentation used by two similarity sets) is counted in the
            first run that needed it. Wall time {proposals.ms.toFixed(0)} ms.
          </p>

          <h3>Grouping replay</h3>
          <label className="check">
            <input type="checkbox" checked={view.showSegmentation} onChange={(e) => setView({ showSegmentation: e.target.checked })} data-testid="show-segmentation" />
            Show run {view.selectedRun + 1}'s regions instead of the boxes
          </label>
          {run && view.showSegmentation && (
            <>
              <Slider
                label="Merges"
                value={view.mergeStep}
                min={0}
                max={run.segmentCount - 1}
                step={1}
                onChange={(v) => setView({ mergeStep: v })}
                format={(v) => `${v} / ${run.segmentCount - 1} (${run.segmentCount - v} regions)`}
                help="Step 0 is the base segmentation; each step merges the two most similar neighbouring regions. The white box is the region the last merge formed."
                testId="merge-slider"
              />
              {view.mergeStep > 0 && (
                <p className="small">
                  Merge {view.mergeStep} joined regions {run.merges[2 * (view.mergeStep - 1)]} and {run.merges[2 * (view.mergeStep - 1) + 1]} (similarity{' '}
                  {run.mergeSimilarity[view.mergeStep - 1].toFixed(3)}).
                </p>
              )}
            </>
          )}
        </>
      )}
    </div>
  );
}
