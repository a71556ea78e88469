import type { VocAnnotation } from '../core/dataset/voc';

export interface AnnotationRequest {
  id: number;
  /** The file itself: the worker reads and decodes its text, so even that stays off the page. */
  file: Blob;
  name: string;
}

export type AnnotationResponse =
  | { id: number; ok: true; annotation: VocAnnotation; ms: number }
  /** `refused`: a VocAnnotationError's detail (what is wrong, without the file's name); otherwise an unexpected failure's message. */
  | { id: number; ok: false; message: string; refused: boolean };
