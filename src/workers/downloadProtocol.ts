/** Messages of the download worker (download.worker.ts; logic in downloadHost.ts and zooHost.ts). */
import type { StoredEntry } from '../core/modelStore';
import type { ModelDownload, PublishedFile } from '../model/zoo';

export type DownloadRequest =
  | { type: 'start'; id: number; url: string; maxBytes?: number; label?: string }
  | { type: 'cancel'; id: number }
  | ZooRequest;

export type DownloadResponse =
  | { type: 'progress'; id: number; loaded: number; total: number | null }
  /** `bytes` is transferred; `url` is where the body came from after redirects. */
  | { type: 'done'; id: number; bytes: ArrayBuffer; url: string }
  /** `name` 'AbortError' for a cancel, 'DownloadError' for a refusal (`message` says why). */
  | { type: 'error'; id: number; name: string; message: string; kind?: string; partial?: { stored: number; total: number } }
  | ZooResponse;

/** The published facts a file is checked against, and whether they are a loopback test's stand-in. */
export interface ZooFacts {
  /** The published file the download should be (checked, and stored once verified); null for another file (a typed URL), which is neither. */
  file: PublishedFile | null;
  /** Every file a download may claim to be (the reader picks by name and size). */
  published: PublishedFile[];
  /** Facts given for a 127.0.0.1 test server instead of the published ones (runner/zooSource.ts). */
  standIn?: boolean;
}

export interface ZooLimits {
  /** Largest model.onnx held in memory (the browser's weight limit). */
  maxModelBytes?: number;
}

export type ZooRequest =
  /** Download `url` (or read it from the store when it is there, verified), hashing and unpacking as it streams. */
  | ({ type: 'zoo-get'; id: number; url: string; facts: ZooFacts } & ZooLimits)
  /** Read a stored entry through the same checks. */
  | ({ type: 'zoo-open'; id: number; storeId: string } & ZooLimits)
  /** A file the user dropped or picked: the same checks; stored when it is a published file. */
  | ({ type: 'zoo-file'; id: number; file: File; published: PublishedFile[]; standIn?: boolean } & ZooLimits)
  /** How many copies of model.onnx's bytes the page wants back (one per CNN worker), sent once the CNN pool knows. */
  | { type: 'zoo-copies'; id: number; target: number; copies: number }
  | { type: 'store-list'; id: number }
  | { type: 'store-remove'; id: number; storeId: string };

export type ZooPhase = 'disk' | 'download' | 'file';

/** What the zoo reader kept, sent to the page (model bytes transferred) and on to the CNN worker. */
export interface ZooLoaded extends Omit<ModelDownload, 'model'> {
  model: ArrayBuffer;
  /** Copies of `model` made here, off the page's main thread (as many as 'zoo-copies' asked for, less one). */
  copies: ArrayBuffer[];
  fileName: string;
  /** The store entry holding the verified file, or null (not stored: no OPFS, or not a published file). */
  storeId: string | null;
  /** 'downloaded' | 'disk' (read from the store) | 'file' (dropped). */
  from: 'downloaded' | 'disk' | 'file';
  /** Reconnections that continued the download with a Range request. */
  resumes: number;
  /** Times the server could not continue and the download started over. */
  restarts: number;
  /** Bytes that were already on disk from an earlier, interrupted download. */
  resumedFrom: number;
  ms: number;
  standIn: boolean;
  storeProblem?: string;
}

export interface StoreListing {
  entries: StoredEntry[];
  estimate: { usage: number; quota: number } | null;
  /** False where the browser has no OPFS: nothing can be stored. */
  available: boolean;
}

export type ZooResponse =
  | { type: 'zoo-progress'; id: number; phase: ZooPhase; loaded: number; total: number | null; resumedAt?: number; note?: string }
  | { type: 'zoo-done'; id: number; result: ZooLoaded }
  | { type: 'store-list'; id: number; listing: StoreListing }
  | { type: 'store-removed'; id: number };
