/**
 * The original R-CNN in one click (issue 20): the user's actions on it. Nothing here runs
 * unless the user asks: "Get the original R-CNN" (or a typed URL of a .tar.gz), a dropped or
 * picked file, "Use" or "Remove" on a stored entry. Loading itself is zooLoad.ts.
 */
import { formatDecimalMB } from '../core/rate';
import { useStore } from '../state/store';
import type { ZooLoaded } from '../workers/downloadProtocol';
import { RCNN_ILSVRC13, claimedFile } from '../model/zoo';
import { ensurePool } from './cnnActions';
import { type WorkerError, listStoredInWorker, removeStoredInWorker } from './download';
import { isAbort } from './tasks';
import { activeStoredModel, loadZooInto, setActiveStoredModel } from './zooLoad';
import { zooOffer, zooPublished } from './zooSource';

let running: AbortController | null = null;

/** Whether the user asked to hide the Image stage's one-line offer, or took it (localStorage). */
const OFFER_KEY = 'rcnn-explorer.zooOffer';

export function zooOfferState(): 'open' | 'dismissed' | 'taken' {
  try {
    const v = localStorage.getItem(OFFER_KEY);
    return v === 'dismissed' || v === 'taken' ? v : 'open';
  } catch {
    return 'open';
  }
}

export function setZooOfferState(v: 'open' | 'dismissed' | 'taken'): void {
  try {
    if (v === 'open') localStorage.removeItem(OFFER_KEY);
    else localStorage.setItem(OFFER_KEY, v);
  } catch {
    // A private window: the offer shows again next visit.
  }
  useStore.getState().setZoo({});
}

/** The stored entries and the browser's storage estimate, for the dialog. */
export async function refreshStored(): Promise<void> {
  try {
    useStore.getState().setZoo({ listing: await listStoredInWorker() });
  } catch (e) {
    useStore.getState().setZoo({ result: { ok: false, text: `Could not read this browser's model storage: ${(e as Error).message}` } });
  }
}

function done(r: Omit<ZooLoaded, 'model' | 'copies'>, ms: number): string {
  const p = useStore.getState().model?.verification?.parity;
  const where = r.from === 'disk' ? 'read from this browser\'s storage' : r.from === 'file' ? 'read from your file' : 'downloaded';
  const check = r.published ? `size and SHA-256 match the published ${r.published.name}${r.standIn ? ' (a local test file\'s stand-in facts)' : ''}` : 'not a published file, so no checksum to compare';
  const parity = p ? `; its ${p.sets.length} test sets reproduced on ${p.backend} with max relative error ${p.maxRelativeError.toExponential(2)} (pass at ${p.tolerance})` : '; it brings no test data';
  const resumed = r.resumes ? `, resumed ${r.resumes}× after a dropped connection` : r.resumedFrom ? `, continued from ${formatDecimalMB(r.resumedFrom)} kept from before` : '';
  return `Loaded ${useStore.getState().model?.name}: ${where} in ${(ms / 1000).toFixed(1)} s${resumed}; ${check}${parity}.${r.storeProblem ? ` Not stored: ${r.storeProblem}.` : ''}`;
}

/** What went wrong, in one line, with what to do; and whether the browser could not fetch at all. */
function failure(e: WorkerError, url: string | null): { text: string; hint?: string; cannotFetch?: string } {
  if (e.name === 'TestDataMismatch') return { text: `The model was refused: ${e.message.replace(/^refused: /, '')}`, hint: 'The stored file is kept: choose another backend above, then press Use on it (the check runs again on that backend), or remove it.' };
  if (e.name === 'ZooFileError') return { text: e.message, hint: 'Nothing of it was kept. Get it again, or download it by hand and drop it here.' };
  if (e.name === 'DownloadError' && e.kind === 'network') {
    if (e.partial) {
      return { text: `${e.message}.`, hint: `The first ${formatDecimalMB(e.partial.stored)} of ${formatDecimalMB(e.partial.total)} are kept in this browser: press "Get" again to continue from there.` };
    }
    const offline = globalThis.navigator?.onLine === false;
    return {
      text: offline ? 'This browser is offline, so it cannot download the file.' : 'This browser could not fetch the file: it may be offline, behind a proxy that blocks it, or the server may not allow cross-origin requests.',
      cannotFetch: offline ? 'offline' : 'could not fetch',
      hint: url ? 'Download it by hand from the address below and drop the file here: it goes through the same checks.' : undefined,
    };
  }
  return { text: e.message };
}

