import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DownloadError } from './download';
import { RestartDownload, checkRangeAnswer, parseContentRange, resumableBody } from './resume';

const FILE = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7 + (i >> 9)) & 255);

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A real HTTP server whose behaviour per request is set by the test; logs each request's Range header. */
let server: Server;
let base = '';
let handler: Handler = () => {};
let requests: Array<string | undefined> = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.headers.range);
    handler(req, res, requests.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** Serves FILE, honouring `Range: bytes=N-`; `dropAfter` cuts the connection after that many body bytes. */
function serve(res: ServerResponse, req: IncomingMessage, opts: { dropAfter?: number; ignoreRange?: boolean; shiftRange?: number; stallAfter?: number } = {}) {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  let start = 0;
  if (m && !opts.ignoreRange) {
    start = Number(m[1]);
    const from = start + (opts.shiftRange ?? 0);
    res.writeHead(206, { 'Content-Range': `bytes ${from}-${FILE.length - 1}/${FILE.length}`, 'Content-Length': String(FILE.length - from) });
    start = from;
  } else {
    res.writeHead(200, { 'Content-Length': String(FILE.length) });
  }
  const body = FILE.subarray(start);
  const cut = opts.dropAfter ?? opts.stallAfter;
  if (cut === undefined) return void res.end(Buffer.from(body));
  res.write(Buffer.from(body.subarray(0, cut)), () => {
    if (opts.dropAfter !== undefined) setTimeout(() => res.destroy(), 20);
  });
}

async function readAll(gen: AsyncGenerator<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of gen) parts.push(c.slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const noWait = async () => {};

describe('parseContentRange / checkRangeAnswer', () => {
  it('reads one byte range and refuses others', () => {
    expect(parseContentRange('bytes 100-199/1000')).toEqual({ start: 100, end: 199, total: 1000 });
    expect(parseContentRange('bytes 100-199/*')).toEqual({ start: 100, end: 199, total: null });
    expect(parseContentRange('bytes 100-1000/1000')).toBeNull(); // end past the file
    expect(parseContentRange('bytes */1000')).toBeNull();
    expect(parseContentRange(null)).toBeNull();
  });

  it('takes only 206 with the missing part of a file of the expected size', () => {
    const ok = { status: 206, contentRange: 'bytes 500-999/1000', contentLength: 500 };
    expect(checkRangeAnswer(ok, 500, 1000)).toEqual({ ok: true, total: 1000 });
    expect(checkRangeAnswer({ ...ok, status: 200 }, 500, 1000)).toEqual({ ok: false, reason: 'the server answered 200 instead of 206 Partial Content to a request for bytes 500-' });
    expect(checkRangeAnswer({ ...ok, contentRange: 'bytes 0-999/1000' }, 500, 1000)).toMatchObject({ ok: false, reason: 'the server sent bytes from 0, not 500' });
    expect(checkRangeAnswer({ ...ok, contentRange: 'bytes 500-1199/1200' }, 500, 1000)).toMatchObject({ ok: false, reason: 'the file on the server is now 1200 bytes, not 1000' });
    expect(checkRangeAnswer({ ...ok, contentRange: 'bytes 500-899/1000' }, 500, 1000)).toMatchObject({ ok: false });
    // Content-Range hidden by CORS: the length decides.
    expect(checkRangeAnswer({ ...ok, contentRange: null }, 500, 1000)).toEqual({ ok: true, total: 1000 });
    expect(checkRangeAnswer({ ...ok, contentRange: null, contentLength: 1000 }, 500, 1000)).toMatchObject({ ok: false });
  });
});

describe('resumableBody against a real HTTP server', () => {
  it('continues with a Range request after the connection drops, and the bytes are the file', async () => {
    requests = [];
    handler = (req, res, n) => serve(res, req, n === 1 ? { dropAfter: 120_000 } : {});
    const resumes: number[] = [];
    const got = await readAll(resumableBody(`${base}/f`, { expectedBytes: FILE.length, sleep: noWait, onResume: (at) => resumes.push(at) }));
    expect(got.length).toBe(FILE.length);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(FILE))).toBe(0);
    expect(requests[0]).toBeUndefined();
    // The second request asks for exactly what was missing.
    expect(requests.length).toBe(2);
    expect(requests[1]).toBe(`bytes=${resumes[0]}-`);
    expect(resumes[0]).toBeGreaterThanOrEqual(120_000 - 65_536); // what reached the client before the cut
    expect(resumes[0]).toBeLessThanOrEqual(120_000);
  });

  it('continues from an offset held from before (a stored part) with its first request', async () => {
    requests = [];
    handler = (req, res) => serve(res, req);
    const got = await readAll(resumableBody(`${base}/f`, { offset: 200_000, expectedBytes: FILE.length, sleep: noWait }));
    expect(requests).toEqual(['bytes=200000-']);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(FILE.subarray(200_000)))).toBe(0);
  });

  it('starts over (RestartDownload) when the server answers the Range request with the whole file', async () => {
    requests = [];
    handler = (req, res, n) => serve(res, req, n === 1 ? { dropAfter: 100_000 } : { ignoreRange: true });
    const err = await readAll(resumableBody(`${base}/f`, { expectedBytes: FILE.length, sleep: noWait })).catch((e) => e);
    expect(err).toBeInstanceOf(RestartDownload);
    expect(err.message).toMatch(/could not continue at byte \d+: the server answered 200 instead of 206 Partial Content to a request for bytes \d+-; starting over/);
  });

  it('starts over when the 206 part does not start where the download stopped', async () => {
    requests = [];
    handler = (req, res, n) => serve(res, req, n === 1 ? { dropAfter: 100_000 } : { shiftRange: -1000 });
    const err = await readAll(resumableBody(`${base}/f`, { expectedBytes: FILE.length, sleep: noWait })).catch((e) => e);
    expect(err).toBeInstanceOf(RestartDownload);
    expect(err.message).toMatch(/the server sent bytes from \d+, not \d+/);
  });

  it('treats a stalled body as dropped and continues', async () => {
    requests = [];
    handler = (req, res, n) => serve(res, req, n === 1 ? { stallAfter: 50_000 } : {});
    const resumes: number[] = [];
    const got = await readAll(resumableBody(`${base}/f`, { expectedBytes: FILE.length, stallMs: 300, sleep: noWait, onResume: (at) => resumes.push(at) }));
    expect(got.length).toBe(FILE.length);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(FILE))).toBe(0);
    expect(resumes).toEqual([50_000]);
  });

  it('gives up after maxRetries reconnections without progress, saying where it stopped', async () => {
    requests = [];
    handler = (req, res, n) => {
      if (n === 1) return serve(res, req, { dropAfter: 60_000 });
      res.writeHead(503).end();
    };
    const err = await readAll(resumableBody(`${base}/f`, { expectedBytes: FILE.length, maxRetries: 3, sleep: noWait })).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/f: the connection dropped at \d+ bytes of 300000 and 3 reconnections failed \(could not fetch .*: HTTP 503\)$/);
    expect(requests.length).toBe(4);
  });

  it('fails at once, without retrying, when the first request gets no answer (offline, CORS)', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    let slept = 0;
    const err = await readAll(resumableBody(`http://127.0.0.1:${port}/f`, { sleep: async () => void slept++ })).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.kind).toBe('network');
    expect(slept).toBe(0);
  });

  it('ends at once when aborted mid-body', async () => {
    requests = [];
    handler = (req, res) => serve(res, req, { stallAfter: 10_000 });
    const ctl = new AbortController();
    const gen = resumableBody(`${base}/f`, { signal: ctl.signal, stallMs: 60_000 });
    await gen.next();
    const t0 = performance.now();
    setTimeout(() => ctl.abort(), 10);
    const err = await gen.next().catch((e) => e);
    expect(err.name).toBe('AbortError');
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
