import { useCallback, useEffect, useMemo, useState } from 'react';
import { useStore, type NmsParams } from '../../../state/store';
import type { NmsView as NmsViewState } from '../../../state/views';
import type { ModelInfo } from '../../../model/modelInfo';
import { useNms, type NmsView } from '../../../state/derived';
import { KEPT, BELOW_THRESHOLD } from '../../../core/nms';
import { computeFeatures } from '../../../runner/cnnActions';
import { Slider } from '../../widgets/Slider';
import { classColor } from '../../palette';
import { strokeBox, type ViewTransform } from '../../ImageCanvas';
import { drawLabels, type Label } from '../../labels';

/** The class to focus on: the user's pick, else the one with the most boxes above the threshold. */
function focusClass(nms: NmsView | null, picked: number): number {
  if (!nms || nms.results.length === 0) return 0;
  if (picked >= 0 && picked < nms.results.length) return picked;
  let best = 0;
  let bestCount = -1;
  nms.results.forEach((r, c) => {
    const above = r.suppressedBy.reduce((a, v) => a + (v !== BELOW_THRESHOLD ? 1 : 0), 0);
    if (above > bestCount) {
      bestCount = above;
      best = c;
    }
  });
  return best;
}

function boxOf(nms: NmsView, c: number, i: number): Float32Array {
  const n = nms.results[c].suppressedBy.length;
  const off = nms.boxes.length === 4 * n * nms.results.length && nms.results.length > 1 ? 4 * n * c : 0;
  return nms.boxes.subarray(off + 4 * i, off + 4 * i + 4);
}

function centre(b: ArrayLike<number>): [number, number] {
  return [0.5 * (b[0] + b[2]), 0.5 * (b[1] + b[3])];
}

export function useNmsOverlay() {
  const nms = useNms();
  const useRegression = useStore((s) => s.nmsParams.useRegression);
  const other = useNms(!useRegression);
  const view = useStore((s) => s.nmsView);
  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, vt: ViewTransform) => {
      if (!nms) return;
      const c = focusClass(nms, view.classIndex);
      const r = nms.results[c];
      const keepShown = view.replayStep === null ? r.keep.length : view.replayStep;
      const keptSet = new Set(Array.from(r.keep.subarray(0, keepShown)));
      if (view.compare && other) {
        for (const d of other.detections) if (d.classIndex === c) strokeBox(ctx, d.box, '#FFFFFF', 1.5, vt, [4, 4]);
      }
      if (view.showSuppressed || view.replayStep !== null) {
        // Suppressed boxes (by a kept box already processed), with a line to the box that removed them.
        ctx.lineWidth = 1.2 / vt.scale;
        for (let i = 0; i < r.suppressedBy.length; i++) {
          const by = r.suppressedBy[i];
          if (by < 0 || !keptSet.has(by)) continue;
          const b = boxOf(nms, c, i);
          const current = view.replayStep !== null && by === r.keep[keepShown - 1];
          strokeBox(ctx, b, current ? '#D55E00' : 'rgba(230,230,230,0.7)', current ? 2 : 1, vt, [5, 4]);
          const [x1, y1] = centre(b);
          const [x2, y2] = centre(boxOf(nms, c, by));
          ctx.strokeStyle = current ? '#D55E00' : 'rgba(255,255,255,0.6)';
          ctx.beginPath();
          ctx.moveTo(x1, y1);
          ctx.lineTo(x2, y2);
          ctx.stroke();
        }
      }
      if (view.replayStep !== null) {
        // Candidates not yet reached: faint.
        for (let i = 0; i < r.suppressedBy.length; i++) {
          if (r.suppressedBy[i] === BELOW_THRESHOLD || keptSet.has(i)) continue;
          const by = r.suppressedBy[i];
          if (by >= 0 && keptSet.has(by)) continue;
          strokeBox(ctx, boxOf(nms, c, i), 'rgba(200,200,200,0.35)', 1, vt);
        }
      }
      const drawn: Float32Array[] = [];
      const labels: Label[] = [];
      for (let k = 0; k < keepShown; k++) {
        const i = r.keep[k];
        const b = boxOf(nms, c, i);
        const isCurrent = view.replayStep !== null && k === keepShown - 1;
        strokeBox(ctx, b, isCurrent ? '#FFFFFF' : classColor(c), isCurrent ? 4 : 2.5, vt);
        labels.push({ box: b, text: `${k + 1}`, bg: 'rgba(0,0,0,0.7)', fg: '#fff' });
        drawn.push(b);
      }
      drawLabels(ctx, vt, labels, { heightPx: 15, prefer: 'inside' });
      return drawn;
    },
    [nms, other, view],
  );
  return { draw, key: [nms, view, other] };
}

