import { useEffect, useMemo, useRef } from 'react';
import { useStore } from '../../../state/store';
import type { SvmView } from '../../../state/views';
import { useRegressedBoxes } from '../../../state/derived';
import { Slider } from '../../widgets/Slider';
import { ClassPicker } from '../svm/ClassPicker';
import { Explain } from '../svm/Explain';
import { CnnPending } from '../svm/CnnPending';
import { topKByClass } from '../svm/scores';
import { fmtScore, useScores } from '../svm/useScores';
import { deltasOf, groundTruthFor, regressedOf, regressionRows, unclippedRegressed, type RegressionRow, type RegressionSummary } from './rows';
import '../svm/svm.css';


/** Signed, with enough digits that a small but nonzero delta does not read as zero. */
const signed = (v: number) => (v < 0 ? '−' : '+') + (v !== 0 && Math.abs(v) < 5e-4 ? Math.abs(v).toExponential(1) : Math.abs(v).toFixed(3));
const fmtIou = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '–');

/** Animates the blend from the proposal to the regressed box (instant with reduced motion). */
function usePlayBlend() {
  const set = ((p: Partial<SvmView>) => useStore.getState().setView('svmView', p));
  const raf = useRef(0);
  useEffect(() => () => cancelAnimationFrame(raf.current), []);
  return () => {
    cancelAnimationFrame(raf.current);
    if (window.matchMedia?.('(prefers-reduced-motion: reduce)').matches) {
      set({ blend: 1 });
      return;
    }
    const t0 = performance.now();
    const step = () => {
      const t = Math.min(1, (performance.now() - t0) / 1200);
      // ease in-out so the start and the end are visible
      set({ blend: Math.round((t < 0.5 ? 2 * t * t : 1 - 2 * (1 - t) * (1 - t)) * 100) / 100 });
      if (t < 1) raf.current = requestAnimationFrame(step);
    };
    set({ blend: 0 });
    raf.current = requestAnimationFrame(step);
  };
}

function DeltaTable({ d, p, r, unclipped, sx, sy }: { d: number[]; p: ArrayLike<number>; r: ArrayLike<number>; unclipped: ArrayLike<number>; sx: number; sy: number }) {
  const pw = p[2] - p[0], ph = p[3] - p[1];
  const dxPx = d[0] * pw * sx, dyPx = d[1] * ph * sy;
  const clipped = [0, 1, 2, 3].some((q) => Math.abs(unclipped[q] - r[q]) > 0.01);
  return (
    <>
      <table className="table reg-deltas" data-testid="reg-deltas">
        <thead>
          <tr>
            <th scope="col">Delta</th>
            <th scope="col" className="num">
              Value
            </th>
            <th scope="col">What it does to this proposal</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>
              t<sub>x</sub>
            </td>
            <td className="num" data-testid="reg-tx">{signed(d[0])}</td>
            <td>
              centre moves {Math.abs(d[0]).toFixed(3)} × width = {Math.abs(dxPx).toFixed(1)} px {dxPx < 0 ? 'left' : 'right'}
            </td>
          </tr>
          <tr>
            <td>
              t<sub>y</sub>
            </td>
            <td className="num">{signed(d[1])}</td>
            <td>
              centre moves {Math.abs(d[1]).toFixed(3)} × height = {Math.abs(dyPx).toFixed(1)} px {dyPx < 0 ? 'up' : 'down'}
            </td>
          </tr>
          <tr>
            <td>
              t<sub>w</sub>
            </td>
            <td className="num">{signed(d[2])}</td>
            <td>
              width × e<sup>t<sub>w</sub></sup> = ×{Math.exp(d[2]).toFixed(3)} ({Math.round(pw * sx)} → {Math.round(pw * Math.exp(d[2]) * sx)} px)
            </td>
          </tr>
          <tr>
            <td>
              t<sub>h</sub>
            </td>
            <td className="num">{signed(d[3])}</td>
            <td>
              height × e<sup>t<sub>h</sub></sup> = ×{Math.exp(d[3]).toFixed(3)} ({Math.round(ph * sy)} → {Math.round(ph * Math.exp(d[3]) * sy)} px)
            </td>
          </tr>
        </tbody>
      </table>
      <p className="muted small">
        Proposal [{[p[0] * sx, p[1] * sy, p[2] * sx, p[3] * sy].map((v) => Math.round(v)).join(', ')}] → regressed [
        {[r[0] * sx, r[1] * sy, r[2] * sx, r[3] * sy].map((v) => Math.round(v)).join(', ')}] in original pixels
        {clipped ? ' (clipped to the image: the regressor pushed it past the border)' : ''}.
      </p>
    </>
  );
}

/** Why there is nothing to show yet, or at all, for the current model and photo. */
function NoRegressors({ modelName }: { modelName: string }) {
  return (
    <div className="stage-body reg-stage">
      <p className="reg-note" data-testid="reg-unavailable">
        <strong>No box regression for this model.</strong> This model ({modelName}) has SVMs but no box regressors. In the
        original release, R-CNN's regressors were trained separately, on pool5 features, after the SVMs; a model without them
        detects with the proposals' own boxes. The NMS stage then works on the unregressed proposals.
      </p>
    </div>
  );
}

