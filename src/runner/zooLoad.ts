/**
 * The original R-CNN's file into the CNN workers (their backend chosen while it downloads): the download worker gets it (download with
 * resume, the browser's store, or a dropped file) through the zoo reader's checks, then the
 * first CNN worker imports model.onnx and runs the file's test data on the active backend
 * before the others load it (runner/cnnWorkerPool.ts). Progress (MB, MB/s, time left) goes to
 * the store's `zoo.busy` and the header's progress bar. Used by zooActions.ts (the user's
 * click, a dropped file, a stored entry) and cnnActions.ts (the stored model a later visit
 * starts with).
 */
import { RateMeter, formatDecimalMB, formatSeconds } from '../core/rate';
import { hereMaxWeightBytes } from '../model/memoryLimit';
import type { ModelInfo } from '../model/modelInfo';
import { useStore } from '../state/store';
import type { StoreListing, ZooLoaded } from '../workers/downloadProtocol';
import type { CnnWorkerPool } from './cnnWorkerPool';
import { type ZooCall, type ZooProgress, zooInWorker } from './download';

/** What the Model dialog and the Image stage show about the original R-CNN (the store's `zoo`). */
export interface ZooState {
  busy: {
    /** "Downloading rcnn-ilsvrc13-9.tar.gz", "Reading ... from this browser's storage". */
    what: string;
    phase: 'download' | 'disk' | 'file' | 'import' | 'verify' | 'upload';
    loaded: number;
    total: number | null;
    /** Bytes per second over the last seconds (download only). */
    rate: number | null;
    /** Seconds left at that rate. */
    eta: number | null;
    /** The last reconnection, in words. */
    note?: string;
    resumes: number;
    startedAt: number;
  } | null;
  /** The last attempt's outcome. */
  result: { ok: boolean; text: string; hint?: string } | null;
  /** The browser could not fetch the file at all: say so, give its address, offer the drop zone. */
  cannotFetch: { reason: string; url: string } | null;
  listing: StoreListing | null;
}

export const INITIAL_ZOO_STATE: ZooState = { busy: null, result: null, cannotFetch: null, listing: null };

/** The stored model the app starts with on a later visit (its store id), remembered in localStorage. */
const ACTIVE_KEY = 'rcnn-explorer.storedModel';

export function activeStoredModel(): string | null {
  try {
    return globalThis.localStorage?.getItem(ACTIVE_KEY) ?? null;
  } catch {
    return null;
  }
}

export function setActiveStoredModel(id: string | null): void {
  try {
    if (id) localStorage.setItem(ACTIVE_KEY, id);
    else localStorage.removeItem(ACTIVE_KEY);
  } catch {
    // Storage refused (a private window): the model still loads, a later visit starts with the bundled one.
  }
}

/** "rcnn-ilsvrc13-9.tar.gz (stored in this browser)" and the like: the Model dialog's "From". */
export function zooLabel(r: Pick<ZooLoaded, 'fileName' | 'from' | 'storeId'>): string {
  if (r.from === 'disk') return `${r.fileName} (stored in this browser)`;
  if (r.from === 'file') return `${r.fileName} (your file${r.storeId ? ', now stored in this browser' : ''})`;
  return `${r.fileName} (downloaded${r.storeId ? ', stored in this browser' : ''})`;
}

function setBusy(b: ZooState['busy']): void {
  useStore.getState().setZoo({ busy: b });
  if (!b) return;
  const detail =
    b.total !== null && b.phase !== 'import' && b.phase !== 'verify' && b.phase !== 'upload'
      ? `${b.what}: ${formatDecimalMB(b.loaded)} of ${formatDecimalMB(b.total)}${b.rate ? `, ${formatDecimalMB(b.rate)}/s` : ''}${b.eta !== null ? `, ${formatSeconds(b.eta)} left` : ''}`
      : `${b.what}: ${b.phase}`;
  useStore.getState().setProgress({ label: 'Loading the model', stage: 'features', done: b.loaded, total: Math.max(1, b.total ?? b.loaded), startedAt: b.startedAt, detail });
}

/**
 * Runs one zoo request in the download worker and the result through the CNN workers. The old
 * model stays loaded until the new one has passed every check. Returns the new model's info.
 */
export async function loadZooInto(
  poolReady: CnnWorkerPool | Promise<CnnWorkerPool>,
  request: ZooCall,
  what: string,
  signal?: AbortSignal,
): Promise<{ info: ModelInfo; loaded: Omit<ZooLoaded, 'model' | 'copies'> }> {
  const startedAt = performance.now();
  const meter = new RateMeter(5000);
  let resumes = 0;
  let note: string | undefined;
  let phase: ZooProgress['phase'] | null = null;
  setBusy({ what, phase: request.type === 'zoo-file' ? 'file' : request.type === 'zoo-open' ? 'disk' : 'download', loaded: 0, total: null, rate: null, eta: null, resumes, startedAt });
  try {
    const loaded = await zooInWorker(
      { ...request, maxModelBytes: hereMaxWeightBytes() } as ZooCall,
      {
        signal,
        // One copy of model.onnx per CNN worker, made in the download worker (not on this thread).
        copies: Promise.resolve(poolReady).then((p) => p.size),
        onProgress: (p) => {
          // Speed is the network's: bytes read back from disk before a resume do not count.
          if (p.phase !== phase) {
            phase = p.phase;
            meter.reset();
          }
          if (p.resumedAt !== undefined) {
            resumes++;
            note = p.note;
          }
          meter.add(performance.now(), p.loaded);
          const download = p.phase === 'download';
          setBusy({ what, phase: p.phase, loaded: p.loaded, total: p.total, rate: download ? meter.rate() : null, eta: download ? meter.eta(p.total) : null, note, resumes, startedAt });
        },
      },
    );
    const { model, copies, ...rest } = loaded;
    setBusy({ what, phase: 'import', loaded: 0, total: null, rate: null, eta: null, note, resumes, startedAt });
    // The CNN workers started while the file downloaded.
    const pool = await poolReady;
    const info = await pool.loadModel(
      {
        kind: 'bytes',
        name: loaded.fileName,
        bytes: model,
        testSets: loaded.testSets,
        verified: {
          name: loaded.fileName,
          bytes: loaded.bytes,
          sha256: loaded.sha256,
          published: loaded.published?.name ?? null,
          standIn: loaded.standIn,
          from: loaded.from,
          storeId: loaded.storeId,
        },
      },
      (p) => {
        if (p.phase === 'import' || p.phase === 'verify' || p.phase === 'upload') setBusy({ what, phase: p.phase, loaded: p.loaded, total: p.total, rate: null, eta: null, note, resumes, startedAt });
      },
      signal,
      copies,
    );
    const label = zooLabel(loaded);
    useStore.getState().setModel(info, label);
    useStore.getState().clearMessageGroup('model-load');
    setActiveStoredModel(loaded.storeId);
    return { info, loaded: rest };
  } finally {
    useStore.getState().setZoo({ busy: null });
    useStore.getState().setProgress(null);
  }
}
