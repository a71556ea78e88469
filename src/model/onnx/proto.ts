/**
 * The subset of onnx.proto (ONNX IR, https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) that
 * the AlexNet family needs, with a hand-written protobuf wire-format decoder and encoder: a few
 * hundred lines instead of protobufjs + a schema in the browser bundle. Unknown fields are
 * skipped, so newer writers' extras do not break reading. Field numbers are onnx.proto's.
 */

// ---------------------------------------------------------------------------------------------
// Messages (plain objects; int64 fields are numbers: every value here fits in 2^53)

export interface OnnxModel {
  irVersion: number;
  opsetImport: Array<{ domain: string; version: number }>;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  graph: OnnxGraph;
}

export interface OnnxGraph {
  name: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
  docString: string;
}

export interface OnnxNode {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain: string;
  attribute: OnnxAttribute[];
  docString: string;
}

export const enum AttrType {
  UNDEFINED = 0,
  FLOAT = 1,
  INT = 2,
  STRING = 3,
  TENSOR = 4,
  GRAPH = 5,
  FLOATS = 6,
  INTS = 7,
  STRINGS = 8,
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  /** A graph attribute (If's then_branch / else_branch). */
  g?: OnnxGraph;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

/** TensorProto.DataType values used here. */
export const enum OnnxDataType {
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  INT32 = 6,
  INT64 = 7,
  FLOAT16 = 10,
  DOUBLE = 11,
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  /**
   * float_data written packed (as Caffe2's exporter writes weights): kept as a view of its
   * little-endian bytes, so a 230 MB model is not decoded into JS number arrays (8 bytes a value).
   */
  packedFloats?: Uint8Array;
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  /** Set when the data lives outside the file (data_location = EXTERNAL). */
  external: boolean;
}

export interface OnnxValueInfo {
  name: string;
  /** Tensor element type and shape; a dim is a number, a symbolic name, or null when unknown. */
  elemType: number;
  shape: Array<number | string | null> | null;
}

// ---------------------------------------------------------------------------------------------
// Wire format

const utf8 = new TextDecoder();
const utf8Enc = new TextEncoder();

export class ProtoError extends Error {
  override name = 'ProtoError';
}

class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start;
  }

  /** An unsigned varint; values above 2^53 (only negative int64s in practice) via int64(). */
  varint(): number {
    return Number(this.varintBig());
  }

  private varintBig(): bigint | number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint');
      const b = this.buf[this.pos++];
      if (i === 7) {
        // Past 49 bits a double is no longer exact: finish in BigInt.
        let big = BigInt(result) + BigInt(b & 0x7f) * BigInt(mul);
        let shift = 56n;
        let cur = b;
        while (cur >= 0x80) {
          if (this.pos >= this.end) throw new ProtoError('truncated varint');
          cur = this.buf[this.pos++];
          big += BigInt(cur & 0x7f) << shift;
          shift += 7n;
        }
        return big;
      }
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new ProtoError('varint too long');
  }

  /** A signed int64 (two's complement, as protobuf encodes negative int64 values). */
  int64(): number {
    const v = this.varintBig();
    return typeof v === 'number' ? v : Number(BigInt.asIntN(64, v));
  }

  fixed32Float(): number {
    if (this.pos + 4 > this.end) throw new ProtoError('truncated float');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  fixed64Double(): number {
    if (this.pos + 8 > this.end) throw new ProtoError('truncated double');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.end) throw new ProtoError(`truncated field: ${n} bytes announced, ${this.end - this.pos} left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  sub(): Reader {
    const b = this.bytes();
    return new Reader(b);
  }

  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        break;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        // Not `this.pos += this.varint()`: that reads pos before varint() has moved it past the length.
        const n = this.varint();
        this.pos += n;
        break;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw new ProtoError(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.end) throw new ProtoError('truncated message');
  }

  /** Iterates fields: calls fn(field, wireType) until the end of this message. */
  each(fn: (field: number, wire: number) => boolean | void): void {
    while (this.pos < this.end) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wire = key & 7;
      const before = this.pos;
      if (!fn(field, wire)) {
        this.pos = before;
        this.skip(wire);
      }
    }
  }

  /** A repeated scalar that may be packed (wire 2) or not. */
  repeated(wire: number, one: () => number, into: number[]): void {
    if (wire === 2) {
      const n = this.varint();
      const end = this.pos + n;
      if (end > this.end) throw new ProtoError('truncated packed field');
      while (this.pos < end) into.push(one());
    } else {
      into.push(one());
    }
  }
}

function readModel(r: Reader): OnnxModel {
  const m: OnnxModel = { irVersion: 0, opsetImport: [], producerName: '', producerVersion: '', domain: '', modelVersion: 0, docString: '', graph: emptyGraph() };
  let sawGraph = false;
  r.each((f, w) => {
    if (f === 1 && w === 0) m.irVersion = r.int64();
    else if (f === 2 && w === 2) m.producerName = r.string();
    else if (f === 3 && w === 2) m.producerVersion = r.string();
    else if (f === 4 && w === 2) m.domain = r.string();
    else if (f === 5 && w === 0) m.modelVersion = r.int64();
    else if (f === 6 && w === 2) m.docString = r.string();
    else if (f === 7 && w === 2) {
      m.graph = readGraph(r.sub());
      sawGraph = true;
    } else if (f === 8 && w === 2) {
      const s = r.sub();
      const o = { domain: '', version: 0 };
      s.each((ff, ww) => {
        if (ff === 1 && ww === 2) o.domain = s.string();
        else if (ff === 2 && ww === 0) o.version = s.int64();
        else return false;
        return true;
      });
      m.opsetImport.push(o);
    } else return false;
    return true;
  });
  if (!sawGraph) throw new ProtoError('no graph in the model (is this an ONNX file?)');
  return m;
}

function emptyGraph(): OnnxGraph {
  return { name: '', node: [], initializer: [], input: [], output: [], valueInfo: [], docString: '' };
}

function readGraph(r: Reader): OnnxGraph {
  const g = emptyGraph();
  r.each((f, w) => {
    if (w !== 2) return false;
    if (f === 1) g.node.push(readNode(r.sub()));
    else if (f === 2) g.name = r.string();
    else if (f === 5) g.initializer.push(readTensor(r.sub()));
    else if (f === 10) g.docString = r.string();
    else if (f === 11) g.input.push(readValueInfo(r.sub()));
    else if (f === 12) g.output.push(readValueInfo(r.sub()));
    else if (f === 13) g.valueInfo.push(readValueInfo(r.sub()));
    else return false;
    return true;
  });
  return g;
}

function readNode(r: Reader): OnnxNode {
  const n: OnnxNode = { input: [], output: [], name: '', opType: '', domain: '', attribute: [], docString: '' };
  r.each((f, w) => {
    if (w !== 2) return false;
    if (f === 1) n.input.push(r.string());
    else if (f === 2) n.output.push(r.string());
    else if (f === 3) n.name = r.string();
    else if (f === 4) n.opType = r.string();
    else if (f === 5) n.attribute.push(readAttribute(r.sub()));
    else if (f === 6) n.docString = r.string();
    else if (f === 7) n.domain = r.string();
    else return false;
    return true;
  });
  return n;
}

function readAttribute(r: Reader): OnnxAttribute {
  const a: OnnxAttribute = { name: '', type: 0 };
  r.each((f, w) => {
    if (f === 1 && w === 2) a.name = r.string();
    else if (f === 2 && w === 5) a.f = r.fixed32Float();
    else if (f === 3 && w === 0) a.i = r.int64();
    else if (f === 4 && w === 2) a.s = r.bytes();
    else if (f === 5 && w === 2) a.t = readTensor(r.sub());
    else if (f === 6 && w === 2) a.g = readGraph(r.sub());
    else if (f === 7) r.repeated(w, () => r.fixed32Float(), (a.floats ??= []));
    else if (f === 8) r.repeated(w, () => r.int64(), (a.ints ??= []));
    else if (f === 9 && w === 2) (a.strings ??= []).push(r.bytes());
    else if (f === 20 && w === 0) a.type = r.varint();
    else return false;
    return true;
  });
  // Old writers (IR < 2) may omit `type`: infer it from the field that is present.
  if (!a.type) {
    a.type =
      a.f !== undefined ? AttrType.FLOAT : a.i !== undefined ? AttrType.INT : a.s ? AttrType.STRING : a.t ? AttrType.TENSOR
        : a.g ? AttrType.GRAPH : a.floats ? AttrType.FLOATS : a.ints ? AttrType.INTS : a.strings ? AttrType.STRINGS : AttrType.UNDEFINED;
  }
  return a;
}

function readTensor(r: Reader): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0, external: false };
  r.each((f, w) => {
    if (f === 1) r.repeated(w, () => r.int64(), t.dims);
    else if (f === 2 && w === 0) t.dataType = r.varint();
    else if (f === 4 && w === 2 && !t.floatData && !t.packedFloats) t.packedFloats = r.bytes();
    else if (f === 4) {
      if (t.packedFloats) t.floatData = Array.from(floatsOf(t.packedFloats)); // mixed packed + unpacked: rare
      t.packedFloats = undefined;
      r.repeated(w, () => r.fixed32Float(), (t.floatData ??= []));
    }
    else if (f === 5) r.repeated(w, () => r.int64(), (t.int32Data ??= []));
    else if (f === 7) r.repeated(w, () => r.int64(), (t.int64Data ??= []));
    else if (f === 8 && w === 2) t.name = r.string();
    else if (f === 9 && w === 2) t.rawData = r.bytes();
    else if (f === 10) r.repeated(w, () => r.fixed64Double(), (t.doubleData ??= []));
    else if (f === 14 && w === 0) t.external = r.varint() === 1;
    else return false;
    return true;
  });
  return t;
}

function readValueInfo(r: Reader): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', elemType: 0, shape: null };
  r.each((f, w) => {
    if (f === 1 && w === 2) v.name = r.string();
    else if (f === 2 && w === 2) {
      const tr = r.sub();
      tr.each((tf, tw) => {
        if (tf !== 1 || tw !== 2) return false;
        const tt = tr.sub();
        tt.each((ff, ww) => {
          if (ff === 1 && ww === 0) v.elemType = tt.varint();
          else if (ff === 2 && ww === 2) {
            const sh = tt.sub();
            v.shape = [];
            sh.each((sf, sw) => {
              if (sf !== 1 || sw !== 2) return false;
              const d = sh.sub();
              let dim: number | string | null = null;
              d.each((df, dw) => {
                if (df === 1 && dw === 0) dim = d.int64();
                else if (df === 2 && dw === 2) dim = d.string();
                else return false;
                return true;
              });
              v.shape!.push(dim);
              return true;
            });
          } else return false;
          return true;
        });
        return true;
      });
    } else return false;
    return true;
  });
  return v;
}

/** Decodes an ONNX ModelProto. Throws ProtoError on malformed or truncated input. */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  return readModel(new Reader(bytes));
}

/** Decodes a serialized TensorProto (the model zoo's test_data_set_N/input_0.pb and output_0.pb). */
export function decodeOnnxTensor(bytes: Uint8Array): OnnxTensor {
  return readTensor(new Reader(bytes));
}

function floatsOf(b: Uint8Array): Float32Array {
  if (b.length % 4) throw new ProtoError(`packed float data of ${b.length} bytes is not a whole number of floats`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(4 * i, true);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoder (used by the tests to write models with random weights, and by `exportOnnx`)

class Writer {
  private chunks: Uint8Array[] = [];
  private cur = new Uint8Array(1024);
  private len = 0;
  total = 0;

  private ensure(n: number) {
    if (this.len + n <= this.cur.length) return;
    this.flush();
    if (n > this.cur.length) this.cur = new Uint8Array(Math.max(n, 2 * this.cur.length));
  }

  private flush() {
    if (this.len > 0) this.chunks.push(this.cur.slice(0, this.len));
    this.len = 0;
  }

  varint(v: number): void {
    this.ensure(10);
    if (v < 0 || v > Number.MAX_SAFE_INTEGER) {
      // int64 two's complement: negative values take 10 bytes.
      let big = BigInt.asUintN(64, BigInt(v));
      while (big >= 128n) {
        this.cur[this.len++] = Number(big & 127n) | 0x80;
        big >>= 7n;
        this.total++;
      }
      this.cur[this.len++] = Number(big);
      this.total++;
      return;
    }
    while (v >= 128) {
      this.cur[this.len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
      this.total++;
    }
    this.cur[this.len++] = v;
    this.total++;
  }

  key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  raw(b: Uint8Array): void {
    if (b.length > 65536) {
      this.flush();
      this.chunks.push(b);
    } else {
      this.ensure(b.length);
      this.cur.set(b, this.len);
      this.len += b.length;
    }
    this.total += b.length;
  }

  bytesField(field: number, b: Uint8Array): void {
    this.key(field, 2);
    this.varint(b.length);
    this.raw(b);
  }

  stringField(field: number, s: string): void {
    if (s) this.bytesField(field, utf8Enc.encode(s));
  }

  intField(field: number, v: number): void {
    this.key(field, 0);
    this.varint(v);
  }

  floatField(field: number, v: number): void {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.raw(b);
  }

  message(field: number, write: (w: Writer) => void): void {
    const inner = new Writer();
    write(inner);
    this.bytesField(field, inner.finish());
  }

  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.total);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function writeTensor(w: Writer, t: OnnxTensor): void {
  if (t.dims.length > 0) {
    const p = new Writer();
    for (const d of t.dims) p.varint(d);
    w.bytesField(1, p.finish());
  }
  w.intField(2, t.dataType);
  if (t.floatData) {
    const b = new Uint8Array(4 * t.floatData.length);
    const dv = new DataView(b.buffer);
    t.floatData.forEach((v, i) => dv.setFloat32(4 * i, v, true));
    w.bytesField(4, b);
  }
  if (t.packedFloats) w.bytesField(4, t.packedFloats);
  if (t.int64Data) {
    const p = new Writer();
    for (const v of t.int64Data) p.varint(v);
    w.bytesField(7, p.finish());
  }
  w.stringField(8, t.name);
  if (t.rawData) w.bytesField(9, t.rawData);
}

/** Serializes a TensorProto on its own (what onnx.numpy_helper writes to input_0.pb). */
export function encodeOnnxTensor(t: OnnxTensor): Uint8Array {
  const w = new Writer();
  writeTensor(w, t);
  return w.finish();
}

function writeAttribute(w: Writer, a: OnnxAttribute): void {
  w.stringField(1, a.name);
  if (a.f !== undefined) w.floatField(2, a.f);
  if (a.i !== undefined) w.intField(3, a.i);
  if (a.s) w.bytesField(4, a.s);
  if (a.t) w.message(5, (m) => writeTensor(m, a.t!));
  if (a.g) w.message(6, (m) => writeGraph(m, a.g!));
  if (a.floats) for (const v of a.floats) w.floatField(7, v);
  if (a.ints) for (const v of a.ints) w.intField(8, v);
  if (a.strings) for (const s of a.strings) w.bytesField(9, s);
  w.intField(20, a.type);
}

function writeValueInfo(w: Writer, v: OnnxValueInfo): void {
  w.stringField(1, v.name);
  w.message(2, (tp) =>
    tp.message(1, (tt) => {
      tt.intField(1, v.elemType);
      if (v.shape) {
        tt.message(2, (sh) => {
          for (const d of v.shape!) {
            sh.message(1, (dm) => {
              if (typeof d === 'number') dm.intField(1, d);
              else if (typeof d === 'string') dm.stringField(2, d);
            });
          }
        });
      }
    }),
  );
}

function writeGraph(g: Writer, graph: OnnxGraph): void {
  for (const n of graph.node) {
    g.message(1, (nw) => {
      for (const i of n.input) nw.bytesField(1, utf8Enc.encode(i));
      for (const o of n.output) nw.bytesField(2, utf8Enc.encode(o));
      nw.stringField(3, n.name);
      nw.stringField(4, n.opType);
      for (const a of n.attribute) nw.message(5, (aw) => writeAttribute(aw, a));
      nw.stringField(7, n.domain);
    });
  }
  g.stringField(2, graph.name);
  for (const t of graph.initializer) g.message(5, (tw) => writeTensor(tw, t));
  for (const v of graph.input) g.message(11, (vw) => writeValueInfo(vw, v));
  for (const v of graph.output) g.message(12, (vw) => writeValueInfo(vw, v));
}

export function encodeOnnxModel(m: OnnxModel): Uint8Array {
  const w = new Writer();
  w.intField(1, m.irVersion);
  w.stringField(2, m.producerName);
  w.stringField(3, m.producerVersion);
  w.stringField(4, m.domain);
  if (m.modelVersion) w.intField(5, m.modelVersion);
  w.stringField(6, m.docString);
  w.message(7, (g) => writeGraph(g, m.graph));
  for (const o of m.opsetImport) {
    w.message(8, (ow) => {
      ow.stringField(1, o.domain);
      ow.intField(2, o.version);
    });
  }
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Tensor data helpers

/** An ONNX tensor's values as float32 (FLOAT, FLOAT16, DOUBLE, integer types). */
export function tensorToFloat32(t: OnnxTensor): Float32Array {
  if (t.external) throw new ProtoError(`tensor ${t.name} keeps its data in an external file, which is not supported; save the model with its weights inside`);
  const n = tensorElementCount(t);
  let out: Float32Array;
  if (t.rawData) {
    const raw = t.rawData;
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const size = { [OnnxDataType.FLOAT]: 4, [OnnxDataType.FLOAT16]: 2, [OnnxDataType.DOUBLE]: 8, [OnnxDataType.INT64]: 8, [OnnxDataType.INT32]: 4, [OnnxDataType.INT8]: 1, [OnnxDataType.UINT8]: 1 }[t.dataType as 1];
    if (!size) throw new ProtoError(`tensor ${t.name}: data type ${t.dataType} is not supported`);
    if (raw.byteLength !== n * size) throw new ProtoError(`tensor ${t.name} declares ${t.dims.join(' x ') || 'a scalar'} = ${n} values (${n * size} bytes) but holds ${raw.byteLength} bytes: the file is truncated or corrupt`);
    out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      switch (t.dataType) {
        case OnnxDataType.FLOAT: out[i] = dv.getFloat32(4 * i, true); break;
        case OnnxDataType.FLOAT16: out[i] = halfToFloat(dv.getUint16(2 * i, true)); break;
        case OnnxDataType.DOUBLE: out[i] = dv.getFloat64(8 * i, true); break;
        case OnnxDataType.INT64: out[i] = Number(dv.getBigInt64(8 * i, true)); break;
        case OnnxDataType.INT32: out[i] = dv.getInt32(4 * i, true); break;
        case OnnxDataType.INT8: out[i] = dv.getInt8(i); break;
        default: out[i] = dv.getUint8(i);
      }
    }
    return out;
  }
  if (t.packedFloats) {
    out = floatsOf(t.packedFloats);
    if (out.length !== n) throw new ProtoError(`tensor ${t.name}: ${out.length} values for shape [${t.dims.join(', ')}] (truncated file?)`);
    return out;
  }
  const src = t.floatData ?? t.doubleData ?? t.int64Data ?? t.int32Data ?? [];
  if (t.dataType === OnnxDataType.FLOAT16 && t.int32Data) {
    out = Float32Array.from(t.int32Data, halfToFloat);
  } else {
    out = Float32Array.from(src);
  }
  if (out.length !== n) throw new ProtoError(`tensor ${t.name}: ${out.length} values for shape [${t.dims.join(', ')}]`);
  return out;
}

/**
 * Values a tensor's dims declare, checked to be a sane count: dims come from the file, so a
 * hostile or damaged one may declare any size. Read before anything is allocated for the tensor.
 */
export function tensorElementCount(t: OnnxTensor): number {
  let n = 1;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ProtoError(`tensor ${t.name}: dimension ${d} in [${t.dims.join(', ')}] is not a size`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new ProtoError(`tensor ${t.name}: shape [${t.dims.join(', ')}] is too large to address`);
  return n;
}

/** An int64 tensor's values (e.g. Reshape's shape input). */
export function tensorToInts(t: OnnxTensor): number[] {
  if (t.rawData && t.dataType === OnnxDataType.INT64) {
    const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    return Array.from({ length: t.rawData.byteLength / 8 }, (_, i) => Number(dv.getBigInt64(8 * i, true)));
  }
  return Array.from(tensorToFloat32(t));
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** A float32 ONNX initializer with raw little-endian data. */
export function floatTensor(name: string, dims: number[], data: Float32Array): OnnxTensor {
  const raw = new Uint8Array(data.length * 4);
  new Float32Array(raw.buffer).set(data); // hosts running this are little-endian (checked below)
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');
  return { name, dims, dataType: OnnxDataType.FLOAT, rawData: raw, external: false };
}

export function int64Tensor(name: string, values: number[]): OnnxTensor {
  return { name, dims: [values.length], dataType: OnnxDataType.INT64, int64Data: values, external: false };
}

export const attr = {
  int: (name: string, i: number): OnnxAttribute => ({ name, type: AttrType.INT, i }),
  float: (name: string, f: number): OnnxAttribute => ({ name, type: AttrType.FLOAT, f }),
  ints: (name: string, ints: number[]): OnnxAttribute => ({ name, type: AttrType.INTS, ints }),
  string: (name: string, s: string): OnnxAttribute => ({ name, type: AttrType.STRING, s: utf8Enc.encode(s) }),
};
