/**
 * Model files into the app: what the user picks, drops or types becomes a ModelSource for the CNN
 * workers (which sniff and validate the bytes). No DOM beyond File, no workers: unit-tested.
 */
import type { ModelSource } from '../workers/cnnProtocol';

/** What the loader accepts, for file inputs and messages. */
export const MODEL_FILE_ACCEPT = '.rcnn,.onnx,.json,.bin,application/octet-stream,application/json';

/** A display label for a set of model files ("model.json + 2 files", "rcnn-ilsvrc13-9.onnx"). */
export function describeModelFiles(names: string[]): string {
  if (names.length === 1) return names[0];
  const manifest = names.find((n) => /(^|\/)model\.json$/i.test(n));
  return manifest ? `${manifest} + ${names.length - 1} file${names.length === 2 ? '' : 's'}` : names.join(', ');
}

/** Reads picked or dropped files: one file is sniffed (bundle or ONNX), several are a package folder. */
export async function modelSourceFromFiles(files: File[]): Promise<ModelSource> {
  if (files.length === 0) throw new Error('no file chosen');
  if (files.length === 1) return { kind: 'bytes', name: files[0].name, bytes: await files[0].arrayBuffer() };
  return { kind: 'files', files: await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() }))) };
}

/** A name for a URL the user typed (its last path segment, or the host). */
export function labelForUrl(url: string): string {
  try {
    const u = new URL(url);
    const last = u.pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : u.host;
  } catch {
    return url;
  }
}

/** Checks a typed URL before anything is fetched: http(s) only. */
export function validateModelUrl(text: string, base = globalThis.location?.href): string {
  const t = text.trim();
  if (!t) throw new Error('Type the address of a model (.onnx, .rcnn, or a folder with model.json).');
  let u: URL;
  try {
    u = new URL(t, base);
  } catch {
    throw new Error(`"${t}" is not a valid address.`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`Only http and https addresses can be loaded (got ${u.protocol}).`);
  return u.href;
}
