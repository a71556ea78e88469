/**
 * Messages between the page (src/runner/trainActions.ts) and the Train view's training worker
 * (train.worker.ts, logic in trainWorkerHost.ts). The worker runs the recipe (the shell-neutral
 * trainer of src/pipeline/train: feature statistics, SVMs with hard-negative mining, box
 * regressors, the held-out evaluation, the model bundle) and asks the page for what only the page
 * has: selective search (its worker pool) and the CNN (its CNN worker pool, holding the active
 * model). Big arrays travel as transferables.
 *
 *   page -> worker   start
 *   worker -> page   propose / features / cnnBundle (requests, each with an id)
 *   page -> worker   proposed / features / cnnBundle / error (the answer to that id)
 *   worker -> page   phase*, log*, retrain*, then result or failed
 */
import type { RetrainStats } from '../core/learn/svm';
import type { TrainSettings } from '../pipeline/train/settings';

export type TrainPhaseId = 'prepare' | 'stats' | 'positives' | 'mining' | 'bbox' | 'evaluate' | 'model';

/** One class's SVM as mining went: retrains (cache size, added, evicted, objective) per pass. */
export interface ClassMining {
  name: string;
  positives: number;
  candidateNegatives: number;
  addedPerPass: number[];
  retrains: RetrainStats[];
}

/** A negative the final SVM scored highest: the box it most wanted to call an object. */
export interface HardNegative {
  photo: string;
  /** Box in the photo's own pixels. */
  box: [number, number, number, number];
  score: number;
  /** Best IoU with a ground truth of the class (below 0.3, by the SVM's negative rule). */
  iou: number;
}

export interface ClassRegression {
  name: string;
  pairs: number;
  /** IoU with the ground truth of every training pair before and after the learnt regression. */
  iouBefore: number[];
  iouAfter: number[];
  /** A few pairs to draw: proposal, regressed box and ground truth, in the photo's pixels. */
  examples: Array<{ photo: string; proposal: number[]; regressed: number[]; target: number[] }>;
}

export interface ClassAp {
  name: string;
  ap: number;
  /** Held-out objects (not difficult) of the class. */
  positives: number;
  precision: number[];
  recall: number[];
}


/**
 * Selective search's fast mode as `rcnn train` runs it (2000 boxes, seed 1): the proposals the
 * Train view keeps per photo in IndexedDB, under this key (bumped when they would change).
 */
export const TRAIN_PROPOSALS = { mode: 'fast' as const, maxBoxes: 2000, seed: 1, version: 1 };

export function proposalCacheKey(photoId: string): string {
  const p = TRAIN_PROPOSALS;
  return `proposals-v${p.version}:${photoId}:${p.mode}-${p.maxBoxes}-${p.seed}`;
}

export interface TrainPhotoSpec {
  /** Dataset id (content hash) and VOC name. */
  id: string;
  name: string;
  /** Upright size, and ground truth in its pixels (flat boxes, class indices, difficult flags). */
  width: number;
  height: number;
  boxes: number[];
  labels: number[];
  difficult: number[];
}

export interface TrainStart {
  type: 'start';
  classes: string[];
  train: TrainPhotoSpec[];
  heldOut: TrainPhotoSpec[];
  settings: TrainSettings;
  /** The active CNN: its name, its fc7 width (the features the SVMs are trained on), and how many CNN workers run it. */
  cnn: { name: string; fc7: number; lanes: number };
  /** Photo and box counts per class, for the model card. */
  counts: Array<{ name: string; photos: number; boxes: number }>;
}

export interface RasterMessage {
  width: number;
  height: number;
  data: ArrayBuffer;
}

export type TrainRequest =
  | { type: 'propose'; id: number; image: RasterMessage }
  | { type: 'features'; id: number; lane: number; key: string; image: RasterMessage; boxes: Float32Array; pool5Rows: Int32Array }
  | { type: 'cnnBundle'; id: number };

export type TrainReply =
  | { type: 'proposed'; id: number; boxes: Float32Array; ms: number }
  | { type: 'features'; id: number; fc7: Float32Array; pool5: Float32Array; ms: number }
  | { type: 'cnnBundle'; id: number; bytes: ArrayBuffer }
  | { type: 'error'; id: number; message: string };

export interface TrainResult {
  featureScale: { fc7: number; pool5: number };
  mining: ClassMining[];
  hardNegatives: HardNegative[][];
  regression: ClassRegression[];
  evaluation: {
    photos: number;
    proposals: number;
    withRegression: { perClass: ClassAp[]; map: number } | null;
    withoutRegression: { perClass: ClassAp[]; map: number };
  } | null;
  model: { name: string; bytes: ArrayBuffer; card: string };
}

export type TrainEvent =
  | { type: 'phase'; phase: TrainPhaseId; done: number; total: number; detail?: string }
  | { type: 'log'; line: string }
  | { type: 'retrain'; classIndex: number; pass: number; stats: RetrainStats }
  | { type: 'result'; result: TrainResult }
  | { type: 'failed'; message: string };

export type ToWorker = TrainStart | TrainReply;
export type FromWorker = TrainRequest | TrainEvent;
