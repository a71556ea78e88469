/**
 * Downloads with limits: the one way this project GETs a URL it was given (a model file, a model
 * package's manifest and binaries). No DOM, no tfjs: it runs in the page, workers and Node.
 *
 * Issue 25's audit found the unlimited version grew the renderer by 8.35 GB on an endless stream
 * before "Array buffer allocation failed", stalled the page for seconds at a time with one progress
 * update per network chunk, and took 4 s to cancel. So every download here
 * - refuses up front when Content-Length is over `maxBytes`, and stops reading the moment the body
 *   passes it (a server may send no length, or lie);
 * - reports progress at most every `progressIntervalMs` (250 ms: four updates a second), plus
 *   once at the start and once at the end;
 * - ends at once when `signal` aborts: the pending read is abandoned, the body stream cancelled
 *   (the connection closes) and what was read is dropped;
 * - only follows redirects to http(s), never from https down to http.
 *
 * `openDownload` hands the body over chunk by chunk (for writing to a cache, or resuming with a
 * Range request); `downloadWithLimits` collects it into one buffer.
 */

/** Default cap: the ONNX model zoo's R-CNN ILSVRC13 is 215-231 MB; nothing this app loads is near 400 MB. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 400 * 1024 * 1024;
/** Four progress updates a second are enough for a progress bar and cost the page nothing. */
export const PROGRESS_INTERVAL_MS = 250;

export type DownloadErrorKind = 'too-large' | 'http' | 'network' | 'redirect' | 'scheme';

export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    message: string,
    readonly kind: DownloadErrorKind,
    readonly url: string,
    /** HTTP status for kind 'http'. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface DownloadOptions {
  /** Most bytes of body accepted (default DEFAULT_MAX_DOWNLOAD_BYTES). */
  maxBytes?: number;
  signal?: AbortSignal;
  /** Bytes read so far and the Content-Length (null when the server sent none); throttled. */
  onProgress?: (loaded: number, total: number | null) => void;
  progressIntervalMs?: number;
  fetch?: typeof fetch;
  /** Extra request settings, e.g. a Range header to resume. */
  init?: Omit<RequestInit, 'signal'>;
  /** How the download is named in messages (default: the URL). */
  label?: string;
  /** Clock for the progress throttle (tests). */
  now?: () => number;
}

export interface OpenedDownload {
  response: Response;
  /** Where the body comes from, after redirects. */
  url: string;
  /** The Content-Length, when the server sent one. */
  contentLength: number | null;
  /** The body, chunk by chunk, with the cap, cancellation and progress applied. Iterate it once. */
  chunks: AsyncGenerator<Uint8Array, void, undefined>;
}

