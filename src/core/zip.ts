/**
 * A small .zip reader and writer (PKWARE APPNOTE 6.3): what a PASCAL VOC dataset travels in.
 * No dependency: deflate is the platform's own DecompressionStream / CompressionStream
 * ('deflate-raw', in every current browser and Node 20), stored entries are copied.
 *
 * Reading goes through the central directory at the end of the file (the authoritative list; the
 * local headers may carry zeros when a data descriptor follows the data), and reads each entry
 * only when asked, so a 2 GB zip of photos is never in memory at once: a Blob source slices the
 * file. Every entry is checked against its CRC-32 and declared size.
 *
 * Refused, each with one message that says what is wrong and what to do: zip64 archives (over
 * 4 GB or 65,535 entries), archives split over several files, encrypted entries, compression
 * methods other than stored (0) and deflate (8), and anything that does not parse (truncated
 * files, offsets outside the file, a CRC that does not match).
 */

export class ZipError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'ZipError';
  }
}

/** Random access to the bytes of a zip file (a Uint8Array or a File/Blob). */
export interface ZipSource {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function zipSourceFromBytes(bytes: Uint8Array): ZipSource {
  return { size: bytes.length, read: async (o, n) => bytes.subarray(o, o + n) };
}

export function zipSourceFromBlob(blob: Blob): ZipSource {
  return { size: blob.size, read: async (o, n) => new Uint8Array(await blob.slice(o, o + n).arrayBuffer()) };
}

export interface ZipEntry {
  /** Path inside the archive, '/'-separated. */
  name: string;
  /** Uncompressed and stored sizes, from the central directory. */
  size: number;
  compressedSize: number;
  method: 0 | 8;
  crc32: number;
  /** The entry's bytes, inflated and checked (CRC-32 and size). */
  read(): Promise<Uint8Array>;
}

export interface ReadZipOptions {
  /** Name shown in messages (the file's name). */
  name?: string;
  /** Largest uncompressed entry accepted (default 400 MB, the app's largest photo file). */
  maxEntryBytes?: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const DEFAULT_MAX_ENTRY = 400 * 1024 * 1024;

const REMAKE_HINT = 'Make the zip again (e.g. "Compress" in your file manager, or `zip -r data.zip JPEGImages Annotations`) and load the new file.';

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, the zip and PNG polynomial). */
export function crc32(data: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function formatSize(b: number): string {
  return b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(0)} MB` : b >= 1024 ? `${(b / 1024).toFixed(0)} KB` : `${b} bytes`;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The entries of a zip archive (directories left out), in central-directory order. Throws a
 * ZipError for anything this reader cannot or will not read.
 */
export async function readZip(source: ZipSource | Uint8Array, opts: ReadZipOptions = {}): Promise<ZipEntry[]> {
  const src = source instanceof Uint8Array ? zipSourceFromBytes(source) : source;
  const name = opts.name ?? 'the zip file';
  const broken = (why: string) => new ZipError(`${name} is not a readable .zip file: ${why}.`, REMAKE_HINT);
  if (src.size < EOCD_SIZE) throw broken(src.size === 0 ? 'it is empty (0 bytes)' : `it is only ${src.size} bytes long`);
  // The end-of-central-directory record sits in the last 22 bytes plus a comment of up to 64 KB.
  const tailLength = Math.min(src.size, EOCD_SIZE + 0xffff);
  const tailStart = src.size - tailLength;
  const tail = await src.read(tailStart, tailLength);
  const tv = view(tail);
  let eocd = -1;
  for (let p = tail.length - EOCD_SIZE; p >= 0; p--) {
    if (tv.getUint32(p, true) === SIG_EOCD && p + EOCD_SIZE + tv.getUint16(p + 20, true) <= tail.length) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) {
    const head = await src.read(0, 4);
    const local = head.length === 4 && view(head).getUint32(0, true) === SIG_LOCAL;
    throw broken(local ? 'it starts like a zip but its end (the table of contents) is missing, so the file is probably truncated' : 'it has no zip table of contents (is it really a .zip?)');
  }
  const disk = tv.getUint16(eocd + 4, true);
  const cdDisk = tv.getUint16(eocd + 6, true);
  const count = tv.getUint16(eocd + 10, true);
  const cdSize = tv.getUint32(eocd + 12, true);
  const cdOffset = tv.getUint32(eocd + 16, true);
  const zip64Locator = eocd >= 20 && tv.getUint32(eocd - 20, true) === SIG_ZIP64_LOCATOR;
  if (zip64Locator || count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    throw new ZipError(`${name} is a zip64 archive (over 4 GB or 65,535 files), which this app does not read.`, 'Split the dataset into smaller zips (under 4 GB and 65,535 files each) and load them one after another.');
  }
  if (disk !== 0 || cdDisk !== 0) throw new ZipError(`${name} is one part of a zip split over several files, which this app does not read.`, 'Join the parts into one .zip (e.g. `zip -s 0 split.zip --out whole.zip`) and load that.');
  const eocdAbs = tailStart + eocd;
  if (cdOffset + cdSize > eocdAbs) throw broken(`its table of contents points past the end of the file (offset ${cdOffset} + ${cdSize} bytes, the file has ${eocdAbs}): the file is probably truncated`);
  const cd = await src.read(cdOffset, cdSize);
  const cv = view(cd);
  const maxEntry = opts.maxEntryBytes ?? DEFAULT_MAX_ENTRY;
  const utf8 = new TextDecoder('utf-8');
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cd.length || cv.getUint32(p, true) !== SIG_CENTRAL) throw broken(`entry ${k + 1} of ${count} in its table of contents is damaged`);
    const flags = cv.getUint16(p + 8, true);
    const method = cv.getUint16(p + 10, true);
    const crc = cv.getUint32(p + 16, true);
    const compressedSize = cv.getUint32(p + 20, true);
    const size = cv.getUint32(p + 24, true);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLen = cv.getUint16(p + 32, true);
    const localOffset = cv.getUint32(p + 42, true);
    if (p + 46 + nameLen > cd.length) throw broken(`entry ${k + 1} of ${count} in its table of contents is cut short`);
    // Bit 11 says UTF-8; older tools write CP437 without it, which is ASCII for the names datasets use.
    const entryName = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen)).replace(/\\/g, '/');
    p += 46 + nameLen + extraLen + commentLen;
    if (entryName.endsWith('/')) continue;
    if (size === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
      throw new ZipError(`${name}: ${entryName} is stored as zip64 (over 4 GB), which this app does not read.`, 'Use files under 4 GB in a plain zip.');
    }
    if (flags & 1) throw new ZipError(`${name}: ${entryName} is encrypted (password-protected).`, 'Make the zip again without a password.');
    if (method !== 0 && method !== 8) {
      throw new ZipError(`${name}: ${entryName} is compressed with method ${method}${method === 12 ? ' (bzip2)' : method === 14 ? ' (LZMA)' : method === 93 ? ' (Zstandard)' : method === 99 ? ' (AES encryption)' : ''}; this app reads stored and deflated entries only.`, 'Make the zip again with ordinary (deflate) compression, the default of every zip tool.');
    }
    if (size > maxEntry) throw new ZipError(`${name}: ${entryName} is ${formatSize(size)} uncompressed, more than the ${formatSize(maxEntry)} this app reads per file.`, 'Leave very large files out of the zip.');
    if (method === 0 && compressedSize !== size) throw broken(`${entryName} is stored uncompressed but its two sizes differ (${compressedSize} and ${size})`);
    const m = method as 0 | 8;
    entries.push({
      name: entryName,
      size,
      compressedSize,
      method: m,
      crc32: crc,
      read: async () => {
        if (localOffset + 30 > cdOffset) throw broken(`${entryName} starts past the data area`);
        const lh = await src.read(localOffset, 30);
        const lv = view(lh);
        if (lh.length < 30 || lv.getUint32(0, true) !== SIG_LOCAL) throw broken(`the header of ${entryName} is missing or damaged`);
        const start = localOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
        if (start + compressedSize > cdOffset) throw broken(`${entryName} runs past the data area (the file may be truncated)`);
        const raw = await src.read(start, compressedSize);
        const data = m === 0 ? raw : await inflateRaw(raw, size, () => broken(`${entryName} does not inflate (its compressed data is damaged)`));
        if (data.length !== size) throw broken(`${entryName} inflates to ${data.length} bytes where its header says ${size}`);
        if (crc32(data) !== crc) throw broken(`${entryName} fails its CRC-32 check (the data is damaged)`);
        return data;
      },
    });
  }
  return entries;
}

/** Inflates raw deflate data, stopping as soon as more than `expected` bytes come out (a zip bomb). */
async function inflateRaw(raw: Uint8Array, expected: number, damaged: () => ZipError): Promise<Uint8Array> {
  const stream = new Blob([raw as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const reader = stream.getReader();
  const out = new Uint8Array(expected);
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (n + value.length > expected) {
        await reader.cancel();
        throw damaged();
      }
      out.set(value, n);
      n += value.length;
    }
  } catch (e) {
    if (e instanceof ZipError) throw e;
    throw damaged();
  }
  return out.subarray(0, n);
}

async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const buf = await new Response(new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream('deflate-raw'))).arrayBuffer();
  return new Uint8Array(buf);
}

export interface ZipInputFile {
  name: string;
  bytes: Uint8Array;
  /**
   * Deflate this file (default: yes unless it is already compressed: JPEG, PNG and the like are
   * stored, since deflating them saves about nothing and costs time).
   */
  compress?: boolean;
}

const ALREADY_COMPRESSED = /\.(jpe?g|png|gif|webp|avif|heic|zip|gz|rcnn)$/i;

function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, d.getFullYear());
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/**
 * A zip archive of `files` (UTF-8 names, stored or deflated). Refuses what only zip64 could
 * hold (an entry or the archive over 4 GB, more than 65,535 entries) with a ZipError.
 */
export async function writeZip(files: readonly ZipInputFile[], opts: { date?: Date } = {}): Promise<Uint8Array> {
  if (files.length > 0xfffe) throw new ZipError(`A zip holds at most 65,534 files here; this one would hold ${files.length}.`, 'Export fewer photos at a time.');
  const { time, date } = dosDateTime(opts.date ?? new Date());
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const seen = new Set<string>();
  for (const f of files) {
    const name = f.name.replace(/\\/g, '/').replace(/^\/+/, '');
    if (!name || name.endsWith('/')) throw new Error(`zip: "${f.name}" is not a file name`);
    if (seen.has(name)) throw new Error(`zip: ${name} is listed twice`);
    seen.add(name);
    const nameBytes = enc.encode(name);
    const crc = crc32(f.bytes);
    let method = 0;
    let data = f.bytes;
    if (f.compress ?? !ALREADY_COMPRESSED.test(name)) {
      const d = await deflateRaw(f.bytes);
      if (d.length < f.bytes.length) {
        method = 8;
        data = d;
      }
    }
    if (f.bytes.length >= 0xffffffff || offset + 30 + nameBytes.length + data.length >= 0xffffffff) {
      throw new ZipError(`The zip would pass 4 GB at ${name}, which needs zip64 (not written here).`, 'Export fewer photos at a time.');
    }
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = view(local);
    lv.setUint32(0, SIG_LOCAL, true);
    lv.setUint16(4, 20, true); // version needed: 2.0 (deflate)
    lv.setUint16(6, 0x0800, true); // UTF-8 names
    lv.setUint16(8, method, true);
    lv.setUint16(10, time, true);
    lv.setUint16(12, date, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, f.bytes.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    const c = new Uint8Array(46 + nameBytes.length);
    const cv = view(c);
    cv.setUint32(0, SIG_CENTRAL, true);
    cv.setUint16(4, 20, true); // made by: MS-DOS/FAT attributes, version 2.0
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x0800, true);
    cv.setUint16(10, method, true);
    cv.setUint16(12, time, true);
    cv.setUint16(14, date, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, f.bytes.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    c.set(nameBytes, 46);
    parts.push(local, data);
    central.push(c);
    offset += local.length + data.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  if (offset + cdSize + EOCD_SIZE >= 0xffffffff) throw new ZipError('The zip would pass 4 GB, which needs zip64 (not written here).', 'Export fewer photos at a time.');
  const end = new Uint8Array(EOCD_SIZE);
  const ev = view(end);
  ev.setUint32(0, SIG_EOCD, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + EOCD_SIZE);
  let o = 0;
  for (const part of [...parts, ...central, end]) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}
