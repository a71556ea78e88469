/**
 * Training in the Train view, from the page's side: checks the dataset, splits it, starts the
 * training worker (src/workers/train.worker.ts) and serves what it asks for from the page's
 * worker pools (selective search; the CNN with the active model), streams what it reports into
 * the store, measures what the page felt (frame times, heap), and uses or saves the result.
 * The page itself only relays messages: every solver and every CNN pass runs in a worker.
 */
import { useStore } from '../state/store';
import { checkTrainable, splitPhotos, summarise, type TrainPhoto } from '../core/dataset/trainingSet';
import { TRAIN_PROPOSALS, type FromWorker, type ToWorker, type TrainPhotoSpec, type TrainReply, type TrainRequest, type TrainResult } from '../workers/trainProtocol';
import type { TrainPhase, TrainPhaseId, TrainRun } from './trainRun';
import { ensureCnn, loadUserModel } from './cnnActions';
import { proposalEngine } from './proposalActions';
import { beginTask, endTask } from './tasks';
import { datasetStore } from './datasetActions';
import { saveFile } from './saveFile';
import type { CnnWorkerPool } from './cnnWorkerPool';

export const PHASES: ReadonlyArray<{ id: TrainPhaseId; label: string }> = [
  { id: 'prepare', label: 'Proposals (selective search) for every photo' },
  { id: 'stats', label: 'Feature scale (mean fc7 and pool5 norms on a sample of boxes)' },
  { id: 'positives', label: 'SVM positives: fc7 of every ground-truth box' },
  { id: 'mining', label: 'Hard-negative mining over the training photos (SVMs and regression pairs)' },
  { id: 'bbox', label: 'Box regressors (ridge regression per class)' },
  { id: 'evaluate', label: 'AP on the held-out photos' },
  { id: 'model', label: 'The model: the CNN with the new heads, and its card' },
];

const RUN_MARK = 'runInProgress';

const setRun = (f: (r: TrainRun) => Partial<TrainRun>) =>
  useStore.getState().setTrain((t) => (t.run ? { run: { ...t.run, ...f(t.run) } } : {}));

function spec(p: TrainPhoto, classes: string[]): TrainPhotoSpec {
  return {
    id: p.id,
    name: p.name,
    width: p.width,
    height: p.height,
    boxes: p.boxes.flatMap((b) => b.box),
    labels: p.boxes.map((b) => classes.indexOf(b.label)),
    difficult: p.boxes.map((b) => (b.difficult ? 1 : 0)),
  };
}

/**
 * What the page felt while a run went: the time between animation frames (what a user sees as
 * jank), the main thread's long tasks (over 50 ms: what the page itself spent, whatever else the
 * machine was doing), and the JS heap (Chromium's performance.memory, read once a second: the
 * getter is not free, reading it every frame cost more than the frames).
 */
function pageMonitor() {
  const deltas: number[] = [];
  let last = performance.now();
  let raf = 0;
  let peakHeap: number | null = null;
  const longTasks: number[] = [];
  const heap = () => (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;
  const tick = (t: number) => {
    deltas.push(t - last);
    last = t;
    raf = requestAnimationFrame(tick);
  };
  raf = requestAnimationFrame(tick);
  const sample = () => {
    const h = heap();
    if (h !== null) peakHeap = Math.max(peakHeap ?? 0, h);
  };
  sample();
  const timer = setInterval(sample, 1000);
  let observer: PerformanceObserver | null = null;
  try {
    observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
    observer.observe({ type: 'longtask', buffered: false });
  } catch {
    observer = null; // no Long Tasks API in this browser
  }
  return {
    stop(): Pick<TrainRun, 'frames' | 'peakHeap' | 'longTasks'> {
      cancelAnimationFrame(raf);
      clearInterval(timer);
      sample();
      observer?.disconnect();
      const sorted = [...deltas].sort((a, b) => a - b);
      return {
        frames: sorted.length ? { count: sorted.length, over50: sorted.filter((d) => d > 50).length, max: sorted[sorted.length - 1], p99: sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] } : null,
        longTasks: observer ? { count: longTasks.length, total: longTasks.reduce((a, b) => a + b, 0), max: Math.max(0, ...longTasks) } : null,
        peakHeap,
      };
    },
  };
}

