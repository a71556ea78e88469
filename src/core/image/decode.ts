/**
 * Image decoding shared by the app (in a worker) and the CLI: the bytes are sniffed (never the
 * file name), JPEG and PNG are decoded by pure-JS decoders so both shells get identical pixels,
 * EXIF orientation is applied, grey/alpha/16-bit/palette images become 8-bit RGB, and anything
 * that cannot be used raises an ImageInputError whose message says what to do.
 */
import jpeg from 'jpeg-js';
import { decode as decodePngRaw, convertIndexedToRgb } from 'fast-png';
import { type RgbImage, createRgbImage } from './raster';
import { applyOrientation, readJpegOrientation, readTiffOrientation } from './exif';
import { resizeRgb } from './resize';
import { decodeJpegScaled, type JpegScale } from './jpegScaled';

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'avif' | 'heic' | 'tiff' | 'svg' | 'unknown';

/** Largest image we decode (pixels before downscaling). 12000 x 9000 = 108 MP fits. */
export const MAX_DECODE_PIXELS = 150e6;
/** Smallest usable side: below this selective search cannot form a single 20 px proposal. */
export const MIN_SIDE = 16;
/**
 * Longest side of the working image every stage uses. Warped crops are 227 px and selective
 * search works at 500 px wide, so more resolution buys nothing but memory and time.
 */
export const WORKING_MAX_SIDE = 1600;
/**
 * A thin photo keeps its short side at least this long (or as it is, when shorter) instead of
 * being shrunk until the long side fits WORKING_MAX_SIDE. A proposal across the short side is
 * warped to the CNN's 227 px (docs/algorithm.md section 3): below that the warp only enlarges
 * what was shrunk away. A 20 x 3000 strip was narrowed to 16 px wide, losing a fifth of its
 * detail to save nothing (it is 60,000 pixels). The pixel count stays within WORKING_MAX_SIDE squared.
 */
export const WORKING_MIN_SHORT_SIDE = 227;

/** The working raster's size for a width x height photo (never enlarged). */
export function workingSize(width: number, height: number, maxSide = WORKING_MAX_SIDE): { width: number; height: number; scale: number } {
  const short = Math.min(width, height);
  let s = Math.min(1, maxSide / Math.max(width, height));
  const floor = Math.min(short, WORKING_MIN_SHORT_SIDE);
  if (short * s < floor) s = floor / short;
  const budget = maxSide * maxSide;
  if (width * height * s * s > budget) s = Math.max(Math.sqrt(budget / (width * height)), MIN_SIDE / short);
  s = Math.min(1, s);
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)), scale: s };
}

export class ImageInputError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'ImageInputError';
  }
}

