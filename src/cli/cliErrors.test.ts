import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from './main';
import { encodeNpy } from './npy';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const t0 = performance.now();
  const code = await main(args, { stdout: (t) => ((out += t), true), stderr: (t) => ((err += t), true) });
  return { code, out, err, ms: performance.now() - t0 };
}

const BUNDLED = 'public/models/fruit-animals';
const SAMPLE = 'public/samples/apple.jpg';

describe('rcnn: what goes wrong is said in a line, never a stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rcnn-errors-'));

  it('a missing, empty or wrong model names the problem and what to give instead', async () => {
    writeFileSync(join(dir, 'notes.json'), '{}');
    for (const [model, says] of [
      [join(dir, 'nothing-here'), /no such file or folder/],
      [dir, /model\.json not found/],
      [join(dir, 'notes.json'), /is not a package manifest/],
      [SAMPLE, /not a readable ONNX model/],
    ] as const) {
      const r = await run(['detect', SAMPLE, '--model', model, '--proposals', '5']);
      expect(r.code, model).toBe(1);
      expect(r.err, model).toMatch(/^rcnn detect: cannot load the model .* \(--model\): /);
      expect(r.err, model).toMatch(says);
      expect(r.err, model).toContain('Give a model package folder');
      expect(r.err, model).not.toMatch(/unexpected error|\n\s+at /);
    }
    const init = await run(['train', '--data', dir, '--out', join(dir, 'out'), '--init', join(dir, 'nothing-here')]);
    expect([init.code, /cannot load the model .* \(--init\)/.test(init.err)]).toEqual([1, true]);
  });

  it('paths that cannot be read or written are one plain line', async () => {
    const npy = join(dir, 'in.npy');
    writeFileSync(npy, encodeNpy({ shape: [1, 3, 227, 227], data: new Float32Array(3 * 227 * 227) }));
    const out = await run(['forward', '--model', BUNDLED, '--input', npy, '--output', join(dir, 'no-such-folder', 'out.npy'), '--layer', 'fc7']);
    expect(out.code).toBe(1);
    expect(out.err).toMatch(/^rcnn forward: cannot open .*no-such-folder\/out\.npy: no such file or folder/);
    const input = await run(['forward', '--model', BUNDLED, '--input', join(dir, 'none.npy'), '--output', join(dir, 'o.npy')]);
    expect(input.err).toMatch(/cannot open .*none\.npy: no such file or folder/);
    const empty = join(dir, 'empty.npy');
    writeFileSync(empty, encodeNpy({ shape: [0, 3, 227, 227], data: new Float32Array(0) }));
    expect((await run(['forward', '--model', BUNDLED, '--input', empty, '--output', join(dir, 'o.npy')])).err).toMatch(/holds no crops/);
    const split = await run(['eval', '--data', dir, '--split', dir]);
    expect(split.code).toBe(2);
    expect(split.err).toMatch(/--split .* is a folder; give a text file of image ids/);
  });

  it('bad numbers are refused before any long work: blank values, late options of train and eval, bench options', async () => {
    const blank = await run(['proposals', SAMPLE, '--max=']);
    expect([blank.code, blank.err.includes('--max expects an integer, got ""')]).toEqual([2, true]);
    // train would read 530 photos and run selective search before reaching these.
    for (const opt of [['--eval-proposals', 'abc'], ['--lr', 'abc'], ['--checkpoint-every', '0'], ['--max-images', 'abc']]) {
      const r = await run(['train', '--data', '../shared/datasets/fruit-animals', '--out', join(dir, 'train'), '--stages', 'svm,bbox', '--init', BUNDLED, ...opt]);
      expect(r.code, opt.join(' ')).toBe(2);
      expect(r.err, opt.join(' ')).toContain(opt[0]);
      expect(r.err, opt.join(' ')).not.toContain('dataset');
    }
    // --features / --roi-scale are read up front too, and --svm-aug cannot go with RoI features.
    for (const [opt, says] of [
      [['--features', 'crops'], '--features must be one of warp, roi, got "crops"'],
      [['--features', 'roi', '--roi-scale', '600'], '--roi-scale must be one of fast-rcnn, search, pyramid, got "600"'],
      [['--features', 'roi', '--svm-aug', '2'], '--svm-aug makes augmented warped crops, which --features roi does not use'],
    ] as const) {
      const r = await run(['train', '--data', '../shared/datasets/fruit-animals', '--out', join(dir, 'train'), '--stages', 'svm,bbox', '--init', BUNDLED, ...opt]);
      expect([r.code, r.err.includes(says)], opt.join(' ')).toEqual([2, true]);
      expect(r.err, opt.join(' ')).not.toContain('dataset');
    }
    const features = await run(['detect', SAMPLE, '--features', 'shared']);
    expect([features.code, features.err.includes('--features must be one of warp, roi, got "shared"')]).toEqual([2, true]);
    const count = await run(['eval', '--data', '../shared/datasets/fruit-animals', '--count-at', 'abc']);
    expect([count.code, count.err.includes('--count-at expects a number')]).toEqual([2, true]);
    expect(count.err).not.toContain('dataset');
    for (const [args, says] of [
      [['nms', '--reps', 'abc'], '--reps expects an integer'],
      [['nms', '--reps', '-5'], '--reps must be between 1 and 10000, got -5'],
      [['nms', '--bogus', '3'], 'bench nms has no option --bogus; it takes: --reps'],
      [['ridge', '--n', 'abc'], '--n expects an integer'],
      [['svm', '--pos', '-1'], '--pos must be at least 1, got -1'],
      [['cnn', '--widths', '1,x'], '--widths expects a number, got "x"'],
      [['detect', '--images', 'x'], '--images expects an integer'],
      [['detect', '--roi-scale', '600'], '--roi-scale must be one of fast-rcnn, search, pyramid, got "600"'],
      [['app', '--features', 'crops'], '--features must be warp or roi, got "crops"'],
    ] as const) {
      const r = await run(['bench', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toContain(says);
    }
  });

  it('help for a command that does not exist says so', async () => {
    const r = await run(['help', 'nosuch']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown command "nosuch"');
  });
});
