import { useEffect, useMemo, useState } from 'react';
import { useStore } from '../../../state/store';
import { computeFeatures, ensureCnn } from '../../../runner/cnnActions';
import { cancelRunning } from '../../../runner/tasks';
import { classColor } from '../../palette';
import { PixelCanvas } from './PixelCanvas';
import { topClass } from './maps';

function hexRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** One pixel per proposal: pending (light), computed (blue), or its top SVM class (grey = background). */
function scoredPixels(f: NonNullable<ReturnType<typeof useStore.getState>['features']>): Uint8ClampedArray {
  const out = new Uint8ClampedArray(4 * f.total);
  const C = f.classes?.length ?? 0;
  for (let i = 0; i < f.total; i++) {
    let rgb: [number, number, number] = [225, 229, 235];
    if (f.computed[i]) {
      if (f.scores && C) {
        const t = topClass(f.scores, C, i);
        rgb = t.cls >= 0 ? hexRgb(classColor(t.cls)) : [140, 148, 158];
      } else rgb = [0, 114, 178];
    }
    out.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
  }
  return out;
}

/** Run button, live progress of the CNN over all proposals, and what computes it. */
export function RunPanel() {
  const features = useStore((s) => s.features);
  const image = useStore((s) => s.image);
  const proposals = useStore((s) => s.proposals);
  const model = useStore((s) => s.model);
  const backend = useStore((s) => s.backend);
  const progress = useStore((s) => s.progress);
  const [workers, setWorkers] = useState<number | null>(null);
  const [, tick] = useState(0);
  const fresh = features && image && features.imageKey === image.key ? features : null;
  const running = progress?.stage === 'features' && progress.label.startsWith('CNN');
  const busy = progress?.stage === 'features';

  // How many workers share the work (one per core on CPU backends): read once the pool exists.
  useEffect(() => {
    if (!backend) return;
    let live = true;
    ensureCnn().then((p) => live && setWorkers(p.size), () => undefined);
    return () => {
      live = false;
    };
  }, [backend]);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => tick((x) => x + 1), 1000);
    return () => clearInterval(t);
  }, [running]);

  const px = useMemo(() => (fresh ? scoredPixels(fresh) : null), [fresh]);
  const elapsed = running ? (performance.now() - progress!.startedAt) / 1000 : 0;
  const rate = fresh ? (fresh.complete ? fresh.cropsPerSecond : elapsed > 0 ? fresh.done / elapsed : 0) : 0;
  const eta = fresh && rate > 0 && !fresh.complete ? (fresh.total - fresh.done) / rate : null;
  const quarter = fresh ? Math.floor((4 * fresh.done) / Math.max(1, fresh.total)) : 0;
  const nProposals = proposals && image && proposals.imageKey === image.key ? proposals.boxes.length / 4 : null;
  const scored = fresh && fresh.scores ? fresh.done : 0;
  return (
    <div className="run-panel">
      <div className="row">
        <button className="btn btn-primary" onClick={() => void computeFeatures()} disabled={!image || busy} data-testid="compute-features">
          {fresh?.complete ? 'Recompute' : nProposals ? `Run the CNN on all ${nProposals} proposals` : 'Run the CNN on every proposal'}
        </button>
        {running && (
          <button className="btn" onClick={cancelRunning}>
            Cancel
          </button>
        )}
      </div>
      <p className="small muted">
        Computed by {backend ? `${workers && workers > 1 ? `${workers} CNN workers` : 'the CNN worker'} on the ${backend.name} backend` : 'the CNN worker (starts on first use)'}
        {model ? `, ${model.name}, batches of ${model.batchSize}` : ''}; fc7
        {model?.svmClasses ? ', SVM scores' : ''}
        {model?.bboxClasses ? ' and box-regression deltas' : ''} of each batch come back together.
      </p>
      {fresh && (
        <div className="run-progress" data-testid="features-progress" data-done={fresh.done} data-total={fresh.total} data-complete={fresh.complete}>
          <p className="small" data-testid="features-summary">
            <strong>
              {fresh.done} of {fresh.total}
            </strong>{' '}
            proposals through {fresh.modelName} on {fresh.backend}
            {rate > 0 && ` · ${rate.toFixed(1)} crops/s`}
            {eta !== null && running && ` · about ${eta < 60 ? `${eta.toFixed(0)} s` : `${(eta / 60).toFixed(1)} min`} left`}
            {fresh.complete && ` · ${(fresh.ms / 1000).toFixed(1)} s in all`}
          </p>
          {fresh.complete && fresh.tfMemory && (
            <p className="small muted" data-testid="tf-memory" data-tensors={fresh.tfMemory.numTensors} data-bytes={fresh.tfMemory.numBytes}>
              Afterwards tfjs holds {fresh.tfMemory.numTensors} tensors ({(fresh.tfMemory.numBytes / 2 ** 20).toFixed(1)} MB) in{' '}
              {fresh.tfMemory.workers === 1 ? 'the worker' : `${fresh.tfMemory.workers} workers`}: the model's weights and this photo, nothing per proposal (a second run does not grow it).
            </p>
          )}
          <div className="scored" title="One column per proposal, in rank order">
            <PixelCanvas
              width={fresh.total}
              height={1}
              pixels={px}
              cssWidth="100%"
              cssHeight={10}
              label={`${fresh.done} of ${fresh.total} proposals have features${scored ? ', coloured by top SVM class' : ''}`}
              testId="scored-strip"
            />
          </div>
          <div className="small muted scored-legend">
            {fresh.scores ? `Proposals scored so far: ${scored} (coloured by top SVM class, grey = background, light = pending)` : `Proposals with features so far: ${fresh.done} (light = pending)`}
          </div>
          <span className="visually-hidden" aria-live="polite">
            {fresh.complete ? `CNN features done for all ${fresh.total} proposals.` : `${quarter * 25}% of proposals done.`}
          </span>
        </div>
      )}
    </div>
  );
}
