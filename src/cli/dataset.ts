/**
 * Node-side PASCAL VOC folder reader:
 *
 *   ROOT/JPEGImages/<id>.jpg        (bytes are sniffed: some ".jpg" files hold PNG data)
 *   ROOT/Annotations/<id>.xml       (parsed by src/core/dataset/voc.ts)
 *   ROOT/ImageSets/Main/<set>.txt   (ids, one per line; default set "trainval")
 *
 * Every image is decoded once with loadImageFile so that the size we trust is the decoded,
 * EXIF-upright size in original pixels (annotation boxes are in original pixels; the working
 * raster loadImageFile also builds is capped at 1600 px and is not kept). Boxes are checked
 * against that size (clip, drop degenerate) and every repair is reported per file.
 *
 * A broken image or annotation never aborts the whole read unless `strict` is set: it is
 * skipped and listed in the report with the file and the reason.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { CliError } from './command';
import { loadImageFile } from './io';
import type { ImageFormat, PreparedImage } from '../core/image/decode';
import type { GroundTruth } from '../core/dataset/groundTruth';
import {
  type BoxFix,
  type SizeCheck,
  type VocAnnotation,
  annotationToGroundTruth,
  classIndexMap,
  collectClassNames,
  fitAnnotationToImage,
  parseImageSet,
  parseVocXml,
  VocAnnotationError,
} from '../core/dataset/voc';
import { type SplitResult, stratifiedSplit } from '../core/dataset/split';

export interface VocImageRecord {
  id: string;
  imagePath: string;
  annotationPath: string;
  /** Decoded, upright size in original pixels (what the boxes refer to). */
  width: number;
  height: number;
  format: ImageFormat;
  /** EXIF orientation applied on decode (1 = none). */
  orientation: number;
  /** The file's extension names another format than its bytes (e.g. PNG data in a .jpg). */
  extensionMismatch: boolean;
  /** Annotation after fitting to the decoded size (boxes clipped, degenerate ones dropped). */
  annotation: VocAnnotation;
  /** The objects of the dataset's classes, flat (class indices into VocDataset.classes). */
  groundTruth: GroundTruth;
  sizeCheck: SizeCheck;
  fixes: BoxFix[];
  /** Everything worth telling about this image, each line naming its file. */
  messages: string[];
}

export interface SkippedImage {
  id: string;
  file: string;
  reason: string;
}

export interface VocDatasetReport {
  listed: number;
  loaded: number;
  skipped: SkippedImage[];
  classes: string[];
  boxesPerClass: Record<string, number>;
  imagesPerClass: Record<string, number>;
  difficultPerClass: Record<string, number>;
  truncatedPerClass: Record<string, number>;
  formats: Record<string, number>;
  /** Ids whose file extension does not match the sniffed format. */
  extensionMismatch: string[];
  /** Ids whose XML size was missing or zero. */
  sizeMissing: string[];
  /** Ids whose XML size is the decoded size transposed. */
  sizeSwapped: string[];
  /** Ids whose XML size disagrees otherwise. */
  sizeMismatch: string[];
  /** Ids decoded with an EXIF rotation/flip. */
  exifOriented: string[];
  boxesClipped: number;
  boxesDropped: number;
  cornersSwapped: number;
  /** Objects whose class is not in the class list, by name. */
  unknownClasses: Record<string, number>;
  /**
   * What parsing an annotation found wrong beyond its <size> (summarised above): an XML element
   * never closed (a truncated file), objects skipped for a missing name or box, ...
   */
  annotationProblems: string[];
  warnings: string[];
}

export interface VocDataset {
  root: string;
  imageSet: string;
  classes: string[];
  images: VocImageRecord[];
  report: VocDatasetReport;
}

export interface ReadVocOptions {
  /** ImageSets/Main/<imageSet>.txt; default "trainval". When absent, all Annotations/*.xml are used (with a warning). */
  imageSet?: string;
  /** Class list (its order fixes the class indices). Default: every class name found, sorted. */
  classes?: readonly string[];
  /** Only these ids (e.g. an evaluation split); the others are not read at all. */
  ids?: ReadonlySet<string>;
  /** Throw at the first broken file instead of skipping it. */
  strict?: boolean;
  /** Boxes narrower or shorter than this after clipping are dropped. Default 1 px. */
  minBoxSide?: number;
  onProgress?: (done: number, total: number) => void;
}

