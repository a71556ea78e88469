import { describe, expect, it } from 'vitest';
import { crc32, readZip, writeZip, ZipError, zipSourceFromBlob } from './zip';

// Written by CPython's zipfile to a non-seekable stream: a deflated XML, a stored 512-byte file and
// a directory entry, with data descriptors (so the local headers carry zero CRCs and sizes, and
// only the central directory has them) and an archive comment.
const PYTHON_ZIP =
  'UEsDBBQACAAIAIMYIlAAAAAAAAAAAAAAAAARAAAAQW5ub3RhdGlvbnMvYS54bWyzSczLyy9JLMnMz7OrGCbARh/JUwBQSwcI9H+pFBUAAADhAAAAUEsDBBQACAAAAIMYIlAAAAAAAAAAAAAAAAAQAAAASlBFR0ltYWdlcy9hLmpwZwABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2+v8DBwsPExcbHyMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoOEhYaHiImKi4yNjo+QkZKTlJWWl5iZmpucnZ6foKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr/AwcLDxMXGx8jJysvMzc7P0NHS09TV1tfY2drb3N3e3+Dh4uPk5ebn6Onq6+zt7u/w8fLz9PX29/j5+vv8/f7/UEsHCHY1YRwAAgAAAAIAAFBLAwQUAAgAAACDGCJQAAAAAAAAAAAAAAAACwAAAEpQRUdJbWFnZXMvUEsHCAAAAAAAAAAAAAAAAFBLAQIUAxQACAAIAIMYIlD0f6kUFQAAAOEAAAARAAAAAAAAAAAAAACAAQAAAABBbm5vdGF0aW9ucy9hLnhtbFBLAQIUAxQACAAAAIMYIlB2NWEcAAIAAAACAAAQAAAAAAAAAAAAAACAAVQAAABKUEVHSW1hZ2VzL2EuanBnUEsBAhQDFAAIAAAAgxgiUAAAAAAAAAAAAAAAAAsAAAAAAAAAAAAAAIABkgIAAEpQRUdJbWFnZXMvUEsFBgAAAAADAAMAtgAAAMsCAAAOAG1hZGUgYnkgcHl0aG9u';

const fromBase64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function expectZipError(p: Promise<unknown>, pattern: RegExp): Promise<ZipError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ZipError);
  expect((e as ZipError).message).toMatch(pattern);
  expect((e as ZipError).hint.length).toBeGreaterThan(10);
  return e as ZipError;
}

describe('zip', () => {
  it('computes the standard CRC-32 (check value of "123456789")', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('reads a zip written by another implementation (Python, data descriptors, comment), leaving directories out', async () => {
    const entries = await readZip(fromBase64(PYTHON_ZIP));
    expect(entries.map((e) => [e.name, e.method, e.size])).toEqual([
      ['Annotations/a.xml', 8, 225],
      ['JPEGImages/a.jpg', 0, 512],
    ]);
    expect(text(await entries[0].read())).toBe('<annotation>' + 'x'.repeat(200) + '</annotation>');
    const jpg = await entries[1].read();
    expect(jpg.length).toBe(512);
    expect(jpg[0]).toBe(0);
    expect(jpg[511]).toBe(255);
  });

  it('round-trips stored and deflated files, with UTF-8 names, through a Blob source', async () => {
    const xml = new TextEncoder().encode('<annotation>' + '<object><name>äpfel</name></object>'.repeat(50) + '</annotation>');
    const jpg = new Uint8Array(3000).map((_, i) => (i * 7919) & 255);
    const zip = await writeZip([
      { name: 'Annotations/äpfel 1.xml', bytes: xml },
      { name: 'JPEGImages/äpfel 1.jpg', bytes: jpg },
      { name: 'empty.txt', bytes: new Uint8Array(0) },
    ], { date: new Date(2026, 0, 2, 3, 4, 6) });
    const entries = await readZip(zipSourceFromBlob(new Blob([zip as BlobPart])));
    expect(entries.map((e) => e.name)).toEqual(['Annotations/äpfel 1.xml', 'JPEGImages/äpfel 1.jpg', 'empty.txt']);
    // The XML deflates to a fraction; the JPEG is stored as it is (already compressed).
    expect(entries[0].method).toBe(8);
    expect(entries[0].compressedSize).toBeLessThan(xml.length / 5);
    expect(entries[1].method).toBe(0);
    expect(await entries[0].read()).toEqual(xml);
    expect(await entries[1].read()).toEqual(jpg);
    expect((await entries[2].read()).length).toBe(0);
  });

  it('refuses a broken zip with one message: empty, not a zip, truncated, damaged data, bad CRC', async () => {
    const good = await writeZip([{ name: 'a.xml', bytes: new TextEncoder().encode('<a>' + 'hello '.repeat(100) + '</a>') }]);
    await expectZipError(readZip(new Uint8Array(0), { name: 'data.zip' }), /data\.zip is not a readable \.zip file: it is empty/);
    await expectZipError(readZip(new TextEncoder().encode('this is a text file, not an archive at all')), /no zip table of contents/);
    await expectZipError(readZip(good.subarray(0, good.length - 30)), /truncated/);
    const entries = await readZip(good);
    expect(entries[0].method).toBe(8);
    // Flip a byte inside the deflated data: it no longer inflates, or inflates to other bytes.
    const damaged = good.slice();
    damaged[40] ^= 0xff;
    const e = await readZip(damaged);
    await expectZipError(e[0].read(), /does not inflate|CRC-32|inflates to/);
    // Change the recorded CRC in the central directory.
    const badCrc = good.slice();
    const cd = badCrc.length - 22 - (46 + 5);
    badCrc[cd + 16] ^= 1;
    await expectZipError((await readZip(badCrc))[0].read(), /fails its CRC-32 check/);
  });

  it('refuses zip64, split archives, encrypted entries and other compression methods, naming each', async () => {
    const good = await writeZip([{ name: 'a.bin', bytes: new Uint8Array([1, 2, 3]), compress: false }]);
    const eocd = good.length - 22;
    const patch = (at: number, bytes: number[]) => {
      const b = good.slice();
      b.set(bytes, at);
      return b;
    };
    await expectZipError(readZip(patch(eocd + 16, [0xff, 0xff, 0xff, 0xff])), /zip64/);
    await expectZipError(readZip(patch(eocd + 4, [1, 0])), /split over several files/);
    const cd = eocd - (46 + 5);
    await expectZipError(readZip(patch(cd + 8, [1, 0x08])), /a\.bin is encrypted/);
    await expectZipError(readZip(patch(cd + 10, [12, 0])), /method 12 \(bzip2\)/);
    // An entry claiming more than the per-file limit is refused before anything is inflated.
    await expectZipError(readZip(good, { maxEntryBytes: 2 }), /a\.bin is 3 bytes uncompressed, more than the 2 bytes/);
  });
});
