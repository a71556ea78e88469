import type { StageDefinition } from '../types';
import { ProposalsStage, useProposalsOverlay } from './ProposalsStage';
import { computeProposals } from '../../../runner/proposalActions';

export const proposalsStage: StageDefinition = {
  id: 'proposals',
  title: 'Proposals',
  summary: 'Selective search proposes about 2000 class-agnostic regions by grouping superpixels.',
  computedBy: 'Selective search (fast mode: 8 grouping runs) in a pool of Web Workers.',
  Panel: ProposalsStage,
  useOverlay: useProposalsOverlay,
  needs: 'proposals',
  onEnter: (s) => {
    if (s.image && !s.progress && (!s.proposals || s.proposals.imageKey !== s.image.key)) void computeProposals();
  },
};
