/**
 * A streaming tar reader (POSIX ustar, GNU and pax long names) and gzip through the platform's
 * DecompressionStream, so a 215 MB .tar.gz download is read as it arrives and only the members a
 * caller keeps are held in memory: the archive itself never is, compressed or not. No DOM, no
 * Node APIs: the page, workers and the CLI share it. A small tar writer is here too, for the
 * model-zoo replica and the tests.
 *
 * Format (POSIX.1-1988 ustar, GNU tar's manual "Basic Tar Format", POSIX.1-2001 pax): 512-byte
 * header blocks, each member's data padded to a multiple of 512, the archive closed by two zero
 * blocks. Header fields are NUL-padded ASCII; numbers are octal, except GNU's base-256 sizes for
 * members of 8 GiB and more. A name longer than 100 bytes travels in a preceding GNU 'L' member
 * or a pax 'x' record (`path=`), or split into ustar's prefix + name.
 */

export type ByteSource = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

export type TarErrorKind = 'truncated' | 'checksum' | 'format' | 'too-large';

export class TarError extends Error {
  override name = 'TarError';
  constructor(readonly kind: TarErrorKind, message: string) {
    super(message);
  }
}

export type TarMemberType = 'file' | 'directory' | 'link' | 'symlink' | 'other';

export interface TarMember {
  /** Path inside the archive, from a GNU long-name or pax `path` record when there is one. */
  name: string;
  size: number;
  type: TarMemberType;
  /** The raw type flag ('0' file, '5' directory, ...). */
  typeflag: string;
  /** Byte offset of the member's header in the (uncompressed) archive. */
  offset: number;
  /**
   * The member's whole content. Allocates `size` bytes: callers refuse members larger than they
   * expect (by `size`) before calling it. Valid only until the reader moves to the next member.
   */
  bytes(): Promise<Uint8Array>;
  /** The member's content as it streams in, without holding it. */
  chunks(): AsyncIterable<Uint8Array>;
}

const BLOCK = 512;
/** Long names and pax records are small; a bigger one is a damaged or hostile archive. */
const MAX_META_BYTES = 1 << 20;

/** An async iterator over a ReadableStream or an async iterable (Safari's streams are not iterable). */
export function iterate(source: ByteSource): AsyncIterator<Uint8Array> {
  if (typeof (source as ReadableStream).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    return {
      next: async () => {
        const r = await reader.read();
        return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
      },
      return: async () => {
        await reader.cancel().catch(() => undefined);
        return { done: true, value: undefined };
      },
    };
  }
  return (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
}

/** A ReadableStream over an async iterable (ReadableStream.from is missing in older browsers). */
export function toReadableStream(source: ByteSource): ReadableStream<Uint8Array> {
  if (typeof (source as ReadableStream).getReader === 'function') return source as ReadableStream<Uint8Array>;
  const it = iterate(source);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const r = await it.next();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    async cancel() {
      await it.return?.();
    },
  });
}

/** Pulls exact byte counts out of a chunked source. */
class ChunkReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private pos = 0;
  /** Bytes consumed so far. */
  offset = 0;
  private ended = false;

  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  private async fill(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      this.chunk = r.value;
      this.pos = 0;
    }
    return true;
  }

  /** Exactly n bytes, or what was there before the source ended (shorter). */
  async read(n: number): Promise<Uint8Array> {
    if (!(await this.fill())) return new Uint8Array(0);
    if (this.chunk.length - this.pos >= n) {
      const out = this.chunk.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return out;
    }
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n && (await this.fill())) {
      const take = Math.min(n - got, this.chunk.length - this.pos);
      out.set(this.chunk.subarray(this.pos, this.pos + take), got);
      this.pos += take;
      got += take;
      this.offset += take;
    }
    return got === n ? out : out.subarray(0, got);
  }

  /** Up to n bytes as they come (views into the source's chunks); stops early at the end. */
  async *stream(n: number): AsyncGenerator<Uint8Array> {
    while (n > 0 && (await this.fill())) {
      const take = Math.min(n, this.chunk.length - this.pos);
      const out = this.chunk.subarray(this.pos, this.pos + take);
      this.pos += take;
      this.offset += take;
      n -= take;
      yield out;
    }
  }

  /** Skips n bytes; returns how many there were. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    for await (const c of this.stream(n)) skipped += c.length;
    return skipped;
  }

  async close(): Promise<void> {
    if (!this.ended) await this.it.return?.();
  }
}

const ascii = new TextDecoder('utf-8');

function field(h: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && h[end] !== 0) end++;
  return ascii.decode(h.subarray(start, end));
}

/** A numeric header field: octal text, or GNU base-256 (high bit of the first byte set). */
function numberField(h: Uint8Array, start: number, len: number, what: string, at: number): number {
  if (h[start] & 0x80) {
    let v = h[start] & 0x3f;
    if (h[start] & 0x40) throw new TarError('format', `header at byte ${at}: negative ${what}`);
    for (let i = start + 1; i < start + len; i++) v = v * 256 + h[i];
    return v;
  }
  const text = field(h, start, len).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarError('format', `header at byte ${at}: ${what} "${text}" is not an octal number (not a tar archive?)`);
  return parseInt(text, 8);
}

