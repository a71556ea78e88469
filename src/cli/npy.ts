/**
 * NumPy .npy files (format versions 1.0-3.0), float32/float64 little-endian, C order: what
 * `rcnn forward` reads and writes so its results can be compared with numpy/onnxruntime.
 */
export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export class NpyError extends Error {
  override name = 'NpyError';
}

export function parseNpy(bytes: Uint8Array, name = 'the .npy file'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) throw new NpyError(`${name} is not a .npy file (bad magic)`);
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder(major >= 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new NpyError(`${name}: cannot read the header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw new NpyError(`${name} is in Fortran order; save it with np.ascontiguousarray`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = start + headerLen;
  const body = bytes.subarray(off);
  const data = new Float32Array(n);
  const bdv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (descr === '<f4' || descr === '=f4' || descr === '|f4') {
    if (body.byteLength < 4 * n) throw new NpyError(`${name} is truncated: ${body.byteLength} bytes for ${n} float32 values`);
    for (let i = 0; i < n; i++) data[i] = bdv.getFloat32(4 * i, true);
  } else if (descr === '<f8') {
    if (body.byteLength < 8 * n) throw new NpyError(`${name} is truncated: ${body.byteLength} bytes for ${n} float64 values`);
    for (let i = 0; i < n; i++) data[i] = bdv.getFloat64(8 * i, true);
  } else {
    throw new NpyError(`${name} has dtype ${descr}; expected float32 ('<f4') or float64`);
  }
  return { shape, data };
}

export function encodeNpy(arr: NpyArray): Uint8Array {
  const shape = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad so the data starts on a 64-byte boundary (the format's recommendation), ending in \n.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + 4 * arr.data.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const dv = new DataView(out.buffer, total);
  for (let i = 0; i < arr.data.length; i++) dv.setFloat32(4 * i, arr.data[i], true);
  return out;
}
