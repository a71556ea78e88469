/**
 * A tiny synthetic VOC dataset for the training tests: noisy 160 x 120 PNGs (named .jpg, with a
 * 0 x 0 size in the XML, as in the real dataset) holding a red and/or a blue rectangle.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';

/** Noisy background with one red and/or one blue rectangle; returns the PNG and its boxes. */
function makeImage(seed: number): { png: Uint8Array; objects: Array<{ name: string; box: number[] }> } {
  const W = 160, H = 120;
  let s = seed * 7919 + 1;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
  const data = new Uint8Array(W * H * 3);
  for (let i = 0; i < data.length; i++) data[i] = 90 + rnd() * 60;
  const objects: Array<{ name: string; box: number[] }> = [];
  const put = (name: string, rgb: number[]) => {
    const w = 40 + Math.floor(rnd() * 30), h = 35 + Math.floor(rnd() * 25);
    const x = Math.floor(rnd() * (W - w)), y = Math.floor(rnd() * (H - h));
    for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) data.set(rgb, 3 * (yy * W + xx));
    objects.push({ name, box: [x + 1, y + 1, x + w, y + h] }); // VOC 1-based inclusive
  };
  if (seed % 3 !== 1) put('red', [220, 30, 30]);
  if (seed % 3 !== 0) put('blue', [30, 40, 220]);
  return { png: encodePng({ width: W, height: H, data, channels: 3 }), objects };
}

/** `n` images named `${prefix}_0` ...; `firstSeed` makes a different set of pictures. */
export function makeDataset(dir: string, n: number, { prefix = 'img', firstSeed = 0 } = {}): void {
  for (const d of ['JPEGImages', 'Annotations', 'ImageSets/Main']) mkdirSync(join(dir, d), { recursive: true });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}_${i}`;
    ids.push(id);
    const { png, objects } = makeImage(firstSeed + i);
    // PNG bytes under a .jpg name, and a 0 x 0 size, as in the real dataset.
    writeFileSync(join(dir, 'JPEGImages', `${id}.jpg`), png);
    writeFileSync(
      join(dir, 'Annotations', `${id}.xml`),
      `<annotation><filename>${id}.jpg</filename><size><width>0</width><height>0</height><depth>3</depth></size>${objects
        .map((o) => `<object><name>${o.name}</name><difficult>0</difficult><bndbox><xmin>${o.box[0]}</xmin><ymin>${o.box[1]}</ymin><xmax>${o.box[2]}</xmax><ymax>${o.box[3]}</ymax></bndbox></object>`)
        .join('')}</annotation>`,
    );
  }
  writeFileSync(join(dir, 'ImageSets/Main/trainval.txt'), ids.join('\n') + '\n');
}

