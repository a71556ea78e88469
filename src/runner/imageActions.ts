import { useStore } from '../state/store';
import { cancelRunning } from './tasks';
import { cancelDecoding, decodeInWorker, fetchSample, ImageLoadError, type LoadedImage } from './decodeClient';

/**
 * Load bytes as the current image. On failure the previous image and its results stay as they
 * were, and the user gets a message saying what to do.
 */
export async function loadImageBytes(bytes: ArrayBuffer, name: string, source: LoadedImage['source']): Promise<boolean> {
  const store = useStore.getState();
  store.clearMessages(); // messages about the previous attempt no longer apply
  store.setImageLoading(true);
  try {
    const img = await decodeInWorker(bytes, name, source);
    if (!img) return false; // superseded by a newer load
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
