/**
 * The Train view's dataset in IndexedDB, so it survives a reload: photos as their original file
 * bytes (Blobs, which Chromium keeps as files outside the database), their boxes and class names,
 * the view's settings, and a cache of what is costly to compute again per photo (selective-search
 * proposals). Implements core/dataset/trainingSet.ts's DatasetStore; the logic on top of it is
 * unit-tested with the in-memory store, this file by the e2e test (a real reload in Chromium).
 * Usable from the page and from workers (same origin, same database).
 */
import type { DatasetStore, TrainPhoto } from '../core/dataset/trainingSet';

const DB_NAME = 'rcnn-explorer-train';
const DB_VERSION = 1;
const PHOTOS = 'photos';
const FILES = 'files';
const META = 'meta';
const CACHE = 'cache';

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
}

let opening: Promise<IDBDatabase> | null = null;

/** The database, opened once per page or worker. */
export function openTrainDb(): Promise<IDBDatabase> {
  if (opening) return opening;
  opening = new Promise<IDBDatabase>((resolve, reject) => {
    if (typeof indexedDB === 'undefined') {
      reject(new Error('this browser offers no IndexedDB (private mode?), so the dataset cannot be kept across reloads'));
      return;
    }
    const r = indexedDB.open(DB_NAME, DB_VERSION);
    r.onupgradeneeded = () => {
      const db = r.result;
      if (!db.objectStoreNames.contains(PHOTOS)) db.createObjectStore(PHOTOS, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(FILES)) db.createObjectStore(FILES);
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
      if (!db.objectStoreNames.contains(CACHE)) db.createObjectStore(CACHE);
    };
    r.onsuccess = () => {
      const db = r.result;
      // Another tab upgrading the schema: let it, this tab reopens on next use.
      db.onversionchange = () => {
        db.close();
        opening = null;
      };
      resolve(db);
    };
    r.onerror = () => reject(r.error ?? new Error('IndexedDB could not be opened'));
    r.onblocked = () => reject(new Error('the dataset database is held open by another tab of this app in an older version: close the other tabs and reload'));
  });
  opening.catch(() => {
    opening = null;
  });
  return opening;
}

export class IdbDatasetStore implements DatasetStore {
  async list(): Promise<TrainPhoto[]> {
    const db = await openTrainDb();
    return req(db.transaction(PHOTOS).objectStore(PHOTOS).getAll() as IDBRequest<TrainPhoto[]>);
  }

  async bytes(id: string): Promise<Uint8Array | null> {
    const db = await openTrainDb();
    const v = (await req(db.transaction(FILES).objectStore(FILES).get(id))) as Blob | ArrayBuffer | undefined;
    if (!v) return null;
    return new Uint8Array(v instanceof Blob ? await v.arrayBuffer() : v);
  }

  async put(photo: TrainPhoto, bytes?: Uint8Array): Promise<void> {
    const db = await openTrainDb();
    const tx = db.transaction([PHOTOS, FILES], 'readwrite');
    if (bytes) tx.objectStore(FILES).put(new Blob([bytes as BlobPart]), photo.id);
    else if (!(await req(tx.objectStore(FILES).count(photo.id)))) {
      tx.abort();
      throw new Error(`photo ${photo.name} has no bytes stored`);
    }
    tx.objectStore(PHOTOS).put(photo);
    await done(tx);
  }

  async delete(id: string): Promise<void> {
    const db = await openTrainDb();
    const tx = db.transaction([PHOTOS, FILES], 'readwrite');
    tx.objectStore(PHOTOS).delete(id);
    tx.objectStore(FILES).delete(id);
    await done(tx);
  }

  async clear(): Promise<void> {
    const db = await openTrainDb();
    const tx = db.transaction([PHOTOS, FILES, CACHE], 'readwrite');
    tx.objectStore(PHOTOS).clear();
    tx.objectStore(FILES).clear();
    tx.objectStore(CACHE).clear();
    await done(tx);
  }

  async getMeta<T>(key: string): Promise<T | undefined> {
    const db = await openTrainDb();
    return (await req(db.transaction(META).objectStore(META).get(key))) as T | undefined;
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    const db = await openTrainDb();
    const tx = db.transaction(META, 'readwrite');
    tx.objectStore(META).put(value, key);
    await done(tx);
  }
}

/** Per-photo results that are costly to recompute (proposals), by a key naming all they depend on. */
export const idbCache = {
  async get(key: string): Promise<ArrayBuffer | null> {
    const db = await openTrainDb();
    return ((await req(db.transaction(CACHE).objectStore(CACHE).get(key))) as ArrayBuffer | undefined) ?? null;
  },
  async put(key: string, value: ArrayBuffer): Promise<void> {
    const db = await openTrainDb();
    const tx = db.transaction(CACHE, 'readwrite');
    tx.objectStore(CACHE).put(value, key);
    await done(tx);
  },
};