/** Kept, suppressed and below-threshold counts per class. */
function classCounts(nms: NmsView | null): Array<{ kept: number; suppressed: number; below: number }> {
  return (
    nms?.results.map((r) => {
      let kept = 0, suppressed = 0, below = 0;
      for (const v of r.suppressedBy) {
        if (v === KEPT) kept++;
        else if (v === BELOW_THRESHOLD) below++;
        else suppressed++;
      }
      return { kept, suppressed, below };
    }) ?? []
  );
}

/** Replay autoplay: one kept box every 0.8 s, until all `keepCount` are shown. */
function useReplayAutoplay(keepCount: number): [boolean, (playing: boolean) => void] {
  const [playing, setPlaying] = useState(false);
  useEffect(() => {
    if (!playing) return;
    const t = setInterval(() => {
      const s = useStore.getState().nmsView.replayStep ?? 0;
      if (s >= keepCount) setPlaying(false);
      else useStore.getState().setView('nmsView', { replayStep: s + 1 });
    }, 800);
    return () => clearInterval(t);
  }, [playing, keepCount]);
  return [playing, setPlaying];
}

const setNmsView = (p: Partial<NmsViewState>) => useStore.getState().setView('nmsView', p);

function Pending() {
  return (
    <div className="stage-body pending" data-testid="stage-pending">
      <p>
        <strong>Not computed yet.</strong> NMS needs the SVM scores of every proposal (the CNN stage).
      </p>
      <button className="btn btn-primary" onClick={() => void computeFeatures()}>
        Run the pipeline up to here
      </button>
    </div>
  );
}

function Intro({ model }: { model: ModelInfo | null }) {
  return (
    <p>
      Many proposals overlap the same object and all score well. Per class, greedy non-maximum suppression keeps the
      best-scoring box, removes every remaining box that overlaps it by more than the IoU threshold, and repeats.
      R-CNN uses 0.3.
      {model?.detection && (
        <>
          {' '}
          This model starts at <span data-testid="model-nms">{model.detection.nmsThreshold.toFixed(2)}</span>
          {model.detection.note ? `: ${model.detection.note}` : '.'}
        </>
      )}
    </p>
  );
}

/** The score and IoU thresholds, regressed boxes or not, and the area convention. */
function NmsControls({ params, hasRegression }: { params: NmsParams; hasRegression: boolean }) {
  const setParams = useStore((s) => s.setNmsParams);
  return (
    <>
      <Slider
        label="Score threshold"
        value={params.scoreThreshold}
        min={-2}
        max={3}
        step={0.05}
        onChange={(v) => setParams({ scoreThreshold: v })}
        format={(v) => v.toFixed(2)}
        help="Boxes whose SVM score is below this are dropped before NMS. The R-CNN demo drops boxes below −1 before NMS, then shows those scoring 0 or more; greedy NMS lets a box suppress only lower-scoring ones, so both give the same boxes at 0 and above."
        testId="score-threshold"
      />
      <Slider
        label="IoU threshold"
        value={params.iouThreshold}
        min={0}
        max={1}
        step={0.05}
        onChange={(v) => setParams({ iouThreshold: v })}
        format={(v) => v.toFixed(2)}
        help="A box is removed when its IoU with a better kept box is above this. Lower removes more."
        testId="iou-threshold"
      />
      <div className="radio-row">
        <label className="check">
          <input type="checkbox" checked={params.useRegression && hasRegression} disabled={!hasRegression} onChange={(e) => setParams({ useRegression: e.target.checked })} data-testid="use-regression" />
          Regressed boxes {hasRegression ? '' : '(this model has no box regressors)'}
        </label>
        <label className="check" title="The MATLAB release measures areas with +1 pixel (inclusive integer coordinates)">
          <input type="checkbox" checked={params.convention === 'inclusive'} onChange={(e) => setParams({ convention: e.target.checked ? 'inclusive' : 'continuous' })} />
          +1 pixel areas (release)
        </label>
      </div>
    </>
  );
}

