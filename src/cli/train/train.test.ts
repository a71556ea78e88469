/**
 * The training pipeline end to end on a tiny synthetic VOC dataset, through the real CLI in a
 * child process: interrupted fine-tuning resumes from its checkpoint, the SVM and box-regression
 * stages produce heads, and the resulting package works with `rcnn eval` and `rcnn detect`.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './testDataset';
import { main } from '../main';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/rcnn.mjs');

/** Run the CLI; optionally kill it as soon as stderr shows `killOn`. */
function runCli(args: string[], killOn?: string): Promise<{ code: number | null; stderr: string; stdout: string; killed: boolean }> {
  return new Promise((resolve) => {
    const p = spawn('node', [CLI, ...args], { cwd: ROOT });
    let stderr = '';
    let stdout = '';
    let killed = false;
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => {
      stderr += d;
      if (killOn && !killed && stderr.includes(killOn)) {
        killed = true;
        p.kill('SIGKILL');
      }
    });
    p.on('close', (code) => resolve({ code, stderr, stdout, killed }));
  });
}

/**
 * The CLI in this process (its `main`, with stdout and stderr captured): the same code as the
 * child process, without a Node start and a TypeScript load per command (4 s each here).
 */
async function inProcess(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => ((stdout += t), true), stderr: (t) => ((stderr += t), true) });
  return { code, stdout, stderr };
}

