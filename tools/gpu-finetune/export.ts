/**
 * Exports what stage 1 of `rcnn train` (fine-tuning) samples from, so that tools/gpu-finetune/
 * finetune.py can run the same recipe on a CUDA GPU:
 *   - the same seed-S split (splitVocDataset) and the same rasters the CNN workers warp from
 *     (loadDatasetImages: EXIF-upright, at most 800 px), re-encoded as JPEG;
 *   - the same windows with the same labels (buildWindows: ground truth + proposals, IoU >= 0.5
 *     positive of the best-overlapping class, else background);
 *   - the same fixed validation sample (256 positive + 768 background windows, seed + 99);
 *   - stage 1's recipe (src/model/finetune/recipe.ts: batch, SGD, learning-rate schedule, warp
 *     padding, augmentation ranges) as meta.recipe, which finetune.py trains with;
 *   - for each validation image its first N proposals and its ground truth, for a softmax mAP;
 *   - each training image's ground truth (meta.trainEval; its proposals are its windows after the
 *     ground truth), for heads.py (the SVMs and box regressors of docs/algorithm.md sections 5-6
 *     on a GPU);
 *   - optionally (--probe DIR, a VOC folder) out-of-domain photos with their proposals and boxes,
 *     which finetune.py only reports on (never trains or selects on by itself);
 *   - optionally (--extra DIR, a VOC folder such as tools/augment/augment.py writes from the
 *     training split) more training photos: all of them join the training split, none the
 *     validation split, which stays the seed-S split of --data.
 * Usage: tsx tools/gpu-finetune/export.ts --data DIR --out DIR [--seed 1] [--val-fraction 0.15]
 *        [--quality 90] [--proposals 2000] [--cache .cache/rcnn] [--probe DIR] [--extra DIR] [--threads 2]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import jpeg from 'jpeg-js';
import { readVocDataset, splitVocDataset } from '../../src/cli/dataset';
import { loadDatasetImages, toRaster, type DatasetImage } from '../../src/cli/train/data';
import { buildWindows, validationSample } from '../../src/cli/train/finetune';
import { FINE_TUNE_RECIPE } from '../../src/model/finetune/recipe';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'val-fraction': { type: 'string', default: '0.15' },
    quality: { type: 'string', default: '90' },
    proposals: { type: 'string', default: '2000' },
    cache: { type: 'string', default: '.cache/rcnn' },
    probe: { type: 'string' },
    extra: { type: 'string' },
    // Selective-search workers for photos without cached proposals (1: in this thread).
    threads: { type: 'string', default: '2' },
  },
});
if (!values.data || !values.out) throw new Error('--data and --out are required');
const seed = Number(values.seed);
const out = resolve(values.out);
mkdirSync(join(out, 'images'), { recursive: true });

const dataset = readVocDataset(resolve(values.data));
const classes = dataset.classes;
const split = splitVocDataset(dataset, { valFraction: Number(values['val-fraction']), seed });
const load = (ids: string[], from = dataset) =>
  loadDatasetImages(from.images.filter((r) => ids.includes(r.id)), { cacheDir: resolve(values.cache!), threads: Number(values.threads) });
// Same order as rcnn train: the dataset's order within each split; --extra's photos after the training split's.
const extraSet = values.extra ? readVocDataset(resolve(values.extra), { classes }) : null;
const train = [...(await load(split.train)), ...(extraSet ? await load(extraSet.images.map((r) => r.id), extraSet) : [])];
const val = await load(split.val);
// Probe photos: their own VOC folder, classes matched to the dataset's by name.
const probeSet = values.probe ? readVocDataset(resolve(values.probe)) : null;
const probe = probeSet ? await load(probeSet.images.map((r) => r.id), probeSet) : [];
const all: DatasetImage[] = [...train, ...val, ...probe];

const quality = Number(values.quality);
let jpegBytes = 0;
const images = all.map((im, i) => {
  const { width, height, data } = im.raster;
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba[4 * p] = data[3 * p];
    rgba[4 * p + 1] = data[3 * p + 1];
    rgba[4 * p + 2] = data[3 * p + 2];
    rgba[4 * p + 3] = 255;
  }
  const file = `images/${String(i).padStart(5, '0')}.jpg`;
  const enc = jpeg.encode({ width, height, data: rgba }, quality).data;
  jpegBytes += enc.length;
  writeFileSync(join(out, file), enc);
  return { id: im.id, file, width, height };
});

const C = classes.length;
const trainWin = buildWindows(train, C);
const valWin = buildWindows(val, C);
// Boxes in raster pixels as uint16 eighths of a pixel (rasters are at most 800 px): 11 bytes a window.
function packWindowFile(w: ReturnType<typeof buildWindows>, imageOffset: number, name: string) {
  const boxes = new Uint16Array(w.count * 4);
  for (let k = 0; k < boxes.length; k++) {
    const v = Math.round(w.boxes[k] * 8);
    if (v < 0 || v > 65535) throw new Error(`box coordinate ${w.boxes[k]} out of range`);
    boxes[k] = v;
  }
  const image = Uint16Array.from(w.image, (i) => i + imageOffset);
  const label = Uint8Array.from(w.label);
  writeFileSync(join(out, `${name}-boxes.u16`), boxes);
  writeFileSync(join(out, `${name}-image.u16`), image);
  writeFileSync(join(out, `${name}-label.u8`), label);
}
packWindowFile(trainWin, 0, 'train');
packWindowFile(valWin, train.length, 'val');

// finetune.ts's fixed validation sample (indices into the val windows).
writeFileSync(join(out, 'val-sample.i32'), validationSample(valWin, seed));

// Validation (and probe) images for a softmax mAP: first N proposals and the ground truth, in raster pixels.
const N = Number(values.proposals);
/** An image's ground truth in raster pixels, labels 1..C in the dataset's classes (`names`: the image's own class list). */
function groundTruthEntry(im: DatasetImage, image: number, names: readonly string[]) {
  return {
    id: im.id,
    image,
    gtBoxes: Array.from(toRaster(im, im.gt.boxes)),
    gtLabels: Array.from(im.gt.labels, (l) => {
      const c = classes.indexOf(names[l]);
      if (c < 0) throw new Error(`${im.id}: class ${names[l]} is not one of the dataset's (${classes.join(', ')})`);
      return c + 1;
    }),
    gtDifficult: Array.from(im.gt.difficult),
  };
}