const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.JPG', '.JPEG', '.PNG'];

function extensionFormat(path: string): ImageFormat | null {
  const e = extname(path).toLowerCase();
  if (e === '.jpg' || e === '.jpeg') return 'jpeg';
  if (e === '.png') return 'png';
  return null;
}

function requireDir(path: string, what: string): void {
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new CliError(`${path}: no ${what} folder (expected a PASCAL VOC layout: JPEGImages/, Annotations/, ImageSets/Main/)`);
  }
}

function findImageFile(root: string, id: string, xmlFilename: string): string | null {
  const dir = join(root, 'JPEGImages');
  const candidates = [join(dir, `${id}.jpg`)];
  if (xmlFilename) candidates.push(join(dir, basename(xmlFilename)));
  for (const e of IMAGE_EXTENSIONS) candidates.push(join(dir, id + e));
  for (const c of candidates) if (existsSync(c) && statSync(c).isFile()) return c;
  return null;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Read a VOC folder: every listed image decoded, its annotation parsed and fitted. */
export function readVocDataset(root: string, opts: ReadVocOptions = {}): VocDataset {
  requireDir(root, 'dataset');
  requireDir(join(root, 'Annotations'), 'Annotations');
  requireDir(join(root, 'JPEGImages'), 'JPEGImages');
  const imageSet = opts.imageSet ?? 'trainval';
  const warnings: string[] = [];
  const setPath = join(root, 'ImageSets', 'Main', `${imageSet}.txt`);
  let ids: string[];
  if (existsSync(setPath)) {
    const parsed = parseImageSet(readFileSync(setPath, 'utf8'), setPath);
    warnings.push(...parsed.warnings);
    ids = parsed.entries.map((e) => e.id);
  } else if (opts.imageSet === undefined) {
    ids = readdirSync(join(root, 'Annotations'))
      .filter((f) => f.toLowerCase().endsWith('.xml'))
      .map((f) => f.slice(0, -4))
      .sort();
    warnings.push(`${setPath} not found: using all ${ids.length} annotations in ${join(root, 'Annotations')}`);
  } else {
    throw new CliError(`${setPath}: no such image set`);
  }

  if (opts.ids) {
    const listed = new Set(ids);
    const missing = [...opts.ids].filter((id) => !listed.has(id));
    // Ids of the split that the image set does not list are still read when their files exist.
    ids = [...ids.filter((id) => opts.ids!.has(id)), ...missing.filter((id) => existsSync(join(root, 'Annotations', `${id}.xml`)))];
    if (missing.length) warnings.push(`${missing.length} ids of the split are not in ${imageSet}.txt`);
  }

  // First pass: annotations (cheap), so the class list is known before ground truth is built.
  const parsed: { id: string; annotationPath: string; annotation: VocAnnotation }[] = [];
  const skipped: SkippedImage[] = [];
  const skip = (id: string, file: string, reason: string) => {
    if (opts.strict) throw new CliError(`${file}: ${reason}`);
    skipped.push({ id, file, reason });
  };
  for (const id of ids) {
    const annotationPath = join(root, 'Annotations', `${id}.xml`);
    let xml: string;
    try {
      xml = readFileSync(annotationPath, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      skip(id, annotationPath, code === 'ENOENT' ? 'annotation file missing' : `cannot read: ${errorText(e)}`);
      continue;
    }
    try {
      parsed.push({ id, annotationPath, annotation: parseVocXml(xml, annotationPath) });
    } catch (e) {
      // A VocAnnotationError names the file itself; skip() names it once.
      skip(id, annotationPath, e instanceof VocAnnotationError ? e.detail : errorText(e));
    }
  }
  const classes = opts.classes ? [...opts.classes] : collectClassNames(parsed.map((p) => p.annotation));
  const classIndex = classIndexMap(classes);

  const images: VocImageRecord[] = [];
  const unknownClasses: Record<string, number> = {};
  parsed.forEach((p, k) => {
    opts.onProgress?.(k, parsed.length);
    const imagePath = findImageFile(root, p.id, p.annotation.filename);
    if (!imagePath) {
      skip(p.id, join(root, 'JPEGImages', `${p.id}.jpg`), 'image file missing');
      return;
    }
    let img: PreparedImage;
    try {
      img = loadImageFile(imagePath);
    } catch (e) {
      skip(p.id, imagePath, `image cannot be decoded: ${errorText(e)}`);
      return;
    }
    const fitted = fitAnnotationToImage(p.annotation, img.originalWidth, img.originalHeight, {
      source: p.annotationPath,
      minSide: opts.minBoxSide,
    });
    const { groundTruth, unknown } = annotationToGroundTruth(fitted.annotation, classIndex);
    const messages = [...p.annotation.warnings, ...fitted.messages];
    for (const u of unknown) unknownClasses[u] = (unknownClasses[u] ?? 0) + 1;
    if (unknown.length > 0) messages.push(`${p.annotationPath}: ${unknown.length} object(s) of classes not in the class list skipped (${[...new Set(unknown)].join(', ')})`);
    const extFormat = extensionFormat(imagePath);
    const extensionMismatch = extFormat !== null && extFormat !== img.format;
    if (extensionMismatch) messages.push(`${imagePath}: named ${extname(imagePath)} but holds ${img.format.toUpperCase()} data (decoded by content)`);
    if (img.orientation > 1) messages.push(`${imagePath}: EXIF orientation ${img.orientation} applied; boxes are assumed to be drawn on the upright photo`);
    images.push({
      id: p.id,
      imagePath,
      annotationPath: p.annotationPath,
      width: img.originalWidth,
      height: img.originalHeight,
      format: img.format,
      orientation: img.orientation,
      extensionMismatch,
      annotation: fitted.annotation,
      groundTruth,
      sizeCheck: fitted.sizeCheck,
      fixes: fitted.fixes,
      messages,
    });
  });
  opts.onProgress?.(parsed.length, parsed.length);

  const zero = () => Object.fromEntries(classes.map((c) => [c, 0])) as Record<string, number>;
  const report: VocDatasetReport = {
    listed: ids.length,
    loaded: images.length,
    skipped,
    classes,
    boxesPerClass: zero(),
    imagesPerClass: zero(),
    difficultPerClass: zero(),
    truncatedPerClass: zero(),
    formats: {},
    extensionMismatch: [],
    sizeMissing: [],
    sizeSwapped: [],
    sizeMismatch: [],
    exifOriented: [],
    boxesClipped: 0,
    boxesDropped: 0,
    cornersSwapped: 0,
    unknownClasses,
    annotationProblems: [],
    warnings,
  };
  for (const im of images) {
    report.formats[im.format] = (report.formats[im.format] ?? 0) + 1;
    if (im.extensionMismatch) report.extensionMismatch.push(im.id);
    if (im.sizeCheck === 'missing') report.sizeMissing.push(im.id);
    if (im.sizeCheck === 'swapped') report.sizeSwapped.push(im.id);
    if (im.sizeCheck === 'mismatch') report.sizeMismatch.push(im.id);
    if (im.orientation > 1) report.exifOriented.push(im.id);
    report.annotationProblems.push(...(im.annotation.warnings ?? []).filter((m) => !/: <size> /.test(m) && !/: no <filename>$/.test(m)));
    const present = new Set<string>();
    for (const o of im.annotation.objects) {
      if (!classIndex.has(o.name)) continue;
      report.boxesPerClass[o.name]++;
      if (o.difficult) report.difficultPerClass[o.name]++;
      if (o.truncated) report.truncatedPerClass[o.name]++;
      present.add(o.name);
    }
    for (const c of present) report.imagesPerClass[c]++;
    for (const f of im.fixes) {
      if (f.kind === 'clipped') report.boxesClipped++;
      else if (f.kind === 'dropped-degenerate') report.boxesDropped++;
      else report.cornersSwapped++;
    }
  }
  return { root, imageSet, classes, images, report };
}

/**
 * Decode a dataset image for the pipeline, checking that it still decodes to the size its
 * record was built with (so boxes and pixels cannot silently disagree).
 */
export function loadVocImage(record: VocImageRecord, maxSide?: number): PreparedImage {
  const img = loadImageFile(record.imagePath, maxSide);
  if (img.originalWidth !== record.width || img.originalHeight !== record.height) {
    throw new CliError(
      `${record.imagePath}: decodes to ${img.originalWidth} x ${img.originalHeight}, but the dataset was read at ${record.width} x ${record.height} (file changed?)`,
    );
  }
  return img;
}

/**
 * Deterministic train/val split of a read dataset, stratified by the set of classes in each image
 * (see src/core/dataset/split.ts).
 */
export function splitVocDataset(dataset: VocDataset, opts: { valFraction?: number; seed?: number } = {}): SplitResult {
  return stratifiedSplit(
    dataset.images.map((im) => ({ id: im.id, classes: im.annotation.objects.map((o) => o.name) })),
    opts,
  );
}

/** Human-readable summary of a dataset read (for `rcnn train` / `rcnn eval` logs). */
export function formatVocReport(r: VocDatasetReport, root = ''): string {
  const lines: string[] = [];
  const total = Object.values(r.boxesPerClass).reduce((a, b) => a + b, 0);
  lines.push(`dataset ${root}: ${r.loaded}/${r.listed} images, ${total} boxes, ${r.classes.length} classes`);
  for (const c of r.classes) {
    lines.push(
      `  ${c.padEnd(12)} ${String(r.boxesPerClass[c]).padStart(5)} boxes in ${String(r.imagesPerClass[c]).padStart(4)} images` +
        (r.difficultPerClass[c] ? `, ${r.difficultPerClass[c]} difficult` : '') +
        (r.truncatedPerClass[c] ? `, ${r.truncatedPerClass[c]} truncated` : ''),
    );
  }
  lines.push(`  formats: ${Object.entries(r.formats).map(([f, n]) => `${f} ${n}`).join(', ')}`);
  if (r.extensionMismatch.length) lines.push(`  ${r.extensionMismatch.length} files whose extension does not match their bytes (decoded by content)`);
  if (r.sizeMissing.length) lines.push(`  ${r.sizeMissing.length} annotations with <size> missing or 0 x 0 (decoded size used)`);
  if (r.sizeSwapped.length) lines.push(`  ${r.sizeSwapped.length} annotations with width and height exchanged`);
  if (r.sizeMismatch.length) lines.push(`  ${r.sizeMismatch.length} annotations whose <size> disagrees with the image (decoded size used): ${r.sizeMismatch.slice(0, 5).join(', ')}${r.sizeMismatch.length > 5 ? ', ...' : ''}`);
  if (r.exifOriented.length) lines.push(`  ${r.exifOriented.length} images with an EXIF orientation applied`);
  if (r.boxesClipped || r.boxesDropped || r.cornersSwapped) {
    lines.push(`  boxes: ${r.boxesClipped} clipped to the image, ${r.boxesDropped} dropped as empty, ${r.cornersSwapped} with inverted corners fixed`);
  }
  const unknown = Object.entries(r.unknownClasses);
  if (unknown.length) lines.push(`  objects of unlisted classes skipped: ${unknown.map(([c, n]) => `${c} ${n}`).join(', ')}`);
  const problems = r.annotationProblems;
  if (problems.length) {
    lines.push(`  ${problems.length} problems in annotations (their images are kept, with the boxes that could be read):`);
    for (const p of problems.slice(0, 10)) lines.push(`    ${p}`);
    if (problems.length > 10) lines.push(`    ... and ${problems.length - 10} more`);
  }
  for (const s of r.skipped) lines.push(`  skipped ${s.id}: ${s.file}: ${s.reason}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
