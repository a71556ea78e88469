import type { StageDefinition } from '../types';
import { unavailableReason } from '../../NoSvmHead';
import { DetectionsStage, useDetectionsOverlay } from './DetectionsStage';

export const detectionsStage: StageDefinition = {
  id: 'detections',
  title: 'Detections',
  summary: 'The final boxes with class and score.',
  computedBy: 'Everything above.',
  Panel: DetectionsStage,
  useOverlay: useDetectionsOverlay,
  needs: 'features',
  streamsFromCnn: true,
  requiresSvm: true,
  unavailable: (s) => unavailableReason(s.model, 'detections'),
};
