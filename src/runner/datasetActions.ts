/**
 * The Train view's dataset actions: read the dataset from IndexedDB, add photos (files, a folder,
 * VOC zips), edit boxes, export a VOC zip. Every change is written through to IndexedDB (a failed
 * write says so), so what the user sees is what a reload brings back.
 */
import { saveFile } from './saveFile';
import { useStore } from '../state/store';
import { DEFAULT_TRAIN_SETTINGS, type TrainSettings, type TrainState } from '../state/trainSlice';
import {
  cleanClassName,
  importVocFiles,
  MemoryDatasetStore,
  vocFiles,
  type AddReport,
  type DatasetStore,
  type InputFile,
  type TrainBox,
  type TrainPhoto,
} from '../core/dataset/trainingSet';
import { readZip, writeZip, zipSourceFromBlob, ZipError } from '../core/zip';
import { sha256Hex } from '../model/sha256';
import { IdbDatasetStore } from './trainDb';

let store: DatasetStore | null = null;
let adding: AbortController | null = null;

/** Stops adding photos after the current one (those added stay). */
export function cancelAdding(): void {
  adding?.abort();
}

export function datasetStore(): DatasetStore {
  if (!store) store = typeof indexedDB === 'undefined' ? new MemoryDatasetStore() : new IdbDatasetStore();
  return store;
}

const t = () => useStore.getState().train;
const setTrain = (u: Partial<TrainState> | ((t: TrainState) => Partial<TrainState>)) => useStore.getState().setTrain(u);

function fail(text: string, e: unknown, hint = 'Try again; if it keeps failing, reload the page (the dataset is kept).'): void {
  useStore.getState().pushMessage({ kind: 'error', text: `${text}: ${(e as Error)?.message ?? String(e)}`, hint, group: 'train' });
}

function sortPhotos(photos: TrainPhoto[]): TrainPhoto[] {
  return photos.sort((a, b) => a.addedAt - b.addedAt || (a.name < b.name ? -1 : 1));
}

/** Reads the dataset and the settings from IndexedDB (once per page). */
export async function loadDataset(): Promise<void> {
  if (t().loaded) return;
  try {
    const s = datasetStore();
    const [photos, settings, boxClass] = await Promise.all([s.list(), s.getMeta<Partial<TrainSettings>>('settings'), s.getMeta<string>('boxClass')]);
    setTrain({ loaded: true, photos: sortPhotos(photos), settings: { ...DEFAULT_TRAIN_SETTINGS, ...settings }, boxClass: boxClass ?? '', selected: photos.length ? (t().selected ?? sortPhotos(photos)[0].id) : null });
  } catch (e) {
    setTrain({ loaded: true });
    fail('The saved dataset could not be read', e, 'Photos you add now are kept for this visit only.');
    store = new MemoryDatasetStore();
  }
}

/** The Train view instead of the eight stages (and #train in the address, so a reload comes back to it). */
export function openTrainView(open = true): void {
  setTrain({ open });
  const want = open ? '#train' : '';
  if (typeof location !== 'undefined' && location.hash !== want) history.replaceState(null, '', want || location.pathname + location.search);
  if (open) void loadDataset();
}

/** A picked, dropped or folder File as an InputFile (a folder's files keep their relative path). */
function fromFile(f: File): InputFile {
  return { name: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name, size: f.size, read: async () => new Uint8Array(await f.arrayBuffer()) };
}

function isZip(f: File): boolean {
  return /\.zip$/i.test(f.name) || f.type === 'application/zip' || f.type === 'application/x-zip-compressed';
}

function mergeReports(a: AddReport, b: AddReport): AddReport {
  return { added: [...a.added, ...b.added], duplicates: [...a.duplicates, ...b.duplicates], refused: [...a.refused, ...b.refused], notes: [...a.notes, ...b.notes], ignored: [...a.ignored, ...b.ignored] };
}

/**
 * Adds photos: image files, VOC annotations that go with them, whole folders, and VOC .zip files
 * (each read entry by entry). A broken zip is refused with one message; the other files still go in.
 */
export async function addFiles(files: File[]): Promise<AddReport | null> {
  if (!files.length || t().busy) return null;
  await loadDataset();
  const zips = files.filter(isZip);
  const rest = files.filter((f) => !isZip(f));
  let report: AddReport = { added: [], duplicates: [], refused: [], notes: [], ignored: [] };
  const what = files.length === 1 ? files[0].name : zips.length && !rest.length ? `${zips.length} zip files` : `${files.length} files`;
  const startedAt = performance.now();
  const progress = (label: string) => (done: number, total: number) => setTrain({ busy: { label, done, total, startedAt } });
  const ctl = (adding = new AbortController());
  try {
    for (const z of zips) {
      if (ctl.signal.aborted) break;
      setTrain({ busy: { label: `Reading ${z.name}`, done: 0, total: 1, startedAt } });
      let entries;
      try {
        entries = await readZip(zipSourceFromBlob(z), { name: z.name });
      } catch (e) {
        if (!(e instanceof ZipError)) throw e;
        report.refused.push({ file: z.name, reason: e.message, hint: e.hint });
        continue;
      }
      const r = await importVocFiles(datasetStore(), t().photos, entries.map((e) => ({ name: e.name, size: e.size, read: e.read })), sha256Hex, progress(`Adding the photos of ${z.name}`), ctl.signal);
      report = mergeReports(report, r);
      setTrain((s) => ({ photos: [...s.photos, ...r.added] }));
    }
    if (rest.length && !ctl.signal.aborted) {
      const r = await importVocFiles(datasetStore(), t().photos, rest.map(fromFile), sha256Hex, progress('Adding photos'), ctl.signal);
      report = mergeReports(report, r);
      setTrain((s) => ({ photos: [...s.photos, ...r.added] }));
    }
  } catch (e) {
    fail('Adding the photos failed part-way', e, 'The photos added before the failure are kept; add the others again.');
  } finally {
    adding = null;
    // The first photo added goes into the editor (to see what came in, or to box it).
    setTrain((s) => ({ busy: null, report: { ...report, what }, selected: report.added[0]?.id ?? s.selected ?? s.photos[0]?.id ?? null, selectedBox: report.added.length ? null : s.selectedBox }));
  }
  return report;
}

