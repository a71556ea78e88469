/**
 * Read a fetch Response's body into memory, reporting progress as it streams in (total is the
 * Content-Length when the server sends one). Shared by the model-package loader and the app's
 * model-URL loader; no DOM, no tfjs, so it runs in the page, workers and Node.
 */
export async function readBodyWithProgress(res: Response, onProgress?: (loaded: number, total: number) => void): Promise<Uint8Array> {
  const expected = Number(res.headers.get('content-length')) || 0;
  if (!res.body) {
    const b = new Uint8Array(await res.arrayBuffer());
    onProgress?.(b.byteLength, Math.max(expected, b.byteLength));
    return b;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.byteLength;
    onProgress?.(got, Math.max(expected, got));
  }
  const out = new Uint8Array(got);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}
