// Redraw a training run's loss curve from its finetune-log.jsonl:
//   npx tsx scripts/loss-curve.mts OUT_DIR
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lossCurveSvg } from '../src/cli/train/report';
import type { FineTuneLogEntry } from '../src/cli/train/finetune';

const dir = process.argv[2];
const lines = readFileSync(join(dir, 'finetune-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FineTuneLogEntry);
// A resumed run appends the iterations it redid after the last checkpoint: the later entry wins.
const byIteration = new Map<number, FineTuneLogEntry>();
for (const e of lines) byIteration.set(e.iteration, e);
const log = [...byIteration.values()].sort((a, b) => a.iteration - b.iteration);
writeFileSync(join(dir, 'loss-curve.svg'), lossCurveSvg(log));
console.log(`wrote ${join(dir, 'loss-curve.svg')} from ${log.length} iterations`);
