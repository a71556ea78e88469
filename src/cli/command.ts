import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** One `rcnn <name>` sub-command. Results go to stdout; progress and messages to stderr. */
export interface Command {
  name: string;
  summary: string;
  /** Usage line(s) after `rcnn `, e.g. "proposals <image> [--mode fast|quality]". */
  usage: string;
  /** Longer help: what each option means and its default. */
  details?: string;
  options: OptionSpec;
  /** Whether positional arguments are allowed. */
  positionals?: boolean;
  run(ctx: CommandContext): Promise<number>;
}

export interface CommandContext {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** An error meant for the user: printed without a stack trace, exit code 2 (usage) or 1. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1, readonly hint?: string) {
    super(message);
    this.name = 'CliError';
  }
}

export function numberOption(values: CommandContext['values'], key: string, fallback: number, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  const raw = values[key];
  if (raw === undefined) return fallback;
  const v = typeof raw === 'string' && raw.trim() === '' ? NaN : Number(raw); // Number('') is 0
  if (!Number.isFinite(v) || (opts.integer && !Number.isInteger(v))) {
    throw new CliError(`--${key} expects ${opts.integer ? 'an integer' : 'a number'}, got "${String(raw)}"`, 2);
  }
  if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
    const range = opts.max === undefined ? `at least ${opts.min}` : opts.min === undefined ? `at most ${opts.max}` : `between ${opts.min} and ${opts.max}`;
    throw new CliError(`--${key} must be ${range}, got ${v}`, 2);
  }
  return v;
}

export function stringOption<T extends string>(values: CommandContext['values'], key: string, fallback: T, allowed?: readonly T[]): T {
  const raw = values[key];
  if (raw === undefined) return fallback;
  const v = String(raw) as T;
  if (allowed && !allowed.includes(v)) throw new CliError(`--${key} must be one of ${allowed.join(', ')}, got "${v}"`, 2);
  return v;
}

const FS_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or folder (does the folder it should be in exist?)',
  EEXIST: 'it already exists and is not a folder',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'part of the path is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'the disk is full',
  EROFS: 'the file system is read-only',
};

/** A file-system error from Node (reading or writing a path the user gave) as one plain line. */
export function fileSystemProblem(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException | null;
  if (!err || typeof err.code !== 'string' || !err.path || !(err.code in FS_PROBLEMS)) return null;
  const verb = err.syscall === 'mkdir' ? 'create the folder' : err.syscall === 'open' || err.syscall === 'read' ? 'open' : err.syscall === 'write' ? 'write' : err.syscall === 'scandir' ? 'list' : 'use';
  return `cannot ${verb} ${err.path}: ${FS_PROBLEMS[err.code]}`;
}
