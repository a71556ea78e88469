import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeJpegScaled, type JpegScale } from './jpegScaled';

const FIX = join(__dirname, 'fixtures');

/** jpeg-js at full size, then the mean of each scale x scale cell (cells cut by the edge average what they cover). */
function reference(bytes: Uint8Array, scale: number) {
  const full = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false }) as { width: number; height: number; data: Uint8Array };
  const w = Math.ceil(full.width / scale), h = Math.ceil(full.height / scale);
  const out = new Float64Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < 3; k++) {
        let s = 0, n = 0;
        for (let yy = y * scale; yy < Math.min(full.height, (y + 1) * scale); yy++)
          for (let xx = x * scale; xx < Math.min(full.width, (x + 1) * scale); xx++, n++) s += full.data[3 * (yy * full.width + xx) + k];
        out[3 * (y * w + x) + k] = s / n;
      }
  return { width: w, height: h, data: out, fullWidth: full.width, fullHeight: full.height };
}

/** Mean and largest absolute difference, over the cells fully inside the image (edge cells average padding in the DCT domain). */
function compare(bytes: Uint8Array, scale: JpegScale) {
  const got = decodeJpegScaled(bytes, scale)!;
  const ref = reference(bytes, scale);
  expect([got.width, got.height, got.fullWidth, got.fullHeight]).toEqual([ref.width, ref.height, ref.fullWidth, ref.fullHeight]);
  let sum = 0, max = 0, n = 0, over4 = 0;
  const wi = Math.floor(ref.fullWidth / scale), hi = Math.floor(ref.fullHeight / scale);
  for (let y = 0; y < hi; y++)
    for (let x = 0; x < wi; x++)
      for (let k = 0; k < 3; k++) {
        const d = Math.abs(got.data[3 * (y * got.width + x) + k] - ref.data[3 * (y * ref.width + x) + k]);
        sum += d;
        max = Math.max(max, d);
        if (d > 4) over4++;
        n++;
      }
  return { mean: sum / n, max, over4: over4 / n };
}

describe('JPEG decoded at 1/2, 1/4 and 1/8 scale', () => {
  it('matches the full-size decode averaged over each cell: 4:4:4 (jpeg-js), 4:2:0 with and without restart markers (libjpeg), greyscale', () => {
    // A 4:4:4 file from jpeg-js's own encoder, 203 x 157 (not a multiple of 8 or 16).
    const W = 203, H = 157;
    const rgba = new Uint8Array(W * H * 4);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const i = 4 * (y * W + x);
        rgba[i] = 128 + 100 * Math.sin(x / 9);
        rgba[i + 1] = 128 + 90 * Math.cos(y / 7 + x / 23);
        rgba[i + 2] = (x * 255) / W;
        rgba[i + 3] = 255;
      }
    const files: Record<string, Uint8Array> = {
      '444 (jpeg-js)': new Uint8Array(jpeg.encode({ width: W, height: H, data: rgba }, 90).data),
      '420 (libjpeg)': new Uint8Array(readFileSync(join(FIX, 'scene-420.jpg'))),
      '420 with restart markers every 3 MCUs': new Uint8Array(readFileSync(join(FIX, 'scene-420-rst.jpg'))),
      greyscale: new Uint8Array(readFileSync(join(FIX, 'scene-grey.jpg'))),
    };
    for (const [name, bytes] of Object.entries(files)) {
      for (const scale of [2, 4, 8] as const) {
        const { mean, max, over4 } = compare(bytes, scale);
        // The DCT-domain mean is exact; jpeg-js's integer IDCT rounds each pixel. Where colours
        // saturate (the green disc's and white box's edges) the reference averages pixels already
        // clamped to 0-255 and the DCT-domain mean averages before clamping: measured 0.4 % of
        // values more than 4 levels apart, the largest 31, all on those edges.
        expect(mean, `${name} 1/${scale}`).toBeLessThan(1);
        expect(over4, `${name} 1/${scale}`).toBeLessThan(0.01);
        expect(max, `${name} 1/${scale}`).toBeLessThanOrEqual(40);
      }
    }
  });

  it('leaves what it does not read (progressive, not a JPEG) to the full decoder or an error', () => {
    expect(decodeJpegScaled(new Uint8Array(readFileSync(join(FIX, 'scene-progressive.jpg'))), 4)).toBeNull();
    expect(() => decodeJpegScaled(new Uint8Array([1, 2, 3, 4]), 4)).toThrow('not a JPEG');
  });
});
