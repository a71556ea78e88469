import type { StageDefinition } from '../types';
import { unavailableReason } from '../../NoSvmHead';
import { NmsStage, useNmsOverlay } from './NmsStage';

export const nmsStage: StageDefinition = {
  id: 'nms',
  title: 'NMS',
  summary: 'Per class, greedy non-maximum suppression keeps the best box among overlapping ones.',
  computedBy: 'Runs instantly in the page from the SVM scores; tune it with the sliders.',
  Panel: NmsStage,
  useOverlay: useNmsOverlay,
  needs: 'features',
  streamsFromCnn: true,
  requiresSvm: true,
  unavailable: (s) => unavailableReason(s.model, 'nms'),
};
