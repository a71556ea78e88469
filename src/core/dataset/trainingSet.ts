/**
 * The user's own detection dataset (the Train view): photos kept as their original bytes, with
 * boxes and class names, behind a small storage interface (IndexedDB in the app, a Map in tests),
 * imported from and exported to the PASCAL VOC layout that `rcnn train --data` reads.
 *
 * Photos are identified by a hash of their bytes (the same photo added twice is one photo) and
 * named by their file's stem (the VOC image id, which the seeded train/held-out split is keyed
 * on, so the app and `rcnn train` split the same photos the same way). Sizes are the upright
 * size in the photo's own pixels, read from the file's header (EXIF orientation applied), as the
 * decoder will produce it; boxes are [x1, y1, x2, y2] continuous pixels of that upright photo.
 *
 * Everything refused says what is wrong and what to do, and refusing one file never drops the
 * others: adding photos returns a report of what went in, what was already there and what was
 * refused and why.
 */
import { checkPixelLimit, headerDimensions, ImageInputError, jpegDimensions, pngDimensions, pngExifChunk, sniffFormat, unsupported, type ImageFormat } from '../image/decode';
import { orientationSwapsAxes, readJpegOrientation, readTiffOrientation } from '../image/exif';
import { fitAnnotationToImage, parseVocXml, type VocAnnotation } from './voc';
import { stratifiedSplit, type SplitResult } from './split';

/**
 * Smallest box side kept (photo pixels): a 0 or 1 px box has no pixels to learn from (its 227 x
 * 227 warp would be one pixel stretched), and a drag that long is a click, not a box.
 */
export const MIN_BOX_SIDE = 2;
/** Fewest boxes of a class before it can be trained: one to learn from and one to hold out. */
export const MIN_BOXES_PER_CLASS = 2;

export type Box4 = [number, number, number, number];

export interface TrainBox {
  box: Box4;
  label: string;
  /** PASCAL "difficult": a positive in training, neither right nor wrong in evaluation. */
  difficult?: boolean;
}

export interface TrainPhoto {
  /** Content hash of the bytes (hex). */
  id: string;
  /** VOC image id: the file's stem, unique in the dataset. */
  name: string;
  /** The file name it came with (path inside a zip or folder). */
  fileName: string;
  format: ImageFormat;
  /** Upright size in the photo's own pixels. */
  width: number;
  height: number;
  /** File size in bytes. */
  size: number;
  boxes: TrainBox[];
  /** The user said this photo shows none of the classes: a source of negatives only. */
  noObjects?: boolean;
  addedAt: number;
}

/** Where the dataset lives. Every method stores copies: callers may keep mutating what they passed. */
export interface DatasetStore {
  list(): Promise<TrainPhoto[]>;
  /** The photo's original file bytes, or null when unknown. */
  bytes(id: string): Promise<Uint8Array | null>;
  /** Inserts or replaces a photo; `bytes` is required for a photo not stored yet. */
  put(photo: TrainPhoto, bytes?: Uint8Array): Promise<void>;
  delete(id: string): Promise<void>;
  clear(): Promise<void>;
  getMeta<T>(key: string): Promise<T | undefined>;
  setMeta(key: string, value: unknown): Promise<void>;
}

/** A Map-backed DatasetStore (tests, and a fallback where IndexedDB is unavailable). */
export class MemoryDatasetStore implements DatasetStore {
  private photos = new Map<string, TrainPhoto>();
  private files = new Map<string, Uint8Array>();
  private meta = new Map<string, unknown>();
  async list(): Promise<TrainPhoto[]> {
    return [...this.photos.values()].map((p) => structuredClone(p));
  }
  async bytes(id: string): Promise<Uint8Array | null> {
    const b = this.files.get(id);
    return b ? b.slice() : null;
  }
  async put(photo: TrainPhoto, bytes?: Uint8Array): Promise<void> {
    if (!bytes && !this.files.has(photo.id)) throw new Error(`photo ${photo.id} has no bytes stored`);
    if (bytes) this.files.set(photo.id, bytes.slice());
    this.photos.set(photo.id, structuredClone(photo));
  }
  async delete(id: string): Promise<void> {
    this.photos.delete(id);
    this.files.delete(id);
  }
  async clear(): Promise<void> {
    this.photos.clear();
    this.files.clear();
  }
  async getMeta<T>(key: string): Promise<T | undefined> {
    return structuredClone(this.meta.get(key)) as T | undefined;
  }
  async setMeta(key: string, value: unknown): Promise<void> {
    this.meta.set(key, structuredClone(value));
  }
}

