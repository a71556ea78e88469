import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Command } from '../command';
import { CliError } from '../command';
import { describeArch, totalMacs, totalParams } from '../../model/architecture';
import { OnnxImportError, importOnnx } from '../../model/onnx/import';
import { savePackageBundle, savePackageDir } from '../../model/packageNode';

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
    '  --float16       store CNN weights as float16 (half the size; relative weight change <= 2^-11)',
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
