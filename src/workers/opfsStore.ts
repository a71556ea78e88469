/// <reference lib="webworker" />
/**
 * The model store's files in the Origin Private File System (core/modelStore.ts is the logic):
 * `rcnn-models/<id>/data` and `rcnn-models/<id>/meta.json`. Only the download worker uses it:
 * the data file is written through a FileSystemSyncAccessHandle, which exists in dedicated
 * workers only (Chromium 102+, Firefox 111+, Safari 15.2+) and writes a 215 MB file at disk
 * speed without a copy per chunk; one owner also means no two writers on one file.
 *
 * Why OPFS and not Cache Storage: a download that stops part-way keeps its first bytes in the
 * same file it continues into (a Cache entry is one whole Response), and the file is read back
 * as a stream (File.stream()) for the verified path.
 */
import type { StoreBackend } from '../core/modelStore';

const ROOT = 'rcnn-models';
const DATA = 'data';
const META = 'meta.json';

function isNotFound(e: unknown): boolean {
  const n = (e as Error)?.name;
  return n === 'NotFoundError' || n === 'TypeMismatchError';
}

/** Appends to an entry's data file: what has been written is on disk when the download stops. */
export interface DataAppender {
  readonly size: number;
  write(chunk: Uint8Array): void;
  close(): void;
}

export class OpfsStore implements StoreBackend {
  private constructor(private readonly root: FileSystemDirectoryHandle) {}

  /** The store, or null where this browser has no OPFS (or refuses it, e.g. some private windows). */
  static async open(): Promise<OpfsStore | null> {
    try {
      const top = await navigator.storage.getDirectory();
      return new OpfsStore(await top.getDirectoryHandle(ROOT, { create: true }));
    } catch {
      return null;
    }
  }

  async ids(): Promise<string[]> {
    const out: string[] = [];
    for await (const [name, h] of this.root.entries()) if (h.kind === 'directory') out.push(name);
    return out;
  }

  private async dir(id: string, create = false): Promise<FileSystemDirectoryHandle | null> {
    try {
      return await this.root.getDirectoryHandle(id, { create });
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  private async file(id: string, name: string, create = false): Promise<FileSystemFileHandle | null> {
    const d = await this.dir(id, create);
    if (!d) return null;
    try {
      return await d.getFileHandle(name, { create });
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async readMeta(id: string): Promise<string | null> {
    const f = await this.file(id, META);
    return f ? (await f.getFile()).text() : null;
  }

  async writeMeta(id: string, json: string): Promise<void> {
    const h = await (await this.file(id, META, true))!.createSyncAccessHandle();
    try {
      const bytes = new TextEncoder().encode(json);
      h.truncate(0);
      h.write(bytes, { at: 0 });
      h.flush();
    } finally {
      h.close();
    }
  }

  async dataSize(id: string): Promise<number | null> {
    const f = await this.file(id, DATA);
    return f ? (await f.getFile()).size : null;
  }

  async truncateData(id: string, size: number): Promise<void> {
    const h = await (await this.file(id, DATA, true))!.createSyncAccessHandle();
    try {
      h.truncate(size);
      h.flush();
    } finally {
      h.close();
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.root.removeEntry(id, { recursive: true });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** The data file as it is on disk, read as a stream by the caller. */
  async readData(id: string): Promise<File> {
    const f = await this.file(id, DATA);
    if (!f) throw new Error(`stored entry ${id} has no data file`);
    return f.getFile();
  }

  /** Opens the data file for appending at its end (locks it until close). */
  async appender(id: string): Promise<DataAppender> {
    const h = await (await this.file(id, DATA, true))!.createSyncAccessHandle();
    let size = h.getSize();
    let unflushed = 0;
    let open = true;
    return {
      get size() {
        return size;
      },
      write(chunk: Uint8Array) {
        let at = 0;
        while (at < chunk.length) at += h.write(chunk.subarray(at), { at: size + at });
        size += chunk.length;
        unflushed += chunk.length;
        // Flushed every 16 MB: what a crash or a closed tab loses is bounded, at no measurable cost.
        if (unflushed >= 16 * 2 ** 20) {
          h.flush();
          unflushed = 0;
        }
      },
      close() {
        if (!open) return;
        open = false;
        h.flush();
        h.close();
      },
    };
  }

  /** The browser's estimate for this origin (all storage, not only this store). */
  static async estimate(): Promise<{ usage: number; quota: number } | null> {
    try {
      const e = await navigator.storage.estimate();
      return { usage: e.usage ?? 0, quota: e.quota ?? 0 };
    } catch {
      return null;
    }
  }
}
