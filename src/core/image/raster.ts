/**
 * An 8-bit RGB raster: the one image type every stage works on (selective search, warping,
 * display). Interleaved RGB, row-major, no padding: pixel (x, y) channel c at 3 * (y * width + x) + c.
 */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export function createRgbImage(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

/** RGBA (e.g. canvas ImageData) to RGB, compositing any transparency over white. */
export function rgbaToRgb(rgba: ArrayLike<number>, width: number, height: number): RgbImage {
  const out = createRgbImage(width, height);
  const d = out.data;
  for (let i = 0, j = 0, n = width * height; i < n; i++, j += 4) {
    const a = rgba[j + 3];
    if (a === 255) {
      d[3 * i] = rgba[j];
      d[3 * i + 1] = rgba[j + 1];
      d[3 * i + 2] = rgba[j + 2];
    } else {
      // Straight (non-premultiplied) alpha over a white background.
      const w = 255 - a;
      d[3 * i] = (rgba[j] * a + 255 * w + 127) / 255;
      d[3 * i + 1] = (rgba[j + 1] * a + 255 * w + 127) / 255;
      d[3 * i + 2] = (rgba[j + 2] * a + 255 * w + 127) / 255;
    }
  }
  return out;
}

/** RGB to RGBA with opaque alpha, for canvas ImageData. */
export function rgbToRgba(img: RgbImage): Uint8ClampedArray {
  const n = img.width * img.height;
  const out = new Uint8ClampedArray(n * 4);
  const d = img.data;
  for (let i = 0; i < n; i++) {
    out[4 * i] = d[3 * i];
    out[4 * i + 1] = d[3 * i + 1];
    out[4 * i + 2] = d[3 * i + 2];
    out[4 * i + 3] = 255;
  }
  return out;
}

/** A cheap, stable content hash (FNV-1a over a strided sample plus size) for cache keys. */
export function rasterFingerprint(img: RgbImage): string {
  let h = 0x811c9dc5;
  const d = img.data;
  const step = Math.max(1, Math.floor(d.length / 65536));
  for (let i = 0; i < d.length; i += step) {
    h ^= d[i];
    h = Math.imul(h, 0x01000193);
  }
  return `${img.width}x${img.height}-${(h >>> 0).toString(16)}`;
}
