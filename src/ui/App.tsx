import { useCallback, useEffect } from 'react';
import { useStore, type AppState } from '../state/store';
import { STAGES, neighbourStage, stageById } from './stages/registry';
import type { StageDefinition, StageStatus } from './stages/types';
import { Stepper } from './Stepper';
import { NoSvmHead, hasSvmHead } from './NoSvmHead';
import { UploadButton } from './ImageInput';
import { Messages } from './Messages';
import { ProgressAnnouncer, ProgressBar, cancelByUser } from './ProgressBar';
import { IncompleteNotice } from './IncompleteNotice';
import { ImageCanvas, type StageOverlay, type ViewTransform } from './ImageCanvas';
import { drawGroundTruth, useGroundTruthDrawing } from './GroundTruth';
import { cancelImageLoad, loadSample } from '../runner/imageActions';
import { ModelButton } from './model/ModelDialog';
import { computeFeatures } from '../runner/cnnActions';
import { warmUpProposalWorkers } from '../runner/proposalActions';
import { TrainButton, TrainView } from './train/TrainView';

const DEFAULT_SAMPLE = 'apple.jpg';

function isTypingTarget(el: EventTarget | null): boolean {
  const t = el as HTMLElement | null;
  if (!t) return false;
  const tag = t.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || t.isContentEditable;
}

/** Decoding a big photo can take seconds: say so, and let the user stop it (Escape too). */
function DecodingNote({ text }: { text: string }) {
  return (
    <span role="status" data-testid="decoding">
      {text}{' '}
      <button className="btn btn-small" onClick={cancelImageLoad} data-testid="cancel-decode" aria-keyshortcuts="Escape">
        Cancel
      </button>
    </span>
  );
}

/** Runs every stage on the current photo (proposals, then the CNN with its heads; NMS is instant). */
function RunAllButton() {
  const image = useStore((s) => s.image);
  const running = useStore((s) => s.progress !== null);
  const done = useStore((s) => !!s.features && s.features.complete && s.features.imageKey === s.image?.key);
  // aria-disabled, not disabled, while it runs: a disabled button drops keyboard focus to <body>.
  const idle = !!image && !running && !done;
  return (
    <button
      className="btn"
      disabled={!image}
      aria-disabled={!idle}
      onClick={() => {
        if (idle) void computeFeatures().then((f) => f && useStore.getState().setStage('detections'));
      }}
      title="Selective search, the CNN, SVM scores, box regression and NMS on this photo"
      data-testid="run-all-header"
    >
      {done ? 'All stages computed' : 'Run all stages'}
    </button>
  );
}

const NO_OVERLAY = (): StageOverlay | null => null;

/** Each stage's status in the stepper, from what it needs and what is computed for this photo. */
function stageStatus(def: StageDefinition, s: AppState): StageStatus {
  if (s.progress?.stage === def.id) return 'running';
  const image = s.image;
  if (def.unavailable?.(s)) return 'unavailable';
  if (!image) return 'pending';
  if (def.needs === 'image') return 'done';
  if (def.needs === 'proposals') return s.proposals && s.proposals.imageKey === image.key ? 'done' : 'pending';
  return s.features && s.features.imageKey === image.key && s.features.complete ? 'done' : 'pending';
}

function useStageStatuses(): Record<string, StageStatus> {
  // One string per render keeps the selector stable (zustand compares by value).
  const joined = useStore((s) => STAGES.map((d) => stageStatus(d, s)).join(','));
  const list = joined.split(',') as StageStatus[];
  return Object.fromEntries(STAGES.map((d, k) => [d.id, list[k]]));
}

/**
 * The photo with the current stage's overlay and the ground truth. Keyed by stage in App, so the
 * overlay hook of a stage runs only while that stage is shown.
 */