/** A file to add: a picked or dropped File, a folder's file, or a zip entry, read when needed. */
export interface InputFile {
  /** Path as given (a folder's relative path, a zip entry's name) or just the file name. */
  name: string;
  size: number;
  read(): Promise<Uint8Array>;
}

export function inputFromBytes(name: string, bytes: Uint8Array): InputFile {
  return { name, size: bytes.length, read: async () => bytes };
}

export type Hash = (bytes: Uint8Array) => Promise<string>;

export interface Refusal {
  file: string;
  reason: string;
  hint: string;
}

export interface AddReport {
  added: TrainPhoto[];
  /** Files whose photo is already in the dataset (by content), with the name it has there. */
  duplicates: Array<{ file: string; as: string }>;
  refused: Refusal[];
  /** Repairs and notes (a box clipped to the photo, an annotation without its photo, ...). */
  notes: string[];
  /** Files that are neither photos nor annotations, skipped (e.g. ImageSets lists, README). */
  ignored: string[];
}

const PHOTO_FORMATS: ReadonlySet<ImageFormat> = new Set(['jpeg', 'png', 'webp', 'gif', 'bmp']);
const PHOTO_EXT = /\.(jpe?g|png|webp|gif|bmp)$/i;

function baseName(path: string): string {
  return path.split('/').pop() ?? path;
}

function stem(path: string): string {
  return baseName(path).replace(/\.[^.]*$/, '');
}

/** Metadata litter of archivers and file managers, never data. */
function isJunk(path: string): boolean {
  const b = baseName(path);
  return path.split('/').includes('__MACOSX') || b.startsWith('._') || b === '.DS_Store' || b === 'Thumbs.db' || b === 'desktop.ini';
}

/**
 * Format and upright size of a photo from its header, with the app's decode limits (at most
 * 150 MP). Throws an ImageInputError (message and hint) for anything the app cannot decode.
 */
export function photoHeader(bytes: Uint8Array, name: string): { format: ImageFormat; width: number; height: number } {
  if (bytes.length === 0) throw new ImageInputError(`${name} is empty (0 bytes).`, 'Add the photo again; the file may not have been saved or copied completely.');
  const format = sniffFormat(bytes);
  if (!PHOTO_FORMATS.has(format)) throw unsupported(name, format);
  checkPixelLimit(bytes, format, name);
  let d: { width: number; height: number } | null;
  let orientation = 1;
  if (format === 'jpeg') {
    d = jpegDimensions(bytes);
    orientation = readJpegOrientation(bytes);
  } else if (format === 'png') {
    d = pngDimensions(bytes);
    const exif = pngExifChunk(bytes);
    if (exif) orientation = readTiffOrientation(exif);
  } else {
    d = headerDimensions(bytes, format);
  }
  if (!d || !(d.width > 0 && d.height > 0)) {
    throw new ImageInputError(`${name} looks like a ${format.toUpperCase()} image but its header gives no size: it is probably truncated or damaged.`, 'Re-export or re-download the photo and add it again.');
  }
  return orientationSwapsAxes(orientation) ? { format, width: d.height, height: d.width } : { format, width: d.width, height: d.height };
}

