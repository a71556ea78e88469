/**
 * Builds PASCAL VOC datasets for the Train view's tests at run time, from the shared
 * fruit-animals dataset (never committed): a folder `rcnn train --data` reads, and the same
 * photos as a .zip the app imports. The zip is written here with Node's own zlib (an
 * implementation independent of the app's src/core/zip.ts).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';

export const FRUIT_ANIMALS = process.env.RCNN_DATASET ?? join(process.cwd(), '..', '..', 'shared', 'datasets', 'fruit-animals');

/** Where the shared dataset is: ../shared/datasets/fruit-animals from a worktree of /work, or RCNN_DATASET. */
export function datasetRoot(): string {
  for (const c of [FRUIT_ANIMALS, '/work/shared/datasets/fruit-animals', join(process.cwd(), '..', 'shared', 'datasets', 'fruit-animals')]) {
    if (existsSync(join(c, 'Annotations'))) return c;
  }
  throw new Error('the fruit-animals dataset was not found: set RCNN_DATASET to its folder');
}

/** Ids (file stems) of the dataset whose id starts with `prefix`, sorted. */
export function idsWithPrefix(root: string, prefix: string): string[] {
  return readdirSync(join(root, 'Annotations'))
    .filter((f) => f.startsWith(prefix) && f.endsWith('.xml'))
    .map((f) => f.slice(0, -4))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** A VOC folder holding `ids` (JPEGImages, Annotations, ImageSets/Main/trainval.txt). */
export function writeVocFolder(root: string, ids: readonly string[], out: string): void {
  for (const d of ['JPEGImages', 'Annotations', 'ImageSets/Main']) mkdirSync(join(out, d), { recursive: true });
  for (const id of ids) {
    copyFileSync(join(root, 'JPEGImages', `${id}.jpg`), join(out, 'JPEGImages', `${id}.jpg`));
    copyFileSync(join(root, 'Annotations', `${id}.xml`), join(out, 'Annotations', `${id}.xml`));
  }
  writeFileSync(join(out, 'ImageSets', 'Main', 'trainval.txt'), ids.join('\n') + '\n');
}

/** A zip of files (name -> bytes): XML deflated, photos stored, as zip tools do. */
export function zipFiles(files: Array<{ name: string; bytes: Uint8Array }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const deflate = f.name.endsWith('.xml');
    const data = deflate ? deflateRawSync(f.bytes) : Buffer.from(f.bytes);
    const crc = crc32(f.bytes);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(f.bytes.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(f.bytes.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += 30 + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** The VOC files of `ids` from the dataset, under a top folder (as a zipped folder has). */
export function vocZipOf(root: string, ids: readonly string[], top = 'my-dataset'): Buffer {
  const files: Array<{ name: string; bytes: Uint8Array }> = [];
  for (const id of ids) {
    files.push({ name: `${top}/JPEGImages/${id}.jpg`, bytes: readFileSync(join(root, 'JPEGImages', `${id}.jpg`)) });
    files.push({ name: `${top}/Annotations/${id}.xml`, bytes: readFileSync(join(root, 'Annotations', `${id}.xml`)) });
  }
  files.push({ name: `${top}/ImageSets/Main/trainval.txt`, bytes: Buffer.from(ids.join('\n') + '\n') });
  return zipFiles(files);
}
