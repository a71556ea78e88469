/**
 * The training half of the Train view's panel: the settings (`rcnn train --stages svm,bbox`'s
 * options and defaults), the run with its phases, progress, ETA and Cancel, the recipe as it
 * runs (mining passes, cache sizes, added and evicted negatives, the objective per retrain, the
 * hardest negatives, the regression pairs), the held-out AP with its precision/recall curves, and
 * the model: use it in the eight stages, or save it with its card.
 */
import { useEffect, useMemo, useState } from 'react';
import { useStore } from '../../state/store';
import { checkTrainable } from '../../core/dataset/trainingSet';
import { DEFAULT_TRAIN_SETTINGS, cliEquivalent, type TrainSettings } from '../../pipeline/train/settings';
import { saveSettings, openTrainView } from '../../runner/datasetActions';
import { cancelTraining, forgetInterruptedRun, interruptedRun, saveModelCard, saveTrainedModel, startTraining, useTrainedModel } from '../../runner/trainActions';
import type { TrainPhase, TrainRun } from '../../runner/trainRun';
import { RecipeView } from './RecipeView';
import { HeldOutView } from './HeldOutView';

function seconds(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(s < 10 ? 1 : 0)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function NumberSetting({ label, k, min, max, step, help, scale = 1 }: { label: string; k: keyof TrainSettings; min: number; max: number; step: number; help: string; scale?: number }) {
  const v = useStore((s) => s.train.settings[k]);
  const running = useStore((s) => s.train.run?.status === 'running');
  const [text, setText] = useState(String(+(v * scale).toFixed(6)));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setText(String(+(v * scale).toFixed(6))), [v, scale]);
  const id = `setting-${k}`;
  return (
    <label htmlFor={id} title={help}>
      {label}
      <input
        id={id}
        type="number"
        min={min}
        max={max}
        step={step}
        value={text}
        disabled={running}
        aria-describedby={`${id}-help`}
        aria-invalid={!!error}
        data-testid={id}
        onChange={(e) => {
          setText(e.target.value);
          const n = Number(e.target.value);
          if (e.target.value.trim() === '' || !Number.isFinite(n) || n < min || n > max) setError(`${min} to ${max}`);
          else {
            setError(null);
            void saveSettings({ [k]: n / scale });
          }
        }}
      />
      <span id={`${id}-help`} className={error ? 'cell-warn small' : 'muted small'}>
        {error ? `Use ${error}.` : help}
      </span>
    </label>
  );
}

function Settings() {
  const s = useStore((s) => s.train.settings);
  const running = useStore((s) => s.train.run?.status === 'running');
  const changed = (Object.keys(DEFAULT_TRAIN_SETTINGS) as (keyof TrainSettings)[]).some((k) => s[k] !== DEFAULT_TRAIN_SETTINGS[k]);
  return (
    <details className="controls" data-testid="train-settings">
      <summary>
        Settings: {Math.round(100 * s.heldOut)} % held out, {s.proposals} proposals per photo, C {s.svmC}
        {changed ? '' : ' (the defaults of rcnn train)'}
      </summary>
      <div className="settings-grid">
        <NumberSetting label="Held out (%)" k="heldOut" scale={100} min={0} max={50} step={1} help="photos kept aside to measure AP (--val-fraction)" />
        <NumberSetting label="Split seed" k="seed" min={0} max={1e9} step={1} help="which photos are held out, the mining order (--seed)" />
        <NumberSetting label="Proposals per photo" k="proposals" min={10} max={2000} step={10} help="best-ranked first; R-CNN uses 2000, fewer is faster" />
        <NumberSetting label="SVM C" k="svmC" min={1e-6} max={100} step={0.001} help="loss weight; R-CNN: 0.001 (--svm-c)" />
        <NumberSetting label="Mining passes" k="hardEpochs" min={1} max={10} step={1} help="passes of hard-negative mining (--hard-epochs)" />
        <NumberSetting label="Box-regression λ" k="bboxLambda" min={0.001} max={1e6} step={100} help="ridge regularisation; R-CNN: 1000" />
        <NumberSetting label="Regression pairs per photo" k="bboxSamples" min={0} max={2000} step={1} help="0 = all over 0.6 IoU (--bbox-samples)" />
      </div>
      <div className="row">
        <button className="btn btn-small" onClick={() => void saveSettings(DEFAULT_TRAIN_SETTINGS)} disabled={running || !changed}>
          Back to the defaults
        </button>
      </div>
      <p className="muted small">
        Fine-tuning the CNN itself on your photos is not done in the browser: the features come from the active CNN as it
        is. (<code>rcnn train --stages cnn</code> fine-tunes one on a computer; load the result under Model &amp; backend.)
      </p>
      <p className="muted small">
        The same run on the command line, on the exported VOC zip: <code className="note-text">{cliEquivalent(s)}</code>
      </p>
    </details>
  );
}