async function run(what: string, request: Parameters<typeof loadZooInto>[1], url: string | null): Promise<boolean> {
  if (running) return false;
  const ctl = new AbortController();
  running = ctl;
  const t0 = performance.now();
  useStore.getState().setZoo({ result: null, cannotFetch: null });
  try {
    // The workers start (backend chosen) while the file downloads; the bundled model is not loaded first.
    const pool = ensurePool();
    pool.catch(() => undefined);
    const { loaded } = await loadZooInto(pool, request, what, ctl.signal);
    useStore.getState().setZoo({ result: { ok: true, text: done(loaded, performance.now() - t0) } });
    if (loaded.published) setZooOfferState('taken');
    return true;
  } catch (e) {
    if (isAbort(e) || ctl.signal.aborted) {
      const listing = await listStoredInWorker().catch(() => null);
      const part = listing?.entries.find((x) => x.status === 'partial' && x.meta?.url === url);
      useStore.getState().setZoo({
        result: { ok: false, text: `Cancelled; the previous model stays loaded.${part ? ` The ${formatDecimalMB(part.size)} downloaded so far are kept: "Get" continues from there (or remove them below).` : ''}` },
      });
      return false;
    }
    const f = failure(e as WorkerError, url);
    useStore.getState().setZoo({ result: { ok: false, text: f.text, hint: f.hint }, cannotFetch: f.cannotFetch && url ? { reason: f.cannotFetch, url } : null });
    return false;
  } finally {
    running = null;
    void refreshStored();
  }
}

/** "Get the original R-CNN": download (or continue, or read the stored copy), check, import, check on the backend. */
export function getOriginalRcnn(): Promise<boolean> {
  const offer = zooOffer();
  const f = offer.facts.file!;
  return run(`${f.name} from ${offer.facts.standIn ? new URL(offer.url).host : 'the ONNX Model Zoo'}`, { type: 'zoo-get', url: offer.url, facts: offer.facts }, offer.manualUrl);
}

/** A typed address of a .tar.gz (the zoo's archive or another one): the same reader; stored only when it is a published file. */
export function getZooUrl(url: string): Promise<boolean> {
  const { published, standIn } = zooPublished();
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  const file = claimedFile(name, undefined, published).find((c) => !c.supersededBy) ?? null;
  return run(name || url, { type: 'zoo-get', url, facts: { file, published, standIn } }, url);
}

/** Whether a dropped or picked file goes through the zoo reader: an archive, or a file claiming to be a published one. */
export function isZooFile(f: File): boolean {
  return /\.(tar\.gz|tgz|tar)$/i.test(f.name) || claimedFile(f.name, f.size, zooPublished().published).length > 0;
}

export function loadZooFile(f: File): Promise<boolean> {
  const { published, standIn } = zooPublished();
  return run(f.name, { type: 'zoo-file', file: f, published, standIn }, null);
}

export function loadStoredModel(storeId: string, name: string): Promise<boolean> {
  return run(`${name} from this browser's storage`, { type: 'zoo-open', storeId }, null);
}

export function cancelZoo(): void {
  running?.abort();
}

export function zooRunning(): boolean {
  return running !== null;
}

/** Removes a stored entry; the model in memory stays loaded for this visit. */
export async function removeStored(storeId: string): Promise<void> {
  await removeStoredInWorker(storeId);
  if (activeStoredModel() === storeId) setActiveStoredModel(null);
  await refreshStored();
  const left = useStore.getState().zoo.listing?.entries.some((e) => e.status === 'verified');
  if (!left && zooOfferState() === 'taken') setZooOfferState('open');
}

/** The card's facts for the dialog (model/zoo.ts). */
export const ZOO_CARD = RCNN_ILSVRC13;
