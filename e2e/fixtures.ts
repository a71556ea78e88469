import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { encode as encodePng } from 'fast-png';

export const FIXTURE_DIR = join('test-results', 'fixtures');

/** RGBA pixels: left half red, right half blue, a green square in the top-left quarter. */
export function halves(w: number, h: number, alpha = 255): Uint8Array {
  const d = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = 4 * (y * w + x);
      const green = x < w / 4 && y < h / 4;
      d[i] = green ? 0 : x < w / 2 ? 220 : 20;
      d[i + 1] = green ? 200 : 30;
      d[i + 2] = green ? 0 : x < w / 2 ? 30 : 220;
      d[i + 3] = alpha;
    }
  return d;
}

export function writeFixture(name: string, bytes: Uint8Array): string {
  mkdirSync(FIXTURE_DIR, { recursive: true });
  const p = join(FIXTURE_DIR, name);
  writeFileSync(p, bytes);
  return p;
}

export function pngBytes(w: number, h: number, data: Uint8Array, channels: number): Uint8Array {
  return encodePng({ width: w, height: h, data, channels });
}

export function jpegBytes(w: number, h: number, rgba: Uint8Array, quality = 92): Uint8Array {
  return new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, quality).data);
}

/** Insert an EXIF APP1 segment holding only the orientation tag right after SOI. */
export function withExifOrientation(jpg: Uint8Array, orientation: number): Uint8Array {
  const tiff = [0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0, 0, 0, 0, 0];
  const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const len = payload.length + 2;
  const seg = [0xff, 0xe1, len >> 8, len & 255, ...payload];
  const out = new Uint8Array(jpg.length + seg.length);
  out.set(jpg.subarray(0, 2));
  out.set(seg, 2);
  out.set(jpg.subarray(2), 2 + seg.length);
  return out;
}