function PhaseList({ run }: { run: TrainRun }) {
  const [, tick] = useState(0);
  useEffect(() => {
    if (run.status !== 'running') return;
    const t = setInterval(() => tick((x) => x + 1), 500);
    return () => clearInterval(t);
  }, [run.status]);
  const now = performance.now();
  const line = (p: TrainPhase) => {
    if (p.start === null) return <span className="muted">waiting</span>;
    const el = (p.end ?? now) - p.start;
    if (p.end !== null) return <span>{seconds(el)}</span>;
    const frac = p.total ? p.done / p.total : 0;
    const eta = frac > 0.02 ? (el * (1 - frac)) / frac : NaN;
    return (
      <span>
        {p.done}/{p.total} · {seconds(el)}
        {Number.isFinite(eta) ? ` · about ${seconds(eta)} left` : ''}
      </span>
    );
  };
  return (
    <ol className="train-phases" data-testid="train-phases">
      {run.phases.map((p) => (
        <li key={p.id} className={p.end !== null ? 'phase-done' : undefined} data-phase={p.id} data-ms={p.start !== null && p.end !== null ? Math.round(p.end - p.start) : ''}>
          <span>{p.label}</span>
          {line(p)}
          {p.start !== null && p.end === null && <progress max={Math.max(1, p.total)} value={p.done} aria-label={p.label} />}
        </li>
      ))}
    </ol>
  );
}

function Interrupted() {
  const [mark, setMark] = useState<{ startedAt: number; photos: number } | null>(null);
  useEffect(() => {
    void interruptedRun().then(setMark);
  }, []);
  if (!mark) return null;
  return (
    <div className="message message-warning small" role="status" data-testid="train-interrupted">
      <div>
        A training run started at {new Date(mark.startedAt).toLocaleTimeString()} was interrupted (the page was reloaded or
        closed) before it finished: its SVMs and box regressors were lost. The proposals of the photos it had prepared are
        kept in this browser, so training again starts with the CNN features.
      </div>
      <button className="btn-icon" aria-label="Dismiss" onClick={() => void forgetInterruptedRun().then(() => setMark(null))}>
        ×
      </button>
    </div>
  );
}

function ModelSection({ run }: { run: TrainRun }) {
  const m = run.model;
  const [loading, setLoading] = useState(false);
  if (!m) return null;
  return (
    <section aria-labelledby="train-model-h" data-testid="train-model">
      <h3 id="train-model-h">5. Use it</h3>
      <p className="small">
        <strong>{m.name}</strong>: the CNN of {run.cnn} with your {run.classes.length} SVMs and box regressors,{' '}
        {(m.bytes.byteLength / 2 ** 20).toFixed(1)} MB as a .rcnn file.
      </p>
      <div className="row">
        <button
          className="btn btn-primary"
          disabled={loading}
          data-testid="use-model"
          onClick={async () => {
            setLoading(true);
            try {
              if (await useTrainedModel()) openTrainView(false);
            } finally {
              setLoading(false);
            }
          }}
        >
          {m.active ? 'Active in the eight stages: go there' : loading ? 'Loading…' : 'Use it in the eight stages'}
        </button>
        <button className="btn" onClick={saveTrainedModel} data-testid="save-model">
          Save as .rcnn
        </button>
        <button className="btn btn-small" onClick={saveModelCard}>
          Save the model card
        </button>
      </div>
      <p className="muted small">
        A saved .rcnn loads again under Model &amp; backend, and in <code>rcnn detect photo.jpg --model file.rcnn</code>.
      </p>
      <details>
        <summary className="small">Model card</summary>
        <pre className="model-card" data-testid="model-card">{m.card}</pre>
      </details>
    </section>
  );
}

