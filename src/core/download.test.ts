import { describe, expect, it } from 'vitest';
import { DownloadError, downloadWithLimits, openDownload } from './download';

const MB = 1024 * 1024;

/** A body served as `chunk`-byte pieces, `count` of them (Infinity: endless); counts what was pulled and whether it was cancelled. */
function servedStream(chunk: number, count: number, opts: { delayMs?: number } = {}) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(ctl) {
        if (state.pulled >= count) return ctl.close();
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
        state.pulled++;
        ctl.enqueue(new Uint8Array(chunk).fill(state.pulled & 255));
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

/** A fetch that answers every request with this response (url and redirected set as a real fetch would). */
function fakeFetch(make: () => Response, final?: { url: string; redirected: boolean }): typeof fetch & { calls: number } {
  const f = (async () => {
    f.calls++;
    const r = make();
    if (final) {
      Object.defineProperty(r, 'url', { value: final.url });
      Object.defineProperty(r, 'redirected', { value: final.redirected });
    }
    return r;
  }) as unknown as typeof fetch & { calls: number };
  f.calls = 0;
  return f;
}

describe('downloadWithLimits', () => {
  it('reads a body, reporting progress at most every 250 ms (plus start and end)', async () => {
    const { stream } = servedStream(1000, 400);
    let clock = 0;
    const progress: Array<[number, number | null]> = [];
    const bytes = await downloadWithLimits('https://models.example/m.onnx', {
      fetch: fakeFetch(() => new Response(stream, { headers: { 'content-length': '400000' } })),
      // Each chunk arrives 5 ms after the last: 400 chunks in 2 s.
      now: () => (clock += 5),
      onProgress: (l, t) => progress.push([l, t]),
    });
    expect(bytes.length).toBe(400_000);
    expect(bytes[0]).toBe(1);
    expect(bytes[399_999]).toBe(400 & 255);
    // 2 s of chunks: one update per 250 ms, not one per chunk (the audit's stall).
    expect(progress.length).toBeGreaterThanOrEqual(8);
    expect(progress.length).toBeLessThanOrEqual(11);
    expect(progress[0]).toEqual([0, 400_000]);
    expect(progress[progress.length - 1]).toEqual([400_000, 400_000]);
  });

  it('refuses an endless stream at the cap, naming the limit and the size seen, and stops reading', async () => {
    const { stream, state } = servedStream(64 * 1024, Infinity);
    const err = await downloadWithLimits('https://evil.example/endless.onnx', { maxBytes: 4 * MB, fetch: fakeFetch(() => new Response(stream)) }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.kind).toBe('too-large');
    expect(err.message).toBe('https://evil.example/endless.onnx is larger than the 4 MB download limit: stopped after 4.1 MB (the server sent no length)');
    // 65 chunks of 64 KB pass 4 MB; the stream was cancelled right there.
    expect(state.cancelled).toBe(true);
    expect(state.pulled).toBe(65);
  });

  it('refuses a Content-Length over the cap before reading any of the body', async () => {
    const { stream, state } = servedStream(64 * 1024, Infinity);
    const f = fakeFetch(() => new Response(stream, { headers: { 'content-length': String(500 * MB) } }));
    const err = await downloadWithLimits('https://models.example/big.onnx', { fetch: f, label: 'big.onnx' }).catch((e) => e);
    expect(err.message).toBe('big.onnx is 500 MB (its Content-Length), over the 400 MB download limit; nothing was downloaded');
    expect(state.pulled).toBe(0);
    expect(state.cancelled).toBe(true);
  });

  it('cancels at once mid-way: rejects with AbortError while a read is pending, and stops reading the body', async () => {
    // A slow server: one 64 KB chunk every 200 ms.
    const { stream, state } = servedStream(64 * 1024, Infinity, { delayMs: 200 });
    const ctl = new AbortController();
    const seen: number[] = [];
    const p = downloadWithLimits('https://models.example/slow.onnx', {
      fetch: fakeFetch(() => new Response(stream)),
      signal: ctl.signal,
      progressIntervalMs: 0,
      onProgress: (l) => seen.push(l),
    });
    while (state.pulled < 3) await new Promise((r) => setTimeout(r, 10));
    const t0 = performance.now();
    ctl.abort();
    const err = await p.catch((e) => e);
    const ms = performance.now() - t0;
    expect(err.name).toBe('AbortError');
    // At once: not after the pending 200 ms read.
    expect(ms).toBeLessThan(150);
    expect(state.cancelled).toBe(true);
    const pulled = state.pulled;
    await new Promise((r) => setTimeout(r, 500));
    expect(state.pulled).toBeLessThanOrEqual(pulled + 1); // a pull already under way may finish; none after it
    expect(seen.at(-1)).toBeLessThanOrEqual(3 * 64 * 1024);
  });

  it('refuses redirects to other schemes and from https down to http; follows http(s) ones', async () => {
    const body = () => new Response(new Uint8Array([1, 2, 3]));
    await expect(downloadWithLimits('https://a.example/m.onnx', { fetch: fakeFetch(body, { url: 'file:///etc/passwd', redirected: true }) })).rejects.toThrow(
      'https://a.example/m.onnx redirected to file:///etc/passwd, which is not an http or https address; refused',
    );
    await expect(downloadWithLimits('https://a.example/m.onnx', { fetch: fakeFetch(body, { url: 'http://b.example/m.onnx', redirected: true }) })).rejects.toThrow(
      'redirected from https to plain http (http://b.example/m.onnx); refused',
    );
    // The model zoo's files redirect to another https host: followed.
    const ok = await openDownload('https://a.example/m.onnx', { fetch: fakeFetch(body, { url: 'https://media.example/m.onnx', redirected: true }) });
    expect(ok.url).toBe('https://media.example/m.onnx');
    await expect(downloadWithLimits('file:///etc/passwd', { fetch: fakeFetch(body) })).rejects.toThrow('only http and https addresses are downloaded (this one is file:)');
  });

  it('names HTTP errors and lets a caller consume the body chunk by chunk, stopping early', async () => {
    await expect(downloadWithLimits('https://a.example/x', { fetch: fakeFetch(() => new Response('no', { status: 404 })) })).rejects.toThrow('could not fetch https://a.example/x: HTTP 404');
    const { stream, state } = servedStream(1000, 100);
    const d = await openDownload('https://a.example/x', { fetch: fakeFetch(() => new Response(stream)) });
    let n = 0;
    for await (const c of d.chunks) {
      n += c.byteLength;
      if (n >= 5000) break;
    }
    expect(n).toBe(5000);
    expect(state.cancelled).toBe(true);
  });
});
