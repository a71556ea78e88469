import type { StageDefinition } from '../types';
import { unavailableReason } from '../../NoSvmHead';
import { SvmStage } from './SvmStage';
import { useSvmOverlay } from './overlay';

export const svmStage: StageDefinition = {
  id: 'svm',
  title: 'SVM scores',
  summary: 'One linear SVM per class scores every proposal from its fc7 features.',
  computedBy: 'The SVM head of the model, applied in the same batches as the features.',
  Panel: SvmStage,
  useOverlay: useSvmOverlay,
  needs: 'features',
  streamsFromCnn: true,
  requiresSvm: true,
  unavailable: (s) => unavailableReason(s.model, 'svm'),
};
