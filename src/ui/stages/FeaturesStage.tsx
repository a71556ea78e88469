import { useStore } from '../../state/store';
import { computeFeatures } from '../../runner/cnn';

export function FeaturesStage() {
  const features = useStore((s) => s.features);
  const image = useStore((s) => s.image);
  const model = useStore((s) => s.model);
  const backend = useStore((s) => s.backend);
  const progress = useStore((s) => s.progress);
  const fresh = features && image && features.imageKey === image.key;
  return (
    <div className="stage-body">
      <p>
        Each warped crop goes through AlexNet (CaffeNet layout): five convolutional layers, then two fully connected
        layers of {model?.architecture.fc7 ?? 4096} units. R-CNN keeps the last hidden layer, fc7, as the crop's feature
        vector, and pool5 for box regression.
      </p>
      <button className="btn btn-primary" onClick={() => void computeFeatures()} disabled={!image || progress?.stage === 'features'} data-testid="compute-features">
        {fresh && features.complete ? 'Recompute' : 'Run the CNN on every proposal'}
      </button>
      {fresh && (
        <p data-testid="features-summary">
          {features.done}/{features.total} proposals through {features.modelName} on {features.backend}
          {features.complete && `, ${(features.ms / 1000).toFixed(1)} s (${features.cropsPerSecond.toFixed(1)} crops/s)`}.
        </p>
      )}
      {model && (
        <p className="muted small">
          Model: {model.name}; backend {backend?.name}.
        </p>
      )}
    </div>
  );
}
