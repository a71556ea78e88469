import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Command } from '../command';
import { CliError } from '../command';
import { describeArch, totalMacs, totalParams } from '../../model/architecture';
import { OnnxImportError, importOnnx } from '../../model/onnx/import';
import { ProtoError } from '../../model/onnx/proto';
import { PackageError, decodeBundle } from '../../model/package';
import { sniffModelFile } from '../../model/modelSniff';
import { sniffFormat } from '../../core/image/decode';
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
    await refuseIfNotOnnx(bytes, path);
    let result;
    try {
      result = importOnnx(bytes, { source: basename(path), name: (values.name as string | undefined) ?? basename(path).replace(/\.onnx$/i, '') });
    } catch (e) {
      if (e instanceof OnnxImportError) throw new CliError(`${path}: ${e.message}`);
      // Whatever else a file makes the reader throw (a tensor declared larger than its data, a
      // count no array can hold) is about the file: one line naming it, never a stack trace.
      const msg = (e as Error)?.message ?? String(e);
      throw new CliError(`${path}: not a readable ONNX model: ${e instanceof ProtoError ? msg : `${(e as Error)?.name ?? 'error'}: ${msg}`}`, 1, IMPORT_HINT);
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

const IMPORT_HINT = 'rcnn import converts an AlexNet-family .onnx file (bvlc_alexnet, caffenet, rcnn-ilsvrc13) into a model package.';

/**
 * A model package (bundle, model.json, a .bin) needs no import: say what the file is and how to
 * use it, as the app does (model/modelSniff.ts), instead of the ONNX reader's "unsupported wire type".
 */
async function refuseIfNotOnnx(bytes: Uint8Array, path: string): Promise<void> {
  if (bytes.length === 0) throw new CliError(`${path} is empty (0 bytes)`, 1, IMPORT_HINT);
  const image = sniffFormat(bytes);
  if (image !== 'unknown') throw new CliError(`${path} is a ${image.toUpperCase()} image, not an ONNX model`, 1, IMPORT_HINT);
  const kind = sniffModelFile(bytes, basename(path));
  if (kind === 'bundle') {
    try {
      await decodeBundle(bytes, path);
    } catch (e) {
      if (!(e instanceof PackageError)) throw e;
      const rest = e.message.startsWith(`${path} is `) ? e.message.slice(path.length + 1) : `is damaged: ${e.message}`;
      throw new CliError(`${path} is an R-CNN Explorer bundle (.rcnn), not an ONNX file, and it ${rest}`, 1, 'Download or write the bundle again.');
    }
    throw new CliError(`${path} is already a model package (an R-CNN Explorer .rcnn bundle), not an ONNX file: it needs no import`, 1, `Use it as it is, e.g. rcnn detect photo.jpg --model ${path}`);
  }
  if (kind === 'manifest') {
    throw new CliError(`${path} is JSON (a model package's model.json?), not an ONNX file: a package needs no import`, 1, 'Use the package folder as it is, e.g. rcnn detect photo.jpg --model DIR');
  }
  if (kind === 'package-binary') {
    throw new CliError(`${path} looks like one weight file of a model package (.bin), not an ONNX file`, 1, 'Use the package folder that holds it and its model.json, e.g. rcnn detect photo.jpg --model DIR');
  }
  if (kind === 'not-a-bundle') {
    throw new CliError(`${path} is named .rcnn but is not an R-CNN Explorer bundle (a bundle starts with RCNNPKG1; this one does not): it may be truncated or another kind of file`, 1, 'Download or write the bundle again; rcnn import converts .onnx files.');
  }
}

