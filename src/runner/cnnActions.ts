/**
 * The CNN side of the app: one pool of CNN workers (one per core on CPU backends, one on a GPU),
 * the loaded model, and feature extraction for the current proposals, streamed into the store
 * batch by batch so the SVM-score and regression panels fill in as the network runs.
 */
import { saveFile } from './saveFile';
import { CnnWorkerPool } from './cnnWorkerPool';
import { useStore } from '../state/store';
import type { ProposalsResult } from './proposalActions';
import type { BackendName } from '../model/backend';
import type { ModelSource } from '../workers/cnnProtocol';
import type { WeightName } from '../model/caffenet';
import type { LayerName } from '../model/architecture';
import { downloadInWorker } from './download';
import type { FeatureBatch, FeatureMode } from '../model/extract';
import { DEFAULT_ROI_SCALE, type RoiScale } from '../model/roiGeometry';
import { computeProposals, proposalEngine } from './proposalActions';
import { Detector } from '../pipeline/detector';
import type { ModelInfo } from '../model/modelInfo';
import { beginTask, endTask, isAbort } from './tasks';
import { activeStoredModel, loadZooInto, setActiveStoredModel } from './zooLoad';

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
  /** R-CNN's warped crops, or RoI pooling out of the photo's conv5 (docs/fast-rcnn.md). */
  mode: FeatureMode;
  /** The photo's scale on the RoI path. */
  roiScale: RoiScale;
  /**
   * Where the time went, ms summed over batches and workers (FeatureBatch.timing: warp and cnn,
   * or conv, roiPool and fc). Worker time, so with several workers it exceeds the wall time `ms`.
   */
  stageMs: Partial<Record<string, number>>;
  /** tf.memory() of the CNN workers after the run (what they keep: the model, the photo). */
  tfMemory?: { numTensors: number; numBytes: number; workers: number };
}

/**
 * The app's R-CNN: the one pipeline API (src/pipeline) over the app's engines, the CNN worker pool
 * for features and heads and the selective-search worker pool for proposals.
 */
export function appDetector(p: CnnWorkerPool, model: ModelInfo): Detector {
  const C = model.svmClasses?.length ?? 0;
  return new Detector(
    { name: model.name, svmClasses: model.svmClasses, hasBoxRegressor: C > 0 && model.bboxClasses?.length === C, detection: model.detection },
    { proposals: proposalEngine, features: { extract: (image, boxes, options, hooks) => p.extract(image, boxes, options, hooks) } },
  );
}

/**
 * The models shipped in public/models, each trained by this project's own code (their
 * MODEL_CARD.md says how). The first is the one the app opens with.
 */
export const BUNDLED_MODELS = [
  {
    dir: 'fruit-animals',
    label: 'bundled fruit-animals model',
    title: 'R-CNN',
    summary: 'fine-tuned on warped proposals; SVMs and box regressors on warped-crop features (the R-CNN path)',
  },
  {
    dir: 'fruit-animals-fast-rcnn',
    label: 'bundled fruit-animals Fast R-CNN model',
    title: 'Fast R-CNN fine-tuned',
    summary: 'the same network fine-tuned further through RoI pooling; SVMs and box regressors on its RoI-pooled features (the shared-convolution path)',
  },
] as const;
export type BundledModel = (typeof BUNDLED_MODELS)[number];

/** A bundled model's folder as an absolute URL (the worker resolves relative URLs against its own script, not the page). */
export function bundledModelUrl(dir: string = BUNDLED_MODELS[0].dir): string {
  return new URL(`${import.meta.env.BASE_URL}models/${dir}/`, document.baseURI).href;
}
export const BUNDLED_MODEL_LABEL = BUNDLED_MODELS[0].label;

let pool: CnnWorkerPool | null = null;
let ready: Promise<CnnWorkerPool> | null = null;

function describeBackendWarnings(): void {
  const st = useStore.getState();
  const b = st.backend;
  if (!b) return;
  if (b.fellBack) st.pushMessage({ kind: 'warning', text: `The ${b.requested} backend is not available here; the CNN runs on ${b.name} instead.`, hint: b.notes.join('; ') });
  else if (b.software && (b.name === 'webgpu' || b.name === 'webgl')) {
    st.pushMessage({ kind: 'warning', text: `${b.name} runs on a software rasteriser here (${b.adapter?.architecture || b.glRenderer || 'no GPU'}), which is much slower than wasm.`, hint: 'Choose "auto" or "wasm" in Model & backend.' });
  }
}

