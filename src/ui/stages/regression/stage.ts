import type { StageDefinition } from '../types';
import { unavailableReason } from '../../NoSvmHead';
import { RegressionStage } from './RegressionStage';
import { useRegressionOverlay } from './overlay';

export const regressionStage: StageDefinition = {
  id: 'regression',
  title: 'Box regression',
  summary: 'Per-class ridge regressors on pool5 move each proposal towards the object.',
  computedBy: 'The box-regression head of the model, applied once per proposal and class.',
  Panel: RegressionStage,
  useOverlay: useRegressionOverlay,
  needs: 'features',
  streamsFromCnn: true,
  requiresSvm: true,
  unavailable: (s) => unavailableReason(s.model, 'regression'),
};
