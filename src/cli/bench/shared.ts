/**
 * What several benchmarks share: where the repository and the dataset are, the Python that runs
 * the OpenCV peers, the PPM files handed to it, and proposal-shaped test boxes.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RgbImage } from '../../core/image/raster';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Debian's python3 has python3-opencv; RCNN_PYTHON points elsewhere (e.g. a venv with opencv-contrib-python). */
export const PYTHON = process.env.RCNN_PYTHON || '/usr/bin/python3';

/** ../shared/datasets/fruit-animals next to the repository (or at its /work path). */
export function defaultDataset(): string {
  const candidates = [resolve(REPO_ROOT, '../shared/datasets/fruit-animals'), '/work/shared/datasets/fruit-animals'];
  return candidates.find((c) => existsSync(join(c, 'ImageSets'))) ?? candidates[0];
}

/** Binary PPM (P6): the simplest format cv2.imread reads, written without any encoder. */
export function writePpm(path: string, img: RgbImage): void {
  const header = Buffer.from(`P6\n${img.width} ${img.height}\n255\n`, 'ascii');
  writeFileSync(path, Buffer.concat([header, Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length)]));
}

/** Boxes shaped like selective-search proposals on a W x H image: many sizes, clustered. */
export function proposalLikeBoxes(n: number, rand: () => number, width = 500, height = 375): Float32Array {
  const b = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const w = 20 + rand() ** 2 * (width - 20);
    const h = 20 + rand() ** 2 * (height - 20);
    const x = rand() * (width - w);
    const y = rand() * (height - h);
    b.set([x, y, x + w, y + h], 4 * i);
  }
  return b;
}
