/**
 * Baseline JPEG decoded straight to 1/2, 1/4 or 1/8 of its size, for photos far larger than the
 * working image (src/core/image/decode.ts). jpeg-js decodes only at full size and keeps every
 * 8 x 8 block as its own Int32Array: a 12000 x 9000 photo took 2.2 GB of memory and over a minute
 * in `rcnn proposals` (20.7 s in Chromium), to be shrunk to 1600 x 1200 right after.
 *
 * Here each block's coefficients are Huffman-decoded and turned directly into the block's
 * reduced pixels, nothing is kept per block, and only the reduced planes are stored. A reduced
 * pixel is the exact mean of the k x k full-size pixels it covers (k = 2, 4, 8), computed in the
 * DCT domain: the inverse DCT is linear, so the mean of f(x, y) over a group of x and y is
 *   sum_u sum_v F(u, v) M_gy(v) M_gx(u),  M_g(u) = C(u)/2 * mean over x in g of cos((2x+1) u pi / 16),
 * with C(0) = 1/sqrt(2), else 1 (ITU T.81, A.3.3). At 1/8 this is the DC term alone (F(0,0) / 8),
 * as in libjpeg's scaled decoding; 1/2 and 1/4 are a box filter, the same area average resize.ts
 * applies. Subsampled chroma is reduced less (a 4:2:0 chroma block covers 16 x 16 pixels), so
 * each output pixel gets the chroma of exactly its area; YCbCr is converted with the JFIF equations.
 *
 * Handles baseline and extended sequential Huffman JPEGs (SOF0, SOF1) with 8-bit samples, one
 * (grey) or three (YCbCr, or RGB per Adobe's APP14) components, any sampling factors, restart
 * intervals and multiple scans. Anything else (progressive, arithmetic, CMYK, 12-bit) returns
 * null, and the caller decodes it at full size.
 */

export type JpegScale = 2 | 4 | 8;

export interface ScaledJpeg {
  /** ceil(full size / scale), as libjpeg sizes scaled output. */
  width: number;
  height: number;
  /** RGB, 3 bytes per pixel. */
  data: Uint8Array;
  fullWidth: number;
  fullHeight: number;
  scale: JpegScale;
}

const ZIGZAG = new Int32Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29,
  22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

/** M[g * 8 + u] for `n` output samples per block side (see the header). */
function groupMeans(n: number): Float64Array {
  const k = 8 / n;
  const m = new Float64Array(n * 8);
  for (let g = 0; g < n; g++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let x = g * k; x < (g + 1) * k; x++) s += Math.cos(((2 * x + 1) * u * Math.PI) / 16);
      m[g * 8 + u] = ((u === 0 ? Math.SQRT1_2 : 1) / 2) * (s / k);
    }
  }
  return m;
}

/** Huffman table as a 9-bit lookahead (code length << 8 | value, 0 when longer) plus the canonical tables. */
interface Huffman {
  fast: Uint16Array;
  maxcode: Int32Array;
  valptr: Int32Array;
  mincode: Int32Array;
  values: Uint8Array;
}

const FAST_BITS = 9;

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const fast = new Uint16Array(1 << FAST_BITS);
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    valptr[len] = k;
    mincode[len] = code;
    for (let i = 0; i < counts[len - 1]; i++, k++, code++) {
      if (len <= FAST_BITS) {
        const shift = FAST_BITS - len;
        for (let j = 0; j < 1 << shift; j++) fast[(code << shift) | j] = (len << 8) | values[k];
      }
    }
    maxcode[len] = counts[len - 1] ? code - 1 : -1;
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  return { fast, maxcode, valptr, mincode, values };
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** Blocks covering the component's own samples, and the MCU-padded count (interleaved scans). */
  blocksPerLine: number;
  blocksPerColumn: number;
  mcuBlocksPerLine: number;
  mcuBlocksPerColumn: number;
  /**
   * Reduced samples per block, across and down: as many as the block spans output pixels, so a
   * subsampled chroma block (16 x 16 pixels in 4:2:0) keeps twice the luma's count; at most 8.
   */
  nx: number;
  ny: number;
  /** Reduced samples over the padded block grid. */
  plane: Uint8Array;
  planeWidth: number;
  planeHeight: number;
  dcPred: number;
  dcTable: Huffman | null;
  acTable: Huffman | null;
}

