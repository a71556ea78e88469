/** Messages of the download worker (download.worker.ts, logic in downloadHost.ts). */
export type DownloadRequest =
  | { type: 'start'; id: number; url: string; maxBytes?: number; label?: string }
  | { type: 'cancel'; id: number };

export type DownloadResponse =
  | { type: 'progress'; id: number; loaded: number; total: number | null }
  /** `bytes` is transferred; `url` is where the body came from after redirects. */
  | { type: 'done'; id: number; bytes: ArrayBuffer; url: string }
  /** `name` 'AbortError' for a cancel, 'DownloadError' for a refusal (`message` says why). */
  | { type: 'error'; id: number; name: string; message: string };
