import { useStore } from '../../../state/store';
import { computeFeatures } from '../../../runner/cnnActions';

/** A stage whose numbers come out of the CNN, before it has run on this photo: why, and the button that runs it. */
export function CnnPending({ text, testId }: { text: string; testId: string }) {
  const busy = useStore((s) => s.progress !== null);
  const image = useStore((s) => s.image);
  return (
    <div className="stage-body pending" data-testid="stage-pending">
      <p>
        <strong>Not computed yet.</strong> {text}
      </p>
      <button className="btn btn-primary" onClick={() => void computeFeatures()} disabled={!image || busy} data-testid={testId}>
        Run proposals and the CNN
      </button>
    </div>
  );
}