/** Per class: kept, suppressed, below threshold; a class name focuses the replay on it. */
function ClassTable({ classes, counts, focus }: { classes: readonly string[]; counts: ReturnType<typeof classCounts>; focus: number }) {
  return (
    <table className="table" data-testid="nms-table">
      <thead>
        <tr>
          <th>Class</th>
          <th>kept</th>
          <th>suppressed</th>
          <th>below threshold</th>
        </tr>
      </thead>
      <tbody>
        {classes.map((name, k) =>
          counts[k].kept + counts[k].suppressed > 0 || k === focus ? (
            <tr key={name} className={k === focus ? 'selected' : ''}>
              <td>
                <button className="link" onClick={() => setNmsView({ classIndex: k, replayStep: null })}>
                  <span className="swatch" style={{ background: classColor(k) }} aria-hidden="true" />
                  {name}
                </button>
              </td>
              <td>{counts[k].kept}</td>
              <td>{counts[k].suppressed}</td>
              <td>{counts[k].below}</td>
            </tr>
          ) : null,
        )}
      </tbody>
    </table>
  );
}

/** Start, step back and forth, play / pause, show the result; and whether to draw the suppressed boxes. */
function ReplayControls({ keepCount, step, playing, setPlaying, showSuppressed }: { keepCount: number; step: number | null; playing: boolean; setPlaying: (p: boolean) => void; showSuppressed: boolean }) {
  return (
    <div className="row">
      <button className="btn" onClick={() => setNmsView({ replayStep: 0 })} disabled={keepCount === 0}>
        Start replay
      </button>
      <button className="btn" onClick={() => setNmsView({ replayStep: Math.max(0, (step ?? 0) - 1) })} disabled={step === null || step === 0} aria-label="Previous NMS step">
        ‹
      </button>
      <button className="btn" onClick={() => setNmsView({ replayStep: Math.min(keepCount, (step ?? 0) + 1) })} disabled={step !== null && step >= keepCount} aria-label="Next NMS step" data-testid="nms-next">
        ›
      </button>
      <button className="btn" onClick={() => { if (step === null || step >= keepCount) setNmsView({ replayStep: 0 }); setPlaying(!playing); }} disabled={keepCount === 0} aria-pressed={playing}>
        {playing ? 'Pause' : 'Play'}
      </button>
      <button className="btn" onClick={() => { setPlaying(false); setNmsView({ replayStep: null }); }} disabled={step === null}>
        Show result
      </button>
      <label className="check">
        <input type="checkbox" checked={showSuppressed} onChange={(e) => setNmsView({ showSuppressed: e.target.checked })} />
        suppressed boxes
      </label>
    </div>
  );
}

