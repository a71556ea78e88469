import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from '../command';
import { CliError } from '../command';
import { applyPrune, formatBytes, parseAge, parseSize, planPrune, surveyCache, type CacheFile, type PruneRule } from '../train/cacheStore';

const DAY = 86_400_000;

/** How much of the cache was last used within each age band: what --unused-for would cut. */
function ageTable(entries: CacheFile[], nowMs: number): string[] {
  const bands: Array<[string, number]> = [['last used < 1 day ago', DAY], ['1-7 days ago', 7 * DAY], ['7-30 days ago', 30 * DAY], ['over 30 days ago', Infinity]];
  let from = 0;
  return bands.map(([label, upTo]) => {
    // A time in the future (clock skew, a copied folder) counts as used now.
    const inBand = entries.filter((f) => Math.max(0, nowMs - f.usedMs) >= from && Math.max(0, nowMs - f.usedMs) < upTo);
    from = upTo;
    return `  ${label.padEnd(22)} ${String(inBand.length).padStart(7)} entries ${formatBytes(inBand.reduce((s, f) => s + f.bytes, 0)).padStart(10)}`;
  });
}

export const cacheCommand: Command = {
  name: 'cache',
  summary: 'Show how big the proposal and feature caches are, and remove the least recently used entries.',
  usage: 'cache <dir> [<dir> ...] [--max-size SIZE] [--unused-for AGE] [--dry-run]',
  details: [
    'DIR is a --cache (proposals, default .cache/rcnn) or --feature-cache folder of rcnn train / rcnn eval.',
    'Entries are named by the content they depend on, so an entry of a CNN you no longer use is never',
    'read again; every read stamps its time, so the oldest "last used" goes first.',
    'Without options it only reports. Temporary files of interrupted runs older than an hour are always removed',
    'when pruning.',
    '',
    '  --max-size SIZE   keep at most SIZE per folder (e.g. 6G, 500M), removing the least recently used entries',
    '  --unused-for AGE  remove entries not used for longer than AGE (e.g. 30d, 12h)',
    '  --dry-run         say what would be removed, remove nothing',
  ].join('\n'),
  options: {
    'max-size': { type: 'string' },
    'unused-for': { type: 'string' },
    'dry-run': { type: 'boolean' },
  },
  positionals: true,
  async run({ values, positionals, stdout }) {
    if (positionals.length === 0) throw new CliError('expected a cache folder, e.g. .cache/rcnn or your --feature-cache folder', 2);
    const rule: PruneRule = {};
    if (values['max-size'] !== undefined) {
      const n = parseSize(String(values['max-size']));
      if (n === null) throw new CliError(`--max-size expects a size such as 6G, 500M or 0, got "${String(values['max-size'])}"`, 2);
      rule.maxBytes = n;
    }
    if (values['unused-for'] !== undefined) {
      const ms = parseAge(String(values['unused-for']));
      if (ms === null) throw new CliError(`--unused-for expects an age such as 30d, 12h or 90m, got "${String(values['unused-for'])}"`, 2);
      rule.unusedForMs = ms;
    }
    const pruning = rule.maxBytes !== undefined || rule.unusedForMs !== undefined;
    const dry = values['dry-run'] === true;
    if (dry && !pruning) throw new CliError('--dry-run needs --max-size or --unused-for: without them nothing is removed anyway', 2);
    const now = Date.now();
    // Every folder is checked before anything is removed from any of them.
    for (const raw of positionals) {
      const dir = resolve(raw);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`${raw} is not a folder`, 1, 'Give the folder you passed to --cache or --feature-cache.');
    }
    for (const raw of positionals) {
      const dir = resolve(raw);
      const survey = surveyCache(dir);
      stdout(`${dir}: ${survey.entries.length} entries, ${formatBytes(survey.bytes)}${survey.temps.length ? ` (${survey.temps.length} temporary files of interrupted runs)` : ''}\n`);
      if (survey.entries.length) stdout(ageTable(survey.entries, now).join('\n') + '\n');
      if (!pruning) continue;
      const plan = planPrune(survey, rule, now);
      if (!dry) applyPrune(plan);
      stdout(`${dry ? 'would remove' : 'removed'} ${plan.remove.length} files (${formatBytes(plan.removeBytes)}), ${dry ? 'would keep' : 'kept'} ${plan.keep.length} entries (${formatBytes(plan.keepBytes)})\n`);
    }
    return 0;
  },
};
