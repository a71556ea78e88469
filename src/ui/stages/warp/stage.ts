import type { StageDefinition } from '../types';
import { WarpStage, useWarpOverlay } from './WarpStage';

export const warpStage: StageDefinition = {
  id: 'warp',
  title: 'Warped crops',
  summary: 'Each proposal is dilated for 16 px of context and warped to 227 x 227, ignoring its aspect ratio.',
  computedBy: 'The CNN worker warps every proposal on the tfjs backend before the forward pass.',
  Panel: WarpStage,
  useOverlay: useWarpOverlay,
  needs: 'proposals',
};
