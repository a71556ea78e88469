/**
 * What a training run in the Train view shows as it goes and when it ends: the phases with their
 * timings, the mining passes of every class's SVM, the hardest negatives found, the box-regression
 * pairs, the held-out AP and the model. Plain data (it lives in the store).
 */
import type { TrainSettings } from '../pipeline/train/settings';
import type { ClassAp, ClassMining, ClassRegression, HardNegative, TrainPhaseId } from '../workers/trainProtocol';

export type { ClassAp, ClassMining, ClassRegression, HardNegative, TrainPhaseId } from '../workers/trainProtocol';

export interface TrainPhase {
  id: TrainPhaseId;
  label: string;
  done: number;
  total: number;
  /** performance.now() at start and end (ms); end null while it runs. */
  start: number | null;
  end: number | null;
  detail?: string;
}

export interface HeldOutEvaluation {
  photos: number;
  proposals: number;
  withRegression: { perClass: ClassAp[]; map: number } | null;
  withoutRegression: { perClass: ClassAp[]; map: number };
}

export interface TrainedModel {
  name: string;
  /** The .rcnn bundle (CNN weights of the active model + the new heads). */
  bytes: ArrayBuffer;
  card: string;
  /** Loaded into the app as the active model. */
  active: boolean;
}

export interface TrainRun {
  status: 'running' | 'done' | 'failed' | 'cancelled';
  /** Why it failed or what was lost when cancelled. */
  message?: string;
  startedAt: number;
  endedAt: number | null;
  settings: TrainSettings;
  classes: string[];
  /** Photo names (VOC ids) in each part. */
  trainPhotos: string[];
  heldOutPhotos: string[];
  /** The CNN the features come from. */
  cnn: string;
  backend: string;
  phases: TrainPhase[];
  /** The trainer's log, as `rcnn train` prints it. */
  log: string[];
  featureScale: { fc7: number; pool5: number } | null;
  mining: ClassMining[];
  hardNegatives: HardNegative[][];
  regression: ClassRegression[];
  evaluation: HeldOutEvaluation | null;
  model: TrainedModel | null;
  /** Main-thread frame times while the run went (ms): what the page felt like. */
  frames: { count: number; over50: number; max: number; p99: number } | null;
  /** The page's main-thread tasks over 50 ms during the run (the Long Tasks API), where available. */
  longTasks: { count: number; total: number; max: number } | null;
  /** Largest JS heap seen on the page during the run (bytes; Chromium's performance.memory). */
  peakHeap: number | null;
}
