import type { StageDefinition } from '../types';
import { FeaturesStage } from './FeaturesStage';
import { useFeaturesOverlay } from './overlay';

export const featuresStage: StageDefinition = {
  id: 'features',
  title: 'CNN features',
  summary: 'AlexNet (CaffeNet layout) turns each crop into an fc7 feature vector (4096-d at full width) and a pool5 map.',
  computedBy: 'The CNN worker runs the crops through the network in batches.',
  Panel: FeaturesStage,
  useOverlay: useFeaturesOverlay,
  needs: 'features',
};
