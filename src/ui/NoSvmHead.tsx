import { useStore } from '../state/store';
import type { StageId } from '../state/store';
import type { ModelInfo } from '../model/modelInfo';

/** The stages that need the per-class SVMs: without them R-CNN has nothing to score, regress, suppress or report. */
export const SVM_STAGES = ['svm', 'regression', 'nms', 'detections'] as const satisfies readonly StageId[];

/** True when the model carries SVMs (a features-only import, e.g. a plain AlexNet, does not). */
export function hasSvmHead(model: ModelInfo | null): boolean {
  return !model || (model.svmClasses?.length ?? 0) > 0;
}

/**
 * Why a stage cannot run with this model, or null. The stepper marks these stages unavailable:
 * a features-only model ran to "0 detections" with the SVM stage marked done, and no word why.
 */
export function unavailableReason(model: ModelInfo | null, stage: StageId): string | null {
  if (!model) return null;
  if (!hasSvmHead(model) && (SVM_STAGES as readonly StageId[]).includes(stage)) return 'this model has no SVM head';
  if (stage === 'regression' && !model.bboxClasses) return 'this model has no box regressors';
  return null;
}

/** Shown instead of the SVM, regression, NMS and detections panels when the model has no SVM head. */
export function NoSvmHead() {
  const model = useStore((s) => s.model);
  const source = useStore((s) => s.modelSource);
  if (hasSvmHead(model)) return null;
  return (
    <div className="stage-body">
      <div className="message message-warning" role="status" data-testid="no-svm-head">
        <div>
          <strong>This model has no SVM head: it can extract features but not detect.</strong> {source ?? model!.name} turns each
          proposal into CNN features (pool5, fc7), but has no per-class SVMs to score them, so the SVM scores, box regression, NMS and
          detections stages have nothing to work on. Its features are in the CNN features stage. To detect, load a model with SVMs under{' '}
          <strong>Model &amp; backend</strong>: the bundled fruit-animals model, one trained by <code>rcnn train</code>, or the ONNX model
          zoo's rcnn-ilsvrc13.
        </div>
      </div>
    </div>
  );
}
