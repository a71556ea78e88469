import { useStore } from '../state/store';
import { computeFeatures } from '../runner/cnnActions';

/**
 * Shown above the score, regression, NMS and detection panels when the CNN run was stopped
 * part-way: what is shown covers only the proposals computed so far, and one click finishes it.
 */
export function IncompleteNotice() {
  const features = useStore((s) => s.features);
  const image = useStore((s) => s.image);
  const running = useStore((s) => s.progress?.stage === 'features');
  if (!features || !image || features.imageKey !== image.key || features.complete || running) return null;
  return (
    <div className="message message-warning" role="status" data-testid="incomplete-notice">
      <div>
        The CNN stopped after {features.done} of {features.total} proposals; these results cover only those.
        <div className="row">
          <button className="btn btn-primary" onClick={() => void computeFeatures()} data-testid="run-all">
            Finish the run ({features.total - features.done} left)
          </button>
        </div>
      </div>
    </div>
  );
}
