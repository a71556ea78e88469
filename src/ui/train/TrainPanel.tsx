/** The training half of the Train view's panel (settings, the run, its results). */
import { useStore } from '../../state/store';
import { checkTrainable } from '../../core/dataset/trainingSet';

export function TrainPanel() {
  const photos = useStore((s) => s.train.photos);
  const settings = useStore((s) => s.train.settings);
  const check = checkTrainable(photos, settings.heldOut);
  return (
    <section aria-labelledby="train-run-h" data-testid="train-panel">
      <h3 id="train-run-h">2. Train</h3>
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
    </section>
  );
}
