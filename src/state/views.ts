/**
 * The view slice of the store: what each stage's panel and its overlay on the photo share (the
 * class in focus, sliders of the drawing, replay positions, what is under the pointer). One slice
 * of the one store (zustand's slices pattern), one object per stage, each set by a partial update:
 *
 *   const topK = useStore((s) => s.svmView.topK);
 *   useStore.getState().setView('svmView', { topK: 10 });
 *
 * A new stage adds its view object here (an interface, a default and one entry in ViewSlice).
 */
import type { StateCreator } from 'zustand';

export interface ProposalsView {
  /** How many of the best-ranked proposals are drawn. */
  topN: number;
  colorBy: 'rank' | 'strategy';
  /** The run whose segmentation and merges are shown. */
  selectedRun: number;
  showSegmentation: boolean;
  /** Merges replayed so far for the selected run. */
  mergeStep: number;
  /** A training rule whose labelling is shown on the image instead of the boxes, and its SVM class. */
  rule: 'fineTune' | 'svm' | 'bbox' | null;
  ruleClass: number;
}

/** SVM scores and box regression share the class in focus. */
export interface SvmView {
  /** The class both stages focus on; null = the class whose best proposal scores highest. */
  classIndex: number | null;
  /** Heat-map rows: by rank (null) or by a class's score, best first. */
  sortBy: number | null;
  /** Colour scales centre at the score threshold or at 0 (the SVM's decision boundary). */
  centreAt: 'threshold' | 'zero';
  showScoreMap: boolean;
  /** Score map on a sequential scale stretched to the class's own score range. */
  stretchMap: boolean;
  /** Score-map cell under the pointer on the main image: the score shown there (null: none). */
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
}

export interface NmsView {
  /** Class whose suppressions are shown and replayed (-1: pick the busiest automatically). */
  classIndex: number;
  /** Replay position: number of kept boxes processed so far (null: replay off, show the result). */
  replayStep: number | null;
  /** Show the boxes each kept box suppressed, with a line to it. */
  showSuppressed: boolean;
  /** Overlay the NMS result of the other box set (before vs after regression) dashed. */
  compare: boolean;
}

export interface DetectionsView {
  /** Index of the detection under the pointer or focus in the list, or null. */
  hovered: number | null;
}

export interface ViewSlice {
  /**
   * The proposal under the pointer (on the photo in the Proposals stage, in the fc7 map in the
   * CNN-features stage), by index, or null.
   */
  hoveredProposal: number | null;
  proposalsView: ProposalsView;
  svmView: SvmView;
  nmsView: NmsView;
  detectionsView: DetectionsView;
  setHoveredProposal: (i: number | null) => void;
  setView: <K extends ViewKey>(key: K, update: Partial<ViewSlice[K]>) => void;
  /** A new photo: what pointed into the old one's proposals is cleared. */
  resetViews: () => void;
}

export type ViewKey = 'proposalsView' | 'svmView' | 'nmsView' | 'detectionsView';

export const DEFAULT_VIEWS = {
  proposalsView: { topN: 200, colorBy: 'rank', selectedRun: 0, showSegmentation: false, mergeStep: 0, rule: null, ruleClass: 0 } as ProposalsView,
  svmView: { classIndex: null, sortBy: null, centreAt: 'threshold', showScoreMap: true, stretchMap: false, mapHover: null, showTopK: true, topK: 5, regTopK: 5, blend: 1, showArrows: true } as SvmView,
  nmsView: { classIndex: -1, replayStep: null, showSuppressed: true, compare: false } as NmsView,
  detectionsView: { hovered: null } as DetectionsView,
};

export const createViewSlice: StateCreator<ViewSlice, [], [], ViewSlice> = (set) => ({
  hoveredProposal: null,
  ...DEFAULT_VIEWS,
  setHoveredProposal: (hoveredProposal) => set({ hoveredProposal }),
  setView: (key, update) => set((s) => ({ [key]: { ...s[key], ...update } }) as Partial<ViewSlice>),
  resetViews: () =>
    set((s) => ({
      hoveredProposal: null,
      proposalsView: { ...s.proposalsView, selectedRun: 0, mergeStep: 0, rule: null },
    })),
});
