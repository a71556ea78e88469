/**
 * What a stage of the app is: its words, its panel, what it draws on the photo and what it needs.
 * Each stage is one `<id>/stage.ts` exporting a StageDefinition; registry.ts lists them in order.
 * See src/ui/stages/README.md for how to add one.
 */
import type { ComponentType } from 'react';
import type { AppState } from '../../state/store';
import type { StageOverlay } from '../ImageCanvas';

export type StageStatus = 'done' | 'running' | 'pending' | 'unavailable';

export interface StageDefinition {
  /** URL-safe id, also the tab's data-stage and the progress's stage. */
  id: string;
  title: string;
  /** One sentence: what this stage is in R-CNN. */
  summary: string;
  /** What computes this stage's data (shown while it is not computed yet). */
  computedBy: string;
  /** The side panel. */
  Panel: ComponentType;
  /**
   * What the stage draws over the photo. A React hook, called only while the stage is shown (the
   * viewer remounts per stage, so a stage's hook never runs on another stage).
   */
  useOverlay?: () => StageOverlay | null;
  /** The pipeline result the stage shows: it is 'done' once that exists for the current photo. */
  needs: 'image' | 'proposals' | 'features';
  /** Shows what the SVMs computed: a features-only model gets NoSvmHead's explanation instead of the panel. */
  requiresSvm?: boolean;
  /** Fills in while the CNN streams: say so when a run stopped part-way (IncompleteNotice). */
  streamsFromCnn?: boolean;
  /** Why this stage has nothing to show for the loaded model (e.g. no box regressor), or null. */
  unavailable?: (s: AppState) => string | null;
  /** Work that entering the stage starts by itself (proposals take about a second; the CNN waits for the user). */
  onEnter?: (s: AppState) => void;
}