/** Rounds a box to whole pixels of the photo and clamps it inside; null when it ends up under MIN_BOX_SIDE. */
export function snapBox(b: ArrayLike<number>, width: number, height: number): Box4 | null {
  const x1 = Math.max(0, Math.min(width, Math.round(Math.min(b[0], b[2]))));
  const y1 = Math.max(0, Math.min(height, Math.round(Math.min(b[1], b[3]))));
  const x2 = Math.max(0, Math.min(width, Math.round(Math.max(b[0], b[2]))));
  const y2 = Math.max(0, Math.min(height, Math.round(Math.max(b[1], b[3]))));
  return x2 - x1 >= MIN_BOX_SIDE && y2 - y1 >= MIN_BOX_SIDE ? [x1, y1, x2, y2] : null;
}

/**
 * Keyboard editing of a box: `move` shifts it by (dx, dy) inside the photo; `resize` moves its
 * right and bottom edges, never below MIN_BOX_SIDE or outside the photo.
 */
export function nudgeBox(b: Box4, dx: number, dy: number, mode: 'move' | 'resize', width: number, height: number): Box4 {
  if (mode === 'move') {
    const mx = Math.max(-b[0], Math.min(width - b[2], dx));
    const my = Math.max(-b[1], Math.min(height - b[3], dy));
    return [b[0] + mx, b[1] + my, b[2] + mx, b[3] + my];
  }
  return [b[0], b[1], Math.max(b[0] + MIN_BOX_SIDE, Math.min(width, b[2] + dx)), Math.max(b[1] + MIN_BOX_SIDE, Math.min(height, b[3] + dy))];
}

/** A class name as typed: trimmed, inner whitespace collapsed; empty is refused by the caller. */
export function cleanClassName(s: string): string {
  return s.trim().replace(/\s+/g, ' ');
}

/** Names already used, for making a new photo's VOC id unique. */
function uniqueName(wanted: string, taken: Set<string>): string {
  const base = wanted.replace(/[^\w.\- ]+/g, '_').trim() || 'photo';
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
  taken.add(name);
  return name;
}

export interface AddInput {
  file: InputFile;
  /** Boxes that came with the photo (from a VOC annotation), fitted to it. */
  annotation?: { xml: VocAnnotation; source: string; hasObjects: boolean };
}

/**
 * Adds photos to the store (and to `existing`, the caller's current list, for duplicate and name
 * checks). One at a time, so a folder of 2,000 photos is never in memory at once.
 */
