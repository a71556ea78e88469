import type { PreparedImage } from '../core/image/decode';

export interface DecodeRequest {
  id: number;
  bytes: ArrayBuffer;
  name: string;
}

export type DecodeResponse =
  | { id: number; ok: true; prepared: PreparedImage; ms: number }
  | { id: number; ok: false; message: string; hint: string };
