// Redraw a training run's loss curve from its finetune-log.jsonl:
//   npx tsx scripts/loss-curve.mts OUT_DIR
// A model fine-tuned in several runs (each --init from the one before) gets one curve over all of
// them, oldest first; ":N" keeps a run's first N iterations (a run stopped at its checkpoint N):
//   npx tsx scripts/loss-curve.mts FIRST_DIR SECOND_DIR:800 LAST_DIR     (written into LAST_DIR)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lossCurveSvg } from '../src/cli/train/report';
import type { FineTuneLogEntry } from '../src/cli/train/finetune';

const runs = process.argv.slice(2);
if (runs.length === 0) throw new Error('usage: npx tsx scripts/loss-curve.mts DIR[:N] [DIR[:N] ...]');
const log: FineTuneLogEntry[] = [];
let offset = 0;
let dir = '';
for (const arg of runs) {
  const m = /^(.*?)(?::(\d+))?$/.exec(arg)!;
  dir = m[1];
  const upTo = m[2] ? Number(m[2]) : Infinity;
  const lines = readFileSync(join(dir, 'finetune-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FineTuneLogEntry);
  // A resumed run appends the iterations it redid after the last checkpoint: the later entry wins.
  const byIteration = new Map<number, FineTuneLogEntry>();
  for (const e of lines) if (e.iteration <= upTo) byIteration.set(e.iteration, e);
  const run = [...byIteration.values()].sort((a, b) => a.iteration - b.iteration);
  for (const e of run) log.push({ ...e, iteration: e.iteration + offset });
  offset += run.length ? run[run.length - 1].iteration : 0;
}
writeFileSync(join(dir, 'loss-curve.svg'), lossCurveSvg(log));
console.log(`wrote ${join(dir, 'loss-curve.svg')} from ${log.length} iterations in ${runs.length} run(s)`);
