/**
 * The app's one zustand store: what the user chose and what each stage produced (data and plain
 * setters; the async actions that compute stage results are src/runner's), plus the view slice
 * the panels share (views.ts). Result types live with the code that produces them (runner/*):
 * this file imports them as types only.
 */
import { create } from 'zustand';
import type { ColorSpace } from '../core/selectiveSearch/types';
import type { BackendInfo, BackendName } from '../model/backend';
import type { ModelInfo } from '../model/modelInfo';
import type { AreaConvention } from '../core/geometry';
import { RCNN_NMS_THRESHOLD, defaultNmsThreshold } from '../core/nms';
import type { LoadedImage } from '../runner/decodeClient';
import type { ProposalsResult } from '../runner/proposalActions';
import type { FeaturesResult } from '../runner/cnnActions';
import type { ZooState } from '../runner/zooLoad';
import type { FeatureMode } from '../model/extract';
import { createViewSlice, type ViewSlice } from './views';
import { createTrainSlice, type TrainSlice } from './trainSlice';

/** A stage of the app, by id (the order and the stages themselves: src/ui/stages/registry.ts). */
export type StageId = string;


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
  /** Messages about the same thing (e.g. 'model-load'): a new one replaces the old, and a success clears them. */
  group?: string;
}

/** What the user chose for selective search (docs/algorithm.md section 1). */
export interface ProposalParams {
  mode: 'fast' | 'quality' | 'custom';
  custom: { colorSpaces: ColorSpace[]; ks: number[]; similarities: string[] };
  seed: number;
  maxBoxes: number;
}

export const DEFAULT_PROPOSAL_PARAMS: ProposalParams = {
  mode: 'fast',
  custom: { colorSpaces: ['HSV', 'Lab'], ks: [50, 100], similarities: ['CTSF', 'TSF'] },
  seed: 1,
  maxBoxes: 2000,
};




/** The NMS sliders (docs/algorithm.md section 7). */
export interface NmsParams {
  scoreThreshold: number;
  iouThreshold: number;
  convention: AreaConvention;
  useRegression: boolean;
}

/** Optional ground truth for the current image (drawn by the user or from a VOC XML). */
export interface GroundTruthBoxes {
  imageKey: string;
  /** Flat boxes in working-image pixels. */
  boxes: Float32Array;
  labels: string[];
  source: 'drawn' | 'xml';
  name?: string;
}

export interface PipelineState {
  image: LoadedImage | null;
  /** True while a new image is being decoded (the previous one stays usable). */
  imageLoading: boolean;
  stage: StageId;
  progress: Progress | null;
  messages: UserMessage[];
  proposalParams: ProposalParams;
  proposals: ProposalsResult | null;
  groundTruth: GroundTruthBoxes | null;
  backendPref: BackendName | 'auto';
  backend: BackendInfo | null;
  model: ModelInfo | null;
  /** Where the model came from, in words. */
  modelSource: string | null;
  features: FeaturesResult | null;
  /**
   * How the CNN stage gets each proposal's features: R-CNN's warped crops, or the shared
   * convolution of SPPnet / Fast R-CNN (docs/fast-rcnn.md). `features` is the run in this mode.
   */
  featureMode: FeatureMode;
  /** The last complete run in the other mode on the same proposals, kept for the side-by-side comparison. */
  otherFeatures: FeaturesResult | null;
  setFeatureMode: (m: FeatureMode) => void;
  nmsParams: NmsParams;
  /** Wall time of each stage of the last run, ms. */
  timings: Partial<Record<string, number>>;
  /** The original R-CNN's download, checks and the models stored in the browser (runner/zooActions.ts). */
  zoo: ZooState;
  setZoo: (p: Partial<ZooState>) => void;
  setBackendState: (b: BackendInfo | null) => void;
  setBackendPref: (b: BackendName | 'auto') => void;
  setModel: (m: ModelInfo | null, source: string | null) => void;
  setFeatures: (f: FeaturesResult | null) => void;
  setNmsParams: (p: Partial<NmsParams>) => void;
  setTiming: (stage: string, ms: number) => void;
  /** The proposal the later stages focus on (crop, features, scores, regression), by index. */
  selectedProposal: number | null;
  setSelectedProposal: (i: number | null) => void;
  /** Draw-mode of the ground-truth editor, and the class new boxes get. */
  gtDrawing: boolean;
  gtClass: string;
  showGroundTruth: boolean;

