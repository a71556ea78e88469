/**
 * Deterministic synthetic images for selective-search tests and reference comparisons. Integer
 * arithmetic only, so scripts/bench/skimage_felzenszwalb_fixture.py reproduces the exact same
 * pixels in Python (keep the two in step).
 */
import { createRgbImage, type RgbImage } from '../image/raster';

/** Flat background with flat axis-aligned rectangles [x1, y1, x2, y2) (continuous convention) in given colours. */
export function flatRectangles(width: number, height: number, background: [number, number, number], rects: Array<{ box: [number, number, number, number]; colour: [number, number, number] }>): RgbImage {
  const img = createRgbImage(width, height);
  const d = img.data;
  for (let p = 0; p < width * height; p++) d.set(background, 3 * p);
  for (const { box, colour } of rects) {
    for (let y = box[1]; y < box[3]; y++) for (let x = box[0]; x < box[2]; x++) d.set(colour, 3 * (y * width + x));
  }
  return img;
}

/**
 * A cluttered scene: a colour gradient, discs and rectangles with their own colours, plus
 * uniform integer noise of amplitude `noise` from a 32-bit LCG seeded with `seed`.
 */
export function syntheticScene(width: number, height: number, seed: number, noise = 12): RgbImage {
  const img = createRgbImage(width, height);
  const d = img.data;
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 24; // 0..255
  };
  // Shapes are placed from the same generator, before the noise.
  const shapes: Array<{ kind: number; a: number; b: number; c: number; e: number; r: number; g: number; bl: number }> = [];
  for (let i = 0; i < 6; i++) {
    const kind = next() & 1;
    const a = (next() * width) >> 8;
    const b = (next() * height) >> 8;
    const c = 4 + ((next() * width) >> 10);
    const e = 4 + ((next() * height) >> 10);
    shapes.push({ kind, a, b, c, e, r: next(), g: next(), bl: next() });
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = ((x * 255) / Math.max(1, width - 1)) | 0;
      let g = ((y * 255) / Math.max(1, height - 1)) | 0;
      let b = 128;
      for (const s of shapes) {
        const inside = s.kind === 0 ? (x - s.a) * (x - s.a) + (y - s.b) * (y - s.b) <= s.c * s.c : x >= s.a && x < s.a + 2 * s.c && y >= s.b && y < s.b + 2 * s.e;
        if (inside) {
          r = s.r;
          g = s.g;
          b = s.bl;
        }
      }
      const o = 3 * (y * width + x);
      d[o] = clamp(r + (next() % (2 * noise + 1)) - noise);
      d[o + 1] = clamp(g + (next() % (2 * noise + 1)) - noise);
      d[o + 2] = clamp(b + (next() % (2 * noise + 1)) - noise);
    }
  }
  return img;
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}
