/**
 * PASCAL VOC annotations, the environment-agnostic half of the dataset reader (the file system
 * half is src/cli/dataset.ts; the app can feed a dropped XML file to the same functions).
 *
 * Coordinates: VOC writes 1-based inclusive pixel indices (xmin..xmax); boxes here are converted
 * once, on parse, to the project's continuous convention with vocToBox ([xmin - 1, ymin - 1,
 * xmax, ymax]), so a box covering the whole W x H image is [0, 0, W, H].
 *
 * Real files are not always right (see the fruit-animals README): <size> may be 0 x 0 or simply
 * wrong, and boxes may stick out of the image or be inverted. parseVocXml records what the XML
 * says and flags a missing size; fitAnnotationToImage then checks the boxes against the size of
 * the *decoded* image and reports every repair it made.
 */
import { type Box, vocToBox } from '../geometry';
import { type GroundTruth } from './groundTruth';
import { type XmlElement, child, childText, children, findFirst, parseXml, XmlParseError } from './xml';

export interface VocObject {
  /** Class name as written (trimmed). */
  name: string;
  /** Continuous-convention box [x1, y1, x2, y2] in original image pixels. */
  box: Box;
  difficult: boolean;
  truncated: boolean;
  pose?: string;
}

export interface VocSize {
  width: number;
  height: number;
  depth: number;
}

export interface VocAnnotation {
  filename: string;
  folder?: string;
  /** What the XML's <size> says (0 when missing or unreadable). */
  size: VocSize;
  /** False when <size> is missing, zero or not a number: take the size from the decoded image. */
  sizeValid: boolean;
  objects: VocObject[];
  /** Non-fatal problems met while reading, each naming the source. */
  warnings: string[];
}

export class VocAnnotationError extends Error {
  /** `detail`: what is wrong, without the file's name (workers send it back to be rebuilt). */
  constructor(readonly source: string, readonly detail: string) {
    super(`${source}: ${detail}`);
    this.name = 'VocAnnotationError';
  }
}

function parseFlag(text: string | undefined): boolean {
  if (text === undefined) return false;
  const t = text.trim().toLowerCase();
  return t === '1' || t === 'true' || t === 'yes';
}

function parseNumber(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return NaN;
  return Number(text.trim());
}

/**
 * Parse one VOC annotation XML string. Throws VocAnnotationError (naming `source`) when the text
 * is not XML or not a VOC annotation; an object without a usable <bndbox> is skipped with a
 * warning rather than failing the whole image.
 */
export function parseVocXml(xml: string, source = 'annotation'): VocAnnotation {
  let root: XmlElement;
  const warnings: string[] = [];
  try {
    const doc = parseXml(xml);
    root = doc.root;
    for (const w of doc.warnings) warnings.push(`${source}: ${w}`);
  } catch (e) {
    if (e instanceof XmlParseError) throw new VocAnnotationError(source, e.refused ? `not read, because it ${e.message}` : `not readable as XML: ${e.message}`);
    throw e;
  }
  const ann = findFirst(root, 'annotation');
  if (!ann) throw new VocAnnotationError(source, `not a PASCAL VOC annotation (root element is <${root.name}>, expected <annotation>)`);

  const filename = childText(ann, 'filename') ?? '';
  if (filename === '') warnings.push(`${source}: no <filename>`);
  const sizeEl = child(ann, 'size');
  const width = sizeEl ? parseNumber(childText(sizeEl, 'width')) : NaN;
  const height = sizeEl ? parseNumber(childText(sizeEl, 'height')) : NaN;
  const depth = sizeEl ? parseNumber(childText(sizeEl, 'depth')) : NaN;
  const sizeValid = Number.isFinite(width) && Number.isFinite(height) && width > 0 && height > 0;
  if (!sizeValid) {
    warnings.push(`${source}: <size> is ${sizeEl ? `${childText(sizeEl, 'width') ?? '?'} x ${childText(sizeEl, 'height') ?? '?'}` : 'missing'}; the decoded image size will be used`);
  }

  const objects: VocObject[] = [];
  children(ann, 'object').forEach((o, k) => {
    const name = childText(o, 'name') ?? '';
    const bb = child(o, 'bndbox');
    const where = `${source}: object ${k + 1}${name ? ` (${name})` : ''}, line ${o.line}`;
    if (name === '') {
      warnings.push(`${where}: no <name>, object skipped`);
      return;
    }
    if (!bb) {
      warnings.push(`${where}: no <bndbox>, object skipped`);
      return;
    }
    const xmin = parseNumber(childText(bb, 'xmin'));
    const ymin = parseNumber(childText(bb, 'ymin'));
    const xmax = parseNumber(childText(bb, 'xmax'));
    const ymax = parseNumber(childText(bb, 'ymax'));
    if (![xmin, ymin, xmax, ymax].every(Number.isFinite)) {
      warnings.push(`${where}: <bndbox> coordinates are not all numbers, object skipped`);
      return;
    }
    const pose = childText(o, 'pose');
    objects.push({
      name,
      box: vocToBox(xmin, ymin, xmax, ymax),
      difficult: parseFlag(childText(o, 'difficult')),
      truncated: parseFlag(childText(o, 'truncated')),
      ...(pose !== undefined && pose !== '' ? { pose } : {}),
    });
  });
  const folder = childText(ann, 'folder');
  return {
    filename,
    ...(folder !== undefined ? { folder } : {}),
    size: {
      width: Number.isFinite(width) ? width : 0,
      height: Number.isFinite(height) ? height : 0,
      depth: Number.isFinite(depth) ? depth : 0,
    },
    sizeValid,
    objects,
    warnings,
  };
}

