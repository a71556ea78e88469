/**
 * View state of the CNN-features panel that the main image also needs: the proposal under the
 * pointer in the fc7 map (drawn on the photo next to the selected one). Kept out of the app
 * store: it is transient and only this stage reads it.
 */
import { create } from 'zustand';

interface FeaturesView {
  /** Proposal index hovered in the fc7 map, or null. */
  hovered: number | null;
  setHovered: (i: number | null) => void;
}

export const useFeaturesView = create<FeaturesView>()((set) => ({
  hovered: null,
  setHovered: (hovered) => set({ hovered }),
}));
