import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from './learn/random';
import { type ByteSource, TarError, collect, gunzip, gzipBytes, readTar, writeTar } from './tar';

/** Bytes delivered in chunks of random sizes, as a network or a decompressor delivers them. */
async function* chunked(bytes: Uint8Array, seed = 1, max = 700): AsyncGenerator<Uint8Array> {
  const rand = mulberry32(seed);
  for (let o = 0; o < bytes.length; ) {
    const n = Math.min(bytes.length - o, 1 + Math.floor(rand() * max));
    yield bytes.slice(o, o + n);
    o += n;
  }
}

async function readAll(source: ByteSource) {
  const out: Array<{ name: string; type: string; data: Uint8Array }> = [];
  for await (const m of readTar(source)) out.push({ name: m.name, type: m.type, data: await m.bytes() });
  return out;
}

async function tarError(p: Promise<unknown>): Promise<TarError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TarError) return e;
    throw e;
  }
  throw new Error('expected a TarError');
}

const enc = new TextEncoder();
const rand = mulberry32(3);
const bytesOf = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
const longDir = 'bvlc_reference_rcnn_ilsvrc13/' + Array.from({ length: 4 }, (_, i) => `a-rather-long-folder-name-${i}`).join('/');

const entries = [
  { name: 'bvlc_reference_rcnn_ilsvrc13' },
  { name: 'bvlc_reference_rcnn_ilsvrc13/model.onnx', data: bytesOf(5000) },
  { name: 'bvlc_reference_rcnn_ilsvrc13/empty.txt', data: new Uint8Array(0) },
  { name: 'bvlc_reference_rcnn_ilsvrc13/exactly-512', data: bytesOf(512) },
  { name: `${longDir}/test_data_set_0/input_0.pb`, data: bytesOf(1234) },
  { name: 'x'.repeat(100), data: enc.encode('a name of exactly 100 bytes fills the field without a NUL') },
];

