import type { StageDefinition } from '../types';
import { ImageStage } from './ImageStage';

export const imageStage: StageDefinition = {
  id: 'image',
  title: 'Image',
  summary: 'The input photo, turned upright (EXIF) and scaled to a working size.',
  computedBy: 'Choose a sample, or upload, drop or paste a photo.',
  Panel: ImageStage,
  needs: 'image',
};
