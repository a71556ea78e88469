import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { encode as encodePng } from 'fast-png';
import { checkPixelLimit, decodeAndPrepare, decodeImageBytes, headerDimensions, ImageInputError, jpegDecodeScale, prepareImage, sniffFormat, workingSize, WORKING_MAX_SIDE, MIN_SIDE } from './decode';
import { applyOrientation, readJpegOrientation } from './exif';
import { resizeRgb } from './resize';
import type { RgbImage } from './raster';

/** A w x h test pattern: red increases left to right, green top to bottom, blue = 50. */
function pattern(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = 3 * (y * w + x);
      data[i] = Math.round((255 * x) / Math.max(1, w - 1));
      data[i + 1] = Math.round((255 * y) / Math.max(1, h - 1));
      data[i + 2] = 50;
    }
  return { width: w, height: h, data };
}

function toRgba(img: RgbImage, alpha = 255): Uint8Array {
  const out = new Uint8Array(img.width * img.height * 4);
  for (let i = 0; i < img.width * img.height; i++) {
    out.set(img.data.subarray(3 * i, 3 * i + 3), 4 * i);
    out[4 * i + 3] = alpha;
  }
  return out;
}

function encodeJpeg(img: RgbImage, quality = 95): Uint8Array {
  const enc = jpeg.encode({ width: img.width, height: img.height, data: toRgba(img) }, quality);
  return new Uint8Array(enc.data);
}

/** Insert an EXIF APP1 segment with the given orientation right after SOI. */
function withOrientation(jpg: Uint8Array, orientation: number, littleEndian = true): Uint8Array {
  const tiff = littleEndian
    ? [0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0, 0, 0, 0, 0]
    : [0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0];
  const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const len = payload.length + 2;
  const seg = [0xff, 0xe1, len >> 8, len & 255, ...payload];
  const out = new Uint8Array(jpg.length + seg.length);
  out.set(jpg.subarray(0, 2));
  out.set(seg, 2);
  out.set(jpg.subarray(2), 2 + seg.length);
  return out;
}

const maxAbsDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('image decoding', () => {
  it('sniffs formats by content, not name', () => {
    expect(sniffFormat(encodeJpeg(pattern(4, 4)))).toBe('jpeg');
    expect(sniffFormat(encodePng({ width: 2, height: 2, data: new Uint8Array(12), channels: 3 }))).toBe('png');
    expect(sniffFormat(new TextEncoder().encode('GIF89a....'))).toBe('gif');
    expect(sniffFormat(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe('webp');
    expect(sniffFormat(new TextEncoder().encode('hello world'))).toBe('unknown');
    expect(sniffFormat(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"></svg>'))).toBe('svg');
  });

  it('decodes a JPEG close to its source pixels', () => {
    const src = pattern(64, 48);
    const d = decodeImageBytes(encodeJpeg(src, 100));
    expect([d.image.width, d.image.height]).toEqual([64, 48]);
    expect(maxAbsDiff(d.image.data, src.data)).toBeLessThan(12);
    expect(d.warnings).toEqual([]);
  });

  it('decodes PNG exactly: RGB, RGBA over white, grey, grey+alpha, 16-bit', () => {
    const src = pattern(20, 10);
    expect(decodeImageBytes(encodePng({ width: 20, height: 10, data: src.data, channels: 3 })).image.data).toEqual(src.data);
    // Fully transparent pixels become white, opaque ones keep their colour.
    const rgba = toRgba(src, 0);
    rgba[3] = 255;
    const d = decodeImageBytes(encodePng({ width: 20, height: 10, data: rgba, channels: 4 }));
    expect(Array.from(d.image.data.subarray(0, 6))).toEqual([0, 0, 50, 255, 255, 255]);
    // Half transparent black over white -> mid grey.
    const half = new Uint8Array([0, 0, 0, 128]);
    expect(Array.from(decodeImageBytes(encodePng({ width: 1, height: 1, data: half, channels: 4 })).image.data)).toEqual([127, 127, 127]);
    const grey = decodeImageBytes(encodePng({ width: 2, height: 1, data: new Uint8Array([10, 200]), channels: 1 }));
    expect(Array.from(grey.image.data)).toEqual([10, 10, 10, 200, 200, 200]);
    const ga = decodeImageBytes(encodePng({ width: 1, height: 1, data: new Uint8Array([0, 0]), channels: 2 }));
    expect(Array.from(ga.image.data)).toEqual([255, 255, 255]);
    const deep = decodeImageBytes(encodePng({ width: 1, height: 1, data: new Uint16Array([65535, 256, 0]), channels: 3, depth: 16 }));
    expect(Array.from(deep.image.data)).toEqual([255, 1, 0]);
  });

  it('PNG data named .jpg decodes as PNG', () => {
    const png = encodePng({ width: 3, height: 2, data: pattern(3, 2).data, channels: 3 });
    expect(decodeImageBytes(png, 'photo.jpg').format).toBe('png');
  });

  it('reads and applies all eight EXIF orientations', () => {
    const src = pattern(6, 4); // landscape, distinct corners
    const jpg = encodeJpeg(src, 100);
    // pixel value at upright (x, y) for each orientation, computed from the stored image
    const stored = decodeImageBytes(jpg).image;
    const px = (img: RgbImage, x: number, y: number) => Array.from(img.data.subarray(3 * (y * img.width + x), 3 * (y * img.width + x) + 3));
    for (let o = 1; o <= 8; o++) {
      for (const le of [true, false]) {
        const bytes = withOrientation(jpg, o, le);
        expect(readJpegOrientation(bytes)).toBe(o);
        const d = decodeImageBytes(bytes);
        expect(d.orientation).toBe(o);
        const swapped = o >= 5;
        expect([d.image.width, d.image.height]).toEqual(swapped ? [4, 6] : [6, 4]);
      }
    }
    // Orientation 6 means "rotate 90 degrees clockwise to display": the stored top-left corner
    // ends up at the top-right.
    const r6 = decodeImageBytes(withOrientation(jpg, 6)).image;
    expect(px(r6, r6.width - 1, 0)).toEqual(px(stored, 0, 0));
    // Orientation 8 (90 counter-clockwise): stored top-left goes to bottom-left.
    const r8 = decodeImageBytes(withOrientation(jpg, 8)).image;
    expect(px(r8, 0, r8.height - 1)).toEqual(px(stored, 0, 0));
    // Orientation 3 (180): stored top-left goes to bottom-right.
    const r3 = decodeImageBytes(withOrientation(jpg, 3)).image;
    expect(px(r3, 5, 3)).toEqual(px(stored, 0, 0));
    // Applying 6 then 8 is the identity.
    expect(applyOrientation(applyOrientation(stored, 6), 8).data).toEqual(stored.data);
  });

  it('truncated JPEG: warns (rows missing) or fails with a clear message, never crashes', () => {
    const jpg = encodeJpeg(pattern(64, 64));
    const cut = jpg.subarray(0, Math.floor(jpg.length * 0.6));
    try {
      const d = decodeImageBytes(cut, 'cut.jpg');
      expect(d.warnings.join(' ')).toMatch(/truncated/);
    } catch (e) {
      expect(e).toBeInstanceOf(ImageInputError);
      expect((e as Error).message).toMatch(/cut\.jpg/);
    }
    expect(() => decodeImageBytes(jpg.subarray(0, 20), 'head.jpg')).toThrow(ImageInputError);
  });

  it('recovers the rows that arrived when a JPEG is cut inside its scan data', () => {
    const src = pattern(96, 96);
    const jpg = encodeJpeg(src, 95);
    const d = decodeImageBytes(jpg.subarray(0, Math.floor(jpg.length * 0.9)), 'cut.jpg');
    expect([d.image.width, d.image.height]).toEqual([96, 96]);
    expect(d.warnings.join(' ')).toMatch(/truncated/);
    // The top half arrived intact: it matches the source as closely as a full decode does.
    const top = 3 * 96 * 40;
    expect(maxAbsDiff(d.image.data.subarray(0, top), src.data.subarray(0, top))).toBeLessThan(16);
  });

  it('rejects non-images, empty files and unsupported formats with what-to-do messages', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [new TextEncoder().encode('just some text'), /not an image/],
      [new Uint8Array(0), /empty/],
      [new TextEncoder().encode('GIF89a\x01\x00\x01\x00'), /GIF/],
    ];
    for (const [bytes, re] of cases) {
      let err: unknown;
      try {
        decodeImageBytes(bytes, 'x.bin');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ImageInputError);
      expect((err as Error).message).toMatch(re);
      expect((err as ImageInputError).hint.length).toBeGreaterThan(10);
    }
  });

  it('tiny images are refused with their size in the message; large ones are downscaled', () => {
    const one = decodeImageBytes(encodePng({ width: 1, height: 1, data: new Uint8Array(3), channels: 3 }));
    expect(() => prepareImage(one, 'dot.png')).toThrow(/1 x 1/);
    const ok = prepareImage(decodeImageBytes(encodePng({ width: MIN_SIDE, height: MIN_SIDE, data: new Uint8Array(MIN_SIDE * MIN_SIDE * 3), channels: 3 })));
    expect(ok.image.width).toBe(MIN_SIDE);
    const big = prepareImage({ image: pattern(4000, 1000), format: 'png', orientation: 1, warnings: [] });
    expect(big.image.width).toBe(WORKING_MAX_SIDE);
    expect(big.image.height).toBe(400);
    expect(big.scaleX).toBeCloseTo(2.5, 10);
    expect(big.originalWidth).toBe(4000);
    expect(big.warnings[0]).toMatch(/Downscaled/);
    // Thin strips keep their short side as it is (20 x 3000 was narrowed to 16 px wide), or at
    // the CNN's 227 px when longer, within the working pixel budget.
    for (const [w, h] of [[4000, 20], [20, 3000]]) {
      const strip = prepareImage({ image: pattern(w, h), format: 'png', orientation: 1, warnings: [] });
      expect([strip.image.width, strip.image.height, strip.scaleX, strip.scaleY]).toEqual([w, h, 1, 1]);
      expect(strip.warnings).toEqual([]);
    }
    expect(workingSize(600, 6000)).toMatchObject({ width: 227, height: 2270 });
    expect(workingSize(1000, 40000)).toMatchObject({ width: 227, height: 9080 });
    expect(workingSize(1000, 60000)).toMatchObject({ width: 207, height: 12394 }); // held to 1600^2 pixels
    expect(workingSize(12000, 9000)).toMatchObject({ width: 1600, height: 1200 });
    expect(workingSize(16, 1_000_000)).toMatchObject({ width: 16, height: 1_000_000 }); // never below MIN_SIDE
  });

  it('decodes a JPEG far above its working size at a reduced scale: the same working pixels as the full decode, EXIF applied', () => {
    // 1600 x 1200 with a 400 px working size: decoded at 1/4 (400 x 300), not at full size.
    const src = pattern(1600, 1200);
    for (let y = 300; y < 700; y++) for (let x = 200; x < 500; x++) src.data.set([240, 240, 240], 3 * (y * 1600 + x));
    const jpg = encodeJpeg(src, 90);
    expect(jpegDecodeScale(1600, 1200, 400)).toBe(4);
    expect(jpegDecodeScale(1600, 1200, 1600)).toBeNull();
    for (const o of [1, 6]) {
      const bytes = withOrientation(jpg, o);
      const scaled = decodeAndPrepare(bytes, 'big.jpg', 400);
      const full = prepareImage(decodeImageBytes(bytes, 'big.jpg'), 'big.jpg', 400);
      expect([scaled.originalWidth, scaled.originalHeight, scaled.image.width, scaled.image.height]).toEqual(o === 6 ? [1200, 1600, 300, 400] : [1600, 1200, 400, 300]);
      expect([scaled.scaleX, scaled.scaleY, scaled.orientation]).toEqual([full.scaleX, full.scaleY, o]);
      expect(scaled.warnings).toEqual(full.warnings);
      // Both area averages of the same photo: measured mean 0.3, largest 4 levels (the bright box's edges).
      let sum = 0;
      for (let i = 0; i < full.image.data.length; i++) sum += Math.abs(scaled.image.data[i] - full.image.data[i]);
      expect(sum / full.image.data.length).toBeLessThan(1);
      expect(maxAbsDiff(scaled.image.data, full.image.data)).toBeLessThanOrEqual(8);
    }
  });

  it('reads GIF, BMP and WebP sizes from their headers and refuses over 150 MP before decoding', () => {
    // The first 30 bytes of 1234 x 567 files written by Pillow 9.4.
    const hex = (h: string) => Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));
    const files: Record<string, string> = {
      'lossy.webp': '524946463e050000574542505650382032050000509a009d012ad2043702',
      'lossless.webp': '5249464642000000574542505650384c350000002fd1848d0007508a2ad4',
      'alpha.webp': '524946468605000057454250565038580a00000010000000d10400360200',
      'a.gif': '474946383761d20437028700000a141e0000000000000000000000000000',
      'a.bmp': '424dfe0b2000000000003600000028000000d20400003702000001001800',
    };
    for (const [name, h] of Object.entries(files)) {
      const b = hex(h);
      expect(headerDimensions(b, sniffFormat(b)), name).toEqual({ width: 1234, height: 567 });
      expect(() => checkPixelLimit(b, sniffFormat(b), name)).not.toThrow();
    }
    // A 16000 x 16000 WebP (VP8X: width-1 and height-1 as 24-bit little-endian at bytes 24 and 27).
    const huge = hex(files['alpha.webp']);
    huge.set([0x7f, 0x3e, 0x00, 0x7f, 0x3e, 0x00], 24);
    expect(() => checkPixelLimit(huge, 'webp', 'huge.webp')).toThrow(/huge\.webp is 16000 x 16000 pixels \(256 MP\), more than the 150 MP/);
    expect(headerDimensions(hex(files['a.gif']).subarray(0, 8), 'gif')).toBeNull();
  });

  it('decodes the committed sample photos', () => {
    for (const name of ['apple.jpg', 'fruits.jpg', 'orange.jpg']) {
      const bytes = new Uint8Array(readFileSync(new URL(`../../../public/samples/${name}`, import.meta.url)));
      const d = decodeImageBytes(bytes, name);
      expect(d.image.width).toBeGreaterThan(100);
      // a real photo: not a flat image
      const mean = d.image.data.reduce((s, v) => s + v, 0) / d.image.data.length;
      expect(mean).toBeGreaterThan(20);
      expect(mean).toBeLessThan(235);
    }
  });
});

