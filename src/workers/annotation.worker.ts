/// <reference lib="webworker" />
/**
 * Reads a PASCAL VOC annotation off the main thread. The reader is linear, but a file at its
 * 16 MB limit still takes a few hundred milliseconds to read, and the audit's hostile files froze
 * the page for minutes before it was: the page must answer whatever the file holds.
 */
import { parseVocXml, VocAnnotationError } from '../core/dataset/voc';
import type { AnnotationRequest, AnnotationResponse } from './annotationProtocol';

self.onmessage = async (ev: MessageEvent<AnnotationRequest>) => {
  const { id, file, name } = ev.data;
  const t0 = performance.now();
  let msg: AnnotationResponse;
  try {
    const annotation = parseVocXml(await file.text(), name);
    msg = { id, ok: true, annotation, ms: performance.now() - t0 };
  } catch (e) {
    msg = e instanceof VocAnnotationError ? { id, ok: false, message: e.detail, refused: true } : { id, ok: false, message: `Could not read ${name}: ${(e as Error)?.message ?? String(e)}`, refused: false };
  }
  (self as unknown as Worker).postMessage(msg);
};
