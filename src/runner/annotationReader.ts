/**
 * Reads annotation files in a worker (src/workers/annotation.worker.ts). One file at a time: a
 * newer file supersedes the one being read, whose worker is stopped rather than waited for.
 */
import { VocAnnotationError, type VocAnnotation } from '../core/dataset/voc';
import { xmlSizeRefusal } from '../core/dataset/xml';
import type { AnnotationRequest, AnnotationResponse } from '../workers/annotationProtocol';

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, (r: AnnotationResponse | null) => void>();

function getWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL('../workers/annotation.worker.ts', import.meta.url), { type: 'module', name: 'annotation' });
    worker.onmessage = (ev: MessageEvent<AnnotationResponse>) => {
      const resolve = pending.get(ev.data.id);
      pending.delete(ev.data.id);
      resolve?.(ev.data);
    };
  }
  return worker;
}

/**
 * Parse a VOC annotation file off the main thread. Resolves null when a newer call superseded
 * this one; rejects with VocAnnotationError (naming the file) when it is refused or unreadable.
 */
export async function readVocAnnotation(file: File): Promise<VocAnnotation | null> {
  // Refused from its size alone, before a byte is read into a string.
  const tooLarge = xmlSizeRefusal(file.size);
  if (tooLarge) throw new VocAnnotationError(file.name, `not read, because it ${tooLarge}`);
  if (pending.size > 0) {
    worker?.terminate();
    worker = null;
    for (const resolve of pending.values()) resolve(null);
    pending.clear();
  }
  const id = nextId++;
  const res = await new Promise<AnnotationResponse | null>((resolve) => {
    pending.set(id, resolve);
    const req: AnnotationRequest = { id, file, name: file.name };
    getWorker().postMessage(req);
  });
  if (res === null) return null;
  if (res.ok) return res.annotation;
  if (res.refused) throw new VocAnnotationError(file.name, res.message);
  throw new Error(res.message);
}
