/**
 * Deterministic train/validation split, stratified by class.
 *
 * An image can hold several classes, so the stratum of an image is the *set* of classes it
 * contains ("apple", "apple+banana+orange", ...). Each stratum is split in the requested
 * proportion, so every class (and every mix of classes) is represented in both parts as far as
 * its size allows. The result depends only on the ids, their classes, the fraction and the seed,
 * not on the order the images were listed in.
 */
import { hashSeed, mulberry32, shuffleInPlace } from '../learn/random';

export interface SplitItem {
  id: string;
  /** Class names (or indices) present in the image; an empty list is its own stratum. */
  classes: readonly (string | number)[];
}

export interface SplitOptions {
  /** Fraction of images for validation, in [0, 1). Default 0.2. */
  valFraction?: number;
  seed?: number;
}

export interface SplitResult {
  train: string[];
  val: string[];
  /** Per stratum key: [train count, val count]. */
  strata: Map<string, [number, number]>;
}

export function stratumKey(classes: readonly (string | number)[]): string {
  const uniq = [...new Set(classes.map(String))].sort();
  return uniq.length === 0 ? '(none)' : uniq.join('+');
}

export function stratifiedSplit(items: readonly SplitItem[], opts: SplitOptions = {}): SplitResult {
  const f = opts.valFraction ?? 0.2;
  if (!(f >= 0 && f < 1)) throw new Error(`valFraction must be in [0, 1), got ${f}`);
  const seed = opts.seed ?? 0;
  const byKey = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.id)) throw new Error(`split: id ${it.id} appears twice`);
    seen.add(it.id);
    const k = stratumKey(it.classes);
    let list = byKey.get(k);
    if (!list) byKey.set(k, (list = []));
    list.push(it.id);
  }
  const keys = [...byKey.keys()].sort();
  // Largest-remainder allocation: the total validation size is round(N f), and each stratum
  // gets floor(n f) plus one of the leftover places by largest fractional part. A stratum never
  // gives its last image to validation, so every combination can be trained on.
  const total = items.length;
  const target = Math.round(total * f);
  const quota = new Map<string, number>();
  let assigned = 0;
  const remainders: { key: string; frac: number }[] = [];
  for (const k of keys) {
    const n = byKey.get(k)!.length;
    const exact = n * f;
    const q = Math.min(Math.floor(exact), n - 1);
    quota.set(k, q);
    assigned += q;
    remainders.push({ key: k, frac: exact - Math.floor(exact) });
  }
  remainders.sort((a, b) => b.frac - a.frac || (a.key < b.key ? -1 : 1));
  for (const r of remainders) {
    if (assigned >= target) break;
    const n = byKey.get(r.key)!.length;
    const q = quota.get(r.key)!;
    if (q + 1 <= n - 1) {
      quota.set(r.key, q + 1);
      assigned++;
    }
  }
  const train: string[] = [];
  const val: string[] = [];
  const strata = new Map<string, [number, number]>();
  keys.forEach((k) => {
    const ids = byKey.get(k)!.slice().sort();
    // One generator per stratum, derived from the seed and the stratum, so adding images of
    // one class does not reshuffle the others.
    const random = mulberry32(hashSeed(k, seed));
    const order = Int32Array.from(ids.keys());
    shuffleInPlace(order, random);
    const q = quota.get(k)!;
    for (let i = 0; i < order.length; i++) (i < q ? val : train).push(ids[order[i]]);
    strata.set(k, [ids.length - q, q]);
  });
  train.sort();
  val.sort();
  return { train, val, strata };
}
