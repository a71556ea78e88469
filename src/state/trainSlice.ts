/**
 * The Train view's slice of the store (zustand's slices pattern, like views.ts): the user's
 * dataset as last read from IndexedDB, what is selected in the box editor, the training settings
 * and the state of a training run. Data and one partial setter; the async work is
 * src/runner/trainActions.ts.
 */
import type { StateCreator } from 'zustand';
import type { AddReport, TrainPhoto } from '../core/dataset/trainingSet';
import type { TrainRun } from '../runner/trainRun';

/** What `rcnn train --stages svm,bbox` takes as options, with its defaults (docs/algorithm.md sections 5-6). */
export interface TrainSettings {
  /** Share of the photos held out to measure AP (`--val-fraction`). */
  heldOut: number;
  /** Seed of the split, the mining order and the samples (`--seed`). */
  seed: number;
  /** Proposals per photo for mining and for the held-out evaluation (`--svm-proposals`, `--eval-proposals`). */
  proposals: number;
  /** SVM C (`--svm-c`). */
  svmC: number;
  /** Passes of hard-negative mining (`--hard-epochs`). */
  hardEpochs: number;
  /** Ridge lambda of the box regressors (`--bbox-lambda`). */
  bboxLambda: number;
  /** Box-regression pairs kept per photo (`--bbox-samples`). */
  bboxSamples: number;
}

export const DEFAULT_TRAIN_SETTINGS: TrainSettings = {
  heldOut: 0.2,
  seed: 1,
  proposals: 2000,
  svmC: 0.001,
  hardEpochs: 1,
  bboxLambda: 1000,
  bboxSamples: 32,
};

export interface TrainState {
  /** The Train view is shown instead of the eight stages. */
  open: boolean;
  /** The dataset has been read from storage (false until then: nothing to show yet). */
  loaded: boolean;
  photos: TrainPhoto[];
  /** Photo in the box editor (id), and its selected box (index). */
  selected: string | null;
  selectedBox: number | null;
  /** Class name new boxes get (and the selected box, when it is changed). */
  boxClass: string;
  /** Photo-list filter: everything, photos without boxes, or one class. */
  filter: string;
  settings: TrainSettings;
  /** Adding or importing photos, or exporting: what and how far. */
  busy: { label: string; done: number; total: number } | null;
  /** What the last add or import did (shown until the next one). */
  report: (AddReport & { what: string }) | null;
  run: TrainRun | null;
}

export interface TrainSlice {
  train: TrainState;
  setTrain: (update: Partial<TrainState> | ((t: TrainState) => Partial<TrainState>)) => void;
}

export const createTrainSlice: StateCreator<TrainSlice, [], [], TrainSlice> = (set) => ({
  train: {
    open: false,
    loaded: false,
    photos: [],
    selected: null,
    selectedBox: null,
    boxClass: '',
    filter: 'all',
    settings: DEFAULT_TRAIN_SETTINGS,
    busy: null,
    report: null,
    run: null,
  },
  setTrain: (update) => set((s) => ({ train: { ...s.train, ...(typeof update === 'function' ? update(s.train) : update) } })),
});
