/**
 * The Train view's slice of the store (zustand's slices pattern, like views.ts): the user's
 * dataset as last read from IndexedDB, what is selected in the box editor, the training settings
 * and the state of a training run. Data and one partial setter; the async work is
 * src/runner/trainActions.ts.
 */
import type { StateCreator } from 'zustand';
import type { AddReport, TrainPhoto } from '../core/dataset/trainingSet';
import type { TrainRun } from '../runner/trainRun';
import { DEFAULT_TRAIN_SETTINGS, type TrainSettings } from '../pipeline/train/settings';

export { DEFAULT_TRAIN_SETTINGS, type TrainSettings } from '../pipeline/train/settings';

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
  busy: { label: string; done: number; total: number; startedAt: number } | null;
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