describe('rcnn train on a tiny dataset', () => {
  it('resumes after an interruption, trains the heads, and the model evaluates and detects', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'rcnn-train-'));
    const data = join(tmp, 'voc');
    const out = join(tmp, 'model');
    makeDataset(data, 9);
    const args = ['train', '--data', data, '--out', out, '--width', '0.1', '--iterations', '6', '--checkpoint-every', '2',
      '--svm-proposals', '60', '--eval-proposals', '60', '--threads', '1', '--val-fraction', '0.25', '--cache', join(tmp, 'cache'), '--seed', '3', '--bbox-samples', '2', '--weight-decay', '0.002'];

    const first = await runCli(args, 'checkpoint saved at iteration 2');
    expect(first.killed).toBe(true);
    expect(existsSync(join(out, 'checkpoint', 'state.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')).iteration).toBe(2);

    const second = await inProcess(args);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('resuming fine-tuning from the checkpoint at iteration 2');
    expect(second.stderr).toMatch(/cnn 6\/6/);
    expect(second.stderr).not.toMatch(/cnn 2\/6/); // iterations before the checkpoint are not redone
    expect(second.stderr).toContain('files whose extension does not match');

    const manifest = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(manifest.svm.classes).toEqual(['blue', 'red']);
    expect(manifest.boxRegressor.classes).toEqual(['blue', 'red']);
    expect(manifest.classes).toEqual(['background', 'blue', 'red']);
    const log = JSON.parse(readFileSync(join(out, 'train-log.json'), 'utf8'));
    expect(log.finetuneLog.map((e: { iteration: number }) => e.iteration)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(log.finetune.options.weightDecay).toBe(0.002);
    expect(second.stderr).toMatch(/weight decay 0\.002,/);
    expect(Number.isFinite(log.validation.mapWithout)).toBe(true);
    // --bbox-samples 2: at most two regression pairs per training image, for some class.
    const pairs = (log.bbox as Array<{ samples: number }>).reduce((a, b) => a + b.samples, 0);
    expect(pairs).toBeGreaterThan(0);
    expect(pairs).toBeLessThanOrEqual(2 * log.split.train);
    expect(existsSync(join(out, 'loss-curve.svg'))).toBe(true);

    const plainEval = await inProcess(['eval', '--data', data, '--model', out, '--split', join(out, 'val.txt'), '--proposals', '60', '--threads', '1', '--cache', join(tmp, 'cache')]);
    expect(plainEval.code, plainEval.stderr).toBe(0);
    const ev = plainEval.stdout;
    // With a feature cache: the same report, and a second run reads every feature instead of computing it.
    const evalCached = () => inProcess(['eval', '--data', data, '--model', out, '--split', join(out, 'val.txt'), '--proposals', '60', '--threads', '1', '--cache', join(tmp, 'cache'), '--feature-cache', join(tmp, 'features'), '--count-at', '0']);
    const cold = await evalCached();
    const warm = await evalCached();
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.stdout).toBe(ev);
    expect(warm.stdout).toBe(ev);
    expect(cold.stderr).toMatch(/feature cache .*: 0 requests read, [1-9]\d* computed and stored/);
    // --count-at: what is drawn at score 0, on stderr (stdout, the AP lines, is unchanged).
    const counted = /at score >= 0: (\d+) of (\d+) objects found, (\d+) of (\d+) boxes correct \(IoU >= 0\.5\), nothing drawn on (\d+) of (\d+) images/.exec(cold.stderr);
    expect(counted, cold.stderr).not.toBeNull();
    const [found, objects, correct, boxes, empty, imagesCounted] = counted!.slice(1).map(Number);
    expect(imagesCounted).toBe(log.split.val);
    expect(found).toBeLessThanOrEqual(objects);
    expect(correct).toBeLessThanOrEqual(boxes);
    expect(correct).toBe(found);
    expect(empty).toBeLessThanOrEqual(imagesCounted);
    expect(warm.stderr).toMatch(/feature cache .*: [1-9]\d* requests read, 0 computed and stored; the folder holds [\d.]+ [KMG]?B/);
    expect(cold.stderr).toMatch(/NMS 0\.3, /); // R-CNN's, as the trained model names none
    // A model that names its NMS threshold (model.json detection.nmsThreshold) is evaluated with
    // it unless --nms says otherwise.
    const manifestPath = join(out, 'model.json');
    const manifestText = readFileSync(manifestPath, 'utf8');
    writeFileSync(manifestPath, JSON.stringify({ ...JSON.parse(manifestText), detection: { nmsThreshold: 0.45 } }));
    expect((await evalCached()).stderr).toMatch(/NMS 0\.45 \(the model's\), /);
    const forced = await inProcess(['eval', '--data', data, '--model', out, '--split', join(out, 'val.txt'), '--proposals', '60', '--threads', '1', '--cache', join(tmp, 'cache'), '--feature-cache', join(tmp, 'features'), '--nms', '0.3']);
    expect(forced.stderr).toMatch(/NMS 0\.3, /);
    expect(forced.stdout).toBe(ev);
    writeFileSync(manifestPath, manifestText);
    const lines = ev.trim().split('\n');
    expect(lines.map((l) => l.split(' ').slice(0, -1).join(' '))).toEqual(['AP blue', 'AP red', 'mAP']);
    for (const l of lines) expect(l).toMatch(/^(AP \w+|mAP) (\d\.\d{4}|nan)$/);
    // The fine-tuned softmax as the scorer (appendix B): the same report, from fc8.
    const soft = await inProcess(['eval', '--data', data, '--model', out, '--split', join(out, 'val.txt'), '--proposals', '60', '--threads', '1', '--cache', join(tmp, 'cache'), '--scorer', 'softmax']);
    expect(soft.code, soft.stderr).toBe(0);
    expect(soft.stderr).toContain('softmax scores');
    const softLines = soft.stdout.trim().split('\n');
    expect(softLines.map((l) => l.split(' ').slice(0, -1).join(' '))).toEqual(['AP blue', 'AP red', 'mAP']);
    for (const l of softLines) expect(l).toMatch(/^(AP \w+|mAP) (\d\.\d{4}|nan)$/);

    // The SVM stage alone, with two values of C mined in one pass and chosen on validation, and two
    // augmented copies of every ground-truth box as extra positives.
    // With --svm-neg-iou 0.5 instead of 0.3, more proposals qualify as candidate negatives.
    const gtPositives = (log.svm as Array<{ class: string; positives: number }>).map((s) => s.positives);
    expect(gtPositives.every((n) => n > 0)).toBe(true);
    const negatives03 = (log.svm as Array<{ candidateNegatives: number }>).map((s) => s.candidateNegatives);
    expect(negatives03.every((n) => n > 0)).toBe(true);
    const svmOnly = await inProcess(['train', '--data', data, '--out', out, '--stages', 'svm', '--svm-c', '0.001,0.1', '--svm-proposals', '60', '--eval-proposals', '60',
      '--threads', '1', '--val-fraction', '0.25', '--cache', join(tmp, 'cache'), '--seed', '3', '--svm-aug', '2', '--augment', 'colour', '--wb', '0.2', '--blur', '0.5', '--svm-neg-iou', '0.5', '--hard-epochs', '2']);
    expect(svmOnly.code, svmOnly.stderr).toBe(0);
    expect(svmOnly.stderr).toContain('SVM positives (ground-truth boxes and 2 augmented copies of each (colour, gains 1 +- 0.2, blur 0.5))');
    const augLog = JSON.parse(readFileSync(join(out, 'train-log.json'), 'utf8'));
    expect(augLog.svm.map((s: { positives: number }) => s.positives)).toEqual(gtPositives.map((n) => 3 * n));
    augLog.svm.forEach((s: { candidateNegatives: number }, c: number) => expect(s.candidateNegatives).toBeGreaterThan(negatives03[c]));
    expect(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).provenance.metrics['svm negative IoU']).toBe(0.5);
    expect(svmOnly.stderr).not.toContain('cnn 1/');
    expect(svmOnly.stderr).toMatch(/svm red \(C 0\.1\): final retrain/);
    // --hard-epochs 2: a retrain ends each pass, and the second pass reports what it still found.
    expect(svmOnly.stderr).toMatch(/svm red \(C 0\.1\): end of pass 1 retrain/);
    expect(svmOnly.stderr).toMatch(/hard negatives new in pass 2: blue \d+, red \d+ \(C 0\.001\); blue \d+, red \d+ \(C 0\.1\)/);
    augLog.svm.forEach((s: { hardNegativesPerPass: number[]; candidateNegatives: number }) => {
      expect(s.hardNegativesPerPass).toHaveLength(2);
      expect(s.hardNegativesPerPass[0]).toBeGreaterThan(0);
      expect(s.hardNegativesPerPass[0]).toBeLessThanOrEqual(s.candidateNegatives);
    });
    expect(svmOnly.stderr).toMatch(/validation mAP with SVM C 0\.001: [\d.]+ without box regression, [\d.]+ with/);
    expect(svmOnly.stderr).toMatch(/validation mAP with SVM C 0\.1: /);
    const selection = JSON.parse(readFileSync(join(out, 'train-log.json'), 'utf8')).svmSelection as Array<{ C: number; mapWith: number }>;
    expect(selection.map((r) => r.C)).toEqual([0.001, 0.1]);
    const kept = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).provenance.metrics['svm C'];
    const bestMap = Math.max(...selection.map((r) => r.mapWith));
    expect(kept).toBe(selection.find((r) => r.mapWith === bestMap)!.C);
    expect(svmOnly.stderr).toContain(`keeping the SVMs with C ${kept} (best validation mAP with box regression)`);

    // The box regressors alone, on the existing SVMs: no SVM positives are computed. Two values of
    // lambda are solved on the same pairs and chosen between on validation.
    const bboxOnly = await inProcess(['train', '--data', data, '--out', out, '--stages', 'bbox', '--svm-proposals', '60', '--eval-proposals', '60',
      '--threads', '1', '--val-fraction', '0.25', '--cache', join(tmp, 'cache'), '--seed', '3', '--bbox-samples', '4', '--bbox-lambda', '1,1000']);
    expect(bboxOnly.code, bboxOnly.stderr).toBe(0);
    expect(bboxOnly.stderr).not.toContain('SVM positives');
    expect(bboxOnly.stderr).toMatch(/bbox (blue|red) \(lambda 1\): \d+ pairs/);
    expect(bboxOnly.stderr).toMatch(/bbox (blue|red) \(lambda 1000\): \d+ pairs/);
    const afterBbox = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(afterBbox.svm.classes).toEqual(['blue', 'red']);
    expect(afterBbox.boxRegressor.classes).toEqual(['blue', 'red']);
    const bboxLog = JSON.parse(readFileSync(join(out, 'train-log.json'), 'utf8'));
    const lambdas = bboxLog.bboxSelection as Array<{ lambda: number; mapWith: number }>;
    expect(lambdas.map((r) => r.lambda)).toEqual([1, 1000]);
    // The better of the two is kept, and its validation mAP is the one reported.
    const keptLambda = afterBbox.provenance.metrics['box regression lambda'];
    expect(keptLambda).toBe(lambdas[0].mapWith >= lambdas[1].mapWith ? 1 : 1000);
    expect(afterBbox.provenance.metrics['val mAP (box regression)']).toBeCloseTo(Math.max(...lambdas.map((r) => r.mapWith)), 4);
    expect(bboxOnly.stderr).toContain(`keeping the box regressors with lambda ${keptLambda} (best validation mAP)`);

    // --refit: the same choice, then the box regressors solved once more on train + val (more pairs,
    // other weights); the validation mAP reported stays the one measured before the refit.
    const headsBefore = readFileSync(join(out, 'heads.bin'));
    const refit = await inProcess(['train', '--data', data, '--out', out, '--stages', 'bbox', '--svm-proposals', '60', '--eval-proposals', '60',
      '--threads', '1', '--val-fraction', '0.25', '--cache', join(tmp, 'cache'), '--seed', '3', '--bbox-samples', '4', '--bbox-lambda', '1,1000', '--refit']);
    expect(refit.code, refit.stderr).toBe(0);
    const images = bboxLog.split.train + bboxLog.split.val;
    expect(refit.stderr).toContain(`refitting the box regressors (lambda ${keptLambda}) on all ${images} images (train + val)`);
    const refitLog = JSON.parse(readFileSync(join(out, 'train-log.json'), 'utf8'));
    expect(refitLog.refit.images).toBe(images);
    const sumPairs = (l: { bbox: Array<{ samples: number }> }) => l.bbox.reduce((a, b) => a + b.samples, 0);
    expect(sumPairs(refitLog)).toBeGreaterThan(sumPairs(bboxLog)); // every val box is at least its own pair
    const afterRefit = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(afterRefit.provenance.metrics['val mAP (box regression)']).toBe(afterBbox.provenance.metrics['val mAP (box regression)']);
    expect(afterRefit.provenance.metrics['heads trained on']).toBe(`${images} images (train + val), after choosing on val`);
    expect(readFileSync(join(out, 'heads.bin')).equals(headsBefore)).toBe(false);
    // Without SVMs there is no validation pass to choose or refit with: refused, not silently skipped.
    const noSvm = await inProcess(['train', '--data', data, '--out', join(tmp, 'no-svm'), '--init', out, '--stages', 'bbox', '--refit', '--svm-proposals', '60',
      '--eval-proposals', '60', '--threads', '1', '--val-fraction', '0.25', '--cache', join(tmp, 'cache'), '--seed', '3']);
    expect(noSvm.code, noSvm.stderr).toBe(2);
    expect(noSvm.stderr).toContain('--refit needs the validation pass, which scores with SVMs');

    const detected = await inProcess(['detect', join(data, 'JPEGImages', 'img_2.jpg'), '--model', out, '--proposals', '40', '--score-threshold', '-5']);
    expect(detected.code, detected.stderr).toBe(0);
    const det = JSON.parse(detected.stdout);
    expect(det.image).toEqual({ width: 160, height: 120 });
    expect(det.detections.length).toBeGreaterThan(0);
    for (const d of det.detections) {
      expect(['blue', 'red']).toContain(d.class);
      expect(d.box[0]).toBeGreaterThanOrEqual(0);
      expect(d.box[2]).toBeLessThanOrEqual(160);
    }

    // --extra: more photos on the training side only (the split and validation stay the same),
    // each adding its own regression pairs; a folder whose ids are --data's is refused.
    const extra = join(tmp, 'extra');
    makeDataset(extra, 3, { prefix: 'aug', firstSeed: 20 });
    const withExtra = await inProcess(['train', '--data', data, '--out', out, '--stages', 'bbox', '--svm-proposals', '60', '--eval-proposals', '60',
      '--threads', '1', '--val-fraction', '0.25', '--cache', join(tmp, 'cache'), '--seed', '3', '--bbox-samples', '4', '--bbox-lambda', '1000', '--extra', extra]);
    expect(withExtra.code, withExtra.stderr).toBe(0);
    expect(withExtra.stderr).toContain('--extra: 3 more training images (never validation)');
    const extraLog = JSON.parse(readFileSync(join(out, 'train-log.json'), 'utf8'));
    expect(extraLog.split).toMatchObject({ train: bboxLog.split.train, val: bboxLog.split.val, extra: 3 });
    expect(readFileSync(join(out, 'val.txt'), 'utf8')).not.toContain('aug_');
    expect(sumPairs(extraLog)).toBeGreaterThan(sumPairs(bboxLog));
    const same = join(tmp, 'same-ids');
    makeDataset(same, 2);
    const clash = await inProcess(['train', '--data', data, '--out', out, '--stages', 'bbox', '--threads', '1', '--val-fraction', '0.25', '--cache', join(tmp, 'cache'), '--seed', '3', '--extra', same]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain('2 image id(s) also in --data (img_0, img_1)');
  }, 600_000);
});
