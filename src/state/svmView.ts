/**
 * View state of the SVM-scores and box-regression stages, shared between their panels and their
 * overlays on the main image (kept out of the main store: nothing else reads it).
 */
import { create } from 'zustand';

export interface SvmViewState {
  /** The class both stages focus on; null = the class whose best proposal scores highest. */
  classIndex: number | null;
  /** Heat-map rows: by rank (null) or by a class's score, best first. */
  sortBy: number | null;
  /** Colour scales centre at the score threshold or at 0 (the SVM's decision boundary). */
  centreAt: 'threshold' | 'zero';
  showScoreMap: boolean;
  /** Score map on a sequential scale stretched to the class's own score range. */
  stretchMap: boolean;
  /** Score-map cell under the pointer on the main image: the proposal giving its score (null: none). */
  mapHover: { proposal: number; score: number } | null;
  showTopK: boolean;
  /** Top-k boxes of the class drawn in the SVM stage. */
  topK: number;
  /** Top-k proposals of the class shown in the regression stage. */
  regTopK: number;
  /** 0 = proposal (before regression), 1 = regressed box (after), in between = interpolated. */
  blend: number;
  /** Draw the proposal outline and the centre-to-centre arrow under the blended box. */
  showArrows: boolean;
  set: (p: Partial<Omit<SvmViewState, 'set'>>) => void;
}

export const useSvmView = create<SvmViewState>()((set) => ({
  classIndex: null,
  sortBy: null,
  centreAt: 'threshold',
  showScoreMap: true,
  stretchMap: false,
  mapHover: null,
  showTopK: true,
  topK: 5,
  regTopK: 5,
  blend: 1,
  showArrows: true,
  set: (p) => set(p),
}));