let poolReady: Promise<CnnWorkerPool> | null = null;

/** The worker pool with a backend chosen, no model loaded yet (the original R-CNN's download starts with it, not after the bundled model). */
export function ensurePool(): Promise<CnnWorkerPool> {
  if (poolReady) return poolReady;
  poolReady = (async () => {
    const st = useStore.getState();
    const p = pool ?? (pool = CnnWorkerPool.create());
    const info = await p.init(st.backendPref);
    useStore.getState().setBackendState(info);
    describeBackendWarnings();
    return p;
  })();
  poolReady.catch(() => {
    poolReady = null;
  });
  return poolReady;
}

/** The worker pool with a backend chosen and a model loaded (the bundled one unless the user picked another). */
export function ensureCnn(): Promise<CnnWorkerPool> {
  if (ready) return ready;
  ready = (async () => {
    const p = await ensurePool();
    if (!useStore.getState().model) {
      // A later visit starts with the model the user stored (read from disk, checked again), if any.
      if (!(await loadStoredAtStart(p))) await loadModelInto(p, { kind: 'url', url: bundledModelUrl() }, BUNDLED_MODEL_LABEL);
    }
    return p;
  })();
  ready.catch(() => {
    ready = null;
  });
  return ready;
}

async function loadStoredAtStart(p: CnnWorkerPool): Promise<boolean> {
  const id = activeStoredModel();
  if (!id) return false;
  try {
    await loadZooInto(p, { type: 'zoo-open', storeId: id }, 'the stored model from this browser');
    return true;
  } catch (e) {
    setActiveStoredModel(null);
    useStore.getState().pushMessage({
      kind: 'warning',
      group: 'model-load',
      text: `The model stored in this browser could not be loaded (${(e as Error).message}); the bundled model is used instead.`,
      hint: 'Model & backend lists the stored models: remove it, or get it again.',
    });
    return false;
  }
}

