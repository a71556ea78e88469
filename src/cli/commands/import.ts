import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Command } from '../command';
import { CliError } from '../command';
import { describeArch, totalMacs, totalParams } from '../../model/architecture';
import { OnnxImportError, importOnnx } from '../../model/onnx/import';
import { savePackageBundle, savePackageDir } from '../../model/packageNode';
import { type Float16Effect, measureFloat16Effect, syntheticCrops } from '../../model/float16Check';
import { useNodeBackend } from '../../model/node';

export const importCommand: Command = {
  name: 'import',
  summary: 'Convert an ONNX AlexNet/CaffeNet (model zoo: bvlc_alexnet, caffenet, rcnn-ilsvrc13) into a model package.',
  usage: 'import <model.onnx> --out <dir> [--name NAME] [--float16] [--bundle FILE.rcnn]',
  details: [
    'Reads the graph (kernel sizes, strides, pads, groups, LRN numbers and order), derives the input size from',
    "fc6's weight shape, and keeps rcnn-ilsvrc13's 200-way fc-rcnn layer as the SVM head with the ILSVRC13 classes.",
    'Unsupported graphs are refused with the node that does not fit.',
    '  --out DIR       package folder to write (model.json, cnn.bin, heads.bin)',
    '  --name NAME     package name (default: the file name)',
    '  --float16       store CNN weights as float16 (half the size; relative weight change <= 2^-11); the',
    '                  effect on fc7 and the scores is measured and recorded in the provenance',
    '  --bundle FILE   also write a one-file .rcnn bundle (for the app\'s drag and drop)',
    'Prints a JSON summary on stdout.',
  ].join('\n'),
  options: {
    out: { type: 'string' },
    name: { type: 'string' },
    float16: { type: 'boolean' },
    bundle: { type: 'string' },
  },
  positionals: true,
  async run({ positionals, values, stdout, stderr }) {
    if (positionals.length !== 1) throw new CliError('expected exactly one .onnx file', 2);
    const out = values.out as string | undefined;
    if (!out) throw new CliError('--out <dir> is required', 2);
    const path = positionals[0];
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (e) {
      throw new CliError((e as NodeJS.ErrnoException).code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path}: ${(e as Error).message}`);
    }
    let result;
    try {
      result = importOnnx(bytes, { source: basename(path), name: (values.name as string | undefined) ?? basename(path).replace(/\.onnx$/i, '') });
    } catch (e) {
      if (e instanceof OnnxImportError) throw new CliError(`${path}: ${e.message}`);
      throw e;
    }
    const { pkg, report } = result;
    const float16 = Boolean(values.float16);
    let float16Effect: Float16Effect | undefined;
    if (float16) {
      // Stored in float16 only with its measured effect recorded next to it.
      await useNodeBackend('wasm');
      const crops = syntheticCrops(pkg, 16);
      float16Effect = await measureFloat16Effect(pkg, crops);
      crops.dispose();
      pkg.provenance.metrics = {
        ...pkg.provenance.metrics,
        'float16 fc7 relative error': float16Effect.fc7RelativeError,
        'float16 max score change': float16Effect.scoreMaxAbsChange,
        'float16 top-1 agreement': float16Effect.top1Agreement,
      };
      pkg.provenance.notes = [...(pkg.provenance.notes ?? []), `CNN weights stored as float16; measured on ${float16Effect.crops} synthetic crops against float32`];
    }
    const written = await savePackageDir(pkg, out, { float16 });
    if (values.bundle) {
      await savePackageBundle(pkg, values.bundle as string, { float16 });
      written.push(values.bundle as string);
    }
    for (const n of report.notes) stderr(`note: ${n}\n`);
    const a = pkg.architecture;
    stdout(
      JSON.stringify(
        {
          name: pkg.name,
          out,
          files: written,
          opset: report.opset,
          producer: report.producer,
          input: `${a.inputHeight}x${a.inputWidth}x${a.inputChannels} ${a.channelOrder}, mean ${a.mean.join('/')}`,
          declaredInput: report.declaredInputShape,
          normOrder: a.normOrder,
          layers: describeArch(a).map((l) => `${l.name} ${l.shape.join('x')}`),
          params: totalParams(a),
          macs: totalMacs(a),
          classifier: a.fc8 > 0 ? a.fc8 : null,
          svm: pkg.svm ? { classes: pkg.svm.classes.length, first: pkg.svm.classes.slice(0, 3) } : null,
          weights: float16 ? 'float16' : 'float32',
          float16Effect,
          manifest: join(out, 'model.json'),
          notes: report.notes,
        },
        null,
        1,
      ) + '\n',
    );
    return 0;
  },
};
