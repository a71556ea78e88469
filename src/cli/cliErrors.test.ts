import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from './main';
import { encodeNpy } from './npy';
import { caffeNetArch } from '../model/architecture';
import { randomWeights } from '../model/caffenet';
import { exportOnnx } from '../model/onnx/export';
import { decodeOnnxModel, encodeOnnxModel } from '../model/onnx/proto';
import { encodeBundle, type ModelPackage } from '../model/package';
import { savePackageDir } from '../model/packageNode';

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
    ] as const) {
      const r = await run(['bench', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toContain(says);
    }
  });

  it('rcnn import and --model name every bad model file in one line: a tensor larger than its data, a bundle, a manifest, a weight file', async () => {
    const arch = caffeNetArch({ width: 0.125, numClasses: 0 });
    const pkg: ModelPackage = { name: 'tiny', architecture: arch, classes: null, weights: randomWeights(arch, { seed: 2, scheme: 'caffe' }), provenance: { createdBy: 'test', createdAt: '' } };
    // The audit's case: fc6's Gemm weight declared 100000 x 100000, with its real (small) data.
    const m = decodeOnnxModel(exportOnnx(pkg, { opset: 9 }).bytes);
    const w = m.graph.initializer.find((t) => t.name === m.graph.node.find((n) => n.opType === 'Gemm')!.input[1])!;
    w.dims = [100000, 100000];
    const huge = join(dir, 'huge.onnx');
    writeFileSync(huge, encodeOnnxModel(m));
    const bundle = await encodeBundle(pkg);
    const cut = join(dir, 'cut.rcnn');
    writeFileSync(cut, bundle.subarray(0, bundle.length >> 1));
    const whole = join(dir, 'whole.rcnn');
    writeFileSync(whole, bundle);
    const pkgDir = join(dir, 'pkg');
    await savePackageDir(pkg, pkgDir);
    const headless = join(dir, 'headless.rcnn');
    writeFileSync(headless, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));

    for (const [file, says] of [
      // The importer judges the graph before it reads a weight: the declared 100000 x 100000 weight
      // does not fit the layer it feeds, which is said before 40 GB are ever asked for.
      [huge, `${huge}: Gemm node "fc6": bias of 512 values for 100000 outputs`],
      [cut, `${cut} is an R-CNN Explorer bundle (.rcnn), not an ONNX file, and it is truncated: cnn.bin needs`],
      [whole, `${whole} is already a model package (an R-CNN Explorer .rcnn bundle), not an ONNX file: it needs no import`],
      [join(pkgDir, 'model.json'), `${join(pkgDir, 'model.json')} is JSON (a model package's model.json?), not an ONNX file: a package needs no import`],
      [join(pkgDir, 'cnn.bin'), `${join(pkgDir, 'cnn.bin')} looks like one weight file of a model package (.bin), not an ONNX file`],
      [headless, `${headless} is named .rcnn but is not an R-CNN Explorer bundle`],
      [SAMPLE, `${SAMPLE} is a JPEG image, not an ONNX model`],
    ] as const) {
      const r = await run(['import', file, '--out', join(dir, 'imported')]);
      expect(r.code, file).toBe(1);
      expect(r.err.split('\n')[0], file).toContain(`rcnn import: ${says}`);
      expect(r.err.split('\n').filter(Boolean).length, file).toBeLessThanOrEqual(2); // the line and a hint
      expect(r.err, file).not.toMatch(/unexpected error|\n\s+at |wire type/);
    }
    // The same files as --model of detect and forward: one line each, named for what they are.
    const npy = join(dir, 'crop.npy');
    writeFileSync(npy, encodeNpy({ shape: [1, 3, 227, 227], data: new Float32Array(3 * 227 * 227) }));
    for (const [file, says] of [
      [huge, /Gemm node "fc6": bias of 512 values for 100000 outputs/],
      [cut, /is truncated: cnn\.bin needs \d+ bytes, \d+ left/],
      [join(pkgDir, 'cnn.bin'), /looks like one weight file of a model package: give the folder that holds it and its model\.json/],
      [headless, /is named \.rcnn but is not a bundle/],
    ] as const) {
      for (const args of [['detect', SAMPLE, '--model', file, '--proposals', '5'], ['forward', '--model', file, '--input', npy, '--output', join(dir, 'o.npy')]]) {
        const r = await run(args);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.err, args.join(' ')).toMatch(new RegExp(`^rcnn ${args[0]}: cannot load the model .* \\(--model\\): `));
        expect(r.err, args.join(' ')).toMatch(says);
        expect(r.err, args.join(' ')).not.toMatch(/unexpected error|\n\s+at |wire type/);
      }
    }
  });

  it('help for a command that does not exist says so', async () => {
    const r = await run(['help', 'nosuch']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown command "nosuch"');
  });
});