export function sniffFormat(b: Uint8Array): ImageFormat {
  const at = (o: number, ...v: number[]) => v.every((x, i) => b[o + i] === x);
  if (b.length >= 3 && at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (b.length >= 8 && at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (b.length >= 6 && at(0, 0x47, 0x49, 0x46, 0x38)) return 'gif';
  if (b.length >= 12 && at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'webp';
  if (b.length >= 2 && at(0, 0x42, 0x4d)) return 'bmp';
  if (b.length >= 12 && at(4, 0x66, 0x74, 0x79, 0x70)) {
    const brand = String.fromCharCode(b[8], b[9], b[10], b[11]);
    if (brand.startsWith('avi')) return 'avif';
    if (brand.startsWith('hei') || brand.startsWith('mif') || brand.startsWith('hev')) return 'heic';
  }
  if (b.length >= 4 && (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a))) return 'tiff';
  const head = new TextDecoder().decode(b.subarray(0, 256)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'svg';
  return 'unknown';
}

export interface DecodedImage {
  /** Upright RGB pixels at full decoded resolution. */
  image: RgbImage;
  format: ImageFormat;
  /** EXIF orientation that was applied (1 = none). */
  orientation: number;
  /** Non-fatal problems worth telling the user about. */
  warnings: string[];
}

const KIND_HINT = 'Use a JPEG or PNG photo (or WebP/GIF/BMP in the browser).';

/** Decode JPEG or PNG bytes. Other formats throw an ImageInputError (the app has a browser fallback). */
export function decodeImageBytes(bytes: Uint8Array, name = 'the file'): DecodedImage {
  if (bytes.length === 0) throw new ImageInputError(`${name} is empty (0 bytes).`, KIND_HINT);
  const format = sniffFormat(bytes);
  checkPixelLimit(bytes, format, name);
  const warnings: string[] = [];
  let image: RgbImage;
  let orientation = 1;
  if (format === 'jpeg') {
    const truncated = !hasJpegEnd(bytes);
    const decodeJpeg = (b: Uint8Array) =>
      jpeg.decode(b, {
        useTArray: true,
        formatAsRGBA: false,
        tolerantDecoding: true,
        maxResolutionInMP: MAX_DECODE_PIXELS / 1e6,
        maxMemoryUsageInMB: 4096,
      }) as { width: number; height: number; data: Uint8Array };
    let raw: { width: number; height: number; data: Uint8Array };
    try {
      raw = decodeJpeg(bytes);
    } catch (e) {
      // A file cut off inside its entropy-coded data makes the decoder look for a marker past
      // the end; closing it with an end-of-image marker recovers the rows that did arrive,
      // which is what browsers show for such files.
      let recovered: typeof raw | null = null;
      if (truncated) {
        // The decoder keeps reading bits for the missing blocks: give it zero bits (enough for
        // every block of the frame) before the end marker so it reaches the marker.
        const dims = jpegDimensions(bytes);
        const blocks = dims ? Math.ceil(dims.width / 8) * Math.ceil(dims.height / 8) * 3 : 0;
        const pad = Math.max(65536, blocks);
        const closed = new Uint8Array(bytes.length + pad + 2);
        closed.set(bytes);
        closed[bytes.length + pad] = 0xff;
        closed[bytes.length + pad + 1] = 0xd9;
        try {
          recovered = decodeJpeg(closed);
        } catch {
          recovered = null;
        }
      }
      if (!recovered) {
        throw new ImageInputError(
          `${name} looks like a JPEG but could not be decoded (${errorText(e)}). It may be truncated or corrupt.`,
          'Re-export or re-download the photo and try again.',
        );
      }
      raw = recovered;
    }
    if (!raw.width || !raw.height) {
      throw new ImageInputError(`${name} is a JPEG without image data (it may be truncated).`, 'Re-export or re-download the photo.');
    }
    if (truncated) warnings.push(`${name} seems truncated (no JPEG end marker): missing rows are shown grey.`);
    image = { width: raw.width, height: raw.height, data: raw.data };
    orientation = readJpegOrientation(bytes);
  } else if (format === 'png') {
    let png: ReturnType<typeof decodePngRaw>;
    try {
      png = decodePngRaw(bytes);
    } catch (e) {
      if (e instanceof ImageInputError) throw e;
      throw new ImageInputError(
        `${name} looks like a PNG but could not be decoded (${errorText(e)}). It may be truncated or corrupt.`,
        'Re-export the image as PNG or JPEG and try again.',
      );
    }
    image = pngToRgb(png);
    const exif = pngExifChunk(bytes);
    if (exif) orientation = readTiffOrientation(exif);
  } else {
    throw unsupported(name, format);
  }
  if (orientation > 1) image = applyOrientation(image, orientation);
  return { image, format, orientation, warnings };
}

export function unsupported(name: string, format: ImageFormat): ImageInputError {
  if (format === 'unknown') {
    return new ImageInputError(`${name} is not an image this app can read (its bytes match no known image format).`, KIND_HINT);
  }
  return new ImageInputError(`${name} is a ${format.toUpperCase()} image, which this decoder does not read.`, KIND_HINT);
}

function tooLarge(name: string, w: number, h: number): ImageInputError {
  return new ImageInputError(
    `${name} is ${w} x ${h} pixels (${((w * h) / 1e6).toFixed(0)} MP), more than the ${MAX_DECODE_PIXELS / 1e6} MP this app decodes.`,
    'Downscale it below that size first; R-CNN works at about 500 px anyway.',
  );
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function hasJpegEnd(b: Uint8Array): boolean {
  // EOI may be followed by padding or trailing data: look near the end.
  for (let i = b.length - 2; i >= Math.max(0, b.length - 4096); i--) {
    if (b[i] === 0xff && b[i + 1] === 0xd9) return true;
  }
  return false;
}

/** Width and height from the JPEG's SOFn header, without decoding. */
export function jpegDimensions(b: Uint8Array): { width: number; height: number } | null {
  let p = 2;
  while (p + 9 < b.length) {
    if (b[p] !== 0xff) return null;
    const m = b[p + 1];
    if (m === 0xff) {
      p++;
      continue;
    }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      p += 2;
      continue;
    }
    const len = (b[p + 2] << 8) | b[p + 3];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: (b[p + 5] << 8) | b[p + 6], width: (b[p + 7] << 8) | b[p + 8] };
    }
    p += 2 + len;
  }
  return null;
}

/**
 * Width and height of the formats the browser decodes (GIF, BMP, WebP) from their headers, so a
 * 250 MP file is refused before createImageBitmap spends seconds and a gigabyte on it.
 */
export function headerDimensions(b: Uint8Array, format: ImageFormat): { width: number; height: number } | null {
  const u16 = (o: number) => b[o] | (b[o + 1] << 8);
  const u24 = (o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
  const i32 = (o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
  if (format === 'gif' && b.length >= 10) return { width: u16(6), height: u16(8) };
  if (format === 'bmp' && b.length >= 26) return { width: Math.abs(i32(18)), height: Math.abs(i32(22)) };
  if (format === 'webp' && b.length >= 30) {
    const chunk = String.fromCharCode(b[12], b[13], b[14], b[15]);
    if (chunk === 'VP8X') return { width: u24(24) + 1, height: u24(27) + 1 };
    if (chunk === 'VP8 ') return { width: u16(26) & 0x3fff, height: u16(28) & 0x3fff };
    if (chunk === 'VP8L' && b[20] === 0x2f) {
      const bits = i32(21) >>> 0;
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
  }
  return null;
}

/** The pixel-count limit, from the header, for every format whose header gives the size (JPEG, PNG, GIF, BMP, WebP). */
export function checkPixelLimit(b: Uint8Array, format: ImageFormat, name: string): void {
  const d = format === 'jpeg' ? jpegDimensions(b) : format === 'png' ? pngDimensions(b) : headerDimensions(b, format);
  if (d && d.width * d.height > MAX_DECODE_PIXELS) throw tooLarge(name, d.width, d.height);
}

export function pngDimensions(b: Uint8Array): { width: number; height: number } | null {
  if (b.length < 24) return null;
  const u32 = (o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  return { width: u32(16), height: u32(20) };
}

export function pngExifChunk(b: Uint8Array): Uint8Array | null {
  let p = 8;
  const u32 = (o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  while (p + 12 <= b.length) {
    const len = u32(p);
    const type = String.fromCharCode(b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
    if (type === 'eXIf') return b.subarray(p + 8, Math.min(b.length, p + 8 + len));
    if (type === 'IDAT' || type === 'IEND') return null; // eXIf must precede IDAT
    p += 12 + len;
  }
  return null;
}

function pngToRgb(png: ReturnType<typeof decodePngRaw>): RgbImage {
  let data = png.data as ArrayLike<number>;
  let channels = png.channels;
  const { width, height } = png;
  if (png.palette) {
    data = convertIndexedToRgb(png as Parameters<typeof convertIndexedToRgb>[0]);
    channels = data.length / (width * height);
  }
  const shift = png.depth === 16 ? 8 : 0;
  const maxv = png.depth === 16 ? 65535 : 255;
  const out = createRgbImage(width, height);
  const d = out.data;
  const n = width * height;
  // Alpha is composited over white (how a browser shows the picture on a white page).
  for (let i = 0; i < n; i++) {
    let r: number, g: number, b: number, a: number;
    const s = i * channels;
    if (channels >= 3) {
      r = data[s]; g = data[s + 1]; b = data[s + 2];
      a = channels === 4 ? data[s + 3] : maxv;
    } else {
      r = g = b = data[s];
      a = channels === 2 ? data[s + 1] : maxv;
    }
    if (shift) { r >>= shift; g >>= shift; b >>= shift; }
    if (a !== maxv) {
      const af = a / maxv;
      r = Math.round(r * af + 255 * (1 - af));
      g = Math.round(g * af + 255 * (1 - af));
      b = Math.round(b * af + 255 * (1 - af));
    }
    d[3 * i] = r; d[3 * i + 1] = g; d[3 * i + 2] = b;
  }
  return out;
}

/** An image ready for the pipeline: the upright original size and the working raster. */
export interface PreparedImage {
  /** Upright size of the user's photo, in its own pixels (boxes are reported in these). */
  originalWidth: number;
  originalHeight: number;
  /** Working raster (original scaled to WORKING_MAX_SIDE at most). */
  image: RgbImage;
  /** working pixels x (scaleX, scaleY) = original pixels */
  scaleX: number;
  scaleY: number;
  format: ImageFormat;
  orientation: number;
  warnings: string[];
}

/** Validate size and build the working raster from an upright decoded image. */
export function prepareImage(decoded: DecodedImage, name = 'the image', maxSide = WORKING_MAX_SIDE): PreparedImage {
  const { image } = decoded;
  checkMinSide(image.width, image.height, name);
  return toWorking(decoded, image.width, image.height, maxSide);
}

function checkMinSide(width: number, height: number, name: string): void {
  if (width < MIN_SIDE || height < MIN_SIDE) {
    throw new ImageInputError(
      `${name} is only ${width} x ${height} pixels; R-CNN needs at least ${MIN_SIDE} x ${MIN_SIDE} (its smallest proposal is 20 px at 500 px wide).`,
      'Use a larger photo.',
    );
  }
}

/** The working raster of an upright photo of originalWidth x originalHeight, from `decoded` (that photo, possibly already reduced). */
function toWorking(decoded: DecodedImage, originalWidth: number, originalHeight: number, maxSide: number): PreparedImage {
  const { image } = decoded;
  const warnings = [...decoded.warnings];
  const fit = workingSize(originalWidth, originalHeight, maxSide);
  let working = image;
  if (fit.width !== image.width || fit.height !== image.height) working = resizeRgb(image, fit.width, fit.height);
  if (fit.scale < 1) {
    warnings.push(`Downscaled from ${originalWidth} x ${originalHeight} to ${working.width} x ${working.height} for processing; boxes are reported in original pixels.`);
  }
  return {
    originalWidth,
    originalHeight,
    image: working,
    scaleX: originalWidth / working.width,
    scaleY: originalHeight / working.height,
    format: decoded.format,
    orientation: decoded.orientation,
    warnings,
  };
}

/**
 * The scale (1/2, 1/4, 1/8) at which a width x height JPEG can be decoded and still be at least
 * its working size (so it is only ever shrunk after), or null when even 1/2 is too small.
 */
export function jpegDecodeScale(width: number, height: number, maxSide = WORKING_MAX_SIDE): JpegScale | null {
  const fit = workingSize(width, height, maxSide);
  for (const s of [8, 4, 2] as const) {
    if (Math.ceil(width / s) >= fit.width && Math.ceil(height / s) >= fit.height) return s;
  }
  return null;
}

/**
 * Decode and build the working raster: what the app's decode worker and the CLI both call, so both
 * get the same pixels. A JPEG much larger than its working size is decoded at 1/2, 1/4 or 1/8
 * scale (src/core/image/jpegScaled.ts): a 12000 x 9000 photo took 2.2 GB and over a minute at
 * full size in `rcnn proposals`. JPEGs that reader does not handle (progressive, CMYK), cut-off
 * ones (recovered below) and every other format take the full-size path.
 */
export function decodeAndPrepare(bytes: Uint8Array, name = 'the image', maxSide = WORKING_MAX_SIDE): PreparedImage {
  if (sniffFormat(bytes) === 'jpeg' && hasJpegEnd(bytes)) {
    const dims = jpegDimensions(bytes);
    const scale = dims ? jpegDecodeScale(dims.width, dims.height, maxSide) : null;
    if (dims && scale) {
      checkPixelLimit(bytes, 'jpeg', name);
      let reduced: ReturnType<typeof decodeJpegScaled> = null;
      try {
        reduced = decodeJpegScaled(bytes, scale);
      } catch {
        reduced = null; // the full decoder reads it, or says what is wrong with it
      }
      if (reduced) {
        const orientation = readJpegOrientation(bytes);
        let image: RgbImage = { width: reduced.width, height: reduced.height, data: reduced.data };
        if (orientation > 1) image = applyOrientation(image, orientation);
        const swap = orientation >= 5;
        const W = swap ? reduced.fullHeight : reduced.fullWidth, H = swap ? reduced.fullWidth : reduced.fullHeight;
        checkMinSide(W, H, name);
        return toWorking({ image, format: 'jpeg', orientation, warnings: [] }, W, H, maxSide);
      }
    }
  }
  return prepareImage(decodeImageBytes(bytes, name), name, maxSide);
}