let active: { worker: Worker; ctl: AbortController } | null = null;

/** Serves one request of the training worker from the page's pools. */
async function serve(pool: CnnWorkerPool, req: TrainRequest, signal: AbortSignal, modelAtStart: string | null): Promise<{ reply: TrainReply; transfer: Transferable[] }> {
  // Features of two CNNs in one set of SVMs would be meaningless.
  if (req.type !== 'propose' && useStore.getState().modelSource !== modelAtStart) throw new Error('the active model was changed during training; train again on the new one');
  if (req.type === 'propose') {
    const image = { width: req.image.width, height: req.image.height, data: new Uint8Array(req.image.data) };
    const r = await proposalEngine.propose(image, { mode: TRAIN_PROPOSALS.mode, maxBoxes: TRAIN_PROPOSALS.maxBoxes, seed: TRAIN_PROPOSALS.seed }, { signal });
    const boxes = r.boxes.slice();
    return { reply: { type: 'proposed', id: req.id, boxes, ms: r.ms }, transfer: [boxes.buffer] };
  }
  if (req.type === 'features') {
    const image = { width: req.image.width, height: req.image.height, data: new Uint8Array(req.image.data) };
    const n = req.boxes.length >> 2;
    const rows = req.pool5Rows;
    const rowPos = new Map<number, number>();
    rows.forEach((r, k) => rowPos.set(r, k));
    let fc7: Float32Array | null = null;
    let pool5: Float32Array | null = null;
    // One CNN worker per lane: each takes whole photos, as `rcnn train`'s worker threads do.
    const client = pool.clients[req.lane % pool.size];
    const summary = await client.extract(image, req.boxes, { fc7: true, pool5: rows.length > 0, svmScores: false, bboxDeltas: false }, {
      signal,
      imageKey: `train:${req.key}:${image.width}x${image.height}`,
      onBatch: (b) => {
        const d7 = b.fc7!.length / b.count;
        (fc7 ??= new Float32Array(n * d7)).set(b.fc7!, b.start * d7);
        if (b.pool5 && rows.length) {
          const d5 = b.pool5.length / b.count;
          pool5 ??= new Float32Array(rows.length * d5);
          for (let k = 0; k < b.count; k++) {
            const at = rowPos.get(b.start + k);
            if (at !== undefined) pool5.set(b.pool5.subarray(k * d5, (k + 1) * d5), at * d5);
          }
        }
      },
    });
    const f = fc7 ?? new Float32Array(0);
    const p = pool5 ?? new Float32Array(0);
    return { reply: { type: 'features', id: req.id, fc7: f, pool5: p, ms: summary.ms }, transfer: [f.buffer, p.buffer] };
  }
  const { bytes } = await pool.clients[0].exportBundle();
  return { reply: { type: 'cnnBundle', id: req.id, bytes }, transfer: [bytes] };
}