function NoDeltas({ hasSvm }: { hasSvm: boolean }) {
  return (
    <div className="stage-body reg-stage">
      <p className="reg-note" data-testid="reg-unavailable">
        <strong>No box regression here.</strong> {!hasSvm ? 'This model has no SVM head to rank the proposals by.' : "This model's box regressors do not cover its SVM classes, so there are no deltas to show."}
      </p>
    </div>
  );
}

function Intro() {
  return (
    <p>
      Many of R-CNN's mistakes are proposals that are close but not tight. For each class, a ridge regressor on the proposal's
      pool5 features predicts how to fix the box: (t<sub>x</sub>, t<sub>y</sub>) shift its centre by a fraction of its width and
      height, (t<sub>w</sub>, t<sub>h</sub>) scale its width and height by e<sup>t<sub>w</sub></sup> and e<sup>t<sub>h</sub></sup>. It is applied
      once, never iterated.{' '}
      <Explain label="How the regressors were trained">
        One ridge regressor per class (λ = 1000), trained only on proposals overlapping a ground-truth box of that class by IoU
        &gt; 0.6, each towards its nearest ground truth. Learning a log scale makes the size change multiplicative and
        symmetric (halving and doubling are ±0.69), and learning shifts relative to the size makes them scale-invariant. The
        targets were standardised (mean and covariance) for training; the app undoes that before applying the deltas.
      </Explain>
    </p>
  );
}

function Legend({ blend }: { blend: number }) {
  return (
    <div className="reg-legend" aria-label="Legend">
      <span>
        <i className="reg-key reg-key-prop" aria-hidden="true" /> proposal
      </span>
      <span>
        <i className="reg-key reg-key-reg" aria-hidden="true" /> {blend === 1 ? 'regressed box' : 'box at the blend'}
      </span>
      <span>
        <i className="reg-key reg-key-arrow" aria-hidden="true" /> centre shift
      </span>
      <span className="muted">yellow tab: selected</span>
    </div>
  );
}

/** Before / After / Play, the arrows switch, the blend and top-k sliders. */
function BlendControls({ view, done, className, play }: { view: SvmView; done: number; className: string; play: () => void }) {
  const set = (p: Partial<SvmView>) => useStore.getState().setView('svmView', p);
  const blendText = view.blend === 0 ? 'before (the proposal)' : view.blend === 1 ? 'after (the regressed box)' : `${Math.round(view.blend * 100)}% of the way`;
  return (
    <>
      <div className="row">
        <div className="seg" role="group" aria-label="Show the boxes before or after regression">
          <button aria-pressed={view.blend === 0} onClick={() => set({ blend: 0 })} data-testid="reg-before">
            Before
          </button>
          <button aria-pressed={view.blend === 1} onClick={() => set({ blend: 1 })} data-testid="reg-after">
            After
          </button>
        </div>
        <button className="btn btn-small" onClick={play} data-testid="reg-play">
          ▶ Play
        </button>
        <label className="check small">
          <input type="checkbox" checked={view.showArrows} onChange={(e) => set({ showArrows: e.target.checked })} data-testid="reg-arrows" />
          proposals and arrows
        </label>
      </div>
      <Slider
        label="Blend"
        value={view.blend}
        min={0}
        max={1}
        step={0.05}
        onChange={(v) => set({ blend: v })}
        format={() => blendText}
        help="Slides each orange box from its proposal (0) to its regressed box (1)."
        testId="reg-blend"
      />
      <Slider label="Top k" value={Math.min(view.regTopK, Math.max(1, done))} min={1} max={Math.max(1, Math.min(30, done))} step={1} onChange={(v) => set({ regTopK: v })} help={`The best-scoring ${className} proposals.`} testId="reg-topk" />
    </>
  );
}

/** Mean IoU with the ground truth before and after regression, or how to get one. */
function IouSummary({ summary, gt, className }: { summary: RegressionSummary; gt: { sameClass: boolean } | null; className: string }) {
  if (!gt) return <p className="muted small">Draw or load ground-truth boxes (Image stage) to see the IoU before and after regression.</p>;
  return (
    <p className="small" aria-live="polite" data-testid="reg-iou-summary">
      Mean IoU with the {gt.sameClass ? `${className} ` : ''}ground truth: <strong>{fmtIou(summary.meanBefore)}</strong> before,{' '}
      <strong>{fmtIou(summary.meanAfter)}</strong> after regression ({summary.improved} improved, {summary.worsened} worse).{' '}
      {summary.meanAfter > summary.meanBefore + 1e-3 ? 'Regression helped.' : summary.meanAfter < summary.meanBefore - 1e-3 ? 'Regression made them worse on average.' : 'Regression changed little.'}
      {!gt.sameClass && <span className="muted"> (No ground truth is labelled {className}; compared with all boxes.)</span>}
    </p>
  );
}

