/**
 * The tests' shared setup: the tiny synthetic VOC dataset (src/cli/train/testDataset.ts) in a new
 * temporary folder, exported by export.ts with a 0.3 validation fraction.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from '../../src/cli/train/testDataset';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface SyntheticExport {
  /** The temporary folder holding the rest. */
  tmp: string;
  /** The VOC dataset. */
  voc: string;
  /** export.ts's output and its meta.json. */
  data: string;
  meta: ExportMeta;
}

interface GroundTruthEntry {
  id: string;
  image: number;
  gtBoxes: number[];
  gtLabels: number[];
  gtDifficult: number[];
}

/** export.ts's meta.json. */
export interface ExportMeta {
  classes: string[];
  trainImages: number;
  valImages: number;
  trainWindows: number;
  trainPositives: number;
  valWindows: number;
  images: Array<{ id: string; file: string; width: number; height: number }>;
  valEval: Array<GroundTruthEntry & { proposalOffset: number; proposalCount: number }>;
  probeEval: Array<GroundTruthEntry & { proposalOffset: number; proposalCount: number }>;
  trainEval: GroundTruthEntry[];
  /** Stage 1's constants (src/model/finetune/recipe.ts), which finetune.py trains with. */
  recipe: unknown;
}

export function exportSyntheticData(prefix: string, images: number, proposals: number, extraArgs: string[] = []): SyntheticExport {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  const voc = join(tmp, 'voc');
  const data = join(tmp, 'data');
  makeDataset(voc, images);
  execFileSync('node', ['--import', 'tsx', 'tools/gpu-finetune/export.ts', '--data', voc, '--out', data, '--val-fraction', '0.3', '--cache', join(tmp, 'cache'), '--proposals', String(proposals), ...extraArgs], { cwd: ROOT, stdio: 'pipe' });
  return { tmp, voc, data, meta: JSON.parse(readFileSync(join(data, 'meta.json'), 'utf8')) };
}
