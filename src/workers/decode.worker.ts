/// <reference lib="webworker" />
/**
 * Decodes an uploaded file off the main thread (a 100 MP JPEG takes seconds). JPEG and PNG go
 * through the same pure-JS decoders as the CLI, so both see identical pixels; other formats the
 * browser can read (WebP, GIF, BMP, AVIF) go through createImageBitmap (browserDecode.ts, shared
 * with the Train view's worker).
 */
import { ImageInputError } from '../core/image/decode';
import type { DecodeRequest, DecodeResponse } from './decodeProtocol';
import { decodeForApp } from './browserDecode';

self.onmessage = async (ev: MessageEvent<DecodeRequest>) => {
  const { id, bytes, name } = ev.data;
  const t0 = performance.now();
  try {
    const prepared = await decodeForApp(new Uint8Array(bytes), name);
    const msg: DecodeResponse = { id, ok: true, prepared, ms: performance.now() - t0 };
    (self as unknown as Worker).postMessage(msg, [prepared.image.data.buffer]);
  } catch (e) {
    const err = e instanceof ImageInputError ? e : null;
    const msg: DecodeResponse = {
      id,
      ok: false,
      message: err ? err.message : `Could not read ${name}: ${(e as Error)?.message ?? String(e)}`,
      hint: err ? err.hint : 'Try a JPEG or PNG photo.',
    };
    (self as unknown as Worker).postMessage(msg);
  }
};