export async function addPhotos(store: DatasetStore, existing: readonly TrainPhoto[], inputs: readonly AddInput[], hash: Hash, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<AddReport> {
  const report: AddReport = { added: [], duplicates: [], refused: [], notes: [], ignored: [] };
  const byId = new Map(existing.map((p) => [p.id, p]));
  const names = new Set(existing.map((p) => p.name));
  let done = 0;
  for (const { file, annotation } of inputs) {
    if (signal?.aborted) {
      // What went in stays in; the rest is named so the user knows what to add again.
      report.notes.push(`Stopped: ${inputs.length - done} file${inputs.length - done === 1 ? '' : 's'} not added (${inputs.slice(done, done + 3).map((x) => x.file.name).join(', ')}${inputs.length - done > 3 ? ', …' : ''})`);
      break;
    }
    onProgress?.(done++, inputs.length);
    let bytes: Uint8Array;
    try {
      bytes = await file.read();
    } catch (e) {
      report.refused.push({ file: file.name, reason: `${file.name} could not be read (${(e as Error).message}).`, hint: 'Check the file is readable and add it again.' });
      continue;
    }
    let head: ReturnType<typeof photoHeader>;
    try {
      head = photoHeader(bytes, baseName(file.name));
    } catch (e) {
      const err = e as Error & { hint?: string };
      report.refused.push({ file: file.name, reason: err.message, hint: err.hint ?? 'Use a JPEG or PNG photo.' });
      continue;
    }
    const id = await hash(bytes);
    const dup = byId.get(id);
    if (dup) {
      report.duplicates.push({ file: file.name, as: dup.name });
      continue;
    }
    const boxes: TrainBox[] = [];
    let noObjects = false;
    if (annotation) {
      const fitted = fitAnnotationToImage(annotation.xml, head.width, head.height, { source: annotation.source, minSide: MIN_BOX_SIDE });
      report.notes.push(...annotation.xml.warnings, ...fitted.messages);
      for (const o of fitted.annotation.objects) boxes.push({ box: [o.box[0], o.box[1], o.box[2], o.box[3]], label: cleanClassName(o.name), ...(o.difficult ? { difficult: true } : {}) });
      // An annotation without a single <object> says the photo holds none (a photo of
      // background); one whose objects were all unreadable or dropped does not.
      noObjects = !annotation.hasObjects;
    }
    const photo: TrainPhoto = {
      id,
      name: uniqueName(stem(file.name), names),
      fileName: file.name,
      format: head.format,
      width: head.width,
      height: head.height,
      size: bytes.length,
      boxes,
      ...(noObjects ? { noObjects } : {}),
      addedAt: Date.now(),
    };
    await store.put(photo, bytes);
    byId.set(id, photo);
    report.added.push(photo);
  }
  onProgress?.(inputs.length, inputs.length);
  return report;
}

/**
 * A VOC dataset given as files (a zip's entries or a folder's files): JPEGImages/*.jpg with
 * Annotations/*.xml, or photos and XML files side by side. An annotation goes with the photo its
 * <filename> names, else with the photo of the same stem; a photo without one comes without boxes.
 */
export async function importVocFiles(store: DatasetStore, existing: readonly TrainPhoto[], files: readonly InputFile[], hash: Hash, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<AddReport> {
  const photos: InputFile[] = [];
  const xmls: InputFile[] = [];
  const ignored: string[] = [];
  for (const f of files) {
    if (isJunk(f.name)) continue;
    if (/\.xml$/i.test(f.name)) xmls.push(f);
    else if (PHOTO_EXT.test(f.name)) photos.push(f);
    else ignored.push(f.name);
  }
  const notes: string[] = [];
  const refusedXml: Refusal[] = [];
  const annotations = new Map<InputFile, { xml: VocAnnotation; source: string; hasObjects: boolean }>();
  const byBase = new Map<string, InputFile[]>();
  const byStem = new Map<string, InputFile[]>();
  for (const p of photos) {
    const add = (m: Map<string, InputFile[]>, k: string) => m.set(k, [...(m.get(k) ?? []), p]);
    add(byBase, baseName(p.name).toLowerCase());
    add(byStem, stem(p.name).toLowerCase());
  }
  for (const x of xmls) {
    let ann: VocAnnotation;
    let text = '';
    try {
      text = new TextDecoder().decode(await x.read());
      ann = parseVocXml(text, x.name);
    } catch (e) {
      refusedXml.push({ file: x.name, reason: `${(e as Error).message}; its photo is added without boxes.`, hint: 'Fix or re-export the annotation, then draw or import its boxes again.' });
      continue;
    }
    const candidates = (ann.filename && byBase.get(baseName(ann.filename).toLowerCase())) || byStem.get(stem(x.name).toLowerCase()) || [];
    const free = candidates.filter((c) => !annotations.has(c));
    // Several photos of one name (two folders): the one in the annotation's sibling folder, else the first.
    const dir = x.name.split('/').slice(0, -2).join('/');
    const photo = free.find((c) => c.name.split('/').slice(0, -2).join('/') === dir) ?? free[0];
    if (!photo) {
      notes.push(`${x.name}: no photo ${ann.filename || stem(x.name) + '.jpg'} came with it, so its ${ann.objects.length} box${ann.objects.length === 1 ? '' : 'es'} were not added`);
      continue;
    }
    annotations.set(photo, { xml: ann, source: x.name, hasObjects: /<object[\s>/]/i.test(text) });
  }
  const report = await addPhotos(store, existing, photos.map((file) => ({ file, annotation: annotations.get(file) })), hash, onProgress, signal);
  report.refused.unshift(...refusedXml);
  report.notes.unshift(...notes);
  report.ignored.push(...ignored);
  return report;
}

export interface DatasetSummary {
  /** Class names, sorted (the class order of training, as `rcnn train` sorts them). */
  classes: string[];
  boxesPerClass: Record<string, number>;
  photosPerClass: Record<string, number>;
  /** Photos with no box that the user has not marked as holding none of the classes. */
  unboxed: TrainPhoto[];
  /** Photos marked as holding none of the classes. */
  background: TrainPhoto[];
  boxes: number;
}

export function summarise(photos: readonly TrainPhoto[]): DatasetSummary {
  const boxesPerClass: Record<string, number> = {};
  const photosPerClass: Record<string, number> = {};
  let boxes = 0;
  for (const p of photos) {
    for (const b of p.boxes) boxesPerClass[b.label] = (boxesPerClass[b.label] ?? 0) + 1;
    for (const l of new Set(p.boxes.map((b) => b.label))) photosPerClass[l] = (photosPerClass[l] ?? 0) + 1;
    boxes += p.boxes.length;
  }
  return {
    classes: Object.keys(boxesPerClass).sort(),
    boxesPerClass,
    photosPerClass,
    unboxed: photos.filter((p) => p.boxes.length === 0 && !p.noObjects),
    background: photos.filter((p) => p.boxes.length === 0 && p.noObjects),
    boxes,
  };
}

export interface TrainabilityCheck {
  /** What stops training, each with what to do. */
  errors: Array<{ text: string; hint: string }>;
  /** What training will do about the rest (photos left out). */
  notices: string[];
  /** The photos training uses: with boxes, or marked as holding none of the classes. */
  usable: TrainPhoto[];
  classes: string[];
}

/** Whether the dataset can be trained on, and on which photos. */
export function checkTrainable(photos: readonly TrainPhoto[], heldOutFraction: number): TrainabilityCheck {
  const s = summarise(photos);
  const errors: TrainabilityCheck['errors'] = [];
  const notices: string[] = [];
  if (photos.length === 0) errors.push({ text: 'The dataset is empty.', hint: 'Add photos (or a VOC .zip) and draw boxes around the objects.' });
  else if (s.classes.length === 0) errors.push({ text: 'No photo has a box yet.', hint: 'Draw a box around each object and give it a class name.' });
  for (const c of s.classes) {
    if (s.boxesPerClass[c] < MIN_BOXES_PER_CLASS) errors.push({ text: `Class “${c}” has only ${s.boxesPerClass[c]} box; a class needs at least ${MIN_BOXES_PER_CLASS}.`, hint: `Draw more “${c}” boxes (a few dozen train well), or rename or delete that box.` });
  }
  const tiny = photos.flatMap((p) => p.boxes.filter((b) => b.box[2] - b.box[0] < MIN_BOX_SIDE || b.box[3] - b.box[1] < MIN_BOX_SIDE).map((b) => `${p.name} (${b.label})`));
  if (tiny.length) errors.push({ text: `${tiny.length} box${tiny.length === 1 ? ' is' : 'es are'} under ${MIN_BOX_SIDE} px wide or tall: ${tiny.slice(0, 5).join(', ')}${tiny.length > 5 ? ', …' : ''}.`, hint: 'Resize or delete them: a box must cover at least 2 × 2 pixels of the photo.' });
  if (s.unboxed.length) {
    notices.push(`${s.unboxed.length} photo${s.unboxed.length === 1 ? ' has' : 's have'} no boxes and ${s.unboxed.length === 1 ? 'is' : 'are'} left out (${s.unboxed.slice(0, 3).map((p) => p.name).join(', ')}${s.unboxed.length > 3 ? ', …' : ''}): draw ${s.unboxed.length === 1 ? 'its' : 'their'} boxes, or mark ${s.unboxed.length === 1 ? 'it' : 'them'} as showing none of the classes to train on ${s.unboxed.length === 1 ? 'it' : 'them'} as background. An object left unboxed would be taught as background.`);
  }
  const usable = photos.filter((p) => p.boxes.length > 0 || p.noObjects);
  if (heldOutFraction > 0 && errors.length === 0) {
    const split = splitPhotos(usable, heldOutFraction, 1);
    if (split.train.length === 0) errors.push({ text: 'Nothing would be left to train on after holding photos out.', hint: 'Hold out a smaller part, or add photos.' });
  }
  return { errors, notices, usable, classes: s.classes };
}

/**
 * The seeded train / held-out split, stratified by the classes in each photo: `stratifiedSplit`
 * on the photos' VOC ids and class names, exactly as `rcnn train --val-fraction F --seed S`
 * splits the exported dataset (src/cli/dataset.ts splitVocDataset).
 */
export function splitPhotos(photos: readonly TrainPhoto[], heldOutFraction: number, seed: number): SplitResult {
  return stratifiedSplit(photos.map((p) => ({ id: p.name, classes: p.boxes.map((b) => b.label) })), { valFraction: heldOutFraction, seed });
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A number as VOC writes it: integers plain, fractions with at most 3 decimals. */
function vocNumber(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

const EXT: Partial<Record<ImageFormat, string>> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif', bmp: 'bmp' };

export function photoFileName(p: TrainPhoto): string {
  return `${p.name}.${EXT[p.format] ?? 'jpg'}`;
}

/**
 * One PASCAL VOC annotation. Boxes go back to VOC's 1-based inclusive corners (xmin = x1 + 1,
 * the inverse of vocToBox), so an exported and re-imported box is the same box.
 */
export function vocXml(p: TrainPhoto): string {
  const objects = p.boxes
    .map(
      (b) => `\t<object>
\t\t<name>${xmlEscape(b.label)}</name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>0</truncated>
\t\t<difficult>${b.difficult ? 1 : 0}</difficult>
\t\t<bndbox>
\t\t\t<xmin>${vocNumber(b.box[0] + 1)}</xmin>
\t\t\t<ymin>${vocNumber(b.box[1] + 1)}</ymin>
\t\t\t<xmax>${vocNumber(b.box[2])}</xmax>
\t\t\t<ymax>${vocNumber(b.box[3])}</ymax>
\t\t</bndbox>
\t</object>
`,
    )
    .join('');
  return `<annotation>
\t<folder>JPEGImages</folder>
\t<filename>${xmlEscape(photoFileName(p))}</filename>
\t<source><database>R-CNN Explorer</database></source>
\t<size>
\t\t<width>${p.width}</width>
\t\t<height>${p.height}</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>0</segmented>
${objects}</annotation>
`;
}

/**
 * The dataset as the files of a VOC folder: JPEGImages/ (the original bytes), Annotations/ and
 * ImageSets/Main/trainval.txt (the photos training uses: those with boxes or marked background).
 */
export async function vocFiles(photos: readonly TrainPhoto[], bytesOf: (id: string) => Promise<Uint8Array | null>): Promise<Array<{ name: string; bytes: Uint8Array }>> {
  const enc = new TextEncoder();
  const out: Array<{ name: string; bytes: Uint8Array }> = [];
  const sorted = [...photos].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const p of sorted) {
    const b = await bytesOf(p.id);
    if (!b) throw new Error(`the bytes of ${p.name} are missing from the dataset's storage`);
    out.push({ name: `JPEGImages/${photoFileName(p)}`, bytes: b });
    out.push({ name: `Annotations/${p.name}.xml`, bytes: enc.encode(vocXml(p)) });
  }
  const trainval = sorted.filter((p) => p.boxes.length > 0 || p.noObjects).map((p) => p.name);
  out.push({ name: 'ImageSets/Main/trainval.txt', bytes: enc.encode(trainval.join('\n') + (trainval.length ? '\n' : '')) });
  return out;
}
