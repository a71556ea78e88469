/**
 * The app's stages, in the order the stepper shows them: one line per stage (see README.md).
 */
import type { StageDefinition } from './types';
import { imageStage } from './image/stage';
import { proposalsStage } from './proposals/stage';
import { warpStage } from './warp/stage';
import { featuresStage } from './features/stage';
import { svmStage } from './svm/stage';
import { regressionStage } from './regression/stage';
import { nmsStage } from './nms/stage';
import { detectionsStage } from './detections/stage';

export const STAGES: readonly StageDefinition[] = [imageStage, proposalsStage, warpStage, featuresStage, svmStage, regressionStage, nmsStage, detectionsStage];

export function stageById(id: string): StageDefinition {
  return STAGES.find((s) => s.id === id) ?? STAGES[0];
}

/** The stage `step` places after (1) or before (-1) `id`, or null at either end. */
export function neighbourStage(id: string, step: 1 | -1): string | null {
  const i = STAGES.findIndex((s) => s.id === id) + step;
  return i >= 0 && i < STAGES.length ? STAGES[i].id : null;
}