describe('streaming tar reader', () => {
  for (const longNames of ['gnu', 'pax'] as const) {
    it(`reads back what writeTar wrote (${longNames} long names), from chunks of any size`, async () => {
      const tar = writeTar(entries, { longNames });
      for (const seed of [1, 2, 3]) {
        const got = await readAll(chunked(tar, seed));
        expect(got.map((m) => m.name)).toEqual(entries.map((e) => (e.data ? e.name : `${e.name}/`)));
        expect(got[0].type).toBe('directory');
        for (let i = 1; i < entries.length; i++) expect(Array.from(got[i].data), entries[i].name).toEqual(Array.from(entries[i].data!));
      }
      expect(entries[4].name.length).toBeGreaterThan(100);
    });
  }

  it('reads archives written by GNU tar (gnu, pax and ustar formats, gzipped by gzip)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tar-test-'));
    try {
      const deep = join(dir, 'src', longDir, 'test_data_set_1');
      mkdirSync(deep, { recursive: true });
      writeFileSync(join(deep, 'output_0.pb'), entries[1].data!);
      writeFileSync(join(dir, 'src', 'model.onnx'), entries[3].data!);
      for (const format of ['gnu', 'pax', 'ustar']) {
        const out = join(dir, `${format}.tar.gz`);
        execFileSync('tar', ['-czf', out, `--format=${format}`, '-C', join(dir, 'src'), '.']);
        const got = await readAll(gunzip(chunked(new Uint8Array(readFileSync(out)), 5, 4096)));
        const files = Object.fromEntries(got.filter((m) => m.type === 'file').map((m) => [m.name, m.data]));
        expect(Object.keys(files).sort(), format).toEqual([`./${longDir}/test_data_set_1/output_0.pb`, './model.onnx'].sort());
        expect(Array.from(files[`./${longDir}/test_data_set_1/output_0.pb`])).toEqual(Array.from(entries[1].data!));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('skips members that are not read, and streams a member in chunks without holding it', async () => {
    const big = new Uint8Array(3_000_000).map((_, i) => i % 251);
    const tar = writeTar([{ name: 'skip-me', data: big }, { name: 'stream-me', data: big }, { name: 'last', data: enc.encode('end') }]);
    const gz = await gzipBytes(tar);
    expect(gz.length).toBeLessThan(tar.length / 10);
    let largest = 0;
    let total = 0;
    let sum = 0;
    let last = '';
    for await (const m of readTar(gunzip(chunked(gz, 9, 8192)))) {
      if (m.name === 'stream-me') {
        for await (const c of m.chunks()) {
          largest = Math.max(largest, c.length);
          total += c.length;
          for (let i = 0; i < c.length; i++) sum += c[i];
        }
      }
      if (m.name === 'last') last = new TextDecoder().decode(await m.bytes());
    }
    expect(total).toBe(big.length);
    expect(sum).toBe(big.reduce((a, b) => a + b, 0));
    expect(last).toBe('end');
    // The decompressor hands over small pieces: the 3 MB member never sat in memory whole.
    expect(largest).toBeLessThan(1 << 20);
  });

  it('names truncation: inside a header, inside a member, before the end-of-archive blocks', async () => {
    const tar = writeTar(entries);
    const inHeader = await tarError(readAll(chunked(tar.subarray(0, 512 + 100))));
    expect(inHeader.kind).toBe('truncated');
    expect(inHeader.message).toMatch(/ends inside a header at byte 512/);
    const inMember = await tarError(readAll(chunked(tar.subarray(0, 1024 + 3000))));
    expect(inMember.kind).toBe('truncated');
    expect(inMember.message).toMatch(/ends inside "bvlc_reference_rcnn_ilsvrc13\/model.onnx" \(3000 of its 5000 bytes\)/);
    // Skipped (unread) members are checked too.
    const skipped = await tarError((async () => {
      for await (const m of readTar(chunked(tar.subarray(0, 1024 + 3000)))) void m;
    })());
    expect(skipped.message).toMatch(/model.onnx/);
    const noEnd = await tarError(readAll(chunked(tar.subarray(0, tar.length - 1024))));
    expect(noEnd.message).toMatch(/ends after 6 members \(last "x{100}"\) without its end-of-archive blocks/);
    // Through gzip, a cut stream is the decompressor's error.
    const gz = await gzipBytes(tar);
    await expect(readAll(gunzip(chunked(gz.subarray(0, gz.length - 20))))).rejects.toThrow(/unexpected end of file|truncated/i);
  });

  it('refuses a header whose checksum does not match, and data that is not tar', async () => {
    const tar = writeTar(entries);
    const bad = tar.slice();
    bad[512 + 40] ^= 0x01; // a byte of model.onnx's name
    const e = await tarError(readAll(chunked(bad)));
    expect(e.kind).toBe('checksum');
    expect(e.message).toMatch(/bad header checksum at byte 512 \(after "bvlc_reference_rcnn_ilsvrc13\/"\)/);
    const notTar = await tarError(readAll(chunked(bytesOf(4096))));
    expect(['format', 'checksum']).toContain(notTar.kind);
    // Python's tarfile and old tars sum the bytes as signed chars: accepted as well.
    const signed = writeTar([{ name: 'caf\u00e9', data: enc.encode('x') }]);
    let s = 0;
    for (let i = 0; i < 512; i++) s += i >= 148 && i < 156 ? 32 : signed[i] > 127 ? signed[i] - 256 : signed[i];
    signed.set(enc.encode(s.toString(8).padStart(6, '0') + '\0 '), 148);
    expect((await readAll(chunked(signed))).map((m) => m.name)).toEqual(['caf\u00e9']);
  });

  it('with drain, reads a gzip stream to its end so the decompressor checks the trailer\'s CRC-32', async () => {
    // Record padding after the end-of-archive blocks (tar pads to 10 KiB records; here 4 MiB), then a damaged CRC.
    const tar = writeTar(entries, { mtime: 1 });
    const padded = new Uint8Array(tar.length + (4 << 20));
    padded.set(tar);
    const gz = await gzipBytes(padded);
    gz[gz.length - 8] ^= 0x01;
    const read = async (drain: boolean) => {
      let n = 0;
      for await (const m of readTar(gunzip(chunked(gz, 4, 300)), { drain })) n += (await m.bytes()).length;
      return n;
    };
    // Stopping at the end-of-archive blocks never reaches the trailer: the damage goes unseen.
    expect(await read(false)).toBe(entries.reduce((n, e) => n + (e.data?.length ?? 0), 0));
    await expect(read(true)).rejects.toThrow(/incorrect data check/);
  });

  it('collects a stream into one array', async () => {
    const b = bytesOf(10_000);
    expect(Array.from(await collect(chunked(b)))).toEqual(Array.from(b));
  });
});
