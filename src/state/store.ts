import { create } from 'zustand';
import type { StageId } from './stages';
import { STAGE_IDS } from './stages';
import type { RgbImage } from '../core/image/raster';
import type { ImageFormat } from '../core/image/decode';

/** The photo every stage works on. */
export interface LoadedImage {
  /** Display name (file name or sample name). */
  name: string;
  source: 'sample' | 'file' | 'paste' | 'drop' | 'url';
  format: ImageFormat | string;
  orientation: number;
  originalWidth: number;
  originalHeight: number;
  /** Working raster all stages use; boxes are mapped to original pixels with scaleX/scaleY. */
  image: RgbImage;
  scaleX: number;
  scaleY: number;
  /** Content fingerprint: cache key for stage results. */
  key: string;
  warnings: string[];
  /** Milliseconds spent decoding. */
  decodeMs: number;
}

export interface Progress {
  /** What is running, in words ("Selective search", "CNN features"). */
  label: string;
  stage: StageId;
  done: number;
  total: number;
  /** Optional detail, e.g. "run 3/8: HSV k=100 C+T+S+F" or "42 crops/s". */
  detail?: string;
  startedAt: number;
}

export interface UserMessage {
  kind: 'error' | 'warning' | 'info';
  text: string;
  /** What the user can do about it. */
  hint?: string;
}

export interface AppState {
  image: LoadedImage | null;
  /** True while a new image is being decoded (the previous one stays usable). */
  imageLoading: boolean;
  stage: StageId;
  progress: Progress | null;
  messages: UserMessage[];

  setStage: (stage: StageId) => void;
  nextStage: () => void;
  prevStage: () => void;
  setImage: (image: LoadedImage) => void;
  setImageLoading: (loading: boolean) => void;
  setProgress: (p: Progress | null) => void;
  pushMessage: (m: UserMessage) => void;
  dismissMessage: (index: number) => void;
  clearMessages: () => void;
}

export const useStore = create<AppState>()((set, get) => ({
  image: null,
  imageLoading: false,
  stage: 'image',
  progress: null,
  messages: [],

  setStage: (stage) => set({ stage }),
  nextStage: () => {
    const i = STAGE_IDS.indexOf(get().stage);
    if (i < STAGE_IDS.length - 1) set({ stage: STAGE_IDS[i + 1] });
  },
  prevStage: () => {
    const i = STAGE_IDS.indexOf(get().stage);
    if (i > 0) set({ stage: STAGE_IDS[i - 1] });
  },
  setImage: (image) => set({ image, imageLoading: false }),
  setImageLoading: (imageLoading) => set({ imageLoading }),
  setProgress: (progress) => set({ progress }),
  pushMessage: (m) => set((s) => ({ messages: [...s.messages.filter((x) => x.text !== m.text), m].slice(-4) })),
  dismissMessage: (index) => set((s) => ({ messages: s.messages.filter((_, i) => i !== index) })),
  clearMessages: () => set({ messages: [] }),
}));
