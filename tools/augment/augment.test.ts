/**
 * tools/augment/augment.py on a tiny synthetic VOC folder of coloured discs: what it writes is a
 * VOC folder the project's own reader loads, every new box is tight around an object of its class,
 * nothing comes from outside the training split, and the same seed writes the same bytes.
 *
 * Needs Python 3 with NumPy, Pillow and OpenCV (Debian: apt-get install python3-numpy python3-pil
 * python3-opencv). PYTHON names the interpreter (tools/gpu-finetune/python.ts).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { readVocDataset } from '../../src/cli/dataset';
import { loadImageFile } from '../../src/cli/io';
import { PYTHON } from '../gpu-finetune/python';

const ROOT = new URL('../../', import.meta.url).pathname;
const COLOURS: Record<string, [number, number, number]> = { red: [220, 40, 30], blue: [30, 50, 220], green: [30, 200, 40] };

/** 200 x 150 PNGs (named .jpg) of discs on a noisy grey background; `classes` per photo. */
function makeDiscs(dir: string, photos: string[][]): string[] {
  for (const d of ['JPEGImages', 'Annotations', 'ImageSets/Main']) mkdirSync(join(dir, d), { recursive: true });
  const W = 200, H = 150;
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
  const ids = photos.map((classes, i) => {
    const id = `disc_${i}`;
    const data = new Uint8Array(W * H * 3);
    for (let p = 0; p < data.length; p++) data[p] = 100 + rnd() * 40;
    const objects = classes.map((name, k) => {
      const r = 22 + Math.floor(rnd() * 12);
      const cx = 40 + k * 100 + Math.floor(rnd() * 20), cy = 40 + Math.floor(rnd() * (H - 80));
      for (let y = cy - r; y < cy + r; y++)
        for (let x = cx - r; x < cx + r; x++) if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) data.set(COLOURS[name], 3 * (y * W + x));
      return `<object><name>${name}</name><difficult>0</difficult><bndbox><xmin>${cx - r + 1}</xmin><ymin>${cy - r + 1}</ymin><xmax>${cx + r}</xmax><ymax>${cy + r}</ymax></bndbox></object>`;
    });
    writeFileSync(join(dir, 'JPEGImages', `${id}.jpg`), encodePng({ width: W, height: H, data, channels: 3 }));
    writeFileSync(join(dir, 'Annotations', `${id}.xml`), `<annotation><size><width>${W}</width><height>${H}</height></size>${objects.join('')}</annotation>`);
    return id;
  });
  writeFileSync(join(dir, 'ImageSets/Main/trainval.txt'), ids.join('\n') + '\n');
  return ids;
}

function augment(args: string[]) {
  return spawnSync(PYTHON, ['tools/augment/augment.py', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
}

function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const sub of ['JPEGImages', 'Annotations', 'ImageSets/Main']) for (const f of readdirSync(join(dir, sub))) out.set(`${sub}/${f}`, readFileSync(join(dir, sub, f)));
  return out;
}