export type BoxFixKind = 'swapped' | 'clipped' | 'dropped-degenerate';

export interface BoxFix {
  kind: BoxFixKind;
  /** Index of the object in the parsed annotation. */
  objectIndex: number;
  name: string;
  before: Box;
  /** The box kept (absent when dropped). */
  after?: Box;
}

export type SizeCheck =
  | 'ok'
  /** <size> missing or 0 x 0: the decoded size was used. */
  | 'missing'
  /** <size> is the decoded size with width and height exchanged (EXIF rotation, usually). */
  | 'swapped'
  /** <size> differs from the decoded size. */
  | 'mismatch';

export interface FittedAnnotation {
  annotation: VocAnnotation;
  /** The decoded image size now stored in annotation.size. */
  width: number;
  height: number;
  sizeCheck: SizeCheck;
  fixes: BoxFix[];
  /** One line per problem, naming the source. */
  messages: string[];
}

export interface FitOptions {
  /** Boxes narrower or shorter than this (pixels, after clipping) are dropped. Default 1. */
  minSide?: number;
  source?: string;
}

/**
 * Check an annotation against the size of the decoded image (upright, original pixels):
 * record whether <size> agreed, put inverted corners in order, clip boxes to the image, drop
 * boxes that are degenerate after clipping. Returns a new annotation whose size is the decoded
 * one. Boxes are never rescaled: when the XML size disagrees we cannot know which frame the
 * boxes were drawn in, so the disagreement is reported and left to the caller.
 */
