import { parseArgs } from 'node:util';
import { CliError, fileSystemProblem, type Command } from './command';
import { commands } from './registry';
import { runBench } from './commands/bench';
import { ImageInputError } from '../core/image/decode';

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'rcnn: R-CNN (Girshick et al., 2014) from the command line, sharing the app\'s pipeline modules.',
    '',
    'Usage: rcnn <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `rcnn <command> --help` for a command\'s options.',
  ].join('\n');
}

function commandHelp(c: Command): string {
  const lines = [`Usage: rcnn ${c.usage}`, '', c.summary];
  if (c.details) lines.push('', c.details);
  return lines.join('\n');
}

export async function main(argv: string[], io = { stdout: (t: string) => process.stdout.write(t), stderr: (t: string) => process.stderr.write(t) }): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    if (name === 'help' && rest[0] && !target) {
      io.stderr(`rcnn: unknown command "${rest[0]}"\n\n${usage()}\n`);
      return 2;
    }
    io.stdout((target ? commandHelp(target) : usage()) + '\n');
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout('rcnn-explorer 0.1.0\n');
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    io.stderr(`rcnn: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(commandHelp(cmd) + '\n');
    return 0;
  }
  if (cmd.name === 'bench') return guard(cmd, io, () => runBench(rest, io.stdout, io.stderr));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: joinNegativeValues(rest, cmd),  options: cmd.options, allowPositionals: cmd.positionals ?? false, strict: true });
  } catch (e) {
    io.stderr(`rcnn ${cmd.name}: ${(e as Error).message}\nUsage: rcnn ${cmd.usage}\n`);
    return 2;
  }
  return guard(cmd, io, () =>
    cmd.run({
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
      stdout: io.stdout,
      stderr: io.stderr,
    }),
  );
}

/**
 * util.parseArgs refuses `--score-threshold -1` (the value looks like an option); thresholds are
 * naturally negative here, so such pairs become `--score-threshold=-1`.
 */
function joinNegativeValues(args: string[], cmd: Command): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = a.startsWith('--') ? a.slice(2) : null;
    if (name && cmd.options[name]?.type === 'string' && i + 1 < args.length && /^-(\d|\.\d)/.test(args[i + 1])) {
      out.push(`${a}=${args[++i]}`);
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Run a command, turning user-facing errors into a message and an exit code. */
async function guard(cmd: Command, io: { stderr: (t: string) => void }, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CliError) {
      io.stderr(`rcnn ${cmd.name}: ${e.message}\n${e.hint ? e.hint + '\n' : ''}${e.exitCode === 2 ? `Usage: rcnn ${cmd.usage}\n` : ''}`);
      return e.exitCode;
    }
    if (e instanceof ImageInputError) {
      io.stderr(`rcnn ${cmd.name}: ${e.message}\n${e.hint}\n`);
      return 1;
    }
    const fs = fileSystemProblem(e);
    if (fs) {
      io.stderr(`rcnn ${cmd.name}: ${fs}\n`);
      return 1;
    }
    io.stderr(`rcnn ${cmd.name}: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