/** Trains on the dataset with the current settings; resolves when the run ends (any way). */
export async function startTraining(): Promise<void> {
  const st = useStore.getState();
  const { photos, settings } = st.train;
  if (st.train.run?.status === 'running') return;
  const check = checkTrainable(photos, settings.heldOut);
  if (check.errors.length) {
    st.pushMessage({ kind: 'error', text: `Training cannot start: ${check.errors[0].text}`, hint: check.errors[0].hint, group: 'train' });
    return;
  }
  const classes = check.classes;
  const split = splitPhotos(check.usable, settings.heldOut, settings.seed);
  const byName = new Map(check.usable.map((p) => [p.name, p]));
  const trainPhotos = split.train.map((n) => byName.get(n)!);
  const heldOutPhotos = split.val.map((n) => byName.get(n)!);
  const sum = summarise(check.usable);
  const ctl = beginTask();
  const startedAt = performance.now();
  const phases: TrainPhase[] = PHASES.map((p) => ({ ...p, done: 0, total: 0, start: null, end: null }));
  const run: TrainRun = {
    status: 'running',
    startedAt: Date.now(),
    endedAt: null,
    settings,
    classes,
    trainPhotos: split.train,
    heldOutPhotos: split.val,
    cnn: '…',
    backend: '…',
    phases,
    log: [],
    featureScale: null,
    mining: classes.map((name) => ({ name, positives: sum.boxesPerClass[name], candidateNegatives: 0, addedPerPass: [], retrains: [] })),
    hardNegatives: [],
    regression: [],
    evaluation: null,
    model: null,
    frames: null,
    longTasks: null,
    peakHeap: null,
  };
  st.setTrain({ run });
  st.clearMessageGroup('train');
  const monitor = pageMonitor();
  let worker: Worker | null = null;
  let currentPhase: TrainPhaseId = 'prepare';
  const progress = (ph: TrainPhase) =>
    useStore.getState().setProgress({ label: `Training: ${ph.label.split(' (')[0].split(':')[0]}`, stage: 'train', done: ph.done, total: Math.max(1, ph.total), startedAt: ph.start ?? performance.now(), detail: ph.detail });
  try {
    await datasetStore().setMeta(RUN_MARK, { startedAt: run.startedAt, photos: photos.length }).catch(() => undefined);
    const pool = await ensureCnn();
    if (ctl.signal.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    const model = useStore.getState().model!;
    const modelSource = useStore.getState().modelSource;
    setRun(() => ({ cnn: model.name, backend: useStore.getState().backend?.name ?? '?' }));
    const w = new Worker(new URL('../workers/train.worker.ts', import.meta.url), { type: 'module', name: 'train' });
    worker = w;
    active = { worker: w, ctl };
    const post = (m: ToWorker, transfer: Transferable[] = []) => w.postMessage(m, transfer);
    const result = await new Promise<TrainResult>((resolve, reject) => {
      const onAbort = () => reject(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
      ctl.signal.addEventListener('abort', onAbort, { once: true });
      w.onerror = (e) => reject(new Error(`the training worker stopped: ${e.message || 'an error in the worker'}`));
      w.onmessage = (e: MessageEvent<FromWorker>) => {
        const m = e.data;
        switch (m.type) {
          case 'propose':
          case 'features':
          case 'cnnBundle':
            serve(pool, m, ctl.signal, modelSource).then(
              ({ reply, transfer }) => post(reply, transfer),
              (err: Error) => post({ type: 'error', id: m.id, message: err.message ?? String(err) }),
            );
            break;
          case 'phase': {
            currentPhase = m.phase;
            const now = performance.now();
            setRun((r) => ({
              phases: r.phases.map((p, k) => {
                const at = r.phases.findIndex((q) => q.id === m.phase);
                if (p.id === m.phase) return { ...p, done: m.done, total: m.total, detail: m.detail, start: p.start ?? now, end: m.done >= m.total && m.total > 0 ? now : null };
                // Phases before the current one are over (a phase with nothing to do, e.g. no held-out photos, ends at once).
                return k < at && p.end === null ? { ...p, start: p.start ?? now, end: now } : p;
              }),
            }));
            const ph = useStore.getState().train.run?.phases.find((p) => p.id === m.phase);
            if (ph) progress(ph);
            break;
          }
          case 'log':
            setRun((r) => ({ log: [...r.log, m.line] }));
            break;
          case 'retrain':
            setRun((r) => ({ mining: r.mining.map((c, k) => (k === m.classIndex ? { ...c, retrains: [...c.retrains, m.stats] } : c)) }));
            break;
          case 'result':
            resolve(m.result);
            break;
          case 'failed':
            reject(new Error(m.message));
            break;
        }
      };
      post({
        type: 'start',
        classes,
        train: trainPhotos.map((p) => spec(p, classes)),
        heldOut: heldOutPhotos.map((p) => spec(p, classes)),
        settings,
        cnn: { name: model.name, fc7: model.architecture.fc7, lanes: pool.size },
        counts: classes.map((name) => ({ name, photos: sum.photosPerClass[name], boxes: sum.boxesPerClass[name] })),
      });
    });
    const end = performance.now();
    setRun((r) => ({
      status: 'done',
      endedAt: Date.now(),
      phases: r.phases.map((p) => (p.end === null ? { ...p, start: p.start ?? end, end } : p)),
      featureScale: result.featureScale,
      mining: result.mining,
      hardNegatives: result.hardNegatives,
      regression: result.regression,
      evaluation: result.evaluation,
      model: { ...result.model, active: false },
      ...monitor.stop(),
    }));
    useStore.getState().pushMessage({ kind: 'info', text: `Training finished in ${((end - startedAt) / 1000).toFixed(0)} s.`, hint: 'Use the detector in the eight stages, or save it as a .rcnn file.', group: 'train' });
  } catch (e) {
    const err = e as Error;
    const cancelled = err.name === 'AbortError' || ctl.signal.aborted;
    const at = PHASES.find((p) => p.id === currentPhase)?.label ?? currentPhase;
    setRun(() => ({
      status: cancelled ? 'cancelled' : 'failed',
      endedAt: Date.now(),
      message: cancelled
        ? `Cancelled during “${at}”. Nothing of this run is kept but the proposals of the photos it prepared (cached in this browser, so the next run skips their selective search).`
        : `${err.message ?? String(err)}`,
      ...monitor.stop(),
    }));
    if (!cancelled) useStore.getState().pushMessage({ kind: 'error', text: `Training failed: ${err.message}`, hint: 'Fix what it names and train again; your dataset is unchanged.', group: 'train' });
  } finally {
    worker?.terminate();
    if (active?.ctl === ctl) active = null;
    endTask(ctl);
    await datasetStore().setMeta(RUN_MARK, null).catch(() => undefined);
  }
}

/** Stops the run: the worker is terminated and the CNN and proposal requests in flight are cancelled. */
export function cancelTraining(): void {
  active?.ctl.abort();
}

/** A run the last page load left unfinished (reload or closed tab mid-training), if any. */
export async function interruptedRun(): Promise<{ startedAt: number; photos: number } | null> {
  const m = await datasetStore().getMeta<{ startedAt: number; photos: number } | null>(RUN_MARK).catch(() => null);
  return m && !active ? m : null;
}

export async function forgetInterruptedRun(): Promise<void> {
  await datasetStore().setMeta(RUN_MARK, null).catch(() => undefined);
}

/** The trained detector becomes the app's model: the eight stages now find the user's classes. */
export async function useTrainedModel(): Promise<boolean> {
  const m = useStore.getState().train.run?.model;
  if (!m) return false;
  // A copy: loading transfers the bytes to the CNN workers, and the run keeps them for saving.
  const ok = await loadUserModel({ kind: 'bytes', name: `${m.name}.rcnn`, bytes: m.bytes.slice(0) }, m.name);
  if (ok) setRun((r) => ({ model: r.model ? { ...r.model, active: true } : null }));
  return ok;
}

export function modelFileName(name: string): string {
  return `${name.replace(/[^\w.-]+/g, '_').replace(/_+/g, '_').replace(/^_|_$/g, '') || 'detector'}.rcnn`;
}

export function saveTrainedModel(): void {
  const m = useStore.getState().train.run?.model;
  if (m) saveFile(m.bytes, modelFileName(m.name));
}

export function saveModelCard(): void {
  const m = useStore.getState().train.run?.model;
  if (m) saveFile(new TextEncoder().encode(m.card), 'MODEL_CARD.md', 'text/markdown');
}