/** One proposals file for several lists of images (offsets continue across the lists). */
function evalEntries(groups: Array<{ ims: DatasetImage[]; firstImage: number; names: readonly string[] }>, file: string) {
  const chunks: Float32Array[] = [];
  let offset = 0;
  const entries = groups.map(({ ims, firstImage, names }) =>
    ims.map((im, i) => {
      const p = toRaster(im, im.proposals.subarray(0, 4 * Math.min(N, im.proposals.length / 4)));
      chunks.push(p);
      const entry = { ...groundTruthEntry(im, firstImage + i, names), proposalOffset: offset, proposalCount: p.length / 4 };
      offset += p.length / 4;
      return entry;
    }),
  );
  const props = new Float32Array(offset * 4);
  let o = 0;
  for (const c of chunks) {
    props.set(c, o);
    o += c.length;
  }
  writeFileSync(join(out, file), props);
  return { entries, proposals: offset };
}
const valAndProbe = evalEntries(
  [
    { ims: val, firstImage: train.length, names: classes },
    { ims: probe, firstImage: train.length + val.length, names: probeSet?.classes ?? [] },
  ],
  'val-proposals.f32',
);
const [valImages, probeImages] = valAndProbe.entries;
// Training images' ground truth in raster pixels (class 1..C), for heads.py; buildWindows put each
// image's ground truth first among its windows, then all its proposals.
const trainEval = train.map((im, i) => groundTruthEntry(im, i, classes));

writeFileSync(
  join(out, 'meta.json'),
  JSON.stringify(
    {
      createdBy: 'tools/gpu-finetune/export.ts',
      // Stage 1's constants as rcnn train uses them (src/model/finetune/recipe.ts): finetune.py and
      // heads.py read them from here instead of keeping their own copies.
      recipe: FINE_TUNE_RECIPE,
      data: values.data,
      seed,
      valFraction: Number(values['val-fraction']),
      classes: ['background', ...classes],
      trainImages: train.length,
      extra: values.extra ?? null,
      extraImages: extraSet ? extraSet.images.length : 0,
      valImages: val.length,
      trainWindows: trainWin.count,
      trainPositives: trainWin.fg.length,
      valWindows: valWin.count,
      images,
      valEval: valImages,
      probeEval: probeImages,
      trainEval,
    },
    null,
    0,
  ),
);
console.log(
  `${all.length} images (${(jpegBytes / 1e6).toFixed(1)} MB of JPEG at quality ${quality}); windows: ${trainWin.count} train (${trainWin.fg.length} positive), ${valWin.count} val; ${valAndProbe.proposals} val + probe proposals, ${probe.length} probe images -> ${out}`,
);
