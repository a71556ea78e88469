import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBytes, parseAge, parseSize, planPrune, surveyCache } from './cacheStore';
import { FeatureCache } from './featureCache';
import { main } from '../main';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 28, 12);

/** A cache folder with files of known sizes and last-use times (days before NOW). */
function folder(files: Array<[name: string, bytes: number, daysAgo: number]>, now = NOW): string {
  const dir = mkdtempSync(join(tmpdir(), 'cachestore-'));
  for (const [name, bytes, daysAgo] of files) {
    const p = join(dir, name);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, new Uint8Array(bytes));
    const t = new Date(now - daysAgo * DAY);
    utimesSync(p, t, t);
  }
  return dir;
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(args, { stdout: (t) => ((out += t), true), stderr: (t) => ((err += t), true) });
  return { code, out, err };
}

describe('cache housekeeping (rcnn cache)', () => {
  it('surveys entries in sub-folders oldest first, with leftovers of interrupted runs apart, and ignores other files', () => {
    const dir = folder([
      ['a.f32', 100, 1],
      ['proposals/b-fast-2000-1-v2.f32', 40, 10],
      ['c.f32', 60, 3],
      ['c.f32.4242.tmp', 7, 2],
      ['README.txt', 1000, 50],
    ]);
    const s = surveyCache(dir);
    expect(s.entries.map((f) => f.path.slice(dir.length + 1))).toEqual(['proposals/b-fast-2000-1-v2.f32', 'c.f32', 'a.f32']);
    expect(s.temps.map((f) => f.bytes)).toEqual([7]);
    expect(s.bytes).toBe(207);
  });

  it('plans least recently used first down to the size, by age, and drops only stale temporary files', () => {
    const dir = folder([
      ['new.f32', 100, 0.1],
      ['mid.f32', 100, 5],
      ['old.f32', 100, 40],
      ['x.f32.1.tmp', 9, 2],
      ['y.f32.2.tmp', 9, 0.01], // 15 minutes old: a run may still be writing it
    ]);
    const s = surveyCache(dir);
    const names = (fs: { path: string }[]) => fs.map((f) => f.path.slice(dir.length + 1)).sort();
    // 250 bytes allowed: only the oldest entry goes (300 -> 200), plus the stale temp file.
    const bySize = planPrune(s, { maxBytes: 250 }, NOW);
    expect(names(bySize.remove)).toEqual(['old.f32', 'x.f32.1.tmp']);
    expect([bySize.removeBytes, bySize.keepBytes]).toEqual([109, 200]);
    expect(names(planPrune(s, { maxBytes: 100 }, NOW).remove)).toEqual(['mid.f32', 'old.f32', 'x.f32.1.tmp']);
    expect(names(planPrune(s, { maxBytes: 0 }, NOW).keep)).toEqual([]);
    expect(names(planPrune(s, { unusedForMs: 30 * DAY }, NOW).remove)).toEqual(['old.f32', 'x.f32.1.tmp']);
    expect(names(planPrune(s, { unusedForMs: DAY }, NOW).keep)).toEqual(['new.f32']);
    // Both rules: age first, then size on what is left.
    expect(names(planPrune(s, { unusedForMs: 30 * DAY, maxBytes: 150 }, NOW).keep)).toEqual(['new.f32']);
    expect(planPrune(s, { maxBytes: 1e9 }, NOW).removeBytes).toBe(9);
  });

  it('parses sizes and ages and refuses anything else', () => {
    expect(parseSize('6G')).toBe(6 * 2 ** 30);
    expect(parseSize('1.5gb')).toBe(1.5 * 2 ** 30);
    expect(parseSize('500M')).toBe(500 * 2 ** 20);
    expect(parseSize('0')).toBe(0);
    expect(parseSize('12KiB')).toBe(12 * 1024);
    for (const bad of ['', 'G', '-1G', '5Q', '1e9']) expect(parseSize(bad)).toBeNull();
    expect(parseAge('30d')).toBe(30 * DAY);
    expect(parseAge('12h')).toBe(DAY / 2);
    expect(parseAge('90m')).toBe(90 * 60_000);
    for (const bad of ['30', 'd', '-1d', '2w']) expect(parseAge(bad)).toBeNull();
    expect([formatBytes(512), formatBytes(1536), formatBytes(5 * 2 ** 20), formatBytes(6.3 * 2 ** 30)]).toEqual(['512 B', '1.5 KB', '5.0 MB', '6.30 GB']);
  });

  it('a feature-cache hit stamps the entry as used now; an entry not asked for keeps its age', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cachestore-'));
    const raster = { width: 2, height: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
    const cache = new FeatureCache(dir, 'model', [raster]);
    const fn = cache.wrap(async (_w, _i, boxes, rows) => ({ fc7: Float32Array.from(boxes), pool5: Float32Array.from(rows), ms: 1 }));
    const rows = Int32Array.from([0]);
    await fn(0, 0, Float32Array.from([0, 0, 1, 1]), rows);
    const [asked] = surveyCache(dir).entries.map((f) => f.path);
    await fn(0, 0, Float32Array.from([0, 0, 2, 1, 0, 0, 1, 1]), rows);
    const [other] = surveyCache(dir).entries.map((f) => f.path).filter((p) => p !== asked);
    const old = new Date(Date.now() - 10 * DAY);
    for (const p of [asked, other]) utimesSync(p, old, old);
    await fn(0, 0, Float32Array.from([0, 0, 1, 1]), rows);
    expect([cache.hits, cache.misses]).toEqual([1, 2]);
    expect(Date.now() - statSync(asked).mtimeMs).toBeLessThan(60_000);
    expect(Math.abs(statSync(other).mtimeMs - old.getTime())).toBeLessThan(1000);
    expect(planPrune(surveyCache(dir), { maxBytes: statSync(asked).size }).keep.map((f) => f.path)).toEqual([asked]);
  });

  it('rcnn cache reports, dry-runs and prunes through the CLI, and refuses bad options', async () => {
    const dir = folder([
      ['a.f32', 2048, 0],
      ['b.f32', 2048, 20],
      ['c.f32', 2048, 40],
    ], Date.now());
    const report = await cli(['cache', dir]);
    expect(report.code).toBe(0);
    expect(report.out).toContain('3 entries, 6.0 KB');
    expect(report.out).toMatch(/last used < 1 day ago\s+1 entries\s+2\.0 KB/);
    expect(report.out).toMatch(/over 30 days ago\s+1 entries/);

    const dry = await cli(['cache', dir, '--max-size', '3K', '--dry-run']);
    expect(dry.out).toContain('would remove 2 files (4.0 KB), would keep 1 entries (2.0 KB)');
    expect(readdirSync(dir).sort()).toEqual(['a.f32', 'b.f32', 'c.f32']);

    const aged = await cli(['cache', dir, '--unused-for', '30d']);
    expect(aged.out).toContain('removed 1 files (2.0 KB), kept 2 entries (4.0 KB)');
    expect(existsSync(join(dir, 'c.f32'))).toBe(false);
    const sized = await cli(['cache', dir, '--max-size', '2K']);
    expect(sized.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['a.f32']);

    expect((await cli(['cache', dir, '--max-size', 'lots'])).code).toBe(2);
    expect((await cli(['cache', dir, '--unused-for', '3'])).err).toContain('--unused-for expects an age');
    expect((await cli(['cache', dir, '--dry-run'])).code).toBe(2);
    expect((await cli(['cache'])).code).toBe(2);
    const missing = await cli(['cache', dir, join(dir, 'nope'), '--max-size', '0']);
    expect([missing.code, missing.err.includes('is not a folder')]).toEqual([1, true]);
    expect(readdirSync(dir)).toEqual(['a.f32']); // nothing removed from the good folder either
  });
});
