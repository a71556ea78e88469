import { useCallback, useEffect } from 'react';
import { useStore } from '../state/store';
import { STAGES, STAGE_IDS, type StageId } from '../state/stages';
import { unavailableReason } from './NoSvmHead';
import { Stepper, type StageStatus } from './Stepper';
import { UploadButton } from './ImageInput';
import { Messages } from './Messages';
import { ProgressAnnouncer, ProgressBar, cancelByUser } from './ProgressBar';
import { IncompleteNotice } from './IncompleteNotice';
import { ImageCanvas, type StageOverlay, type ViewTransform } from './ImageCanvas';
import { drawGroundTruth, useGroundTruthDrawing } from './GroundTruth';
import { ImageStage } from './stages/ImageStage';
import { cancelImageLoad, loadSample } from '../runner/loadImage';
import { ProposalsStage, useProposalsOverlay } from './stages/ProposalsStage';
import { WarpStage, useWarpOverlay } from './stages/WarpStage';
import { FeaturesStage } from './stages/FeaturesStage';
import { useFeaturesOverlay } from './features/overlay';
import { ModelButton } from './model/ModelDialog';
import { DetectionsStage, useDetectionsOverlay } from './stages/DetectionsStage';
import { NmsStage, useNmsOverlay } from './stages/NmsStage';
import { SvmStage, useSvmOverlay } from './stages/SvmStage';
import { RegressionStage, useRegressionOverlay } from './stages/RegressionStage';
import { computeProposals } from '../runner/pipeline';
import { computeFeatures } from '../runner/cnn';

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

export function App() {
  const image = useStore((s) => s.image);
  const stage = useStore((s) => s.stage);
  const loading = useStore((s) => s.imageLoading);

  useEffect(() => {
    if (!useStore.getState().image) void loadSample(DEFAULT_SAMPLE);
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
      if (e.key === 'ArrowRight') {
        useStore.getState().nextStage();
        e.preventDefault();
      } else if (e.key === 'ArrowLeft') {
        useStore.getState().prevStage();
        e.preventDefault();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // A new stage starts at the top of its panel. Proposals take about a second: entering their
  // stage computes them; the CNN (longer) waits for the user.
  useEffect(() => {
    document.getElementById('stage-panel')?.scrollTo({ top: 0 });
    const st = useStore.getState();
    if (stage === 'proposals' && st.image && !st.progress && (!st.proposals || st.proposals.imageKey !== st.image.key)) void computeProposals();
  }, [stage]);

  // Keep keyboard focus on the current tab when the stage changes through the keyboard.
  useEffect(() => {
    const active = document.activeElement as HTMLElement | null;
    if (active?.getAttribute('role') === 'tab') document.getElementById(`tab-${stage}`)?.focus();
  }, [stage]);

  const proposals = useStore((s) => s.proposals);
  const progress = useStore((s) => s.progress);
  const proposalsOverlay = useProposalsOverlay();
  const warpOverlay = useWarpOverlay();
  const featuresOverlay = useFeaturesOverlay();
  const detectionsOverlay = useDetectionsOverlay();
  const nmsOverlay = useNmsOverlay();
  const svmOverlay = useSvmOverlay();
  const regressionOverlay = useRegressionOverlay();
  const status = {} as Record<StageId, StageStatus>;
  for (const s of STAGES) status[s.id] = 'pending';
  status.image = image ? 'done' : 'pending';
  status.proposals = proposals && image && proposals.imageKey === image.key ? 'done' : 'pending';
  status.warp = status.proposals;
  const features = useStore((s) => s.features);
  const featuresDone = features && image && features.imageKey === image.key && features.complete ? 'done' : 'pending';
  for (const id of ['features', 'svm', 'regression', 'nms', 'detections'] as const) status[id] = featuresDone;
  const model = useStore((s) => s.model);
  for (const id of STAGE_IDS) if (unavailableReason(model, id)) status[id] = 'unavailable';
  if (progress) status[progress.stage] = 'running';
  const info = STAGES.find((s) => s.id === stage)!;
  const stageOverlay: StageOverlay | null = stage === 'proposals' ? proposalsOverlay : stage === 'warp' ? warpOverlay : stage === 'features' ? featuresOverlay : stage === 'detections' ? detectionsOverlay : stage === 'nms' ? nmsOverlay : stage === 'svm' ? svmOverlay : stage === 'regression' ? regressionOverlay : null;
  const gt = useStore((s) => s.groundTruth);
  const showGt = useStore((s) => s.showGroundTruth);
  const gtDraw = useGroundTruthDrawing();
  const gtCurrent = gt && image && gt.imageKey === image.key ? gt : null;
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
    <div className="app">
      <header className="app-header">
        <h1>
          R-CNN Explorer <span className="subtitle">Girshick et al. 2014, stage by stage, in your browser</span>
        </h1>
        <div className="header-actions">
          <ModelButton />
          <RunAllButton />
          <UploadButton />
        </div>
      </header>
      <Stepper status={status} />
      <main className="workspace">
        <section className="viewer" aria-label="Image view">
          {image ? (
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
          ) : (
            <div className="viewer-empty">{loading ? <DecodingNote text="Decoding…" /> : 'Choose a sample or upload a photo.'}</div>
          )}
          {loading && image && (
            <div className="viewer-busy">
              <DecodingNote text="Decoding new image…" />
            </div>
          )}
        </section>
        <section className="panel" id="stage-panel" role="tabpanel" aria-labelledby={`tab-${stage}`} data-testid="stage-panel">
          <h2>
            {STAGES.indexOf(info) + 1}. {info.title}
          </h2>
          <p className="summary">{info.summary}</p>
          {(stage === 'svm' || stage === 'regression' || stage === 'nms' || stage === 'detections') && <IncompleteNotice />}
          {stage === 'image' ? (
            <ImageStage />
          ) : stage === 'proposals' ? (
            <ProposalsStage />
          ) : stage === 'warp' ? (
            <WarpStage />
          ) : stage === 'features' ? (
            <FeaturesStage />
          ) : stage === 'svm' ? (
            <SvmStage />
          ) : stage === 'regression' ? (
            <RegressionStage />
          ) : stage === 'nms' ? (
            <NmsStage />
          ) : stage === 'detections' ? (
            <DetectionsStage />
          ) : (
            <div className="pending" data-testid="stage-pending">
              <p>
                <strong>Not computed yet.</strong> {info.computedBy}
              </p>
            </div>
          )}
        </section>
      </main>
      <footer className="app-footer">
        <ProgressBar onCancel={cancelByUser} />
        <ProgressAnnouncer />
        <Messages />
      </footer>
    </div>
  );
}