/** Header checksum: the sum of the header's bytes with the checksum field read as 8 spaces. */
export function headerChecksum(h: Uint8Array, signed = false): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i];
    sum += signed && b > 127 ? b - 256 : b;
  }
  return sum;
}

function memberType(flag: string): TarMemberType {
  if (flag === '0' || flag === '\0' || flag === '' || flag === '7') return 'file';
  if (flag === '5') return 'directory';
  if (flag === '1') return 'link';
  if (flag === '2') return 'symlink';
  return 'other';
}

/** pax extended header records: "<length> <key>=<value>\n" each. */
function parsePax(data: Uint8Array, at: number): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    let sp = pos;
    while (sp < data.length && data[sp] !== 0x20) sp++;
    const len = Number(ascii.decode(data.subarray(pos, sp)));
    if (!Number.isInteger(len) || len <= sp - pos || pos + len > data.length) {
      if (data.subarray(pos).every((b) => b === 0)) break;
      throw new TarError('format', `pax header at byte ${at}: malformed record at ${pos}`);
    }
    const rec = ascii.decode(data.subarray(sp + 1, pos + len - 1));
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    pos += len;
  }
  return out;
}

const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/**
 * Reads a tar archive as it streams in. Each member is yielded before its data is read: call
 * `bytes()` or `chunks()` to take it, or move on and it is skipped. Throws TarError naming the
 * problem: 'truncated' (the source ends inside a header, a member or before the end-of-archive
 * blocks), 'checksum' (a header fails its checksum), 'format' (not tar). With `drain`, the source
 * is read to its end after the end-of-archive blocks: a gzip stream then checks its trailer (the
 * CRC-32 of all the data), which stopping early would skip.
 */
