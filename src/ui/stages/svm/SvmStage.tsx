import { useMemo } from 'react';
import { useStore } from '../../../state/store';
import type { SvmView } from '../../../state/views';
import { Slider } from '../../widgets/Slider';
import { Histogram } from '../../widgets/Histogram';
import { HeatMap } from './HeatMap';
import { CnnPending } from './CnnPending';
import { ClassPicker } from './ClassPicker';
import { Explain } from './Explain';
import { ScoreLegend } from './ScoreLegend';
import { classColumn, maxAbsDeviation, rowOrder, topKByClass } from './scores';
import { fmtScore, useScores, type ScoreInfo } from './useScores';
import { scoreMapImage, SCORE_MAP_FACTOR } from './overlay';
import './svm.css';


/** Score threshold shared with the NMS stage, and where the colour scales are centred. */
function ThresholdControls({ info }: { info: ScoreInfo }) {
  const setNms = useStore((s) => s.setNmsParams);
  const centreAt = useStore((s) => s.svmView.centreAt);
  const set = ((p: Partial<SvmView>) => useStore.getState().setView('svmView', p));
  const { min, max } = info.ranges;
  let lo = -2, hi = 2;
  for (let c = 0; c < info.C; c++) {
    if (min[c] < lo) lo = min[c];
    if (max[c] > hi) hi = max[c];
  }
  lo = Math.floor(Math.min(lo, info.threshold) * 4) / 4;
  hi = Math.ceil(Math.max(hi, info.threshold) * 4) / 4;
  return (
    <>
      <Slider
        label="Score threshold"
        value={info.threshold}
        min={lo}
        max={hi}
        step={0.05}
        onChange={(v) => setNms({ scoreThreshold: Math.round(v * 100) / 100 })}
        format={fmtScore}
        help="The same threshold as the NMS stage: proposals scoring below it are dropped before NMS. The reference demo drops below −1 before NMS and shows 0 and above, which leaves the same boxes at 0 and above."
        testId="svm-threshold"
      />
      <div className="radio-row" role="radiogroup" aria-label="Centre the colour scales at">
        <span className="muted small">White (the colour scales' centre) at</span>
        <label className="small">
          <input type="radio" name="svm-centre" checked={centreAt === 'threshold'} onChange={() => set({ centreAt: 'threshold' })} /> the threshold
        </label>
        <label className="small">
          <input type="radio" name="svm-centre" checked={centreAt === 'zero'} onChange={() => set({ centreAt: 'zero' })} /> 0
        </label>
      </div>
    </>
  );
}

export function SvmStage() {
  const info = useScores();
  const features = useStore((s) => s.features);
  const image = useStore((s) => s.image);
  const selected = useStore((s) => s.selectedProposal);
  const select = useStore((s) => s.setSelectedProposal);
  const view = useStore((s) => s.svmView);
  const f = info?.features;
  const C = info?.C ?? 0;
  const order = useMemo(() => (f ? rowOrder(f.scores, C, f.total, view.sortBy !== null && view.sortBy < C ? view.sortBy : null, f.computed) : new Int32Array(0)), [f, C, view.sortBy]);
  const centre0 = info?.centre ?? 0, cls0 = info?.cls ?? 0;
  const half = useMemo(() => (f ? maxAbsDeviation(f.scores, C, centre0, f.computed) : 1), [f, C, centre0]);
  const column = useMemo(() => (f ? classColumn(f.scores, C, cls0, f.computed) : new Float32Array(0)), [f, C, cls0]);

  if (!features || !image || features.imageKey !== image.key) return <CnnPending text="SVM scores come out of the CNN with the features: run it on every proposal." testId="svm-run" />;
  if (!info || !f) {
    return (
      <div className="stage-body">
        <p data-testid="svm-no-head">This model has no SVM head, so there are no per-class scores to show.</p>
      </div>
    );
  }
  const { cls, threshold, centre, ranges } = info;
  const className = f.classes[cls];
  let above = 0;
  for (let k = 0; k < column.length; k++) if (column[k] >= threshold) above++;
  const best = topKByClass(f.scores, C, cls, 1, f.computed)[0];
  const map = view.showScoreMap ? scoreMapImage(f, cls, centre, view.stretchMap, image.image.width, image.image.height) : null;
  const centreLabel = view.centreAt === 'threshold' ? 'threshold' : 'boundary';
  const scored = f.done;

  return (
    <div className="stage-body svm-stage">
      <p>
        Each class has its own linear SVM. A proposal's score is <em>w</em>·<em>x</em> + <em>b</em>: its fc7 vector <em>x</em> (scaled
        so features average an L2 norm of 20) dotted with the class's weights, plus a bias.{' '}
        <Explain label="What the score means">
          Above 0, the proposal is on the class's side of the SVM's decision boundary. Training pushed negatives (proposals
          overlapping no object of the class by 0.3 IoU or more) to −1 or below: that is the margin; between −1 and 0 lies the
          uncertain band where hard negatives were mined. Scores of different classes are not probabilities and are not
          calibrated against each other.
        </Explain>
      </p>
      {!f.complete && (
        <p className="small svm-progress" aria-live="polite">
          {scored}/{f.total} proposals scored so far; hatched rows are still in the CNN.
        </p>
      )}

      <h3>All scores: proposals × classes</h3>
      <div className="row svm-sort-row">
        <label className="small">
          Rows sorted by{' '}
          <select value={view.sortBy ?? -1} onChange={(e) => useStore.getState().setView('svmView', { sortBy: Number(e.target.value) < 0 ? null : Number(e.target.value) })} data-testid="svm-sort">
            <option value={-1}>proposal rank</option>
            {f.classes.map((c, k) => (
              <option key={k} value={k}>
                {c} score
              </option>
            ))}
          </select>
        </label>
      </div>
      <ScoreLegend centre={centre} half={half} centreLabel={centreLabel} emptyLabel="not scored yet" testId="heatmap-legend" />
      <HeatMap
        scores={f.scores}
        classes={f.classes}
        n={f.total}
        computed={f.computed}
        done={f.done}
        order={order}
        sortBy={view.sortBy !== null && view.sortBy < C ? view.sortBy : null}
        onSort={(c) => useStore.getState().setView('svmView', { sortBy: c })}
        centre={centre}
        half={half}
        threshold={threshold}
        selected={selected}
        onSelect={select}
        focusClass={cls}
      />

      <h3>One class</h3>
      <ClassPicker
        classes={f.classes}
        best={ranges.max}
        value={cls}
        onChange={(c) => useStore.getState().setView('svmView', { classIndex: c })}
        automatic={view.classIndex === null}
        onAutomatic={() => useStore.getState().setView('svmView', { classIndex: null })}
        testId="svm-class"
      />
      <p className="small" aria-live="polite" data-testid="svm-class-summary">
        <strong>{above}</strong> of {column.length} scored proposals reach the threshold for <strong>{className}</strong>
        {best !== undefined && (
          <>
            ; the best is{' '}
            <button className="link" onClick={() => select(best)}>
              proposal #{best + 1}
            </button>{' '}
            at {fmtScore(f.scores[best * C + cls])}
          </>
        )}
        .
      </p>
      <Histogram
        values={column}
        marker={threshold}
        markerLabel={`threshold ${fmtScore(threshold)}`}
        width={380}
        label={`Histogram of the ${column.length} ${className} scores; ${above} at or above the threshold ${fmtScore(threshold)}`}
        domain={[Math.min(ranges.min[cls], threshold) - 0.05, Math.max(ranges.max[cls], threshold) + 0.05]}
      />
      <div className="muted small">Counts on a log scale; orange bars reach the threshold.</div>
      <ThresholdControls info={info} />

      <h3>On the image</h3>
      <label className="check">
        <input type="checkbox" checked={view.showScoreMap} onChange={(e) => useStore.getState().setView('svmView', { showScoreMap: e.target.checked })} data-testid="svm-show-map" />
        Score map: each point coloured by the best {className} score among the proposals covering it
        <Explain label="How the score map is made">
          R-CNN never scores pixels, only boxes; this map shows where high-scoring boxes sit. It is computed on a grid of 1/
          {SCORE_MAP_FACTOR} of the working resolution by visiting proposals best score first and painting only cells no better
          box has painted, so each cell is written once.
        </Explain>
      </label>
      {map && (
        <>
          <label className="check small svm-indent">
            <input type="checkbox" checked={view.stretchMap} onChange={(e) => useStore.getState().setView('svmView', { stretchMap: e.target.checked })} data-testid="svm-stretch-map" />
            Stretch its colours to this class's own score range (shows where the relatively best boxes are when all scores sit below the threshold)
          </label>
          <ScoreLegend
            centre={map.centre}
            half={map.half}
            kind={map.kind}
            centreLabel={centreLabel}
            emptyLabel="no proposal covers it (the photo shows through)"
            testId="scoremap-legend"
          />
          <p className="small svm-hover" aria-live="polite" data-testid="scoremap-hover">
            {view.mapHover && view.mapHover.proposal < f.total ? (
              <>
                Under the pointer: best {className} score <strong>{fmtScore(view.mapHover.score)}</strong>, from{' '}
                <button className="link" onClick={() => select(view.mapHover!.proposal)}>
                  proposal #{view.mapHover.proposal + 1}
                </button>{' '}
                (dotted pink).
              </>
            ) : (
              <span className="muted">Point at the image to see which proposal gives the score there.</span>
            )}
          </p>
          <div className="muted small" data-testid="scoremap-time">
            {map.grid.width} × {map.grid.height} cells from {scored} proposals: painted in {map.paintMs.toFixed(1)} ms, coloured in{' '}
            {(map.ms - map.paintMs).toFixed(1)} ms.
          </div>
        </>
      )}
      <label className="check">
        <input type="checkbox" checked={view.showTopK} onChange={(e) => useStore.getState().setView('svmView', { showTopK: e.target.checked })} data-testid="svm-show-topk" />
        The best-scoring {className} proposals, labelled with rank and score (white)
      </label>
      <Slider label="Top k" value={Math.min(view.topK, Math.max(1, scored))} min={1} max={Math.max(1, Math.min(50, scored))} step={1} onChange={(v) => useStore.getState().setView('svmView', { topK: v })} testId="svm-topk" disabled={!view.showTopK} />
      <p className="muted small">The selected proposal is dashed yellow; select one by clicking a heat-map row.</p>
    </div>
  );
}