/** "12.3 MB" (binary megabytes, as the app's progress shows them). */
export function formatMB(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${mb >= 100 || Number.isInteger(mb) ? mb.toFixed(0) : mb.toFixed(1)} MB`;
}

export function abortError(message = 'download cancelled'): Error {
  return typeof DOMException !== 'undefined' ? new DOMException(message, 'AbortError') : Object.assign(new Error(message), { name: 'AbortError' });
}

function isHttp(protocol: string): boolean {
  return protocol === 'http:' || protocol === 'https:';
}

/**
 * GETs `url` and checks the response (status, where redirects led, Content-Length against the
 * cap) before any of the body is read; the body is then read through `chunks`.
 */
export async function openDownload(url: string, opts: DownloadOptions = {}): Promise<OpenedDownload> {
  const f = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  const label = opts.label ?? url;
  const { signal } = opts;
  // Relative URLs (resolved by the caller's fetch against its page) are http(s) by construction.
  const requested = URL.canParse(url) ? new URL(url) : null;
  if (requested && !isHttp(requested.protocol)) {
    throw new DownloadError(`${label}: only http and https addresses are downloaded (this one is ${requested.protocol})`, 'scheme', url);
  }
  if (signal?.aborted) throw abortError();

  // One promise that rejects when the signal aborts: every await below races it, so a cancel is
  // answered at once even when the fetch or a read is stuck waiting for the network.
  let removeAbortListener = () => {};
  const aborted = new Promise<never>((_, reject) => {
    if (!signal) return;
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    removeAbortListener = () => signal.removeEventListener('abort', onAbort);
  });
  aborted.catch(() => undefined);
  const race = <T>(p: Promise<T>): Promise<T> => (signal ? Promise.race([p, aborted]) : p);

  let res: Response;
  try {
    res = await race(f(url, { ...opts.init, signal }));
  } catch (e) {
    removeAbortListener();
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new DownloadError(`could not fetch ${label} (${(e as Error)?.message ?? e}): the server may be down or not allow cross-origin requests`, 'network', url);
  }
  const fail = (e: DownloadError): never => {
    removeAbortListener();
    void res.body?.cancel().catch(() => undefined);
    throw e;
  };
  // fetch follows redirects itself; check where they led (response.url is the final address).
  const finalUrl = res.url || url;
  if (res.redirected || (res.url && res.url !== url)) {
    const to = URL.canParse(finalUrl) ? new URL(finalUrl) : null;
    if (!to || !isHttp(to.protocol)) fail(new DownloadError(`${label} redirected to ${finalUrl}, which is not an http or https address; refused`, 'redirect', url));
    if (requested?.protocol === 'https:' && to!.protocol === 'http:') fail(new DownloadError(`${label} redirected from https to plain http (${finalUrl}); refused`, 'redirect', url));
  }
  if (!res.ok) fail(new DownloadError(`could not fetch ${label}: HTTP ${res.status}`, 'http', url, res.status));
  const header = res.headers.get('content-length');
  const contentLength = header !== null && /^\d+$/.test(header.trim()) ? Number(header) : null;
  if (contentLength !== null && contentLength > maxBytes) {
    fail(new DownloadError(`${label} is ${formatMB(contentLength)} (its Content-Length), over the ${formatMB(maxBytes)} download limit; nothing was downloaded`, 'too-large', url));
  }

  const interval = opts.progressIntervalMs ?? PROGRESS_INTERVAL_MS;
  const now = opts.now ?? (() => performance.now());
  async function* body(): AsyncGenerator<Uint8Array, void, undefined> {
    let loaded = 0;
    let last = now();
    opts.onProgress?.(0, contentLength);
    const tooLarge = (seen: number) =>
      new DownloadError(`${label} is larger than the ${formatMB(maxBytes)} download limit: stopped after ${formatMB(seen)}${contentLength === null ? ' (the server sent no length)' : ` (the server announced ${formatMB(contentLength)})`}`, 'too-large', url);
    try {
      if (!res.body) {
        const b = new Uint8Array(await race(res.arrayBuffer()));
        if (b.byteLength > maxBytes) throw tooLarge(b.byteLength);
        opts.onProgress?.(b.byteLength, contentLength);
        yield b;
        return;
      }
      const reader = res.body.getReader();
      let done = false;
      try {
        for (;;) {
          const r = await race(reader.read());
          if (r.done) {
            done = true;
            break;
          }
          loaded += r.value.byteLength;
          if (loaded > maxBytes) throw tooLarge(loaded);
          const t = now();
          if (t - last >= interval) {
            last = t;
            opts.onProgress?.(loaded, contentLength);
          }
          yield r.value;
        }
      } finally {
        // Cancelled, refused, or the consumer stopped early: close the stream (and so the
        // connection) instead of letting the rest arrive into memory nobody reads.
        if (!done) void reader.cancel().catch(() => undefined);
      }
      opts.onProgress?.(loaded, contentLength);
    } finally {
      removeAbortListener();
    }
  }
  return { response: res, url: finalUrl, contentLength, chunks: body() };
}

/** GETs `url` into one buffer, with openDownload's limits. */
export async function downloadWithLimits(url: string, opts: DownloadOptions = {}): Promise<Uint8Array> {
  const d = await openDownload(url, opts);
  // With a Content-Length the buffer is allocated once (no second copy of a 230 MB model); a body
  // longer than announced (a compressed transfer, or a server that lies) grows it, up to the cap.
  let buf = new Uint8Array(d.contentLength ?? 0);
  let got = 0;
  const chunks: Uint8Array[] = [];
  for await (const c of d.chunks) {
    if (d.contentLength !== null && got + c.byteLength <= buf.length) buf.set(c, got);
    else chunks.push(c);
    got += c.byteLength;
  }
  if (chunks.length > 0) {
    const inBuf = got - chunks.reduce((s, c) => s + c.byteLength, 0);
    const out = new Uint8Array(got);
    out.set(buf.subarray(0, inBuf));
    let o = inBuf;
    for (const c of chunks) {
      out.set(c, o);
      o += c.byteLength;
    }
    return out;
  }
  return got === buf.length ? buf : buf.slice(0, got);
}
