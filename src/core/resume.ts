/**
 * A download that survives a dropped connection: when the body stops short (a network error, a
 * stall, a server closing early) it asks again from where it stopped with an HTTP Range request,
 * and takes the answer only if it is exactly the missing part (status 206, a Content-Range that
 * starts at that byte and ends at the file's last one). Anything else (a 200 with the whole file,
 * a range the server moved, 416) makes it start over from byte 0 cleanly: the caller is told
 * with RestartDownload and throws away what it read, rather than splicing two files together.
 * No DOM: the download worker runs it, Node tests run it against a real HTTP server.
 *
 * The 215 MB rcnn-ilsvrc13 archive takes minutes on an ordinary connection, so a dropped
 * connection is likely enough over its length that starting over each time would not do.
 * Content-Range is not a CORS-safelisted response header: a server that does not expose it
 * (Access-Control-Expose-Headers) shows a null one, and then the part's Content-Length must be
 * exactly the missing length. The SHA-256 check at the end catches whatever this cannot see.
 */
import { DownloadError, abortError, openDownload } from './download';

/** The server could not continue where the download stopped: start over from byte 0 (the reason says why). */
export class RestartDownload extends Error {
  override name = 'RestartDownload';
}

export interface ContentRange {
  start: number;
  /** Inclusive, as HTTP writes it. */
  end: number;
  /** Null for `*` (the server does not know). */
  total: number | null;
}

/** "bytes 100-199/1000" -> {100, 199, 1000}; null for anything else (multipart or malformed). */
export function parseContentRange(header: string | null): ContentRange | null {
  const m = header ? /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(header) : null;
  if (!m) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === '*' ? null : Number(m[3]);
  if (end < start || (total !== null && end >= total)) return null;
  return { start, end, total };
}

export type RangeVerdict = { ok: true; total: number | null } | { ok: false; reason: string };

/**
 * Whether a response to `Range: bytes=offset-` is the rest of the same file: 206, starting at
 * `offset`, running to the end of a file of `expectedTotal` bytes (when known).
 */
export function checkRangeAnswer(
  answer: { status: number; contentRange: string | null; contentLength: number | null },
  offset: number,
  expectedTotal: number | null,
): RangeVerdict {
  if (answer.status !== 206) return { ok: false, reason: `the server answered ${answer.status} instead of 206 Partial Content to a request for bytes ${offset}-` };
  const r = parseContentRange(answer.contentRange);
  if (r) {
    if (r.start !== offset) return { ok: false, reason: `the server sent bytes from ${r.start}, not ${offset}` };
    const total = r.total ?? expectedTotal;
    if (expectedTotal !== null && r.total !== null && r.total !== expectedTotal) {
      return { ok: false, reason: `the file on the server is now ${r.total} bytes, not ${expectedTotal}` };
    }
    if (total !== null && r.end !== total - 1) return { ok: false, reason: `the server sent bytes ${r.start}-${r.end}, not up to the end (${total - 1})` };
    return { ok: true, total };
  }
  if (answer.contentRange !== null) return { ok: false, reason: `the server's Content-Range "${answer.contentRange}" is not one byte range` };
  // Content-Range hidden by CORS: the length must be exactly what is missing.
  if (expectedTotal !== null && answer.contentLength === expectedTotal - offset) return { ok: true, total: expectedTotal };
  return { ok: false, reason: `the server's 206 answer shows no Content-Range and ${answer.contentLength === null ? 'no length' : `${answer.contentLength} bytes`}${expectedTotal !== null ? `, not the ${expectedTotal - offset} missing` : ''}` };
}

