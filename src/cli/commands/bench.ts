import { CliError, type Command } from '../command';
import { documentedOptions, type BenchTarget } from '../bench/types';
import { nmsBench } from '../bench/nms';
import { proposalsBench } from '../bench/proposals';
import { cnnBench } from '../bench/cnn';
import { cnnBrowserBench } from '../bench/cnnBrowser';
import { svmBench, ridgeBench } from '../bench/learn';
import { warpBench } from '../bench/warp';
import { detectBench } from '../bench/detect';
import { appBench } from '../bench/app';

/** Benchmark targets; each prints a table. Add new ones here. */
export const benchTargets: BenchTarget[] = [nmsBench, proposalsBench, warpBench, cnnBench, cnnBrowserBench, svmBench, ridgeBench, detectBench, appBench];

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Run a benchmark and print a table: ' + benchTargets.map((t) => t.name).join(', ') + '.',
  usage: 'bench <target> [--option value ...]',
  get details() {
    return benchTargets.map((t) => `  ${t.name}: ${t.summary}${t.optionsHelp ? `\n      options: ${t.optionsHelp}` : ''}`).join('\n');
  },
  options: {},
  positionals: true,
  async run() {
    throw new Error('bench is dispatched by runBench');
  },
};

/** `bench` takes free-form options per target, so it parses its own arguments. */
export async function runBench(argv: string[], stdout: (t: string) => void, stderr: (t: string) => void): Promise<number> {
  const [name, ...rest] = argv;
  const target = benchTargets.find((t) => t.name === name);
  if (!target) throw new CliError(`unknown bench target "${name ?? ''}"; one of: ${benchTargets.map((t) => t.name).join(', ')}`, 2);
  const options: Record<string, string | boolean> = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith('--')) throw new CliError(`unexpected argument "${a}"`, 2);
    const key = a.slice(2);
    const eq = key.indexOf('=');
    if (eq >= 0) options[key.slice(0, eq)] = key.slice(eq + 1);
    else if (i + 1 < rest.length && !rest[i + 1].startsWith('--')) options[key] = rest[++i];
    else options[key] = true;
  }
  const known = documentedOptions(target);
  const unknown = Object.keys(options).filter((k) => !known.has(k));
  if (unknown.length) throw new CliError(`bench ${target.name} has no option ${unknown.map((k) => `--${k}`).join(', ')}; it takes: ${[...known].map((k) => `--${k}`).join(' ') || 'none'}`, 2);
  return target.run({ options, stdout, stderr });
}
