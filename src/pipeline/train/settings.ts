/**
 * The Train view's training settings: the options of `rcnn train --stages svm,bbox` it exposes,
 * with the same defaults (the e2e test runs the CLI with the same values and expects the same AP).
 */
import { SVM_DEFAULTS } from '../../core/learn/svm';
import { BBOX_LAMBDA_DEFAULT } from '../../core/learn/bboxRegression';
import { DEFAULT_MAX_BOXES } from '../../core/selectiveSearch/index';

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
  heldOut: 0.15,
  seed: 1,
  proposals: DEFAULT_MAX_BOXES,
  svmC: SVM_DEFAULTS.C,
  hardEpochs: 1,
  bboxLambda: BBOX_LAMBDA_DEFAULT,
  bboxSamples: 32,
};

/** The `rcnn train` command line that trains the same heads on the exported dataset (VOC zip). */
export function cliEquivalent(s: TrainSettings, cnn = 'MODEL'): string {
  return `rcnn train --data DATASET --out OUT --init ${cnn} --stages svm,bbox --val-fraction ${s.heldOut} --seed ${s.seed} --svm-proposals ${s.proposals} --eval-proposals ${s.proposals} --svm-c ${s.svmC} --hard-epochs ${s.hardEpochs} --bbox-lambda ${s.bboxLambda} --bbox-samples ${s.bboxSamples}`;
}
