import type { ImageFormat, PreparedImage } from '../core/image/decode';
import { type RgbImage, rasterFingerprint } from '../core/image/raster';
import type { DecodeRequest, DecodeResponse } from '../workers/decodeProtocol';

/** The photo every stage works on. */
export interface LoadedImage {
  /** Display name (file name or sample name). */
  name: string;
  source: 'sample' | 'file' | 'paste' | 'drop' | 'url';
  format: ImageFormat | string;
  orientation: number;
  originalWidth: number;
  originalHeight: number;
  /** Working raster all stages use; boxes are mapped to original pixels with scaleX/scaleY. */
  image: RgbImage;
  scaleX: number;
  scaleY: number;
  /** Content fingerprint: cache key for stage results. */
  key: string;
  warnings: string[];
  /** Milliseconds spent decoding. */
  decodeMs: number;
}

export class ImageLoadError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
  }
}

/** Hard cap on the file size we read at all (a 150 MP PNG is at most ~450 MB; anything bigger is not a photo). */
const MAX_FILE_BYTES = 400 * 1024 * 1024;

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (r: DecodeResponse) => void }>();

function getWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL('../workers/decode.worker.ts', import.meta.url), { type: 'module', name: 'decode' });
    worker.onmessage = (ev: MessageEvent<DecodeResponse>) => {
      const p = pending.get(ev.data.id);
      pending.delete(ev.data.id);
      p?.resolve(ev.data);
    };
  }
  return worker;
}

/**
 * Decode bytes in the decode worker. Only the latest request matters: an older one that
 * finishes after a newer one started is reported as superseded (null).
 */
export async function decodeInWorker(bytes: ArrayBuffer, name: string, source: LoadedImage['source']): Promise<LoadedImage | null> {
  if (bytes.byteLength > MAX_FILE_BYTES) {
    throw new ImageLoadError(`${name} is ${(bytes.byteLength / 1048576).toFixed(0)} MB, too large to be a photo this app can use.`, 'Use a photo under 400 MB (R-CNN works at about 500 px wide).');
  }
  // A decode still running belongs to a photo this one replaces: stop it instead of queueing
  // behind it (a 100 MP JPEG takes seconds, and the worker decodes one photo at a time).
  if (pending.size > 0) cancelDecoding();
  const id = nextId++;
  const res = await new Promise<DecodeResponse>((resolve) => {
    pending.set(id, { resolve });
    const req: DecodeRequest = { id, bytes, name };
    getWorker().postMessage(req, [bytes]);
  });
  if (id !== nextId - 1) return null;
  if (!res.ok) throw new ImageLoadError(res.message, res.hint);
  return toLoadedImage(res.prepared, name, source, res.ms);
}

/** Stops the decode in progress (if any): its load resolves as superseded; the next decode starts a fresh worker. */
export function cancelDecoding(): boolean {
  if (pending.size === 0) return false;
  worker?.terminate();
  worker = null;
  nextId++; // whatever was waiting is now older than the latest request, so it reports superseded
  for (const [id, p] of pending) p.resolve({ id, ok: false, message: 'cancelled', hint: '' });
  pending.clear();
  return true;
}

export function toLoadedImage(p: PreparedImage, name: string, source: LoadedImage['source'], decodeMs: number): LoadedImage {
  return {
    name,
    source,
    format: p.format,
    orientation: p.orientation,
    originalWidth: p.originalWidth,
    originalHeight: p.originalHeight,
    image: p.image,
    scaleX: p.scaleX,
    scaleY: p.scaleY,
    key: rasterFingerprint(p.image),
    warnings: p.warnings,
    decodeMs,
  };
}

/**
 * The bundled sample photos. `classes`: the object classes their annotation (public/samples/
 * annotations/*.xml, hand-drawn VOC boxes) names, so the gallery can mark which photos a loaded
 * model has classes for (samples.test.ts keeps the two in step).
 */
export const SAMPLES: ReadonlyArray<{ file: string; label: string; annotation?: string; classes: readonly string[] }> = [
  { file: 'apple.jpg', label: 'Apple', annotation: 'annotations/apple.xml', classes: ['apple'] },
  { file: 'orange.jpg', label: 'Orange', annotation: 'annotations/orange.xml', classes: ['orange'] },
  { file: 'fruits.jpg', label: 'Fruit bowl', annotation: 'annotations/fruits.xml', classes: ['orange', 'banana'] },
  { file: 'dog.jpg', label: 'Dog, bicycle, truck', annotation: 'annotations/dog.xml', classes: ['dog', 'bicycle', 'truck'] },
  { file: 'horses.jpg', label: 'Horses', annotation: 'annotations/horses.xml', classes: ['horse'] },
  { file: 'person.jpg', label: 'Person, dog, horse', annotation: 'annotations/person.xml', classes: ['person', 'dog', 'horse'] },
  { file: 'eagle.jpg', label: 'Eagle', annotation: 'annotations/eagle.xml', classes: ['bird'] },
  { file: 'giraffe.jpg', label: 'Giraffe, zebra', annotation: 'annotations/giraffe.xml', classes: ['giraffe', 'zebra'] },
];

/** The classes of a sample's annotation that the model can score (case-insensitive), in the annotation's order. */
export function sampleClassesKnown(sample: { classes: readonly string[] }, modelClasses: readonly string[] | null): string[] {
  if (!modelClasses) return [];
  const known = new Set(modelClasses.map((c) => c.toLowerCase()));
  return sample.classes.filter((c) => known.has(c.toLowerCase()));
}

export function sampleUrl(file: string): string {
  return `${import.meta.env.BASE_URL}samples/${file}`;
}

export async function fetchSample(file: string): Promise<ArrayBuffer> {
  const res = await fetch(sampleUrl(file));
  if (!res.ok) throw new ImageLoadError(`Sample ${file} could not be loaded (HTTP ${res.status}).`, 'Reload the page; if it persists, rebuild the app (npm run build).');
  return res.arrayBuffer();
}
