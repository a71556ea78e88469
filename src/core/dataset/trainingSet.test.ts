import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { encode as encodePng } from 'fast-png';
import {
  addPhotos,
  checkTrainable,
  importVocFiles,
  inputFromBytes,
  MemoryDatasetStore,
  nudgeBox,
  photoHeader,
  snapBox,
  splitPhotos,
  summarise,
  vocFiles,
  type TrainPhoto,
} from './trainingSet';
import { readZip, writeZip } from '../zip';
import { sha256Hex } from '../../model/sha256';
import { readVocDataset, splitVocDataset } from '../../cli/dataset';

/** A w x h JPEG whose pixels depend on `seed` (so different seeds are different photos). */
function jpegOf(w: number, h: number, seed: number): Uint8Array {
  const d = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    d[4 * i] = (i * 3 + seed * 40) & 255;
    d[4 * i + 1] = ((i >> 3) + seed * 17) & 255;
    d[4 * i + 2] = seed * 29 & 255;
    d[4 * i + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ width: w, height: h, data: d }, 85).data);
}

/** The JPEG with an EXIF APP1 segment holding only the orientation tag. */
function withOrientation(jpg: Uint8Array, orientation: number): Uint8Array {
  const tiff = [0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0, 0, 0, 0, 0];
  const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const seg = [0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255, ...payload];
  const out = new Uint8Array(jpg.length + seg.length);
  out.set(jpg.subarray(0, 2));
  out.set(seg, 2);
  out.set(jpg.subarray(2), 2 + seg.length);
  return out;
}

const xml = (file: string, w: number, h: number, objects: Array<[string, number, number, number, number, number?]>) =>
  `<annotation><filename>${file}</filename><size><width>${w}</width><height>${h}</height><depth>3</depth></size>${objects
    .map(([n, x1, y1, x2, y2, d]) => `<object><name>${n}</name><difficult>${d ?? 0}</difficult><bndbox><xmin>${x1}</xmin><ymin>${y1}</ymin><xmax>${x2}</xmax><ymax>${y2}</ymax></bndbox></object>`)
    .join('')}</annotation>`;

const enc = (s: string) => new TextEncoder().encode(s);

