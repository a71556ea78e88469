import { type RgbImage, createRgbImage } from './raster';

/**
 * EXIF orientation (tag 0x0112), 1..8; 1 when absent or unreadable. Cameras store the sensor's
 * pixels and record how to turn them; browsers honour it when displaying, so we must too or the
 * boxes would be drawn on a rotated photo.
 */
export function readJpegOrientation(bytes: Uint8Array): number {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return 1;
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return 1;
    const marker = bytes[p + 1];
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      p += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return 1; // start of scan: no EXIF before image data
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    if (len < 2) return 1;
    if (marker === 0xe1 && len >= 8) {
      const s = p + 4;
      if (bytes[s] === 0x45 && bytes[s + 1] === 0x78 && bytes[s + 2] === 0x69 && bytes[s + 3] === 0x66 && bytes[s + 4] === 0 && bytes[s + 5] === 0) {
        return readTiffOrientation(bytes.subarray(s + 6, Math.min(bytes.length, p + 2 + len)));
      }
    }
    p += 2 + len;
  }
  return 1;
}

/** Orientation from a TIFF-structured EXIF block (also what PNG's eXIf chunk holds). */
export function readTiffOrientation(t: Uint8Array): number {
  if (t.length < 8) return 1;
  const little = t[0] === 0x49 && t[1] === 0x49;
  const big = t[0] === 0x4d && t[1] === 0x4d;
  if (!little && !big) return 1;
  const u16 = (o: number) => (o + 2 > t.length ? -1 : little ? t[o] | (t[o + 1] << 8) : (t[o] << 8) | t[o + 1]);
  const u32 = (o: number) =>
    o + 4 > t.length ? -1 : little ? (t[o] | (t[o + 1] << 8) | (t[o + 2] << 16) | (t[o + 3] << 24)) >>> 0 : ((t[o] << 24) | (t[o + 1] << 16) | (t[o + 2] << 8) | t[o + 3]) >>> 0;
  const ifd = u32(4);
  if (ifd < 8 || ifd + 2 > t.length) return 1;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + 12 * i;
    if (e + 12 > t.length) return 1;
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

/** Orientations 5..8 swap width and height. */
export function orientationSwapsAxes(orientation: number): boolean {
  return orientation >= 5 && orientation <= 8;
}

/** Turn the stored pixels upright according to an EXIF orientation value. */
export function applyOrientation(src: RgbImage, orientation: number): RgbImage {
  if (orientation <= 1 || orientation > 8) return src;
  const W = src.width;
  const H = src.height;
  const swap = orientationSwapsAxes(orientation);
  const dst = createRgbImage(swap ? H : W, swap ? W : H);
  const dw = dst.width;
  const s = src.data;
  const d = dst.data;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let dx: number, dy: number;
      switch (orientation) {
        case 2: dx = W - 1 - x; dy = y; break; // mirror horizontal
        case 3: dx = W - 1 - x; dy = H - 1 - y; break; // rotate 180
        case 4: dx = x; dy = H - 1 - y; break; // mirror vertical
        case 5: dx = y; dy = x; break; // transpose
        case 6: dx = H - 1 - y; dy = x; break; // rotate 90 clockwise
        case 7: dx = H - 1 - y; dy = W - 1 - x; break; // transverse
        default: dx = y; dy = W - 1 - x; break; // 8: rotate 90 counter-clockwise
      }
      const si = 3 * (y * W + x);
      const di = 3 * (dy * dw + dx);
      d[di] = s[si];
      d[di + 1] = s[si + 1];
      d[di + 2] = s[si + 2];
    }
  }
  return dst;
}
