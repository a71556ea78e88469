import { useEffect, useRef, useState } from 'react';
import { useStore } from '../state/store';
import { cancelRunning } from '../runner/tasks';
import { cancelZoo } from '../runner/zooActions';

let cancelledByUser = false;

/** The Cancel button and Escape: stop the running work, and let the announcer say it was stopped. */
export function cancelByUser(): void {
  const st = useStore.getState();
  if (st.progress) cancelledByUser = true;
  // The bar shows the original R-CNN's download while it runs: its Cancel and Escape stop that too.
  if (st.zoo.busy && st.progress?.label === 'Loading the model') cancelZoo();
  cancelRunning();
}

/**
 * Tells screen readers when long work starts and ends (the progress bar itself is not announced
 * as it moves): "Computing CNN features started; Escape cancels", then "... finished" or "... cancelled".
 */
export function ProgressAnnouncer() {
  const label = useStore((s) => s.progress?.label ?? null);
  const last = useRef<string | null>(null);
  const [text, setText] = useState('');
  useEffect(() => {
    if (label && label !== last.current) {
      setText(`${label} started. Press Escape to cancel.`);
      cancelledByUser = false;
    } else if (!label && last.current) {
      setText(`${last.current} ${cancelledByUser ? 'cancelled' : 'finished'}.`);
      cancelledByUser = false;
    }
    last.current = label;
  }, [label]);
  return (
    <div className="visually-hidden" role="status" aria-live="polite" data-testid="progress-announcer">
      {text}
    </div>
  );
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '…';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/**
 * The fill's style for `done` of `total`: a scale of a full-width bar, so that an update changes
 * no layout (see .progress-fill in styles.css for the measured reason).
 */
export function progressFillStyle(done: number, total: number): { transform: string } {
  return { transform: `scaleX(${progressFraction(done, total).toFixed(3)})` };
}

/** The fraction done, clamped to [0, 1] (0 while the total is unknown). */
function progressFraction(done: number, total: number): number {
  return total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
}

/** Progress of the running stage with elapsed time, ETA and a cancel button. */
export function ProgressBar({ onCancel }: { onCancel: () => void }) {
  const p = useStore((s) => s.progress);
  const [, tick] = useState(0);
  useEffect(() => {
    if (!p) return;
    const t = setInterval(() => tick((x) => x + 1), 500);
    return () => clearInterval(t);
  }, [p]);
  if (!p) return null;
  const frac = progressFraction(p.done, p.total);
  const elapsed = (performance.now() - p.startedAt) / 1000;
  const eta = frac > 0.02 ? (elapsed * (1 - frac)) / frac : NaN;
  return (
    <div className="progress" data-testid="progress">
      <div className="progress-text">
        <strong>{p.label}</strong> {p.detail && <span className="muted">{p.detail}</span>}
        <span className="muted">
          {' '}
          · {formatSeconds(elapsed)} elapsed{Number.isFinite(eta) ? ` · about ${formatSeconds(eta)} left` : ''}
        </span>
      </div>
      <div className="progress-row">
        <div
          className="progress-track"
          role="progressbar"
          aria-label={p.label}
          aria-valuemin={0}
          aria-valuemax={p.total}
          aria-valuenow={p.done}
          aria-valuetext={`${p.done} of ${p.total}`}
        >
          <div className="progress-fill" style={progressFillStyle(p.done, p.total)} />
        </div>
        <button className="btn" onClick={onCancel} data-testid="cancel" aria-keyshortcuts="Escape" title="Cancel (Esc)">
          Cancel
        </button>
      </div>
    </div>
  );
}