  setGroundTruth: (g: GroundTruthBoxes | null) => void;
  setGtDrawing: (on: boolean) => void;
  setGtClass: (c: string) => void;
  setShowGroundTruth: (on: boolean) => void;
  setProposalParams: (p: Partial<ProposalParams>) => void;
  setProposals: (r: ProposalsResult | null) => void;
  /** Drop every stage result (a new image). */
  resetResults: () => void;
  setStage: (stage: StageId) => void;
  setImage: (image: LoadedImage) => void;
  setImageLoading: (loading: boolean) => void;
  setProgress: (p: Progress | null) => void;
  pushMessage: (m: UserMessage) => void;
  dismissMessage: (index: number) => void;
  clearMessageGroup: (group: string) => void;
  clearMessages: () => void;
}

export type AppState = PipelineState & ViewSlice & TrainSlice;

export const useStore = create<AppState>()((set, get, store) => ({
  ...createViewSlice(set, get, store),
  ...createTrainSlice(set, get, store),
  image: null,
  imageLoading: false,
  stage: 'image',
  progress: null,
  messages: [],
  proposalParams: DEFAULT_PROPOSAL_PARAMS,
  proposals: null,
  groundTruth: null,
  backendPref: 'auto',
  backend: null,
  model: null,
  modelSource: null,
  features: null,
  featureMode: 'warp',
  otherFeatures: null,
  // The run of the mode switched to comes back if there is one; the one switched from is kept
  // (complete runs only: a cancelled one is dropped, as a new photo drops it).
  setFeatureMode: (featureMode) =>
    set((s) => {
      if (s.featureMode === featureMode) return {};
      const back = s.otherFeatures?.mode === featureMode ? s.otherFeatures : null;
      const keep = s.features?.complete ? s.features : s.otherFeatures?.mode !== featureMode ? s.otherFeatures : null;
      return { featureMode, features: back, otherFeatures: keep, selectedProposal: s.selectedProposal };
    }),
  nmsParams: { scoreThreshold: 0, iouThreshold: RCNN_NMS_THRESHOLD, convention: 'continuous', useRegression: true },
  timings: {},
  zoo: { busy: null, result: null, cannotFetch: null, listing: null },
  setZoo: (p) => set((s) => ({ zoo: { ...s.zoo, ...p } })),
  setBackendState: (backend) => set({ backend }),
  setBackendPref: (backendPref) => set({ backendPref }),
  // A different model brings its own NMS threshold (chosen on its validation photos), else R-CNN's,
  // and the feature path its heads were trained on (RoI pooling for `rcnn train --features roi`).
  setModel: (model, modelSource) =>
    set((s) => {
      const changed = !!model && (s.model?.name !== model.name || s.modelSource !== modelSource);
      return {
        model,
        modelSource,
        features: null,
        otherFeatures: null,
        nmsParams: changed ? { ...s.nmsParams, iouThreshold: defaultNmsThreshold(model) } : s.nmsParams,
        featureMode: changed ? (model.headFeatures?.mode ?? 'warp') : s.featureMode,
      };
    }),
  setFeatures: (features) => set({ features }),
  setNmsParams: (p) => set((s) => ({ nmsParams: { ...s.nmsParams, ...p } })),
  setTiming: (stage, ms) => set((s) => ({ timings: { ...s.timings, [stage]: ms } })),
  selectedProposal: null,
  setSelectedProposal: (selectedProposal) => set({ selectedProposal }),
  gtDrawing: false,
  gtClass: 'apple',
  showGroundTruth: true,

  setGroundTruth: (groundTruth) => set({ groundTruth }),
  setGtDrawing: (gtDrawing) => set({ gtDrawing }),
  setGtClass: (gtClass) => set({ gtClass }),
  setShowGroundTruth: (showGroundTruth) => set({ showGroundTruth }),

  setProposalParams: (p) => set((s) => ({ proposalParams: { ...s.proposalParams, ...p } })),
  setProposals: (proposals) => set({ proposals, selectedProposal: null, features: null, otherFeatures: null }),
  resetResults: () => {
    set({ proposals: null, features: null, otherFeatures: null, timings: {}, selectedProposal: null, groundTruth: null, gtDrawing: false });
    get().resetViews();
  },
  setStage: (stage) => set({ stage }),
  setImage: (image) => set({ image, imageLoading: false }),
  setImageLoading: (imageLoading) => set({ imageLoading }),
  setProgress: (progress) => set({ progress }),
  pushMessage: (m) => set((s) => ({ messages: [...s.messages.filter((x) => x.text !== m.text && (!m.group || x.group !== m.group)), m].slice(-4) })),
  dismissMessage: (index) => set((s) => ({ messages: s.messages.filter((_, i) => i !== index) })),
  clearMessageGroup: (group) => set((s) => ({ messages: s.messages.filter((x) => x.group !== group) })),
  clearMessages: () => set({ messages: [] }),
}));