function StageViewer({ useOverlay }: { useOverlay: () => StageOverlay | null }) {
  const image = useStore((s) => s.image)!;
  const stageOverlay = useOverlay();
  const gt = useStore((s) => s.groundTruth);
  const showGt = useStore((s) => s.showGroundTruth);
  const gtDraw = useGroundTruthDrawing();
  const gtCurrent = gt && gt.imageKey === image.key ? gt : null;
  const stageDraw = stageOverlay?.draw;
  const draft = gtDraw.draft;
  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, vt: ViewTransform) => {
      // ImageCanvas places every label (the stage's first, then the ground truth's) on top of all boxes.
      const drawn = stageDraw?.(ctx, vt);
      if ((showGt && gtCurrent) || draft) drawGroundTruth(ctx, vt, showGt && gtCurrent ? gtCurrent.boxes : new Float32Array(0), showGt && gtCurrent ? gtCurrent.labels : [], draft);
      return drawn;
    },
    [stageDraw, showGt, gtCurrent, draft],
  );
  return (
    <ImageCanvas
      image={image.image}
      label={`${image.name}, ${image.originalWidth} by ${image.originalHeight} pixels`}
      drawOverlay={draw}
      overlayKey={stageOverlay?.key}
      onHover={stageOverlay?.onHover}
      onDragStart={gtDraw.onDragStart}
      onDragMove={gtDraw.onDragMove}
      onDragEnd={gtDraw.onDragEnd}
      cursor={gtDraw.cursor}
    />
  );
}

export function App() {
  const image = useStore((s) => s.image);
  const stage = useStore((s) => s.stage);
  const loading = useStore((s) => s.imageLoading);
  const def = stageById(stage);
  const trainOpen = useStore((s) => s.train.open);

  useEffect(() => {
    if (!useStore.getState().image) void loadSample(DEFAULT_SAMPLE);
    warmUpProposalWorkers();
  }, []);

  // Left/Right arrows step through the stages unless the user is typing or on a slider.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      // Escape stops the running work, unless a dialog is open (Escape closes it instead).
      const { progress, imageLoading } = useStore.getState();
      if (e.key === 'Escape' && (progress || imageLoading) && !document.querySelector('dialog[open]')) {
        if (imageLoading) cancelImageLoad();
        else cancelByUser();
        e.preventDefault();
        return;
      }
      if (e.altKey || e.ctrlKey || e.metaKey || isTypingTarget(e.target)) return;
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        const next = neighbourStage(useStore.getState().stage, e.key === 'ArrowRight' ? 1 : -1);
        if (next) useStore.getState().setStage(next);
        e.preventDefault();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // A new stage starts at the top of its panel, and starts the work it starts by itself.
  useEffect(() => {
    document.getElementById('stage-panel')?.scrollTo({ top: 0 });
    stageById(stage).onEnter?.(useStore.getState());
  }, [stage]);

  // Keep keyboard focus on the current tab when the stage changes through the keyboard.
  useEffect(() => {
    const active = document.activeElement as HTMLElement | null;
    if (active?.getAttribute('role') === 'tab') document.getElementById(`tab-${stage}`)?.focus();
  }, [stage]);

  const status = useStageStatuses();
  const Panel = def.Panel;
  const svmMissing = useStore((s) => !!def.requiresSvm && !hasSvmHead(s.model));

  return (
    <div className={`app${trainOpen ? ' app-train' : ''}`}>
      <header className="app-header">
        <h1>
          R-CNN Explorer <span className="subtitle">Girshick et al. 2014, stage by stage, in your browser</span>
        </h1>
        <div className="header-actions">
          <TrainButton />
          <ModelButton />
          <RunAllButton />
          <UploadButton />
        </div>
      </header>
      {!trainOpen && <Stepper status={status} />}
      {trainOpen ? <TrainView /> : (
      <main className="workspace">
        <section className="viewer" aria-label="Image view">
          {image ? (
            <StageViewer key={def.id} useOverlay={def.useOverlay ?? NO_OVERLAY} />
          ) : (
            <div className="viewer-empty">{loading ? <DecodingNote text="Decoding…" /> : 'Choose a sample or upload a photo.'}</div>
          )}
          {loading && image && (
            <div className="viewer-busy">
              <DecodingNote text="Decoding new image…" />
            </div>
          )}
        </section>
        <section className="panel" id="stage-panel" role="tabpanel" aria-labelledby={`tab-${def.id}`} data-testid="stage-panel">
          <h2>
            {STAGES.indexOf(def) + 1}. {def.title}
          </h2>
          <p className="summary">{def.summary}</p>
          {svmMissing ? (
            <NoSvmHead />
          ) : (
            <>
              {def.streamsFromCnn && <IncompleteNotice />}
              <Panel />
            </>
          )}
        </section>
      </main>
      )}
      <footer className="app-footer">
        <ProgressBar onCancel={cancelByUser} />
        <ProgressAnnouncer />
        <Messages />
      </footer>
    </div>
  );
}
