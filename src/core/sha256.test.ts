import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from './learn/random';
import { Sha256, sha256HexSync } from './sha256';

const text = (s: string) => new TextEncoder().encode(s);

describe('incremental SHA-256', () => {
  it('gives the FIPS 180-4 / NIST example digests', () => {
    expect(sha256HexSync(text(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256HexSync(text('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    // 448 bits: the padding's length field no longer fits in the message's last block.
    expect(sha256HexSync(text('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    expect(sha256HexSync(text('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'))).toBe(
      'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
    );
    // One million 'a', fed in chunks of 1000.
    const h = new Sha256();
    const chunk = new Uint8Array(1000).fill(0x61);
    for (let i = 0; i < 1000; i++) h.update(chunk);
    expect(h.hex()).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('matches node:crypto on random messages split into random chunks', () => {
    const rand = mulberry32(7);
    // Lengths around the block and padding boundaries, and a few larger ones.
    const lengths = [1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 65_537, 300_001];
    for (const n of lengths) {
      const msg = Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
      const want = createHash('sha256').update(msg).digest('hex');
      expect(sha256HexSync(msg), `one piece, ${n} bytes`).toBe(want);
      const h = new Sha256();
      for (let o = 0; o < n; ) {
        const len = Math.min(n - o, 1 + Math.floor(rand() * 150));
        h.update(msg.subarray(o, o + len));
        o += len;
      }
      expect(h.hex(), `chunked, ${n} bytes`).toBe(want);
    }
  });

  it('refuses updates after the digest and gives the same digest twice', () => {
    const h = new Sha256().update(text('abc'));
    expect(h.hex()).toBe(h.hex());
    expect(() => h.update(text('d'))).toThrow(/after digest/);
  });

  it('hashes fast enough to check a 215 MB download as it streams (> 20 MB per CPU second)', () => {
    const buf = new Uint8Array(16 * 2 ** 20).map((_, i) => i * 31);
    const h = new Sha256();
    // CPU time, not wall time: on a shared machine the wall clock measures the other processes.
    const c0 = process.cpuUsage();
    for (let o = 0; o < buf.length; o += 65536) h.update(buf.subarray(o, o + 65536));
    const hex = h.hex();
    const c = process.cpuUsage(c0);
    expect(hex).toBe(createHash('sha256').update(buf).digest('hex'));
    const mbPerS = 16 / ((c.user + c.system) / 1e6);
    if (process.env.SHA256_LOG) console.log(`sha256: ${mbPerS.toFixed(0)} MB/s`);
    expect(mbPerS).toBeGreaterThan(20);
  });
});
