/// <reference lib="webworker" />
/**
 * Decoding in a worker as the app does it: JPEG and PNG through the same pure-JS decoders as the
 * CLI (identical pixels in both shells), the formats only a browser reads (WebP, GIF, BMP, AVIF)
 * through createImageBitmap; then the working image (decode.ts prepareImage).
 */
import { checkPixelLimit, decodeAndPrepare, ImageInputError, prepareImage, sniffFormat, unsupported, type DecodedImage, type PreparedImage } from '../core/image/decode';
import { rgbaToRgb } from '../core/image/raster';

export async function browserDecode(bytes: Uint8Array, name: string): Promise<DecodedImage> {
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

/** Bytes to the working image: the app's decode, in whichever worker calls it. */
export async function decodeForApp(bytes: Uint8Array, name: string): Promise<PreparedImage> {
  if (bytes.length === 0) throw new ImageInputError(`${name} is empty (0 bytes).`, 'Choose the photo again; the file may not have been saved or copied completely.');
  const format = sniffFormat(bytes);
  // JPEG and PNG: the CLI's own path (a large JPEG is decoded at a reduced scale there).
  return format === 'jpeg' || format === 'png' ? decodeAndPrepare(bytes, name) : prepareImage(await browserDecode(bytes, name), name);
}