/** Every file of a dropped folder (DataTransfer entries, walked recursively) or the dropped files. */
export async function filesFromDrop(dt: DataTransfer): Promise<File[]> {
  const entries = Array.from(dt.items ?? [])
    .map((i) => (i.kind === 'file' ? (i as DataTransferItem & { webkitGetAsEntry?: () => FileSystemEntry | null }).webkitGetAsEntry?.() : null))
    .filter((e): e is FileSystemEntry => !!e);
  if (!entries.some((e) => e.isDirectory)) return Array.from(dt.files);
  const out: File[] = [];
  const walk = async (e: FileSystemEntry, path: string): Promise<void> => {
    if (e.isFile) {
      const f = await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej));
      // Keep the folder path (JPEGImages/ vs Annotations/) for matching annotations to photos.
      out.push(new File([f], f.name, { type: f.type }));
      Object.defineProperty(out[out.length - 1], 'webkitRelativePath', { value: path + f.name });
    } else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const c of batch) await walk(c, `${path}${e.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e, '');
  return out;
}

/**
 * Shows the change at once (box editing follows the keys) and writes it through to IndexedDB;
 * writes to one store run in the order they were made, so the last edit is the one kept.
 */
async function savePhoto(p: TrainPhoto): Promise<void> {
  setTrain((s) => ({ photos: s.photos.map((x) => (x.id === p.id ? p : x)) }));
  try {
    await datasetStore().put(p);
  } catch (e) {
    fail(`The change to ${p.name} could not be saved (it is shown, but a reload would lose it)`, e);
  }
}

export async function setBoxes(id: string, boxes: TrainBox[], selectedBox: number | null = t().selectedBox): Promise<void> {
  const p = t().photos.find((x) => x.id === id);
  if (!p) return;
  // Boxing a photo takes back "shows none of the classes".
  setTrain({ selectedBox });
  await savePhoto({ ...p, boxes, ...(boxes.length ? { noObjects: undefined } : {}) });
}

export async function setNoObjects(id: string, noObjects: boolean): Promise<void> {
  const p = t().photos.find((x) => x.id === id);
  if (p) await savePhoto({ ...p, noObjects: noObjects || undefined });
}

/** Renames a class on every box that has it (merging it into another class if that exists). */
export async function renameClass(from: string, to: string): Promise<void> {
  const name = cleanClassName(to);
  if (!name || name === from) return;
  for (const p of t().photos) {
    if (p.boxes.some((b) => b.label === from)) await savePhoto({ ...p, boxes: p.boxes.map((b) => (b.label === from ? { ...b, label: name } : b)) });
  }
}

export async function deletePhoto(id: string): Promise<void> {
  try {
    await datasetStore().delete(id);
    setTrain((s) => {
      const i = s.photos.findIndex((p) => p.id === id);
      const photos = s.photos.filter((p) => p.id !== id);
      return { photos, selected: s.selected === id ? (photos[Math.min(i, photos.length - 1)]?.id ?? null) : s.selected, selectedBox: null };
    });
  } catch (e) {
    fail('The photo could not be deleted', e);
  }
}

export async function clearDataset(): Promise<void> {
  try {
    await datasetStore().clear();
    setTrain({ photos: [], selected: null, selectedBox: null, report: null });
  } catch (e) {
    fail('The dataset could not be deleted', e);
  }
}

export async function saveSettings(update: Partial<TrainSettings>): Promise<void> {
  const settings = { ...t().settings, ...update };
  setTrain({ settings });
  await datasetStore().setMeta('settings', settings).catch(() => undefined);
}

export async function setBoxClass(boxClass: string): Promise<void> {
  setTrain({ boxClass });
  await datasetStore().setMeta('boxClass', boxClass).catch(() => undefined);
}

/** The dataset as a PASCAL VOC zip (JPEGImages/, Annotations/, ImageSets/Main/trainval.txt), downloaded. */
export async function exportDataset(): Promise<{ name: string; bytes: number } | null> {
  const photos = t().photos;
  if (!photos.length) return null;
  setTrain({ busy: { label: 'Writing the VOC zip', done: 0, total: 1, startedAt: performance.now() } });
  try {
    const zip = await writeZip(await vocFiles(photos, (id) => datasetStore().bytes(id)));
    saveFile(zip, 'rcnn-dataset-voc.zip', 'application/zip');
    return { name: 'rcnn-dataset-voc.zip', bytes: zip.length };
  } catch (e) {
    fail('The dataset could not be exported', e);
    return null;
  } finally {
    setTrain({ busy: null });
  }
}
