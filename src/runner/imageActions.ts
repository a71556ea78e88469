import { useStore, type GroundTruthBoxes } from '../state/store';
import { cancelRunning } from './tasks';
import { cancelDecoding, decodeInWorker, fetchSample, ImageLoadError, type LoadedImage } from './decodeClient';
import { isReloadableGroundTruth } from './groundTruthActions';

/** What the user is asked before a new photo replaces one whose ground truth they made. */
export interface ReplaceQuestion {
  current: string;
  next: string;
  boxes: number;
  /** 'drawn': drawn or typed; 'xml': loaded from `file`. */
  source: GroundTruthBoxes['source'];
  file?: string;
}

type ReplaceGuard = (q: ReplaceQuestion) => Promise<boolean>;
let replaceGuard: ReplaceGuard | null = null;

/** The UI's way to ask (src/ui/ReplacePhotoDialog.tsx); without one, a new photo replaces as before. */
export function setReplaceGuard(g: ReplaceGuard | null): void {
  replaceGuard = g;
}

/**
 * The current photo's ground truth when losing it would lose the user's work: boxes they drew or
 * typed, or loaded from their own file. A sample's own boxes, as loaded, come back with one click.
 */
function userGroundTruth(): GroundTruthBoxes | null {
  const { groundTruth: g, image } = useStore.getState();
  if (!g || !image || g.imageKey !== image.key || g.labels.length === 0) return null;
  return isReloadableGroundTruth(g) ? null : g;
}

let loadGeneration = 0;

/**
 * Load bytes as the current image. On failure the previous image and its results stay as they
 * were, and the user gets a message saying what to do.
 */
export async function loadImageBytes(bytes: ArrayBuffer, name: string, source: LoadedImage['source']): Promise<boolean> {
  const store = useStore.getState();
  store.clearMessages(); // messages about the previous attempt no longer apply
  store.setImageLoading(true);
  const generation = ++loadGeneration;
  try {
    const img = await decodeInWorker(bytes, name, source);
    if (!img) return false; // superseded by a newer load
    const before = useStore.getState().image;
    if (before && before.key === img.key) {
      // The same pixels again (the same file picked twice): nothing to replace, nothing is lost.
      store.setImageLoading(false);
      return true;
    }
    const gt = userGroundTruth();
    if (gt && before && replaceGuard) {
      const replace = await replaceGuard({ current: before.name, next: name, boxes: gt.labels.length, source: gt.source, file: gt.name });
      if (generation !== loadGeneration) return false; // another photo came meanwhile
      if (!replace) {
        store.setImageLoading(false);
        store.pushMessage({ kind: 'info', text: `Kept ${before.name} and its ${gt.labels.length} ground-truth box${gt.labels.length === 1 ? '' : 'es'}; ${name} was not loaded.` });
        return false;
      }
    }
    store.setImage(img);
    for (const w of img.warnings) store.pushMessage({ kind: 'warning', text: w });
    // The old photo's work stops and its results go.
    cancelRunning();
    store.resetResults();
    return true;
  } catch (e) {
    useStore.getState().setImageLoading(false);
    const err = e instanceof ImageLoadError ? e : new ImageLoadError(`Could not load ${name}: ${(e as Error).message}`, 'Try a JPEG or PNG photo.');
    store.pushMessage({ kind: 'error', text: err.message, hint: err.hint + (useStore.getState().image ? ' The previous image is still loaded.' : '') });
    return false;
  }
}

export async function loadFile(file: File, source: LoadedImage['source']): Promise<boolean> {
  let bytes: ArrayBuffer;
  try {
    bytes = await file.arrayBuffer();
  } catch {
    useStore.getState().pushMessage({ kind: 'error', text: `Could not read ${file.name}.`, hint: 'Check the file is readable and try again.' });
    return false;
  }
  return loadImageBytes(bytes, file.name || 'pasted image', source);
}

export async function loadSample(file: string): Promise<boolean> {
  // The sample already shown: no reload, so nothing (ground truth, results) is dropped.
  const cur = useStore.getState().image;
  if (cur && cur.source === 'sample' && cur.name === file) return true;
  try {
    return await loadImageBytes(await fetchSample(file), file, 'sample');
  } catch (e) {
    const err = e as ImageLoadError;
    useStore.getState().pushMessage({ kind: 'error', text: err.message, hint: err.hint });
    return false;
  }
}

/** The user stopped a slow decode: the photo shown before stays. */
export function cancelImageLoad(): void {
  if (cancelDecoding()) useStore.getState().setImageLoading(false);
}
