/**
 * What a single model file is, from its bytes and name, before any parser sees it: the app and
 * the CLI both name a package's model.json, one of its .bin files or a .rcnn that is not a bundle
 * for what it is, instead of letting the ONNX parser report "unsupported wire type 3".
 */
import { isBundle } from './package';

export type ModelFileKind =
  /** An R-CNN Explorer bundle (starts with RCNNPKG1), whole or not. */
  | 'bundle'
  /** JSON: a package's model.json (or another JSON file). */
  | 'manifest'
  /** One weight file of a package folder (cnn.bin, heads.bin). */
  | 'package-binary'
  /** Named .rcnn but not starting with the bundle's magic: truncated at the start, or another file. */
  | 'not-a-bundle'
  /** Anything else: possibly ONNX, for the ONNX reader to judge. */
  | 'other';

export function sniffModelFile(bytes: Uint8Array, name: string): ModelFileKind {
  if (isBundle(bytes)) return 'bundle';
  const lower = name.toLowerCase();
  let first = 0;
  // Whitespace and a UTF-8 byte-order mark before a JSON document's '{'.
  while (first < bytes.length && first < 64 && [0x20, 0x0a, 0x0d, 0x09, 0xef, 0xbb, 0xbf].includes(bytes[first])) first++;
  if (lower.endsWith('.json') || bytes[first] === 0x7b /* { */) return 'manifest';
  if (lower.endsWith('.bin')) return 'package-binary';
  if (lower.endsWith('.rcnn')) return 'not-a-bundle';
  return 'other';
}