class Unsupported extends Error {}

/**
 * Decode `bytes` at 1/`scale` of its size. Returns null for JPEGs this reader does not handle
 * (the caller falls back to a full-size decoder); throws on corrupt data it does handle.
 */
export function decodeJpegScaled(bytes: Uint8Array, scale: JpegScale): ScaledJpeg | null {
  try {
    return decode(bytes, scale);
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
}

function decode(b: Uint8Array, scale: JpegScale): ScaledJpeg {
  const quant: Array<Float64Array | undefined> = [];
  const dcTables: Array<Huffman | undefined> = [];
  const acTables: Array<Huffman | undefined> = [];
  let components: Component[] = [];
  let width = 0;
  let height = 0;
  let maxH = 1;
  let maxV = 1;
  let restartInterval = 0;
  let adobeTransform = -1;
  let frameSeen = false;
  if (b[0] !== 0xff || b[1] !== 0xd8) throw new Error('not a JPEG (no start-of-image marker)');
  let p = 2;
  const u16 = (o: number) => (b[o] << 8) | b[o + 1];
  // Scratch for one block: dequantized coefficients (natural order) and the row pass.
  const coef = new Float64Array(64);
  const tmp = new Float64Array(64);

  for (;;) {
    // Find the next marker (fill bytes 0xFF may repeat).
    while (p < b.length && b[p] !== 0xff) p++;
    while (p < b.length && b[p] === 0xff) p++;
    if (p >= b.length) break;
    const marker = b[p++];
    if (marker === 0xd9) break; // EOI
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    if (p + 2 > b.length) throw new Error('truncated marker segment');
    const len = u16(p);
    const end = p + len;
    if (end > b.length) throw new Error('truncated marker segment');
    const seg = p + 2;
    if (marker === 0xdb) {
      // DQT: 8- or 16-bit tables, in zigzag order.
      let q = seg;
      while (q < end) {
        const pq = b[q] >> 4, tq = b[q] & 15;
        q++;
        const t = new Float64Array(64);
        for (let i = 0; i < 64; i++) {
          t[ZIGZAG[i]] = pq ? u16(q + 2 * i) : b[q + i];
        }
        q += pq ? 128 : 64;
        quant[tq] = t;
      }
    } else if (marker === 0xc4) {
      let q = seg;
      while (q < end) {
        const tc = b[q] >> 4, th = b[q] & 15;
        const counts = b.subarray(q + 1, q + 17);
        let total = 0;
        for (let i = 0; i < 16; i++) total += counts[i];
        const values = b.slice(q + 17, q + 17 + total);
        (tc === 0 ? dcTables : acTables)[th] = buildHuffman(counts, values);
        q += 17 + total;
      }
    } else if (marker === 0xdd) {
      restartInterval = u16(seg);
    } else if (marker === 0xee) {
      // Adobe APP14: byte 11 of the payload is the colour transform (0: none, 1: YCbCr, 2: YCCK).
      if (len >= 14 && String.fromCharCode(b[seg], b[seg + 1], b[seg + 2], b[seg + 3], b[seg + 4]) === 'Adobe') adobeTransform = b[seg + 11];
    } else if (marker === 0xc0 || marker === 0xc1) {
      if (b[seg] !== 8) throw new Unsupported('only 8-bit samples');
      height = u16(seg + 1);
      width = u16(seg + 3);
      const nc = b[seg + 5];
      if (nc !== 1 && nc !== 3) throw new Unsupported(`${nc} components`);
      if (!width || !height) throw new Unsupported('the height is given later (DNL)');
      components = [];
      for (let i = 0; i < nc; i++) {
        const o = seg + 6 + 3 * i;
        components.push({ id: b[o], h: b[o + 1] >> 4 || 1, v: b[o + 1] & 15 || 1, tq: b[o + 2], blocksPerLine: 0, blocksPerColumn: 0, mcuBlocksPerLine: 0, mcuBlocksPerColumn: 0, nx: 0, ny: 0, plane: new Uint8Array(0), planeWidth: 0, planeHeight: 0, dcPred: 0, dcTable: null, acTable: null });
      }
      maxH = Math.max(...components.map((c) => c.h));
      maxV = Math.max(...components.map((c) => c.v));
      const mcusPerLine = Math.ceil(width / (8 * maxH));
      const mcusPerColumn = Math.ceil(height / (8 * maxV));
      for (const c of components) {
        c.blocksPerLine = Math.ceil((Math.ceil(width / 8) * c.h) / maxH);
        c.blocksPerColumn = Math.ceil((Math.ceil(height / 8) * c.v) / maxV);
        c.mcuBlocksPerLine = mcusPerLine * c.h;
        c.mcuBlocksPerColumn = mcusPerColumn * c.v;
        // A block spans 8 * maxH / h full pixels across, that / scale output pixels.
        c.nx = samplesPerBlock(maxH, c.h, scale);
        c.ny = samplesPerBlock(maxV, c.v, scale);
        c.planeWidth = c.mcuBlocksPerLine * c.nx;
        c.planeHeight = c.mcuBlocksPerColumn * c.ny;
        c.plane = new Uint8Array(c.planeWidth * c.planeHeight);
      }
      frameSeen = true;
    } else if ((marker >= 0xc2 && marker <= 0xc3) || (marker >= 0xc5 && marker <= 0xcf && marker !== 0xc8 && marker !== 0xcc)) {
      throw new Unsupported(`SOF${marker - 0xc0} (progressive, lossless or arithmetic coding)`);
    } else if (marker === 0xda) {
      if (!frameSeen) throw new Error('scan before the frame header');
      const ns = b[seg];
      const scan: Component[] = [];
      for (let i = 0; i < ns; i++) {
        const id = b[seg + 1 + 2 * i], tables = b[seg + 2 + 2 * i];
        const c = components.find((x) => x.id === id);
        if (!c) throw new Error(`scan names component ${id}, which the frame does not have`);
        c.dcTable = dcTables[tables >> 4] ?? null;
        c.acTable = acTables[tables & 15] ?? null;
        if (!c.dcTable || !c.acTable) throw new Error('scan uses a Huffman table that was not defined');
        if (!quant[c.tq]) throw new Error('component uses a quantization table that was not defined');
        scan.push(c);
      }
      p = decodeScan(b, end, scan, restartInterval, quant, coef, tmp, maxH, maxV, width, height);
      continue;
    }
    p = end;
  }
  if (!frameSeen) throw new Error('no frame header (SOF) found');
  return toRgb(components, width, height, scale, maxH, maxV, adobeTransform);
}

/** Output samples per block side for a component subsampled by max / f, at 1/scale; a power of two up to 8. */
function samplesPerBlock(max: number, f: number, scale: number): number {
  const ratio = max / f;
  if (ratio !== 1 && ratio !== 2 && ratio !== 4) throw new Unsupported(`sampling factor ratio ${ratio}`);
  return Math.min(8, (8 * ratio) / scale);
}

const MEANS = new Map<number, Float64Array>();
function means(n: number): Float64Array {
  let m = MEANS.get(n);
  if (!m) MEANS.set(n, (m = groupMeans(n)));
  return m;
}

/** Decodes one scan from `start`; returns the offset of the marker that ends it. */
function decodeScan(
  b: Uint8Array,
  start: number,
  scan: Component[],
  restartInterval: number,
  quant: Array<Float64Array | undefined>,
  coef: Float64Array,
  tmp: Float64Array,
  maxH: number,
  maxV: number,
  width: number,
  height: number,
): number {
  let pos = start;
  // Bit reader: `bits` holds `count` valid bits, most significant first. At a marker (0xFF
  // followed by anything but 0x00) it stops consuming and feeds zeros, as decoders do for
  // truncated data; the caller resynchronises at restart markers.
  let bits = 0;
  let count = 0;
  let atMarker = false;
  const fill = () => {
    while (count <= 24) {
      let byte = 0;
      if (!atMarker && pos < b.length) {
        byte = b[pos];
        if (byte === 0xff) {
          const next = b[pos + 1];
          if (next === 0x00) pos += 2;
          else {
            atMarker = true;
            byte = 0;
          }
        } else pos++;
      }
      bits = (bits << 8) | byte;
      count += 8;
    }
  };
  const getBits = (k: number): number => {
    if (k === 0) return 0;
    if (count < k) fill();
    count -= k;
    return (bits >>> count) & ((1 << k) - 1);
  };
  const decodeHuff = (h: Huffman): number => {
    if (count < 16) fill();
    const look = (bits >>> (count - FAST_BITS)) & ((1 << FAST_BITS) - 1);
    const f = h.fast[look];
    if (f) {
      count -= f >> 8;
      return f & 255;
    }
    let len = FAST_BITS + 1;
    let code = (bits >>> (count - len)) & ((1 << len) - 1);
    while (len <= 16 && code > h.maxcode[len]) {
      len++;
      code = (bits >>> (count - len)) & ((1 << len) - 1);
    }
    if (len > 16) throw new Error('corrupt Huffman code');
    count -= len;
    return h.values[h.valptr[len] + code - h.mincode[len]];
  };
  const extend = (v: number, s: number) => (v < 1 << (s - 1) ? v - (1 << s) + 1 : v);

  // Rows (vertical frequencies) of the current block holding a nonzero AC coefficient, as bits:
  // most blocks of a photo have few, and a block with none is flat (its DC term alone).
  let rows = 0;
  const decodeBlock = (c: Component, blockRow: number, blockCol: number) => {
    const q = quant[c.tq]!;
    const s = decodeHuff(c.dcTable!);
    const diff = s === 0 ? 0 : extend(getBits(s), s);
    c.dcPred += diff;
    coef[0] = c.dcPred * q[0];
    rows = 0;
    for (let k = 1; k < 64; ) {
      const rs = decodeHuff(c.acTable!);
      const r = rs >> 4, sz = rs & 15;
      if (sz === 0) {
        if (r === 15) {
          k += 16;
          continue;
        }
        break; // end of block
      }
      k += r;
      if (k > 63) throw new Error('corrupt block: coefficient index past 63');
      const z = ZIGZAG[k];
      coef[z] = extend(getBits(sz), sz) * q[z];
      rows |= 1 << (z >> 3);
      k++;
    }
    // Reduced block: rows first (tmp[v * nx + gx] = sum_u Mx[gx][u] F[v][u]), then columns.
    const plane = c.plane, pw = c.planeWidth, nx = c.nx, ny = c.ny;
    const x0 = blockCol * nx, y0 = blockRow * ny;
    if (rows === 0 || (nx === 1 && ny === 1)) {
      // Flat block, or 1/8 scale: the mean is the DC term (every other basis function averages to 0).
      const v0 = Math.round(coef[0] / 8 + 128);
      const val = v0 < 0 ? 0 : v0 > 255 ? 255 : v0;
      for (let gy = 0; gy < ny; gy++) for (let o = (y0 + gy) * pw + x0, e = o + nx; o < e; o++) plane[o] = val;
      clearRows(rows | 1);
      return;
    }
    const Mx = means(nx), My = means(ny);
    rows |= 1; // the DC row
    for (let v = 0; v < 8; v++) {
      const row = v * 8;
      if (!(rows & (1 << v))) {
        for (let gx = 0; gx < nx; gx++) tmp[v * nx + gx] = 0;
        continue;
      }
      for (let gx = 0; gx < nx; gx++) {
        const m = gx * 8;
        let acc = 0;
        for (let u = 0; u < 8; u++) acc += Mx[m + u] * coef[row + u];
        tmp[v * nx + gx] = acc;
      }
    }
    for (let gy = 0; gy < ny; gy++) {
      const m = gy * 8;
      const out = (y0 + gy) * pw + x0;
      for (let gx = 0; gx < nx; gx++) {
        let acc = 0;
        for (let v = 0; v < 8; v++) acc += My[m + v] * tmp[v * nx + gx];
        const val = Math.round(acc + 128);
        plane[out + gx] = val < 0 ? 0 : val > 255 ? 255 : val;
      }
    }
    clearRows(rows);
  };
  /** Zero the coefficient rows the last block wrote (cheaper than all 64 for mostly-flat photos). */
  const clearRows = (mask: number) => {
    for (let v = 0; mask; v++, mask >>= 1) if (mask & 1) for (let i = v * 8; i < v * 8 + 8; i++) coef[i] = 0;
  };

  for (const c of scan) c.dcPred = 0;
  // A scan of one component (non-interleaved) walks that component's own blocks; a scan of all
  // components walks MCUs of h x v blocks each (ITU T.81, A.2).
  const single = scan.length === 1;
  const c0 = scan[0];
  const mcusPerLine = single ? c0.blocksPerLine : Math.ceil(width / (8 * maxH));
  const mcusPerColumn = single ? c0.blocksPerColumn : Math.ceil(height / (8 * maxV));
  const total = mcusPerLine * mcusPerColumn;
  for (let mcu = 0; mcu < total; mcu++) {
    if (restartInterval && mcu > 0 && mcu % restartInterval === 0) {
      // Resynchronise: drop the bits left in this byte, find the RSTn marker, reset predictors.
      count = 0;
      bits = 0;
      atMarker = false;
      while (pos + 1 < b.length && !(b[pos] === 0xff && b[pos + 1] >= 0xd0 && b[pos + 1] <= 0xd7)) pos++;
      if (pos + 1 < b.length) pos += 2;
      for (const c of scan) c.dcPred = 0;
    }
    const row = Math.floor(mcu / mcusPerLine), col = mcu % mcusPerLine;
    if (single) {
      decodeBlock(c0, row, col);
    } else {
      for (const c of scan) {
        for (let by = 0; by < c.v; by++) for (let bx = 0; bx < c.h; bx++) decodeBlock(c, row * c.v + by, col * c.h + bx);
      }
    }
  }
  // The scan ends at the next marker (other than RSTn).
  while (pos + 1 < b.length && !(b[pos] === 0xff && b[pos + 1] !== 0x00 && !(b[pos + 1] >= 0xd0 && b[pos + 1] <= 0xd7))) pos++;
  return pos;
}

function toRgb(components: Component[], width: number, height: number, scale: JpegScale, maxH: number, maxV: number, adobeTransform: number): ScaledJpeg {
  const w = Math.ceil(width / scale), h = Math.ceil(height / scale);
  const out = new Uint8Array(w * h * 3);
  // Column and row of each component's plane for each output pixel: one to one, unless a
  // component has fewer samples than output pixels (4:1:1 at 1/2), which are then replicated.
  const idx = components.map((c) => {
    const xs = new Int32Array(w), ys = new Int32Array(h);
    for (let x = 0; x < w; x++) xs[x] = Math.min(c.planeWidth - 1, Math.floor((x * c.nx * c.h * scale) / (8 * maxH)));
    for (let y = 0; y < h; y++) ys[y] = Math.min(c.planeHeight - 1, Math.floor((y * c.ny * c.v * scale) / (8 * maxV))) * c.planeWidth;
    return { xs, ys, plane: c.plane };
  });
  if (components.length === 1) {
    const { xs, ys, plane } = idx[0];
    for (let y = 0, o = 0; y < h; y++) {
      const row = ys[y];
      for (let x = 0; x < w; x++, o += 3) out[o] = out[o + 1] = out[o + 2] = plane[row + xs[x]];
    }
  } else {
    const [a, b2, c] = idx;
    const rgb = adobeTransform === 0; // Adobe files may store RGB directly
    for (let y = 0, o = 0; y < h; y++) {
      const ra = a.ys[y], rb = b2.ys[y], rc = c.ys[y];
      for (let x = 0; x < w; x++, o += 3) {
        const Y = a.plane[ra + a.xs[x]], Cb = b2.plane[rb + b2.xs[x]], Cr = c.plane[rc + c.xs[x]];
        if (rgb) {
          out[o] = Y;
          out[o + 1] = Cb;
          out[o + 2] = Cr;
          continue;
        }
        const R = Math.round(Y + 1.402 * (Cr - 128));
        const G = Math.round(Y - 0.344136 * (Cb - 128) - 0.714136 * (Cr - 128));
        const B = Math.round(Y + 1.772 * (Cb - 128));
        out[o] = R < 0 ? 0 : R > 255 ? 255 : R;
        out[o + 1] = G < 0 ? 0 : G > 255 ? 255 : G;
        out[o + 2] = B < 0 ? 0 : B > 255 ? 255 : B;
      }
    }
  }
  return { width: w, height: h, data: out, fullWidth: width, fullHeight: height, scale };
}