export interface ResumableOptions {
  /** Bytes already held (from an earlier session): the first request asks for the rest. */
  offset?: number;
  /** The file's size when known (the published size): a range answer must end there. */
  expectedBytes?: number;
  /** Reconnections without progress before giving up (default 4). */
  maxRetries?: number;
  /** Waits before each reconnection in a row (default 500 ms, 1 s, 2 s, 4 s). */
  retryDelaysMs?: number[];
  /** A body that delivers nothing for this long is treated as dropped (default 30 s). */
  stallMs?: number;
  maxBytes?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  label?: string;
  /** Called when a reconnection continues the file at `at` bytes (its `attempt` in a row). */
  onResume?: (at: number, attempt: number, why: string) => void;
  /** The total size once a response has told it. */
  onTotal?: (total: number | null) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const DEFAULT_DELAYS = [500, 1000, 2000, 4000];

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Errors that end the download for good; everything else from the network is a dropped connection. */
function isFinal(e: unknown): boolean {
  if (e instanceof RestartDownload) return true;
  if (e instanceof DownloadError) return e.kind === 'too-large' || e.kind === 'redirect' || e.kind === 'scheme' || (e.kind === 'http' && e.status !== 416 && (e.status ?? 0) < 500);
  return false;
}

/**
 * The body of `url` from `offset` on, chunk by chunk, reconnecting with a Range request after a
 * dropped connection. Throws RestartDownload when the server cannot continue (the caller
 * discards what it has and calls again with offset 0), DownloadError when reconnecting failed
 * `maxRetries` times in a row or the server refused, AbortError when `signal` aborts.
 */
export async function* resumableBody(url: string, opts: ResumableOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
  const { signal } = opts;
  const sleep = opts.sleep ?? defaultSleep;
  const delays = opts.retryDelaysMs ?? DEFAULT_DELAYS;
  const maxRetries = opts.maxRetries ?? DEFAULT_DELAYS.length;
  const stallMs = opts.stallMs ?? 30_000;
  const label = opts.label ?? url;
  let offset = opts.offset ?? 0;
  let total: number | null = opts.expectedBytes ?? null;
  let failures = 0;
  let lastError = '';
  // A first request that gets no answer at all is not a dropped connection: offline, a CORS
  // refusal or a proxy fail the same way every time, so it is reported at once.
  let answered = false;
  for (;;) {
    signal?.throwIfAborted();
    if (total !== null && offset >= total && offset > 0) return;
    // One controller per connection: a stall aborts this one, not the caller's.
    const conn = new AbortController();
    const onAbort = () => conn.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let progressed = false;
    try {
      const ranged = offset > 0;
      const d = await openDownload(url, {
        fetch: opts.fetch,
        signal: conn.signal,
        maxBytes: opts.maxBytes !== undefined ? opts.maxBytes - offset : undefined,
        label,
        init: ranged ? { headers: { Range: `bytes=${offset}-` } } : undefined,
      });
      answered = true;
      if (ranged) {
        const v = checkRangeAnswer({ status: d.response.status, contentRange: d.response.headers.get('content-range'), contentLength: d.contentLength }, offset, total);
        if (!v.ok) {
          void d.chunks.return(undefined);
          throw new RestartDownload(`${label}: could not continue at byte ${offset}: ${v.reason}; starting over`);
        }
        total = v.total;
      } else if (d.response.status === 206) {
        void d.chunks.return(undefined);
        throw new RestartDownload(`${label}: the server answered a plain request with 206 Partial Content`);
      } else if (d.contentLength !== null) {
        total = d.contentLength;
      }
      opts.onTotal?.(total);
      const it = d.chunks[Symbol.asyncIterator]();
      for (;;) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const stalled = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            conn.abort();
            reject(Object.assign(new Error(`no data for ${stallMs / 1000} s`), { name: 'Stall' }));
          }, stallMs);
        });
        let r: IteratorResult<Uint8Array>;
        try {
          r = await Promise.race([it.next(), stalled]);
        } finally {
          clearTimeout(timer);
        }
        if (r.done) break;
        offset += r.value.length;
        if (!progressed) {
          progressed = true;
          failures = 0;
        }
        yield r.value;
      }
      // A body that ended short (a server that closed early without an error) is a drop too.
      if (total !== null && offset > total) throw new RestartDownload(`${label}: the server sent more than the ${total} bytes it announced`);
      if (total === null || offset === total) return;
      lastError = `the body ended at byte ${offset} of ${total}`;
    } catch (e) {
      if (signal?.aborted) throw abortError();
      if (isFinal(e) || (!answered && e instanceof DownloadError)) throw e;
      if ((e as Error)?.name === 'AbortError' && !conn.signal.aborted) throw e;
      lastError = (e as Error)?.message ?? String(e);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    // Dropped: reconnect from `offset`, with a growing wait when nothing arrived in between.
    failures++;
    if (failures > maxRetries) {
      throw new DownloadError(
        `${label}: the connection dropped at ${offset} bytes${total !== null ? ` of ${total}` : ''} and ${maxRetries} reconnections failed (${lastError})`,
        'network',
        url,
      );
    }
    await sleep(delays[Math.min(failures - 1, delays.length - 1)], signal);
    opts.onResume?.(offset, failures, lastError);
  }
}