describe('resize', () => {
  it('area-averages when shrinking: 4x4 -> 2x2 gives block means', () => {
    const data = new Uint8Array(48);
    const vals = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150];
    vals.forEach((v, i) => data.fill(v, 3 * i, 3 * i + 3));
    const r = resizeRgb({ width: 4, height: 4, data }, 2, 2);
    // top-left block: 0,10,40,50 -> 25
    expect([r.data[0], r.data[3], r.data[6], r.data[9]]).toEqual([25, 45, 105, 125]);
  });

  it('bilinear when enlarging, constant images stay constant, non-integer factors keep the mean', () => {
    const flat = { width: 3, height: 2, data: new Uint8Array(18).fill(77) };
    expect(resizeRgb(flat, 7, 5).data.every((v) => v === 77)).toBe(true);
    const r = resizeRgb({ width: 2, height: 1, data: new Uint8Array([0, 0, 0, 200, 200, 200]) }, 4, 1);
    expect(Array.from(r.data.filter((_, i) => i % 3 === 0))).toEqual([0, 50, 150, 200]);
    const p = pattern(500, 333);
    const s = resizeRgb(p, 137, 91);
    const mean = (img: RgbImage) => img.data.reduce((a, v) => a + v, 0) / img.data.length;
    expect(Math.abs(mean(s) - mean(p))).toBeLessThan(1);
  });
});
