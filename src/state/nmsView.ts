import { create } from 'zustand';

/** View state of the NMS stage (shared by its panel and its overlay on the main image). */
export interface NmsViewState {
  /** Class whose suppressions are shown and replayed (-1: pick the busiest automatically). */
  classIndex: number;
  /** Replay position: number of kept boxes processed so far (null: replay off, show the result). */
  replayStep: number | null;
  /** Show the boxes each kept box suppressed, with a line to it. */
  showSuppressed: boolean;
  /** Overlay the NMS result of the other box set (before vs after regression) dashed. */
  compare: boolean;
  set: (p: Partial<Omit<NmsViewState, 'set'>>) => void;
}

export const useNmsView = create<NmsViewState>()((set) => ({
  classIndex: -1,
  replayStep: null,
  showSuppressed: true,
  compare: false,
  set: (p) => set(p),
}));
