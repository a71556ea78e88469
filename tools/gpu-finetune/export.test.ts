/**
 * export.ts hands finetune.py the TypeScript trainer's own windows: run it on the tiny synthetic
 * dataset and check what a GPU run would read back.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { makeDataset } from '../../src/cli/train/testDataset';
import { readVocDataset, splitVocDataset } from '../../src/cli/dataset';
import { exportSyntheticData, type ExportMeta } from './testData';
import { FINE_TUNE_RECIPE } from '../../src/model/finetune/recipe';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('tools/gpu-finetune/export.ts', () => {
  it('writes the split, rasters, labelled windows, validation sample and proposals that finetune.py reads', () => {
    const { voc: data, data: out, meta } = exportSyntheticData('gpu-export-', 9, 50);
    expect(meta.classes).toEqual(['background', 'blue', 'red']);
    expect(meta.trainImages + meta.valImages).toBe(9);
    expect(meta.valImages).toBeGreaterThan(0);
    const read = (f: string) => readFileSync(join(out, f));
    const u16 = (f: string) => { const b = read(f); return new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2); };
    const boxes = u16('train-boxes.u16');
    const image = u16('train-image.u16');
    const label = read('train-label.u8');
    expect(label.length).toBe(meta.trainWindows);
    expect(boxes.length).toBe(4 * meta.trainWindows);
    expect(Math.max(...label)).toBeLessThanOrEqual(2);
    expect(label.filter((l) => l > 0).length).toBe(meta.trainPositives);

    // Every training ground-truth box is a window of its class (VOC 1-based -> 0-based pixels).
    for (let i = 0; i < meta.trainImages; i++) {
      const im = meta.images[i];
      const xml = readFileSync(join(data, 'Annotations', `${im.id}.xml`), 'utf8');
      for (const m of xml.matchAll(/<name>(\w+)<\/name>.*?<xmin>(\d+)<\/xmin><ymin>(\d+)<\/ymin><xmax>(\d+)<\/xmax><ymax>(\d+)<\/ymax>/g)) {
        const gt = [Number(m[2]) - 1, Number(m[3]) - 1, Number(m[4]), Number(m[5])];
        let found = -1;
        for (let w = 0; w < label.length && found < 0; w++)
          if (image[w] === i && gt.every((v, q) => Math.abs(boxes[4 * w + q] / 8 - v) <= 1 / 16)) found = w;
        expect(found, `${im.id} ${m[1]} [${gt}]`).toBeGreaterThanOrEqual(0);
        expect(label[found]).toBe(meta.classes.indexOf(m[1]));
        // The raster is upright and at full size here: the box's centre pixel has its colour.
        const d = jpeg.decode(read(im.file), { useTArray: true, formatAsRGBA: false });
        expect([d.width, d.height]).toEqual([im.width, im.height]);
        const p = 3 * (Math.round((gt[1] + gt[3]) / 2) * d.width + Math.round((gt[0] + gt[2]) / 2));
        if (m[1] === 'red') expect(d.data[p] - d.data[p + 2]).toBeGreaterThan(120);
        else expect(d.data[p + 2] - d.data[p]).toBeGreaterThan(120);
      }
    }

    // Each training image's ground truth (for heads.py) is its first windows, with their labels.
    expect(meta.trainEval.map((e) => e.image)).toEqual(Array.from({ length: meta.trainImages }, (_, i) => i));
    let w0 = 0;
    for (const e of meta.trainEval) {
      expect(e.gtLabels.length).toBeGreaterThan(0);
      e.gtLabels.forEach((l, j) => {
        expect(image[w0 + j]).toBe(e.image);
        expect(label[w0 + j]).toBe(l);
        for (let q = 0; q < 4; q++) expect(Math.abs(boxes[4 * (w0 + j) + q] / 8 - e.gtBoxes[4 * j + q])).toBeLessThanOrEqual(1 / 16);
      });
      while (w0 < image.length && image[w0] === e.image) w0++;
    }
    expect(w0).toBe(meta.trainWindows);

    // The fixed validation sample: positives first, then background, all inside the val windows.
    const vb = read('val-sample.i32');
    const sample = new Int32Array(vb.buffer, vb.byteOffset, vb.byteLength / 4);
    const valLabel = read('val-label.u8');
    const firstBg = sample.findIndex((w) => valLabel[w] === 0);
    expect(firstBg).toBeGreaterThan(0);
    for (let k = 0; k < sample.length; k++) {
      expect(sample[k]).toBeLessThan(meta.valWindows);
      expect(valLabel[sample[k]] > 0).toBe(k < firstBg);
    }
    expect(u16('val-image.u16').every((i) => i >= meta.trainImages && i < 9)).toBe(true);

    // Validation proposals: at most --proposals per image, inside the raster.
    const pb = read('val-proposals.f32');
    const props = new Float32Array(pb.buffer, pb.byteOffset, pb.byteLength / 4);
    let total = 0;
    for (const e of meta.valEval) {
      expect(e.proposalCount).toBeLessThanOrEqual(50);
      expect(e.proposalOffset).toBe(total);
      const { width, height } = meta.images[e.image];
      for (let k = e.proposalOffset; k < e.proposalOffset + e.proposalCount; k++) {
        expect(props[4 * k]).toBeGreaterThanOrEqual(0);
        expect(props[4 * k + 2]).toBeLessThanOrEqual(width);
        expect(props[4 * k + 3]).toBeLessThanOrEqual(height);
      }
      total += e.proposalCount;
    }
    expect(props.length).toBe(4 * total);

    // Stage 1's recipe travels with the data, so finetune.py trains with rcnn train's constants.
    expect(meta.recipe).toEqual(JSON.parse(JSON.stringify(FINE_TUNE_RECIPE)));
  });

  it('adds every --extra photo to the training split and none to validation, which stays the --data split', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'gpu-export-extra-'));
    const data = join(tmp, 'data');
    const extra = join(tmp, 'extra');
    makeDataset(data, 8);
    makeDataset(extra, 3);
    // The extra folder's own ids (augment.py writes aug_*), distinct from the dataset's img_*.
    for (let i = 0; i < 3; i++) {
      renameSync(join(extra, 'JPEGImages', `img_${i}.jpg`), join(extra, 'JPEGImages', `aug_${i}.jpg`));
      renameSync(join(extra, 'Annotations', `img_${i}.xml`), join(extra, 'Annotations', `aug_${i}.xml`));
    }
    writeFileSync(join(extra, 'ImageSets/Main/trainval.txt'), 'aug_0\naug_1\naug_2\n');
    const out = join(tmp, 'out');
    execFileSync('node', ['--import', 'tsx', 'tools/gpu-finetune/export.ts', '--data', data, '--out', out, '--val-fraction', '0.3', '--cache', join(tmp, 'cache'), '--proposals', '20', '--extra', extra], { cwd: ROOT, stdio: 'pipe' });
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as ExportMeta & { extraImages: number };
    // The split export.ts makes without --extra (rcnn train's): seed 1, a 0.3 validation fraction.
    const split = splitVocDataset(readVocDataset(data), { valFraction: 0.3, seed: 1 });
    expect(meta.extraImages).toBe(3);
    expect(meta.trainImages).toBe(split.train.length + 3);
    const ids = meta.images.map((im) => im.id);
    expect(ids.slice(0, split.train.length).sort()).toEqual([...split.train].sort());
    expect(ids.slice(split.train.length, meta.trainImages)).toEqual(['aug_0', 'aug_1', 'aug_2']);
    expect(meta.valEval.map((e) => e.id).sort()).toEqual([...split.val].sort());
    expect(meta.trainEval.map((e) => e.id)).toContain('aug_2');
    const u16 = (f: string) => { const b = readFileSync(join(out, f)); return new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2); };
    const trainImage = u16('train-image.u16');
    for (let i = split.train.length; i < meta.trainImages; i++) expect(trainImage.includes(i), `windows of ${ids[i]}`).toBe(true);
    expect(u16('val-image.u16').every((i) => i >= meta.trainImages)).toBe(true);
  });

  it('appends --probe photos after the validation images, labels matched to the dataset classes by name', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'gpu-export-probe-'));
    const data = join(tmp, 'data');
    const probe = join(tmp, 'probe');
    const out = join(tmp, 'out');
    makeDataset(data, 6);
    makeDataset(probe, 2);
    // The probe folder names only "red": its own class list is ['red'], the dataset's ['blue', 'red'].
    for (const f of ['img_0', 'img_1']) {
      const x = join(probe, 'Annotations', `${f}.xml`);
      writeFileSync(x, readFileSync(x, 'utf8').replaceAll('<name>blue</name>', '<name>red</name>'));
    }
    execFileSync('node', ['--import', 'tsx', 'tools/gpu-finetune/export.ts', '--data', data, '--out', out, '--val-fraction', '0.3', '--cache', join(tmp, 'cache'), '--proposals', '20', '--probe', probe], { cwd: ROOT, stdio: 'pipe' });
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    expect(meta.images.length).toBe(8);
    expect(meta.probeEval.map((e: { image: number }) => e.image)).toEqual([6, 7]);
    const lastVal = meta.valEval[meta.valEval.length - 1];
    expect(meta.probeEval[0].proposalOffset).toBe(lastVal.proposalOffset + lastVal.proposalCount);
    for (const e of meta.probeEval) {
      expect(e.gtLabels.length).toBeGreaterThan(0);
      expect(e.gtLabels.every((l: number) => l === meta.classes.indexOf('red'))).toBe(true);
      expect(e.gtBoxes.length).toBe(4 * e.gtLabels.length);
    }
    const pb = readFileSync(join(out, 'val-proposals.f32'));
    const last = meta.probeEval[1];
    expect(pb.byteLength).toBe(16 * (last.proposalOffset + last.proposalCount));
  });
});