export async function* readTar(source: ByteSource, opts: { drain?: boolean } = {}): AsyncGenerator<TarMember> {
  const r = new ChunkReader(iterate(source));
  let longName: string | null = null;
  let pax: Map<string, string> | null = null;
  let last = '(none yet)';
  let count = 0;
  try {
    for (;;) {
      const at = r.offset;
      const h = await r.read(BLOCK);
      if (h.length === 0) {
        throw new TarError('truncated', `truncated: the archive ends after ${count} member${count === 1 ? '' : 's'} (last "${last}") without its end-of-archive blocks`);
      }
      if (h.length < BLOCK) throw new TarError('truncated', `truncated: the archive ends inside a header at byte ${at} (after "${last}")`);
      if (h.every((b) => b === 0)) {
        // End of archive: a second zero block and record padding may follow.
        if (opts.drain) while ((await r.skip(1 << 20)) > 0);
        return;
      }
      const stored = numberField(h, 148, 8, 'checksum', at);
      if (stored !== headerChecksum(h) && stored !== headerChecksum(h, true)) {
        throw new TarError('checksum', `bad header checksum at byte ${at} (after "${last}"): stored ${stored}, computed ${headerChecksum(h)}; the archive is damaged`);
      }
      const flag = String.fromCharCode(h[156]);
      let size = numberField(h, 124, 12, 'size', at);
      const magic = field(h, 257, 6);
      let name = field(h, 0, 100);
      // POSIX ustar splits long paths into prefix/name; GNU's "ustar  " magic uses that space otherwise.
      if (magic === 'ustar' && h[262] === 0 && h[345] !== 0) name = `${field(h, 345, 155)}/${name}`;
      if (flag === 'L' || flag === 'K' || flag === 'x' || flag === 'g') {
        if (size > MAX_META_BYTES) throw new TarError('format', `header at byte ${at}: a ${size}-byte long-name or pax record is not plausible`);
        const data = await r.read(size);
        if (data.length < size) throw new TarError('truncated', `truncated: the archive ends inside a long-name record at byte ${at}`);
        if ((await r.skip(padded(size) - size)) < padded(size) - size) throw new TarError('truncated', `truncated: the archive ends inside a long-name record at byte ${at}`);
        if (flag === 'L') longName = field(data, 0, data.length);
        else if (flag === 'x') pax = parsePax(data, at);
        continue; // 'K' (long link target) and 'g' (global pax) change nothing read here
      }
      if (longName !== null) name = longName;
      if (pax?.has('path')) name = pax.get('path')!;
      if (pax?.has('size')) size = Number(pax.get('size'));
      longName = null;
      pax = null;
      const type = memberType(flag);
      // Only regular files carry data (a hard link's size field is 0 by convention).
      const dataSize = type === 'file' || type === 'other' ? size : 0;
      let consumed = 0;
      let taken = false;
      const memberName = name;
      const take = () => {
        if (taken) throw new Error(`tar member "${memberName}" was already read`);
        taken = true;
      };
      const truncatedIn = () => new TarError('truncated', `truncated: the archive ends inside "${memberName}" (${consumed} of its ${dataSize} bytes)`);
      const member: TarMember = {
        name,
        size: dataSize,
        type,
        typeflag: flag,
        offset: at,
        bytes: async () => {
          take();
          const data = await r.read(dataSize);
          consumed = data.length;
          if (consumed < dataSize) throw truncatedIn();
          // A view into a source chunk may share its buffer with later data: copy small views.
          return data.byteLength === data.buffer.byteLength ? data : data.slice();
        },
        chunks: () => {
          take();
          return (async function* () {
            for await (const c of r.stream(dataSize)) {
              consumed += c.length;
              yield c;
            }
            if (consumed < dataSize) throw truncatedIn();
          })();
        },
      };
      yield member;
      count++;
      last = name;
      if (consumed < dataSize) {
        consumed += await r.skip(dataSize - consumed);
        if (consumed < dataSize) throw truncatedIn();
      }
      const pad = padded(dataSize) - dataSize;
      if ((await r.skip(pad)) < pad) throw new TarError('truncated', `truncated: the archive ends in the padding after "${name}"`);
    }
  } finally {
    await r.close();
  }
}

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Gunzips a byte stream as it flows (DecompressionStream: Chromium 80+, Firefox 113+, Safari 16.4+, Node 18+). */
export function gunzip(source: ByteSource): ReadableStream<Uint8Array> {
  return toReadableStream(source).pipeThrough(new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
}

/** Gzips bytes held in memory (the replica writer and tests). */
export async function gzipBytes(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = toReadableStream((async function* () {
    yield bytes;
  })()).pipeThrough(new CompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
  return collect(stream);
}

/** All of a stream's bytes in one array. */
export async function collect(source: ByteSource): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  const it = iterate(source);
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    parts.push(r.value);
    n += r.value.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export interface TarEntry {
  name: string;
  /** File content; omit for a directory. */
  data?: Uint8Array;
}

/**
 * A tar archive (GNU format: "ustar  " magic, 'L' records for names over 100 bytes, as GNU tar
 * and Python's tarfile write by default; `longNames: 'pax'` writes pax 'x' records instead).
 */
export function writeTar(entries: TarEntry[], opts: { longNames?: 'gnu' | 'pax'; mtime?: number } = {}): Uint8Array {
  const enc = new TextEncoder();
  const blocks: Uint8Array[] = [];
  const mtime = opts.mtime ?? 0;
  const header = (name: Uint8Array, size: number, flag: string, mode: number) => {
    const h = new Uint8Array(BLOCK);
    h.set(name.subarray(0, 100), 0);
    const octal = (v: number, start: number, len: number) => h.set(enc.encode(v.toString(8).padStart(len - 1, '0')), start);
    octal(mode, 100, 8);
    octal(0, 108, 8);
    octal(0, 116, 8);
    octal(size, 124, 12);
    octal(mtime, 136, 12);
    h[156] = flag.charCodeAt(0);
    h.set(enc.encode(opts.longNames === 'pax' ? 'ustar\x0000' : 'ustar  \x00'), 257);
    const sum = headerChecksum(h);
    h.set(enc.encode(sum.toString(8).padStart(6, '0') + '\x00 '), 148);
    return h;
  };
  const data = (d: Uint8Array) => {
    blocks.push(d);
    if (d.length % BLOCK) blocks.push(new Uint8Array(BLOCK - (d.length % BLOCK)));
  };
  for (const e of entries) {
    const dir = e.data === undefined;
    const path = enc.encode(dir && !e.name.endsWith('/') ? `${e.name}/` : e.name);
    if (path.length > 100) {
      if (opts.longNames === 'pax') {
        const rec = (len: number) => enc.encode(`${len} path=${dir ? `${e.name}/` : e.name}\n`);
        let len = rec(0).length;
        while (rec(len).length !== len) len = rec(len).length;
        blocks.push(header(enc.encode('PaxHeader'), len, 'x', 0o644));
        data(rec(len));
      } else {
        const body = new Uint8Array(path.length + 1);
        body.set(path);
        blocks.push(header(enc.encode('././@LongLink'), body.length, 'L', 0o644));
        data(body);
      }
    }
    blocks.push(header(path, e.data?.length ?? 0, dir ? '5' : '0', dir ? 0o755 : 0o644));
    if (e.data) data(e.data);
  }
  blocks.push(new Uint8Array(2 * BLOCK));
  const total = blocks.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of blocks) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}