export function fitAnnotationToImage(
  ann: VocAnnotation,
  width: number,
  height: number,
  opts: FitOptions = {},
): FittedAnnotation {
  const minSide = opts.minSide ?? 1;
  const source = opts.source ?? (ann.filename || 'annotation');
  const messages: string[] = [];
  let sizeCheck: SizeCheck = 'ok';
  if (!ann.sizeValid) {
    sizeCheck = 'missing'; // parseVocXml has already said so, with the values it found
  } else if (ann.size.width !== width || ann.size.height !== height) {
    sizeCheck = ann.size.width === height && ann.size.height === width ? 'swapped' : 'mismatch';
    messages.push(
      `${source}: <size> says ${ann.size.width} x ${ann.size.height} but the image decodes to ${width} x ${height}` +
        (sizeCheck === 'swapped' ? ' (width and height exchanged: EXIF rotation?)' : '') +
        '; using the decoded size',
    );
  }
  const fixes: BoxFix[] = [];
  const objects: VocObject[] = [];
  ann.objects.forEach((o, k) => {
    const before: Box = [o.box[0], o.box[1], o.box[2], o.box[3]];
    let [x1, y1, x2, y2] = before;
    if (x1 > x2 || y1 > y2) {
      if (x1 > x2) [x1, x2] = [x2, x1];
      if (y1 > y2) [y1, y2] = [y2, y1];
      fixes.push({ kind: 'swapped', objectIndex: k, name: o.name, before, after: [x1, y1, x2, y2] });
      messages.push(`${source}: object ${k + 1} (${o.name}) had inverted corners; put in order`);
    }
    const cx1 = Math.min(Math.max(x1, 0), width);
    const cy1 = Math.min(Math.max(y1, 0), height);
    const cx2 = Math.min(Math.max(x2, 0), width);
    const cy2 = Math.min(Math.max(y2, 0), height);
    if (cx2 - cx1 < minSide || cy2 - cy1 < minSide) {
      fixes.push({ kind: 'dropped-degenerate', objectIndex: k, name: o.name, before });
      messages.push(`${source}: object ${k + 1} (${o.name}) box [${before.join(', ')}] is empty inside the ${width} x ${height} image; dropped`);
      return;
    }
    if (cx1 !== x1 || cy1 !== y1 || cx2 !== x2 || cy2 !== y2) {
      fixes.push({ kind: 'clipped', objectIndex: k, name: o.name, before: [x1, y1, x2, y2], after: [cx1, cy1, cx2, cy2] });
      messages.push(`${source}: object ${k + 1} (${o.name}) box [${[x1, y1, x2, y2].join(', ')}] clipped to the image`);
    }
    objects.push({ ...o, box: [cx1, cy1, cx2, cy2] });
  });
  return {
    annotation: { ...ann, size: { width, height, depth: ann.size.depth }, sizeValid: true, objects },
    width,
    height,
    sizeCheck,
    fixes,
    messages,
  };
}

/** Class names found in annotations, sorted (a stable order for class indices). */
export function collectClassNames(annotations: Iterable<VocAnnotation>): string[] {
  const set = new Set<string>();
  for (const a of annotations) for (const o of a.objects) set.add(o.name);
  return [...set].sort();
}

/** Map from class name to index. Throws on duplicate or empty names. */
export function classIndexMap(classes: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  classes.forEach((c, i) => {
    if (c === '') throw new Error('empty class name in the class list');
    if (m.has(c)) throw new Error(`class "${c}" listed twice`);
    m.set(c, i);
  });
  return m;
}

export interface GroundTruthConversion {
  groundTruth: GroundTruth;
  /** Objects whose class is not in the class list (skipped), by name. */
  unknown: string[];
}

/** Flatten an annotation's objects into GroundTruth arrays, keeping only the listed classes. */
export function annotationToGroundTruth(ann: VocAnnotation, classes: readonly string[] | Map<string, number>): GroundTruthConversion {
  const index = classes instanceof Map ? classes : classIndexMap(classes);
  const kept = ann.objects.filter((o) => index.has(o.name));
  const unknown = ann.objects.filter((o) => !index.has(o.name)).map((o) => o.name);
  const boxes = new Float32Array(4 * kept.length);
  const labels = new Int32Array(kept.length);
  const difficult = new Uint8Array(kept.length);
  kept.forEach((o, i) => {
    boxes.set(o.box, 4 * i);
    labels[i] = index.get(o.name)!;
    difficult[i] = o.difficult ? 1 : 0;
  });
  return { groundTruth: { boxes, labels, difficult }, unknown };
}

export interface ImageSetEntry {
  id: string;
  /** Per-class lists ("<id> <flag>"): 1 present, -1 absent, 0 only difficult. Undefined otherwise. */
  flag?: number;
}

/**
 * Parse an ImageSets/Main list: one image id per line, optionally followed by a flag (per-class
 * lists). Blank lines and '#' comments are skipped; duplicates are reported, kept once.
 */
export function parseImageSet(text: string, source = 'image set'): { entries: ImageSetEntry[]; warnings: string[] } {
  const entries: ImageSetEntry[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r\n|\r|\n/);
  lines.forEach((raw, k) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const parts = line.split(/\s+/);
    const id = parts[0];
    if (seen.has(id)) {
      warnings.push(`${source}: line ${k + 1}: id ${id} listed again, kept once`);
      return;
    }
    seen.add(id);
    const entry: ImageSetEntry = { id };
    if (parts.length > 1) {
      const flag = Number(parts[1]);
      if (Number.isFinite(flag)) entry.flag = flag;
      else warnings.push(`${source}: line ${k + 1}: flag "${parts[1]}" is not a number, ignored`);
    }
    entries.push(entry);
  });
  return { entries, warnings };
}
