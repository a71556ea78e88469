/**
 * SHA-256 of bytes, hex. Uses WebCrypto when present (browsers in a secure context, workers,
 * Node >= 20); falls back to the plain implementation in src/core/sha256.ts so a page served over
 * plain http on a LAN address (no crypto.subtle there) can still verify a model package.
 */
import { sha256HexSync, toHex } from '../core/sha256';

export { sha256HexSync };

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) {
    const d = await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
    return toHex(new Uint8Array(d));
  }
  return sha256HexSync(bytes);
}