/** The top proposals with their scores and, with ground truth, IoU before and after; a row click selects. */
function TopTable({ rows, hasGt, focus, select }: { rows: RegressionRow[]; hasGt: boolean; focus: number | undefined; select: (i: number) => void }) {
  return (
    <table className="table reg-top" data-testid="reg-top">
      <thead>
        <tr>
          <th scope="col">Rank</th>
          <th scope="col">Proposal</th>
          <th scope="col" className="num">
            Score
          </th>
          {hasGt && (
            <>
              <th scope="col" className="num">
                IoU before
              </th>
              <th scope="col" className="num">
                after
              </th>
            </>
          )}
        </tr>
      </thead>
      <tbody>
        {rows.map((row, k) => {
          const delta = row.iouAfter - row.iouBefore;
          return (
            <tr key={row.proposal} className={row.proposal === focus ? 'selected' : undefined} onClick={() => select(row.proposal)}>
              <td>{k + 1}</td>
              <td>
                <button className="link" onClick={(e) => { e.stopPropagation(); select(row.proposal); }} aria-pressed={row.proposal === focus}>
                  #{row.proposal + 1}
                </button>
              </td>
              <td className="num">{fmtScore(row.score)}</td>
              {hasGt && (
                <>
                  <td className="num">{fmtIou(row.iouBefore)}</td>
                  <td className="num">
                    {fmtIou(row.iouAfter)}{' '}
                    <span className={delta > 1e-3 ? 'reg-up' : delta < -1e-3 ? 'reg-down' : 'muted'}>
                      {delta > 1e-3 ? `▲${delta.toFixed(3)}` : delta < -1e-3 ? `▼${(-delta).toFixed(3)}` : '='}
                    </span>
                  </td>
                </>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function RegressionStage() {
  const info = useScores();
  const features = useStore((s) => s.features);
  const image = useStore((s) => s.image);
  const model = useStore((s) => s.model);
  const modelSource = useStore((s) => s.modelSource);
  const selected = useStore((s) => s.selectedProposal);
  const select = useStore((s) => s.setSelectedProposal);
  const gt = useStore((s) => s.groundTruth);
  const regressed = useRegressedBoxes();
  const view = useStore((s) => s.svmView);
  const play = usePlayBlend();
  const f = info?.features;
  const cls = info?.cls ?? 0;
  const top = useMemo(() => (f ? topKByClass(f.scores, f.classes.length, cls, view.regTopK, f.computed) : new Int32Array(0)), [f, cls, view.regTopK]);
  const className = f?.classes[cls] ?? '';
  const gtFresh = gt && image && gt.imageKey === image.key && gt.labels.length ? gt : null;
  const gtCur = useMemo(() => (gtFresh ? groundTruthFor(gtFresh.boxes, gtFresh.labels, className) : null), [gtFresh, className]);
  const summary = useMemo(
    () => (f && regressed ? regressionRows(top, f.proposals.boxes, regressed, f.scores, f.classes.length, cls, gtCur?.boxes ?? null) : null),
    [f, regressed, top, cls, gtCur],
  );

  if (model && !model.bboxClasses) return <NoRegressors modelName={modelSource ?? model.name} />;
  if (!features || !image || features.imageKey !== image.key) return <CnnPending text="The regressors' deltas come out of the CNN with the features." testId="reg-run" />;
  if (!f || !features.deltas || !regressed || !summary) return <NoDeltas hasSvm={!!f} />;

  const C = f.classes.length, n = f.total;
  const focus = selected !== null && selected < n && f.computed[selected] ? selected : top[0];
  const sx = image.scaleX, sy = image.scaleY;
  const p = focus !== undefined ? f.proposals.boxes.subarray(4 * focus, 4 * focus + 4) : null;
  const d = focus !== undefined ? deltasOf(features.deltas, C, focus, cls) : null;
  const r = focus !== undefined ? regressedOf(regressed, n, focus, cls) : null;

  return (
    <div className="stage-body reg-stage">
      <Intro />
      {!f.complete && (
        <p className="small svm-progress" aria-live="polite">
          {f.done}/{f.total} proposals through the CNN so far.
        </p>
      )}
      <ClassPicker
        classes={f.classes}
        best={info!.ranges.max}
        value={cls}
        onChange={(c) => useStore.getState().setView('svmView', { classIndex: c })}
        automatic={view.classIndex === null}
        onAutomatic={() => useStore.getState().setView('svmView', { classIndex: null })}
        testId="reg-class"
      />
      <Legend blend={view.blend} />
      <BlendControls view={view} done={f.done} className={className} play={play} />

      {focus !== undefined && p && d && r && (
        <>
          <h3>
            Proposal #{focus + 1}, {className} (score {fmtScore(f.scores[focus * C + cls])})
          </h3>
          <DeltaTable d={d} p={p} r={r} unclipped={unclippedRegressed(p, d)} sx={sx} sy={sy} />
        </>
      )}

      <h3>Top {summary.rows.length} {className} proposals</h3>
      <IouSummary summary={summary} gt={gtCur} className={className} />
      <TopTable rows={summary.rows} hasGt={!!gtCur} focus={focus} select={select} />
    </div>
  );
}