describe('tools/augment/augment.py', () => {
  it('writes class-true, tight boxes from the training split only, and the same bytes for the same seed', () => {
    const probe = spawnSync(PYTHON, ['-c', 'import cv2, numpy, PIL'], { encoding: 'utf8' });
    expect(probe.status, `${PYTHON} cannot import cv2, numpy and PIL: apt-get install python3-opencv python3-numpy python3-pil, or set PYTHON`).toBe(0);
    const tmp = mkdtempSync(join(tmpdir(), 'augment-'));
    const voc = join(tmp, 'voc');
    // Six training photos of red and blue discs; two held-out photos hold the only green ones.
    const ids = makeDiscs(voc, [['red'], ['blue'], ['red', 'blue'], ['blue', 'red'], ['red'], ['blue'], ['green'], ['green', 'red']]);
    const split = join(tmp, 'train.txt');
    const train = ids.slice(0, 6);
    writeFileSync(split, train.join('\n') + '\n');
    const common = ['--data', voc, '--split', split, '--studio', '4', '--scenes', '4', '--jitter', '4', '--seed', '5'];

    const plain = join(tmp, 'plain');
    const r = augment([...common, '--out', plain, '--artefacts', '0']);
    expect(r.status, r.stderr).toBe(0);
    const log = JSON.parse(readFileSync(join(plain, 'augment-log.json'), 'utf8'));
    expect(log.cutOut).toEqual({ blue: 4, red: 4 }); // every training disc, no green one
    const written: string[] = log.photos.map((p: { id: string }) => p.id);
    expect(new Set(log.photos.map((p: { kind: string }) => p.kind))).toEqual(new Set(['studio', 'scene', 'jitter']));
    for (const p of log.photos) for (const src of p.sources) expect(train, `${p.id} made from ${src}`).toContain(src);

    // The project's own VOC reader takes the folder as it is: every photo, no repairs.
    const ds = readVocDataset(plain);
    expect(ds.images.map((im) => im.id).sort()).toEqual([...written].sort());
    expect(ds.report.skipped).toEqual([]);
    expect(ds.classes).toEqual(['blue', 'red']);

    // Each box sits on a disc of its own class and is tight: a disc fills pi/4 of its square box,
    // and more than half of the box must have the class's colour (a box off by a third of its
    // width, or twice too large, fails).
    let boxes = 0;
    for (const im of ds.images) {
      const { image, originalWidth } = loadImageFile(im.imagePath, 4096);
      expect(image.width).toBe(originalWidth); // pixels of the boxes' own scale
      for (const o of im.annotation.objects) {
        const [x1, y1, x2, y2] = o.box;
        expect(x1).toBeGreaterThanOrEqual(0);
        expect(y1).toBeGreaterThanOrEqual(0);
        expect(x2).toBeLessThanOrEqual(image.width);
        expect(y2).toBeLessThanOrEqual(image.height);
        const [cr, , cb] = COLOURS[o.name];
        let hit = 0, n = 0;
        for (let y = Math.floor(y1); y < Math.ceil(y2); y++)
          for (let x = Math.floor(x1); x < Math.ceil(x2); x++) {
            const p = 3 * (y * image.width + x);
            const d = image.data[p] - image.data[p + 2];
            if (cr > cb ? d > 80 : d < -80) hit++;
            n++;
          }
        expect(hit / n, `${im.id} ${o.name} [${o.box.map((v) => v.toFixed(0))}]`).toBeGreaterThan(0.5);
        boxes++;
      }
    }
    expect(boxes).toBeGreaterThan(written.length);

    // Seeded per photo: a smaller count writes the same bytes as the first photos of a larger one;
    // artefacts change the pixels, not the boxes.
    const fewer = join(tmp, 'fewer');
    expect(augment([...common.slice(0, 4), '--studio', '2', '--scenes', '2', '--jitter', '2', '--seed', '5', '--out', fewer, '--artefacts', '0']).status).toBe(0);
    const some = files(fewer);
    const all = files(plain);
    expect(some.size).toBeGreaterThan(6);
    for (const [f, bytes] of some) if (!f.endsWith('trainval.txt')) expect(bytes, f).toEqual(all.get(f));
    const scanned = join(tmp, 'scanned');
    expect(augment([...common, '--out', scanned, '--artefacts', '1']).status).toBe(0);
    expect(readFileSync(join(scanned, 'JPEGImages', `${written[0]}.jpg`))).not.toEqual(readFileSync(join(plain, 'JPEGImages', `${written[0]}.jpg`)));
    expect(readFileSync(join(scanned, 'Annotations', `${written[0]}.xml`), 'utf8')).toBe(readFileSync(join(plain, 'Annotations', `${written[0]}.xml`), 'utf8'));

    // A split naming a photo the folder lacks is refused with the id, and nothing is written.
    writeFileSync(split, 'disc_0\nno_such_photo\n');
    const bad = augment([...common, '--out', join(tmp, 'bad')]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('no_such_photo');
    expect(() => readdirSync(join(tmp, 'bad'))).toThrow();
    execFileSync('rm', ['-rf', tmp]);
  });
});
