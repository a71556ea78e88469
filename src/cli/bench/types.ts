import { CliError, numberOption } from '../command';

/** One `rcnn bench <target>`: measures, prints a table to stdout, returns an exit code. */
export interface BenchTarget {
  name: string;
  summary: string;
  /** Extra options understood by this target (documented in --help). */
  optionsHelp?: string;
  run(args: BenchArgs): Promise<number>;
}

export interface BenchArgs {
  /** Raw `--key value` options after the target name. */
  options: Record<string, string | boolean>;
  stdout: (t: string) => void;
  stderr: (t: string) => void;
}

/** Render rows as an aligned plain-text table (first row = header). */
export function formatTable(rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n') + '\n';
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

type Range = { min?: number; max?: number; integer?: boolean };

/** A numeric bench option, checked like every other command's (usage error, exit 2). */
export function benchNumber(options: BenchArgs['options'], key: string, fallback: number, range: Range = {}): number {
  if (options[key] === true) throw new CliError(`--${key} expects a value`, 2);
  return numberOption(options, key, fallback, range);
}

/** A comma-separated list of numbers ("1,0.25"), each checked. */
export function benchNumbers(options: BenchArgs['options'], key: string, fallback: string, range: Range = {}): number[] {
  if (options[key] === true) throw new CliError(`--${key} expects a value`, 2);
  return String(options[key] ?? fallback).split(',').map((t) => numberOption({ [key]: t.trim() }, key, 0, range));
}

/** The option names a target documents in its help ("--reps R" gives "reps"). */
export function documentedOptions(t: BenchTarget): Set<string> {
  return new Set([...(t.optionsHelp ?? '').matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]));
}