describe('the Train view dataset', () => {
  it('reads the upright size and format from the header, with the app\'s decode limits', () => {
    expect(photoHeader(jpegOf(40, 24, 1), 'a.jpg')).toEqual({ format: 'jpeg', width: 40, height: 24 });
    // EXIF orientation 6 (rotated 90 degrees): the photo the user sees is 24 x 40.
    expect(photoHeader(withOrientation(jpegOf(40, 24, 1), 6), 'r.jpg')).toEqual({ format: 'jpeg', width: 24, height: 40 });
    const png = encodePng({ width: 30, height: 20, data: new Uint8Array(30 * 20 * 3), channels: 3 });
    expect(photoHeader(png, 'p.png')).toEqual({ format: 'png', width: 30, height: 20 });
    // A PNG header claiming 20000 x 20000 (400 MP) is refused before anything is decoded.
    const huge = png.slice();
    new DataView(huge.buffer).setUint32(16, 20000);
    new DataView(huge.buffer).setUint32(20, 20000);
    expect(() => photoHeader(huge, 'huge.png')).toThrow(/huge\.png is 20000 x 20000 pixels \(400 MP\), more than the 150 MP/);
    expect(() => photoHeader(enc('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'x.svg')).toThrow(/SVG image, which this decoder does not read/);
    expect(() => photoHeader(new Uint8Array(0), 'e.jpg')).toThrow(/e\.jpg is empty/);
    expect(() => photoHeader(jpegOf(40, 24, 1).subarray(0, 12), 't.jpg')).toThrow(/header gives no size/);
  });

  it('adds photos once each (by content), names them by file stem, refuses what it cannot use and keeps the rest', async () => {
    const store = new MemoryDatasetStore();
    const a = jpegOf(40, 30, 1);
    const r1 = await addPhotos(store, [], [
      { file: inputFromBytes('holiday/cat.jpg', a) },
      { file: inputFromBytes('notes.txt', enc('hello')) },
      { file: inputFromBytes('dogs/cat.jpg', jpegOf(40, 30, 2)) },
    ], sha256Hex);
    expect(r1.added.map((p) => [p.name, p.width, p.height, p.boxes.length])).toEqual([
      ['cat', 40, 30, 0],
      ['cat_2', 40, 30, 0],
    ]);
    expect(r1.refused).toHaveLength(1);
    expect(r1.refused[0].reason).toMatch(/notes\.txt is not an image this app can read/);
    const r2 = await addPhotos(store, await store.list(), [{ file: inputFromBytes('copy of cat.jpg', a) }], sha256Hex);
    expect(r2.added).toEqual([]);
    expect(r2.duplicates).toEqual([{ file: 'copy of cat.jpg', as: 'cat' }]);
    expect(await store.list()).toHaveLength(2);
    expect(await store.bytes(r1.added[0].id)).toEqual(a);
    // Stopped part-way: what went in stays, the rest is named.
    const ctl = new AbortController();
    const many = [3, 4, 5, 6].map((k) => ({ file: inputFromBytes(`p${k}.jpg`, jpegOf(32, 24, k)) }));
    const r3 = await addPhotos(store, await store.list(), many, sha256Hex, (done) => done === 0 && ctl.abort(), ctl.signal);
    expect(r3.added.map((p) => p.name)).toEqual(['p3']);
    expect(r3.notes).toEqual(['Stopped: 3 files not added (p4.jpg, p5.jpg, p6.jpg)']);
    expect(await store.list()).toHaveLength(3);
  });

  it('imports a VOC zip (JPEGImages + Annotations), fitting boxes to each photo and reporting every repair', async () => {
    const files = [
      { name: 'voc/JPEGImages/a1.jpg', bytes: jpegOf(64, 48, 1) },
      { name: 'voc/JPEGImages/a2.jpg', bytes: jpegOf(64, 48, 2) },
      { name: 'voc/JPEGImages/b1.jpg', bytes: jpegOf(64, 48, 3) },
      { name: 'voc/JPEGImages/nobox.jpg', bytes: jpegOf(64, 48, 4) },
      { name: 'voc/JPEGImages/broken.jpg', bytes: jpegOf(64, 48, 5) },
      // Boxes: one sticking out (clipped), one of 1 px (dropped), a difficult one.
      { name: 'voc/Annotations/a1.xml', bytes: enc(xml('a1.jpg', 64, 48, [['apple', 1, 1, 20, 20], ['apple', 50, 40, 80, 60]])) },
      { name: 'voc/Annotations/a2.xml', bytes: enc(xml('a2.jpg', 0, 0, [['apple', 5, 5, 30, 30, 1], ['banana', 10, 10, 10, 30]])) },
      { name: 'voc/Annotations/b1.xml', bytes: enc(xml('b1.jpg', 64, 48, [['banana', 3, 4, 40, 44], [' banana ', 30, 10, 60, 40]])) },
      { name: 'voc/Annotations/broken.xml', bytes: enc('<annotation><object><name>apple</name>') },
      { name: 'voc/JPEGImages/json.jpg', bytes: jpegOf(64, 48, 6) },
      { name: 'voc/Annotations/json.xml', bytes: enc('{"boxes": []}') },
      { name: 'voc/JPEGImages/empty.jpg', bytes: jpegOf(64, 48, 7) },
      { name: 'voc/Annotations/empty.xml', bytes: enc(xml('empty.jpg', 64, 48, [])) },
      { name: 'voc/Annotations/lost.xml', bytes: enc(xml('lost.jpg', 64, 48, [['apple', 1, 1, 9, 9]])) },
      { name: 'voc/ImageSets/Main/trainval.txt', bytes: enc('a1\na2\nb1\n') },
      { name: '__MACOSX/voc/._a1.jpg', bytes: enc('junk') },
    ];
    const zip = await writeZip(files);
    const entries = await readZip(zip, { name: 'voc.zip' });
    const store = new MemoryDatasetStore();
    const r = await importVocFiles(store, [], entries.map((e) => ({ name: e.name, size: e.size, read: e.read })), sha256Hex);
    const byName = Object.fromEntries(r.added.map((p) => [p.name, p]));
    expect(Object.keys(byName).sort()).toEqual(['a1', 'a2', 'b1', 'broken', 'empty', 'json', 'nobox']);
    // VOC 1-based inclusive corners become continuous boxes: xmin 1 -> 0.
    expect(byName.a1.boxes).toEqual([{ box: [0, 0, 20, 20], label: 'apple' }, { box: [49, 39, 64, 48], label: 'apple' }]);
    expect(byName.a2.boxes).toEqual([{ box: [4, 4, 30, 30], label: 'apple', difficult: true }]);
    expect(byName.b1.boxes.map((b) => b.label)).toEqual(['banana', 'banana']);
    expect(byName.nobox.boxes).toEqual([]);
    // A truncated annotation: its photo comes without boxes (not as a photo of background), and
    // the note says why; an annotation that is not XML at all is refused, its photo kept.
    expect(byName.broken.boxes).toEqual([]);
    expect(byName.broken.noObjects).toBeUndefined();
    expect(r.notes.join('\n')).toMatch(/broken\.xml: .*object 1 \(apple\).*no <bndbox>, object skipped/);
    expect(r.refused.map((x) => x.file)).toEqual(['voc/Annotations/json.xml']);
    expect(r.refused[0].reason).toMatch(/json\.xml: not readable as XML.*added without boxes/);
    expect(byName.json.boxes).toEqual([]);
    // An annotation listing no object: a photo of background.
    expect(byName.empty.noObjects).toBe(true);
    expect(r.notes.join('\n')).toMatch(/object 2 \(apple\) box \[49, 39, 80, 60\] clipped/);
    expect(r.notes.join('\n')).toMatch(/object 2 \(banana\) box .* is empty .* dropped/);
    expect(r.notes.join('\n')).toMatch(/lost\.xml: no photo lost\.jpg came with it/);
    expect(r.ignored).toEqual(['voc/ImageSets/Main/trainval.txt']);
    const s = summarise(await store.list());
    expect(s.classes).toEqual(['apple', 'banana']);
    expect(s.boxesPerClass).toEqual({ apple: 3, banana: 2 });
    expect(s.unboxed.map((p) => p.name).sort()).toEqual(['broken', 'json', 'nobox']);
    expect(s.background.map((p) => p.name)).toEqual(['empty']);
  });

  it('refuses to train on a class with one box or a box under 2 px, and leaves photos without boxes out', () => {
    const photo = (name: string, boxes: TrainPhoto['boxes'], noObjects = false): TrainPhoto => ({ id: name, name, fileName: `${name}.jpg`, format: 'jpeg', width: 100, height: 100, size: 1, boxes, noObjects, addedAt: 0 });
    const ok = [photo('a', [{ box: [0, 0, 50, 50], label: 'cat' }]), photo('b', [{ box: [10, 10, 60, 60], label: 'cat' }])];
    expect(checkTrainable(ok, 0).errors).toEqual([]);
    const one = checkTrainable([...ok, photo('c', [{ box: [0, 0, 30, 30], label: 'dog' }])], 0);
    expect(one.errors.map((e) => e.text)).toEqual(['Class “dog” has only 1 box; a class needs at least 2.']);
    const tiny = checkTrainable([...ok, photo('d', [{ box: [0, 0, 1, 30], label: 'cat' }])], 0);
    expect(tiny.errors[0].text).toMatch(/1 box is under 2 px wide or tall: d \(cat\)/);
    const unboxed = checkTrainable([...ok, photo('e', []), photo('f', [], true)], 0);
    expect(unboxed.errors).toEqual([]);
    expect(unboxed.notices[0]).toMatch(/1 photo has no boxes and is left out \(e\)/);
    expect(unboxed.usable.map((p) => p.name)).toEqual(['a', 'b', 'f']);
    expect(checkTrainable([], 0).errors[0].text).toBe('The dataset is empty.');
  });

  it('snaps drawn boxes to whole pixels inside the photo and edits them from the keyboard', () => {
    expect(snapBox([10.4, 20.6, 5.2, 2.1], 100, 50)).toEqual([5, 2, 10, 21]);
    expect(snapBox([-5, -5, 300, 300], 100, 50)).toEqual([0, 0, 100, 50]);
    expect(snapBox([10, 10, 11.2, 40], 100, 50)).toBeNull();
    expect(nudgeBox([10, 10, 20, 20], 5, -30, 'move', 100, 50)).toEqual([15, 0, 25, 10]);
    expect(nudgeBox([10, 10, 20, 20], 200, 0, 'move', 100, 50)).toEqual([90, 10, 100, 20]);
    expect(nudgeBox([10, 10, 20, 20], -50, 100, 'resize', 100, 50)).toEqual([10, 10, 12, 50]);
  });

  it('exports a VOC folder that `rcnn train` reads back with the same boxes, and splits it the same way', async () => {
    const store = new MemoryDatasetStore();
    const inputs = Array.from({ length: 12 }, (_, k) => ({
      file: inputFromBytes(`${k % 3 ? 'apple' : 'pear'}_${k}.jpg`, jpegOf(48 + k, 40, k + 10)),
    }));
    const r = await addPhotos(store, [], inputs, sha256Hex);
    for (const [k, p] of r.added.entries()) {
      p.boxes = [{ box: [k, 2, 30 + k, 33], label: k % 3 ? 'apple' : 'pear & co' }];
      if (k === 4) p.boxes.push({ box: [1, 1, 9.5, 9], label: 'pear & co', difficult: true });
      await store.put(p);
    }
    const photos = await store.list();
    const dir = mkdtempSync(join(tmpdir(), 'rcnn-voc-'));
    try {
      for (const f of await vocFiles(photos, (id) => store.bytes(id))) {
        mkdirSync(dirname(join(dir, f.name)), { recursive: true });
        writeFileSync(join(dir, f.name), f.bytes);
      }
      const ds = readVocDataset(dir);
      expect(ds.report.skipped).toEqual([]);
      expect(ds.classes).toEqual(summarise(photos).classes);
      for (const rec of ds.images) {
        const p = photos.find((x) => x.name === rec.id)!;
        expect(rec.annotation.objects.map((o) => ({ box: o.box, label: o.name, ...(o.difficult ? { difficult: true } : {}) }))).toEqual(p.boxes);
        expect([rec.width, rec.height]).toEqual([p.width, p.height]);
      }
      for (const seed of [1, 7]) {
        const cli = splitVocDataset(ds, { valFraction: 0.25, seed });
        const app = splitPhotos(photos, 0.25, seed);
        expect(app.val).toEqual(cli.val);
        expect(app.train).toEqual(cli.train);
        expect(app.val.length).toBe(3);
      }
      // And the app reads its own export back unchanged.
      const back = new MemoryDatasetStore();
      const files = await vocFiles(photos, (id) => store.bytes(id));
      const again = await importVocFiles(back, [], files.map((f) => inputFromBytes(f.name, f.bytes)), sha256Hex);
      const norm = (ps: TrainPhoto[]) => ps.map((p) => [p.name, p.id, p.boxes]).sort();
      expect(norm(again.added)).toEqual(norm(photos));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
