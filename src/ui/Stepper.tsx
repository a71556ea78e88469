import { useStore } from '../state/store';
import { STAGES, neighbourStage } from './stages/registry';
import type { StageStatus } from './stages/types';

interface Props {
  status: Record<string, StageStatus>;
}

const STATUS_TEXT: Record<StageStatus, string> = {
  done: 'computed',
  running: 'computing',
  pending: 'not computed yet',
  unavailable: 'not available for this model',
};

/** The stage stepper: a tab list (arrow keys move between stages anywhere outside inputs). */
export function Stepper({ status }: Props) {
  const stage = useStore((s) => s.stage);
  const setStage = useStore((s) => s.setStage);
  const prev = neighbourStage(stage, -1);
  const next = neighbourStage(stage, 1);
  return (
    <nav className="stepper" aria-label="R-CNN stages">
      <button className="step-arrow" onClick={() => prev && setStage(prev)} disabled={!prev} aria-label="Previous stage" title="Previous stage (Left arrow)">
        ‹
      </button>
      <ol role="tablist" aria-orientation="horizontal">
        {STAGES.map((s, k) => (
          <li key={s.id} role="presentation">
            <button
              role="tab"
              id={`tab-${s.id}`}
              aria-selected={s.id === stage}
              aria-controls="stage-panel"
              tabIndex={s.id === stage ? 0 : -1}
              className={`step step-${status[s.id]}${s.id === stage ? ' step-current' : ''}`}
              onClick={() => setStage(s.id)}
              title={`${s.title}: ${s.summary} (${STATUS_TEXT[status[s.id]]})`}
              data-stage={s.id}
              data-status={status[s.id]}
            >
              <span className="step-num" aria-hidden="true">{k + 1}</span>
              <span className="step-title">{s.title}</span>
              <span className="visually-hidden">, {STATUS_TEXT[status[s.id]]}</span>
            </button>
          </li>
        ))}
      </ol>
      <button className="step-arrow" onClick={() => next && setStage(next)} disabled={!next} aria-label="Next stage" title="Next stage (Right arrow)">
        ›
      </button>
    </nav>
  );
}
