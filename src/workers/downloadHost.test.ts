import { describe, expect, it } from 'vitest';
import { DownloadHost } from './downloadHost';
import type { DownloadResponse } from './downloadProtocol';

/** A host whose messages are collected; `wait` resolves when one of type `type` for `id` arrives. */
function host(fetchImpl: typeof fetch) {
  const got: DownloadResponse[] = [];
  const waiters: Array<() => void> = [];
  const h = new DownloadHost((m) => {
    got.push(m);
    for (const w of waiters.splice(0)) w();
  }, fetchImpl);
  const wait = async (id: number, type: DownloadResponse['type']) => {
    for (;;) {
      const m = got.find((x) => x.id === id && x.type === type);
      if (m) return m;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { h, got, wait };
}

describe('download worker host', () => {
  it('refuses an endless model download at the cap and sends the bytes of a normal one', async () => {
    let pulled = 0;
    let cancelled = false;
    const endless = (async () =>
      new Response(
        new ReadableStream({
          pull: (c) => {
            pulled++;
            c.enqueue(new Uint8Array(1 << 20));
          },
          cancel: () => {
            cancelled = true;
          },
        }),
      )) as unknown as typeof fetch;
    const a = host(endless);
    a.h.handle({ type: 'start', id: 1, url: 'https://evil.example/m.onnx', maxBytes: 8 << 20 });
    expect(await a.wait(1, 'error')).toEqual({
      type: 'error',
      id: 1,
      name: 'DownloadError',
      message: 'https://evil.example/m.onnx is larger than the 8 MB download limit: stopped after 9 MB (the server sent no length)',
    });
    expect(pulled).toBeLessThanOrEqual(10);
    expect(cancelled).toBe(true);

    const b = host((async () => new Response(new Uint8Array([7, 8, 9]), { headers: { 'content-length': '3' } })) as unknown as typeof fetch);
    b.h.handle({ type: 'start', id: 2, url: 'https://a.example/m.onnx' });
    const done = await b.wait(2, 'done');
    expect(done.type === 'done' && [...new Uint8Array(done.bytes)]).toEqual([7, 8, 9]);
    expect(b.got.filter((m) => m.type === 'progress').map((m) => m.type === 'progress' && [m.loaded, m.total])).toEqual([
      [0, 3],
      [3, 3],
    ]);
  });

  it("answers 'cancel' mid-way at once with an AbortError and stops reading the body", async () => {
    let pulled = 0;
    let cancelled = false;
    const slow = (async () =>
      new Response(
        new ReadableStream(
          {
            async pull(c) {
              await new Promise((r) => setTimeout(r, 300));
              pulled++;
              c.enqueue(new Uint8Array(65536));
            },
            cancel: () => {
              cancelled = true;
            },
          },
          { highWaterMark: 0 },
        ),
        { headers: { 'content-length': String(100 << 20) } },
      )) as unknown as typeof fetch;
    const a = host(slow);
    a.h.handle({ type: 'start', id: 5, url: 'https://a.example/slow.onnx' });
    while (pulled < 2) await new Promise((r) => setTimeout(r, 10));
    const t0 = performance.now();
    a.h.handle({ type: 'cancel', id: 5 });
    const err = await a.wait(5, 'error');
    expect(performance.now() - t0).toBeLessThan(200); // not after the pending 300 ms read
    expect(err).toMatchObject({ name: 'AbortError' });
    expect(cancelled).toBe(true);
    const n = pulled;
    await new Promise((r) => setTimeout(r, 700));
    expect(pulled).toBeLessThanOrEqual(n + 1);
    expect(a.got.some((m) => m.type === 'done')).toBe(false);
  });
});
