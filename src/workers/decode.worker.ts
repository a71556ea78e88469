/// <reference lib="webworker" />
/**
 * Decodes an uploaded file off the main thread (a 100 MP JPEG takes seconds). JPEG and PNG go
 * through the same pure-JS decoders as the CLI, so both see identical pixels; other formats the
 * browser can read (WebP, GIF, BMP, AVIF) go through createImageBitmap.
 */
import { checkPixelLimit, decodeAndPrepare, ImageInputError, prepareImage, sniffFormat, unsupported, type DecodedImage } from '../core/image/decode';
import { rgbaToRgb } from '../core/image/raster';
import type { DecodeRequest, DecodeResponse } from './decodeProtocol';

async function browserDecode(bytes: Uint8Array, name: string): Promise<DecodedImage> {
  const format = sniffFormat(bytes);
  if (format === 'unknown' || format === 'svg' || format === 'heic' || format === 'tiff') throw unsupported(name, format);
  checkPixelLimit(bytes, format, name);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as BlobPart]), { imageOrientation: 'from-image' });
  } catch {
    throw new ImageInputError(`${name} looks like a ${format.toUpperCase()} image but this browser could not decode it.`, 'Convert it to JPEG or PNG and try again.');
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new ImageInputError('No 2-D canvas is available to read the image.', 'Try another browser.');
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  bitmap.close();
  return { image: rgbaToRgb(rgba, canvas.width, canvas.height), format, orientation: 1, warnings: [] };
}

self.onmessage = async (ev: MessageEvent<DecodeRequest>) => {
  const { id, bytes, name } = ev.data;
  const t0 = performance.now();
  try {
    const b = new Uint8Array(bytes);
    if (b.length === 0) throw new ImageInputError(`${name} is empty (0 bytes).`, 'Choose the photo again; the file may not have been saved or copied completely.');
    const format = sniffFormat(b);
    // JPEG and PNG: the CLI's own path (a large JPEG is decoded at a reduced scale there).
    const prepared = format === 'jpeg' || format === 'png' ? decodeAndPrepare(b, name) : prepareImage(await browserDecode(b, name), name);
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