async function loadModelInto(p: CnnWorkerPool, source: ModelSource, label: string, signal?: AbortSignal): Promise<void> {
  const startedAt = performance.now();
  const st = useStore.getState();
  st.setProgress({ label: 'Loading the model', stage: 'features', done: 0, total: 1, startedAt, detail: label });
  try {
    if (source.kind === 'url' && /\.(onnx|rcnn)(\?|#|$)/i.test(source.url)) {
      // One download instead of one per CNN worker (a pool fetches a URL in every worker), in
      // the download worker: reading a fast body on the page stalled it for seconds.
      const bytes = await downloadInWorker(source.url, {
        signal,
        onProgress: (l, t) => useStore.getState().setProgress({ label: 'Loading the model', stage: 'features', done: l, total: Math.max(1, t ?? l), startedAt, detail: `${label}: download` }),
      });
      source = { kind: 'bytes', name: label, bytes };
    }
    const info = await p.loadModel(source, (pr) => {
      useStore.getState().setProgress({ label: 'Loading the model', stage: 'features', done: pr.loaded, total: Math.max(1, pr.total), startedAt, detail: `${label}: ${pr.phase}` });
    }, signal);
    useStore.getState().setModel(info, label);
    useStore.getState().clearMessageGroup('model-load');
    // Another model replaces a stored one: later visits start with the bundled model again.
    setActiveStoredModel(null);
  } finally {
    useStore.getState().setProgress(null);
  }
}

/** Load a model the user chose (file(s) or a URL they typed); the old one stays if this fails. */
export async function loadUserModel(source: ModelSource, label: string, signal?: AbortSignal): Promise<boolean> {
  try {
    const p = await ensureCnn();
    await loadModelInto(p, source, label, signal);
    return true;
  } catch (e) {
    if (isAbort(e)) return false;
    const err = e as Error & { file?: string };
    useStore.getState().pushMessage({
      kind: 'error',
      group: 'model-load',
      text: `Could not load the model ${label}: ${err.message}`,
      hint: source.kind === 'url' ? 'Check the URL (the server must allow cross-origin requests) or download the file and drop it here.' : 'Use a model package (model.json with its .bin files, or one .rcnn file) or an AlexNet-family .onnx file.',
    });
    // The workers keep the previous model: they replace it only once the new one is parsed,
    // checked and uploaded (cnnWorkerHost.loadModel), so there is nothing to restart here.
    return false;
  }
}

/** Switch the tfjs backend (re-uploads the model in the workers). */
export async function switchBackend(b: BackendName | 'auto'): Promise<void> {
  const st = useStore.getState();
  st.setBackendPref(b);
  if (!pool) return;
  try {
    const info = await pool.setBackend(b);
    useStore.getState().setBackendState(info);
    describeBackendWarnings();
    useStore.setState({ features: null, otherFeatures: null });
  } catch (e) {
    useStore.getState().pushMessage({ kind: 'error', text: `Could not switch to ${b}: ${(e as Error).message}`, hint: 'Try "auto".' });
  }
}

/** The panels get the CNN's new batches at most this often (ms). */
export const FEATURE_PUSH_MS = 150;

/**
 * How long to wait before the next push of batches to the panels, from what the last one cost to
 * render (ms): every 150 ms, or less often when the panels on show take long to redraw, so that
 * redrawing them stays under about 5 % of the main thread, which shares the CPU with the CNN
 * workers. The Detections view re-runs box regression and NMS over every proposal at each push
 * (15-20 ms): at a fixed 150 ms the main thread was busy 16-19 % of the CNN stage's wall time on
 * that view, 12-14 % with this (fruits.jpg, 2000 proposals, this 2-core machine under load).
 * Only how often the panels fill in changes; the last batch is always pushed.
 */
export function featurePushInterval(renderMs: number): number {
  return Math.min(1000, Math.max(FEATURE_PUSH_MS, 20 * renderMs));
}

export function featuresUpToDate(): boolean {
  const s = useStore.getState();
  return !!s.features && s.features.complete && s.features.proposals === s.proposals && s.features.imageKey === s.image?.key;
}

/**
 * Runs every proposal through the CNN: fc7, SVM scores and box-regression deltas (whatever heads
 * the model has), streamed into the store.
 */
export async function computeFeatures(): Promise<FeaturesResult | null> {
  if (featuresUpToDate()) return useStore.getState().features;
  const proposals = await computeProposals();
  if (!proposals) return null;
  const ctl = beginTask();
  const st = useStore.getState();
  const image = st.image!;
  try {
    // The first run loads the model into the workers (download, checks, upload): a one-time cost
    // shown as its own line, not counted in the stage's time and crops/s (issue 24 measures those
    // against the workers' forward-only throughput).
    const loading = !useStore.getState().model;
    const loadStart = performance.now();
    const p = await ensureCnn();
    useStore.getState().setTiming('modelLoad', loading ? performance.now() - loadStart : 0);
    if (ctl.signal.aborted) return null;
    const startedAt = performance.now();
    const model = useStore.getState().model!;
    const total = proposals.boxes.length / 4;
    const fc7Dim = model.architecture.fc7;
    const C = model.svmClasses?.length ?? 0;
    const hasBbox = !!model.bboxClasses && model.bboxClasses.length === C && C > 0;
    // A run that was cancelled part-way resumes: only the proposals not computed yet go through
    // the network again (same proposals, model and backend).
    const prev = useStore.getState().features;
    const mode = useStore.getState().featureMode;
    const roiScale = model.headFeatures?.roiScale ?? DEFAULT_ROI_SCALE;
    const resume = prev && !prev.complete && prev.mode === mode && prev.proposals === proposals && prev.imageKey === image.key && prev.modelName === model.name && prev.backend === (useStore.getState().backend?.name ?? '?');
    let result: FeaturesResult = resume
      ? { ...prev }
      : {
          imageKey: image.key,
          proposals,
          modelName: model.name,
          total,
          done: 0,
          computed: new Uint8Array(total),
          fc7Dim,
          fc7: new Float32Array(total * fc7Dim),
          classes: model.svmClasses,
          // NaN until scored: NMS and the score views skip proposals the CNN has not reached yet.
          scores: C ? new Float32Array(total * C).fill(NaN) : null,
          deltas: hasBbox ? new Float32Array(total * C * 4) : null,
          ms: 0,
          cropsPerSecond: 0,
          backend: useStore.getState().backend?.name ?? '?',
          complete: false,
          mode,
          roiScale,
          stageMs: {},
        };
    const todo = Int32Array.from(Array.from({ length: total }, (_, i) => i).filter((i) => !result.computed[i]));
    const todoBoxes = new Float32Array(todo.length * 4);
    todo.forEach((i, k) => todoBoxes.set(proposals.boxes.subarray(4 * i, 4 * i + 4), 4 * k));
    useStore.getState().setFeatures(result);
    let lastPush = 0;
    let pushEvery = FEATURE_PUSH_MS;
    const label = `CNN features (${mode === 'roi' ? 'shared conv, ' : ''}${result.backend})`;
    useStore.getState().setProgress({ label, stage: 'features', done: result.done, total, startedAt, detail: resume ? `resuming: ${todo.length} left` : undefined });
    const msBefore = result.ms;
    const stageMs: Partial<Record<string, number>> = { ...result.stageMs };
    const summary = await appDetector(p, model).extract(image.image, todoBoxes, {
      fc7: true,
      signal: ctl.signal,
      features: mode,
      roi: { scale: roiScale },
      onBatch: (b) => {
          // Batches already in flight when the run was cancelled are dropped.
          if (ctl.signal.aborted) return;
          for (const [k, v] of Object.entries(b.timing ?? {})) stageMs[k] = (stageMs[k] ?? 0) + (v ?? 0);
          for (let k = 0; k < b.count; k++) {
            const i = todo[b.start + k];
            if (b.fc7) result.fc7.set(b.fc7.subarray(k * fc7Dim, (k + 1) * fc7Dim), i * fc7Dim);
            if (b.svmScores && result.scores) result.scores.set(b.svmScores.subarray(k * C, (k + 1) * C), i * C);
            if (b.bboxDeltas && result.deltas) result.deltas.set(b.bboxDeltas.subarray(k * C * 4, (k + 1) * C * 4), i * C * 4);
            result.computed[i] = 1;
          }
          result = { ...result, done: result.done + b.count, ms: msBefore + (performance.now() - startedAt), stageMs: { ...stageMs } };
          const now = performance.now();
          if (now - lastPush > pushEvery || result.done === total) {
            lastPush = now;
            const el = (now - startedAt) / 1000;
            useStore.getState().setFeatures(result);
            useStore.getState().setProgress({ label, stage: 'features', done: result.done, total, startedAt, detail: `${((result.done - (total - todo.length)) / el).toFixed(1)} crops/s, batch ${b.batchSize}` });
            // React re-renders the panels in a microtask queued by the store update, so this one
            // runs after it and sees what the update cost.
            queueMicrotask(() => (pushEvery = featurePushInterval(performance.now() - now)));
          }
      },
    });
    if (ctl.signal.aborted) return null;
    result = { ...result, done: total, complete: true, ms: msBefore + summary.ms, cropsPerSecond: todo.length / Math.max(1e-3, summary.ms / 1000), tfMemory: summary.memory };
    useStore.getState().setFeatures(result);
    useStore.getState().setTiming('features', result.ms);
    return result;
  } catch (e) {
    if (isAbort(e)) return null;
    const err = e as Error;
    const oom = /memory|OOM|allocation/i.test(err.message);
    useStore.getState().pushMessage({
      kind: 'error',
      text: `The CNN failed: ${err.message}`,
      hint: oom ? 'The device ran out of memory: switch to the wasm backend (Model & backend) or use fewer proposals.' : 'Try again, or switch the backend in Model & backend.',
    });
    return null;
  } finally {
    endTask(ctl);
  }
}

/** One proposal's warped crop and intermediate activations, for the CNN-features panel. */
export async function inspectProposal(index: number, layers: LayerName[]): Promise<{ layers: NonNullable<FeatureBatch['layers']>; crops: Uint8Array | undefined } | null> {
  const st = useStore.getState();
  if (!st.proposals || !st.image) return null;
  const p = await ensureCnn();
  let out: { layers: NonNullable<FeatureBatch['layers']>; crops: Uint8Array | undefined } | null = null;
  await p.clients[0].extract(st.image.image, st.proposals.boxes.subarray(4 * index, 4 * index + 4), { layers, crops: true, batchSize: 1 }, {
    onBatch: (b) => {
      out = { layers: b.layers ?? {}, crops: b.crops };
    },
  });
  return out;
}

export async function modelWeights(names: WeightName[]) {
  const p = await ensureCnn();
  return p.clients[0].getWeights(names);
}

/** The loaded model out of the app: one .rcnn bundle, written by the worker that holds the weights, saved as a download. */
export async function downloadModelBundle(): Promise<{ name: string; bytes: number }> {
  const pool = await ensureCnn();
  const { bytes, name } = await pool.clients[0].exportBundle();
  saveFile(bytes, name);
  return { name, bytes: bytes.byteLength };
}

/**
 * Forward-only throughput of the app's own CNN workers (conv1..fc7 on a fixed batch, no warp, no
 * heads): the peer `rcnn bench app` measures the CNN stage against, in the same browser run.
 */
export async function benchForwardOnly(batch: number, ms: number): Promise<{ cropsPerSecond: number; workers: number }> {
  return (await ensureCnn()).benchForward(batch, ms);
}
