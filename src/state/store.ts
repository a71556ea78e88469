import { create } from 'zustand';
import type { StageId } from './stages';
import { STAGE_IDS } from './stages';
import type { RgbImage } from '../core/image/raster';
import type { ImageFormat } from '../core/image/decode';
import type { ColorSpace, RunResult, RunSpec } from '../core/selectiveSearch/types';
import type { BackendInfo, BackendName } from '../model/backend';
import type { ModelInfo } from '../workers/cnnProtocol';
import type { AreaConvention } from '../core/geometry';
import { RCNN_NMS_THRESHOLD, defaultNmsThreshold } from '../core/nms';

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
  /** Messages about the same thing (e.g. 'model-load'): a new one replaces the old, and a success clears them. */
  group?: string;
}

/** What the user chose for selective search (RCNN-SPEC section 1). */
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

/** Selective search's output for one image and one set of parameters. */
export interface ProposalsResult {
  imageKey: string;
  params: ProposalParams;
  /** Flat boxes in working-image pixels, best-ranked first. */
  boxes: Float32Array;
  runIndex: Int32Array;
  regionId: Int32Array;
  specs: Required<RunSpec>[];
  runs: RunResult[];
  counts: { pooled: number; afterMinSide: number; unique: number };
  ms: number;
  workers: number;
}

export interface ProposalsView {
  /** How many of the best-ranked proposals are drawn. */
  topN: number;
  colorBy: 'rank' | 'strategy';
  /** Index of the proposal under the pointer or keyboard focus. */
  hovered: number | null;
  /** The run whose segmentation and merges are shown. */
  selectedRun: number;
  showSegmentation: boolean;
  /** Merges replayed so far for the selected run. */
  mergeStep: number;
  /** A training rule whose labelling is shown on the image instead of the boxes, and its SVM class. */
  rule: 'fineTune' | 'svm' | 'bbox' | null;
  ruleClass: number;
}

/** CNN features, SVM scores and box-regression deltas of the current proposals, filled batch by batch. */
export interface FeaturesResult {
  imageKey: string;
  /** The proposals these features belong to (same object as the store's proposals). */
  proposals: ProposalsResult;
  modelName: string;
  total: number;
  /** Proposals computed so far (batches arrive out of order with several workers). */
  done: number;
  computed: Uint8Array;
  fc7Dim: number;
  /** total x fc7Dim. */
  fc7: Float32Array;
  /** SVM classes and scores (total x C), null when the model has no SVM head. */
  classes: string[] | null;
  scores: Float32Array | null;
  /** total x C x 4 box-regression deltas, null without a box-regression head. */
  deltas: Float32Array | null;
  ms: number;
  cropsPerSecond: number;
  backend: string;
  complete: boolean;
  /** tf.memory() of the CNN workers after the run (what they keep: the model, the photo). */
  tfMemory?: { numTensors: number; numBytes: number; workers: number };
}

/** The NMS sliders (RCNN-SPEC section 7). */
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

export interface AppState {
  image: LoadedImage | null;
  /** True while a new image is being decoded (the previous one stays usable). */
  imageLoading: boolean;
  stage: StageId;
  progress: Progress | null;
  messages: UserMessage[];
  proposalParams: ProposalParams;
  proposals: ProposalsResult | null;
  proposalsView: ProposalsView;
  groundTruth: GroundTruthBoxes | null;
  backendPref: BackendName | 'auto';
  backend: BackendInfo | null;
  model: ModelInfo | null;
  /** Where the model came from, in words. */
  modelSource: string | null;
  features: FeaturesResult | null;
  nmsParams: NmsParams;
  /** Wall time of each stage of the last run, ms. */
  timings: Partial<Record<string, number>>;
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
  setProposalsView: (v: Partial<ProposalsView>) => void;
  /** Drop every stage result (a new image). */
  resetResults: () => void;
  setStage: (stage: StageId) => void;
  nextStage: () => void;
  prevStage: () => void;
  setImage: (image: LoadedImage) => void;
  setImageLoading: (loading: boolean) => void;
  setProgress: (p: Progress | null) => void;
  pushMessage: (m: UserMessage) => void;
  dismissMessage: (index: number) => void;
  clearMessageGroup: (group: string) => void;
  clearMessages: () => void;
}

export const useStore = create<AppState>()((set, get) => ({
  image: null,
  imageLoading: false,
  stage: 'image',
  progress: null,
  messages: [],
  proposalParams: DEFAULT_PROPOSAL_PARAMS,
  proposals: null,
  proposalsView: { topN: 200, colorBy: 'rank', hovered: null, selectedRun: 0, showSegmentation: false, mergeStep: 0, rule: null, ruleClass: 0 },
  groundTruth: null,
  backendPref: 'auto',
  backend: null,
  model: null,
  modelSource: null,
  features: null,
  nmsParams: { scoreThreshold: 0, iouThreshold: RCNN_NMS_THRESHOLD, convention: 'continuous', useRegression: true },
  timings: {},
  setBackendState: (backend) => set({ backend }),
  setBackendPref: (backendPref) => set({ backendPref }),
  // A different model brings its own NMS threshold (chosen on its validation photos), else R-CNN's.
  setModel: (model, modelSource) =>
    set((s) => ({
      model,
      modelSource,
      features: null,
      nmsParams: model && (s.model?.name !== model.name || s.modelSource !== modelSource) ? { ...s.nmsParams, iouThreshold: defaultNmsThreshold(model) } : s.nmsParams,
    })),
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
  setProposals: (proposals) => set({ proposals, selectedProposal: null, features: null }),
  setProposalsView: (v) => set((s) => ({ proposalsView: { ...s.proposalsView, ...v } })),
  resetResults: () => set((s) => ({ proposals: null, features: null, timings: {}, selectedProposal: null, groundTruth: null, gtDrawing: false, proposalsView: { ...s.proposalsView, hovered: null, selectedRun: 0, mergeStep: 0, rule: null } })),
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
  pushMessage: (m) => set((s) => ({ messages: [...s.messages.filter((x) => x.text !== m.text && (!m.group || x.group !== m.group)), m].slice(-4) })),
  dismissMessage: (index) => set((s) => ({ messages: s.messages.filter((_, i) => i !== index) })),
  clearMessageGroup: (group) => set((s) => ({ messages: s.messages.filter((x) => x.group !== group) })),
  clearMessages: () => set({ messages: [] }),
}));

// A read-only handle for the end-to-end tests, which compare the numbers panels show with the data behind them.
if (typeof window !== 'undefined') (window as unknown as { __rcnnStore?: typeof useStore }).__rcnnStore = useStore;