/** What the replay is at: the result, the sorted candidates, or the box kept at this step and those it removed. */
function stepText(r: NmsView['results'][number], step: number | null, className: string, score: (i: number) => number, iouThreshold: number): string {
  if (step === null) return `${r.keep.length} kept for ${className}. Use the replay to watch the greedy loop.`;
  if (step === 0) return `${r.suppressedBy.filter((v) => v !== BELOW_THRESHOLD).length} candidates above the threshold, sorted by score. Press › to keep the best.`;
  const currentKept = step > 0 ? r.keep[step - 1] : null;
  const removedNow = currentKept === null ? [] : Array.from(r.suppressedBy.keys()).filter((i) => r.suppressedBy[i] === currentKept);
  return `Step ${step}/${r.keep.length}: keep box #${currentKept! + 1} (score ${score(currentKept!).toFixed(3)}), remove ${removedNow.length} box${removedNow.length === 1 ? '' : 'es'} overlapping it by more than ${iouThreshold.toFixed(2)}${removedNow.length ? ` (IoU ${removedNow.slice(0, 4).map((i) => r.suppressionIou[i].toFixed(2)).join(', ')}${removedNow.length > 4 ? ', …' : ''})` : ''}.`;
}

/** The same NMS on the raw and on the regressed boxes, and the switch that draws the other one too. */
function RegressionComparison({ before, after, compare, useRegression }: { before: NmsView; after: NmsView; compare: boolean; useRegression: boolean }) {
  return (
    <>
      <h3>Before vs after box regression</h3>
      <p className="small">
        Through the same NMS: {before.detections.length} {before.detections.length === 1 ? 'box' : 'boxes'} from the raw proposals, {after.detections.length} from the regressed boxes. Regressed boxes of
        the same object tend to move onto the same place, so NMS merges them more readily.
      </p>
      <label className="check">
        <input type="checkbox" checked={compare} onChange={(e) => setNmsView({ compare: e.target.checked })} data-testid="nms-compare" />
        Also draw the {useRegression ? 'unregressed' : 'regressed'} result (dashed white)
      </label>
    </>
  );
}

export function NmsStage() {
  const features = useStore((s) => s.features);
  const image = useStore((s) => s.image);
  const params = useStore((s) => s.nmsParams);
  const model = useStore((s) => s.model);
  const view = useStore((s) => s.nmsView);
  const nms = useNms();
  const before = useNms(false);
  const after = useNms(true);
  const c = focusClass(nms, view.classIndex);
  const [playing, setPlaying] = useReplayAutoplay(nms?.results[c]?.keep.length ?? 0);
  const counts = useMemo(() => classCounts(nms), [nms]);

  if (!features || !image || features.imageKey !== image.key) return <Pending />;
  if (!nms || !features.classes) return <p>This model has no SVM head, so there is nothing to suppress.</p>;
  const r = nms.results[c];
  const hasRegression = !!features.deltas;
  const totalKept = counts.reduce((a, x) => a + x.kept, 0);
  const classes = features.classes;
  const score = (i: number) => features.scores![i * classes.length + c];

  return (
    <div className="stage-body">
      <Intro model={model} />
      <NmsControls params={params} hasRegression={hasRegression} />
      <p aria-live="polite" data-testid="nms-summary">
        <strong data-testid="nms-kept">{totalKept}</strong> {totalKept === 1 ? 'box' : 'boxes'} kept over {classes.length} {classes.length === 1 ? 'class' : 'classes'}; NMS took {nms.ms.toFixed(1)} ms.
      </p>
      <ClassTable classes={classes} counts={counts} focus={c} />
      <p className="muted small">Classes with no box above the threshold are hidden.</p>

      <h3>Step by step: {classes[c]}</h3>
      <ReplayControls keepCount={r.keep.length} step={view.replayStep} playing={playing} setPlaying={setPlaying} showSuppressed={view.showSuppressed} />
      <p className="small" aria-live="polite" data-testid="nms-step">
        {stepText(r, view.replayStep, classes[c], score, params.iouThreshold)}
      </p>

      {hasRegression && before && after && <RegressionComparison before={before} after={after} compare={view.compare} useRegression={params.useRegression} />}
      {model && <p className="muted small">Scores: {model.name}.</p>}
    </div>
  );
}
