import { describe, expect, it } from 'vitest';
import { convertColourSpace } from './colorSpace';
import type { RgbImage } from '../image/raster';

function pixels(...rgb: Array<[number, number, number]>): RgbImage {
  return { width: rgb.length, height: 1, data: new Uint8Array(rgb.flat()) };
}

function channel(planes: Uint8Array, n: number, c: number): number[] {
  return [...planes.subarray(c * n, (c + 1) * n)];
}

describe('colour spaces (8-bit, as the release segments and histograms them)', () => {
  const img = pixels([255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0], [128, 64, 64]);

  it('HSV follows MATLAB rgb2hsv scaled to 0..255', () => {
    const c = convertColourSpace(img, 'HSV');
    expect(c.channels).toBe(3);
    expect(channel(c.planes, 6, 0)).toEqual([0, 85, 170, 0, 0, 0]);
    expect(channel(c.planes, 6, 1)).toEqual([255, 255, 255, 0, 0, 128]);
    expect(channel(c.planes, 6, 2)).toEqual([255, 255, 255, 255, 0, 128]);
  });

  it('Lab uses the 8-bit ICC encoding (L*255/100, a+128, b+128)', () => {
    const c = convertColourSpace(img, 'Lab');
    // White: L 100, a = b = 0; black: L 0. sRGB red: L 53.24, a 80.09, b 67.20.
    expect(channel(c.planes, 6, 0)[3]).toBe(255);
    expect(channel(c.planes, 6, 1)[3]).toBe(128);
    expect(channel(c.planes, 6, 2)[3]).toBe(128);
    expect(channel(c.planes, 6, 0)[4]).toBe(0);
    expect(channel(c.planes, 6, 0)[0]).toBe(Math.round((53.24 * 255) / 100));
    expect(channel(c.planes, 6, 1)[0]).toBe(208);
    expect(channel(c.planes, 6, 2)[0]).toBe(195);
  });

  it('rgI: stretched chromaticities and grey intensity; black counts as r = g = 1/3', () => {
    const c = convertColourSpace(img, 'rgI');
    // r over the image ranges 0 (green, blue) .. 1 (red): stretched to 0..255.
    expect(channel(c.planes, 6, 0)).toEqual([255, 0, 0, 85, 85, 128]);
    expect(channel(c.planes, 6, 1)).toEqual([0, 255, 0, 85, 85, 64]);
    expect(channel(c.planes, 6, 2)).toEqual([76, 150, 29, 255, 0, 83]);
    // A grey image has no chromaticity range at all: those channels are 0, not NaN.
    const grey = convertColourSpace(pixels([10, 10, 10], [200, 200, 200]), 'rgI');
    expect([...grey.planes]).toEqual([0, 0, 0, 0, 10, 200]);
  });

  it('H and I are single channels whose edge weights carry the sqrt(3) of the release\'s replication', () => {
    const h = convertColourSpace(img, 'H');
    const i = convertColourSpace(img, 'I');
    expect(h.channels).toBe(1);
    expect(i.channels).toBe(1);
    expect(h.edgeWeightScale).toBeCloseTo(Math.sqrt(3), 12);
    expect([...h.planes]).toEqual([0, 85, 170, 0, 0, 0]);
    expect([...i.planes]).toEqual([76, 150, 29, 255, 0, 83]);
    expect(convertColourSpace(img, 'RGB').edgeWeightScale).toBe(1);
  });
});
