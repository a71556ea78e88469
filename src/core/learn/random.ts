/**
 * Seeded pseudo-random numbers for the learning code. The release seeds MATLAB's generator
 * (seed_rand) wherever randomness enters training, so a run can be repeated; we do the same with
 * mulberry32: 32-bit state, fast, and identical in every JS engine (browser, worker, Node).
 */

/** A generator of uniform numbers in [0, 1). */
export type Random = () => number;

export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/** Fisher–Yates shuffle of the first `length` entries of `a`, in place. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(
  a: T,
  random: Random,
  length: number = a.length,
): T {
  for (let i = length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** Hash a string to a 32-bit seed (FNV-1a), e.g. to derive per-class seeds from names. */
export function hashSeed(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
