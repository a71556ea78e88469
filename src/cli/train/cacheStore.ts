/**
 * Housekeeping for the on-disk caches of `rcnn train` / `rcnn eval`: the proposal cache
 * (`--cache`, ~25 KB per image) and the feature cache (`--feature-cache`, ~8 MB per image at width
 * 0.25, ~6 GB for fruit-animals, one more set for every CNN trained). Entries are content-addressed
 * (a changed network or image is a new name, never a stale hit), so old ones are never read again
 * once their CNN is gone: nothing but their age tells them apart. A hit therefore stamps the
 * entry's modification time (`touchEntry`), and pruning removes the least recently used entries
 * first, plus any temporary file an interrupted run left behind.
 */
import { readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

/** Cache entry files: features and proposals. */
const ENTRY = /\.f32$/;
/** What writeEntry / writeCached leave behind when killed between write and rename. */
const TEMP = /\.f32\.\d+\.tmp$/;
/** A temporary file younger than this may belong to a run still writing it. */
const TEMP_GRACE_MS = 60 * 60 * 1000;

/** Marks a cache entry as used now, so pruning keeps it over entries unused for longer. */
export function touchEntry(file: string, now = new Date()): void {
  try {
    utimesSync(file, now, now);
  } catch {
    // A read-only cache still answers; it just ages by its write time.
  }
}

export interface CacheFile {
  path: string;
  bytes: number;
  /** Last use (a hit or the write), ms since the epoch. */
  usedMs: number;
}

export interface CacheSurvey {
  entries: CacheFile[];
  temps: CacheFile[];
  bytes: number;
}

/** Every entry and leftover temporary file under dir (recursively), entries oldest use first. */
export function surveyCache(dir: string): CacheSurvey {
  const entries: CacheFile[] = [];
  const temps: CacheFile[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && (ENTRY.test(e.name) || TEMP.test(e.name))) {
        const s = statSync(p);
        (TEMP.test(e.name) ? temps : entries).push({ path: p, bytes: s.size, usedMs: s.mtimeMs });
      }
    }
  };
  walk(dir);
  entries.sort((a, b) => a.usedMs - b.usedMs || (a.path < b.path ? -1 : 1));
  return { entries, temps, bytes: entries.reduce((s, f) => s + f.bytes, 0) + temps.reduce((s, f) => s + f.bytes, 0) };
}

export interface PruneRule {
  /** Keep at most this many bytes of entries, dropping the least recently used first. */
  maxBytes?: number;
  /** Drop entries not used for longer than this. */
  unusedForMs?: number;
}

export interface PrunePlan {
  remove: CacheFile[];
  keep: CacheFile[];
  removeBytes: number;
  keepBytes: number;
}

/** Which files a rule removes: stale temporary files always, then entries by age and by size. */
export function planPrune(survey: CacheSurvey, rule: PruneRule, nowMs = Date.now()): PrunePlan {
  const remove = survey.temps.filter((t) => nowMs - t.usedMs > TEMP_GRACE_MS);
  let keep = survey.entries;
  if (rule.unusedForMs !== undefined) {
    const cut = nowMs - rule.unusedForMs;
    remove.push(...keep.filter((f) => f.usedMs < cut));
    keep = keep.filter((f) => f.usedMs >= cut);
  }
  if (rule.maxBytes !== undefined) {
    let total = keep.reduce((s, f) => s + f.bytes, 0);
    let k = 0;
    while (k < keep.length && total > rule.maxBytes) total -= keep[k++].bytes;
    remove.push(...keep.slice(0, k));
    keep = keep.slice(k);
  }
  const sum = (fs: CacheFile[]) => fs.reduce((s, f) => s + f.bytes, 0);
  return { remove, keep, removeBytes: sum(remove), keepBytes: sum(keep) };
}

export function applyPrune(plan: PrunePlan): void {
  for (const f of plan.remove) rmSync(f.path, { force: true });
}

/** "6G", "500M", "1.5GB", "0" (bytes, 1024-based) */
export function parseSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) return null;
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * unit);
}

/** "30d", "12h", "90m" */
export function parseAge(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([dhm])$/i.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2].toLowerCase() as 'd' | 'h' | 'm'];
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KB`;
  return `${n} B`;
}