function PagePerformance({ run }: { run: TrainRun }) {
  if (!run.frames) return null;
  const f = run.frames;
  return (
    <p
      className="muted small"
      data-testid="train-frames"
      data-max={f.max.toFixed(1)}
      data-p99={f.p99.toFixed(1)}
      data-over50={f.over50}
      data-frames={f.count}
      data-long-tasks={run.longTasks?.count ?? ''}
      data-long-max={run.longTasks?.max.toFixed(1) ?? ''}
      data-heap={run.peakHeap ?? ''}
    >
      While it trained, the page drew {f.count} frames: the slowest took {f.max.toFixed(0)} ms, {f.over50} took over 50 ms
      (99 % under {f.p99.toFixed(0)} ms)
      {run.longTasks && `; the page's own thread ran ${run.longTasks.count} task${run.longTasks.count === 1 ? '' : 's'} over 50 ms${run.longTasks.count ? ` (the longest ${run.longTasks.max.toFixed(0)} ms)` : ''}`}
      {run.peakHeap ? `; its JavaScript heap peaked at ${(run.peakHeap / 2 ** 20).toFixed(0)} MB` : ''}. Every solver and every CNN pass ran in a
      worker; frame times also count the time the machine gave to other programs.
    </p>
  );
}

export function TrainPanel() {
  const photos = useStore((s) => s.train.photos);
  const settings = useStore((s) => s.train.settings);
  const run = useStore((s) => s.train.run);
  const model = useStore((s) => s.model);
  // Not on every event of a run: the split alone is O(photos).
  const check = useMemo(() => checkTrainable(photos, settings.heldOut), [photos, settings.heldOut]);
  const running = run?.status === 'running';
  return (
    <>
      <section aria-labelledby="train-run-h" data-testid="train-panel">
        <h3 id="train-run-h">2. Train</h3>
        <Interrupted />
        {check.errors.length > 0 && (
          <ul className="refusals small" data-testid="train-refusals">
            {check.errors.map((e, i) => (
              <li key={i}>
                {e.text} <span className="muted">{e.hint}</span>
              </li>
            ))}
          </ul>
        )}
        {check.notices.map((n, i) => (
          <p key={i} className="small muted" data-testid="train-notice">
            {n}
          </p>
        ))}
        <Settings />
        <p className="small">
          On the features of <strong>{model?.name ?? 'the bundled model'}</strong> (the active model; choose another under
          Model &amp; backend).
        </p>
        <div className="row">
          {running ? (
            <button className="btn" onClick={cancelTraining} data-testid="train-cancel" aria-keyshortcuts="Escape">
              Cancel training
            </button>
          ) : (
            <button className="btn btn-primary" onClick={() => void startTraining()} disabled={check.errors.length > 0} data-testid="train-start">
              {run ? 'Train again' : 'Train'}
            </button>
          )}
        </div>
        {run && (
          <>
            <p className="small" role="status" data-testid="train-status" data-status={run.status}>
              {run.status === 'running' && `Training on ${run.trainPhotos.length} photos, ${run.heldOutPhotos.length} held out, ${run.classes.length} classes (${run.classes.join(', ')})…`}
              {run.status === 'done' && `Trained on ${run.trainPhotos.length} photos (${run.heldOutPhotos.length} held out) in ${seconds((run.endedAt ?? 0) - run.startedAt)}.`}
              {run.status === 'cancelled' && run.message}
              {run.status === 'failed' && `Failed: ${run.message}`}
            </p>
            <PhaseList run={run} />
          </>
        )}
      </section>
      {run && <RecipeView run={run} />}
      {run && <HeldOutView run={run} />}
      {run && <ModelSection run={run} />}
      {run && run.status !== 'running' && <PagePerformance run={run} />}
      {run && run.log.length > 0 && (
        <details>
          <summary className="small">The trainer's log ({run.log.length} lines, as rcnn train prints it)</summary>
          <pre className="train-log" data-testid="train-log">{run.log.join('\n')}</pre>
        </details>
      )}
    </>
  );
}
