import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { encode as encodePng } from 'fast-png';
import { formatVocReport, loadVocImage, readVocDataset, splitVocDataset } from './dataset';
import { CliError } from './command';

function jpegBytes(w: number, h: number): Uint8Array {
  const data = new Uint8Array(w * h * 4).fill(128);
  return new Uint8Array(jpeg.encode({ data, width: w, height: h }, 90).data);
}

function pngBytes(w: number, h: number): Uint8Array {
  return encodePng({ width: w, height: h, data: new Uint8Array(w * h * 3).fill(200), channels: 3, depth: 8 });
}

function xml(filename: string, w: number, h: number, objects: [string, number, number, number, number][]): string {
  return `<annotation><filename>${filename}</filename><size><width>${w}</width><height>${h}</height><depth>3</depth></size>${objects
    .map(
      ([n, x1, y1, x2, y2]) =>
        `<object><name>${n}</name><difficult>0</difficult><bndbox><xmin>${x1}</xmin><ymin>${y1}</ymin><xmax>${x2}</xmax><ymax>${y2}</ymax></bndbox></object>`,
    )
    .join('')}</annotation>`;
}

describe('VOC folder reader (Node)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rcnn-voc-'));
    for (const d of ['JPEGImages', 'Annotations', 'ImageSets/Main']) mkdirSync(join(root, d), { recursive: true });
    const put = (id: string, bytes: Uint8Array | null, ann: string | null) => {
      if (bytes) writeFileSync(join(root, 'JPEGImages', `${id}.jpg`), bytes);
      if (ann !== null) writeFileSync(join(root, 'Annotations', `${id}.xml`), ann);
    };
    // A normal JPEG.
    put('good', jpegBytes(64, 48), xml('good.jpg', 64, 48, [['cat', 1, 1, 32, 24]]));
    // PNG data named .jpg, and an XML that says 0 x 0 with a box sticking out of the image.
    put('pngnamedjpg', pngBytes(40, 30), xml('pngnamedjpg.jpg', 0, 0, [['dog', 10, 5, 60, 30], ['cat', 2, 2, 8, 8]]));
    // XML that is not XML.
    put('brokenxml', jpegBytes(32, 32), 'this is not xml');
    // Annotation without its image.
    put('noimage', null, xml('noimage.jpg', 20, 20, [['cat', 1, 1, 5, 5]]));
    // Image bytes that are not an image.
    put('notimage', new Uint8Array([1, 2, 3, 4, 5]), xml('notimage.jpg', 20, 20, [['cat', 1, 1, 5, 5]]));
    // An annotation cut off after <size> (a truncated download): its image stays, without boxes, and the report says so.
    const full = xml('cut.jpg', 32, 32, [['cat', 1, 1, 16, 16]]);
    put('cut', jpegBytes(32, 32), full.slice(0, full.indexOf('</size>') + 7));
    // More plain images so a split has something to do.
    for (let i = 0; i < 6; i++) put(`more${i}`, jpegBytes(32, 32), xml(`more${i}.jpg`, 32, 32, [[i % 2 ? 'cat' : 'dog', 1, 1, 16, 16]]));
    const ids = ['good', 'pngnamedjpg', 'brokenxml', 'noimage', 'notimage', 'cut', ...Array.from({ length: 6 }, (_, i) => `more${i}`)];
    writeFileSync(join(root, 'ImageSets/Main/trainval.txt'), ids.join('\n') + '\n');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('loads what can be loaded, takes sizes from the decoded image, and reports every quirk by file', () => {
    const ds = readVocDataset(root);
    const r = ds.report;
    expect(ds.classes).toEqual(['cat', 'dog']);
    expect(r.listed).toBe(12);
    expect(r.loaded).toBe(9);
    expect(r.skipped.map((s) => [s.id, s.file.slice(root.length + 1)])).toEqual([
      ['brokenxml', 'Annotations/brokenxml.xml'],
      ['noimage', 'JPEGImages/noimage.jpg'],
      ['notimage', 'JPEGImages/notimage.jpg'],
    ]);
    expect(r.skipped[0].reason).toMatch(/not readable as XML/);
    expect(r.skipped[1].reason).toBe('image file missing');
    expect(r.skipped[2].reason).toMatch(/^image cannot be decoded/);
    const png = ds.images.find((im) => im.id === 'pngnamedjpg')!;
    expect(png.format).toBe('png');
    expect(png.extensionMismatch).toBe(true);
    expect([png.width, png.height]).toEqual([40, 30]);
    expect(png.sizeCheck).toBe('missing');
    // VOC (10,5)-(60,30) -> [9, 4, 60, 30], clipped to the decoded 40 x 30.
    expect(Array.from(png.groundTruth.boxes)).toEqual([9, 4, 40, 30, 1, 1, 8, 8]);
    expect(Array.from(png.groundTruth.labels)).toEqual([1, 0]);
    expect(r.extensionMismatch).toEqual(['pngnamedjpg']);
    expect(r.sizeMissing).toEqual(['pngnamedjpg']);
    expect(r.boxesClipped).toBe(1);
    expect(r.boxesPerClass).toEqual({ cat: 5, dog: 4 });
    expect(r.imagesPerClass).toEqual({ cat: 5, dog: 4 });
    expect(r.formats).toEqual({ jpeg: 8, png: 1 });
    expect(r.annotationProblems).toEqual([`${join(root, 'Annotations', 'cut.xml')}: <annotation> (line 1) is never closed`]);
    const text = formatVocReport(r, root);
    expect(text).toContain('9/12 images, 9 boxes, 2 classes');
    expect(text).toContain('1 problems in annotations (their images are kept, with the boxes that could be read):');
    expect(text).toContain('cut.xml: <annotation> (line 1) is never closed');
    expect(text).toContain('skipped brokenxml');
  });

  it('strict mode stops at the first broken file, naming it', () => {
    expect(() => readVocDataset(root, { strict: true })).toThrow(CliError);
    expect(() => readVocDataset(root, { strict: true })).toThrow(/Annotations\/brokenxml\.xml: .*not readable as XML/);
  });

  it('reloads an image consistently and splits deterministically', () => {
    const ds = readVocDataset(root, { classes: ['dog', 'cat'] });
    expect(Array.from(ds.images.find((im) => im.id === 'good')!.groundTruth.labels)).toEqual([1]);
    const img = loadVocImage(ds.images[0]);
    expect(img.originalWidth).toBe(ds.images[0].width);
    const s1 = splitVocDataset(ds, { valFraction: 0.25, seed: 3 });
    expect(s1).toEqual(splitVocDataset(ds, { valFraction: 0.25, seed: 3 }));
    expect(s1.train.length + s1.val.length).toBe(9);
    expect(s1.val.length).toBe(2);
  });

  it('names the missing folder of a non-VOC directory', () => {
    expect(() => readVocDataset(join(root, 'JPEGImages'))).toThrow(/no Annotations folder/);
  });
});
