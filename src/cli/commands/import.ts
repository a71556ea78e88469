import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Command, CommandContext } from '../command';
import { CliError } from '../command';
import { progressPrinter } from '../io';
import { describeArch, totalMacs, totalParams } from '../../model/architecture';
import { type ImportResult, OnnxImportError, importOnnx } from '../../model/onnx/import';
import { ProtoError } from '../../model/onnx/proto';
import { type ModelPackage, PackageError, decodeBundle } from '../../model/package';
import { sniffModelFile } from '../../model/modelSniff';
import { sniffFormat } from '../../core/image/decode';
import { savePackageBundle, savePackageDir } from '../../model/packageNode';
import { type Float16Effect, measureFloat16Effect, syntheticCrops } from '../../model/float16Check';
import { useNodeBackend } from '../../model/node';
import { type ModelDownload, RCNN_ILSVRC13, ZooFileError, readModelDownload } from '../../model/zoo';

export const importCommand: Command = {
  name: 'import',
  summary: 'Import an ONNX AlexNet/CaffeNet (.onnx, or the model zoo\'s .tar.gz with its test data) into a model package, verified.',
  usage: 'import <model.onnx|model.tar.gz> --out <dir> [--name NAME] [--float16] [--bundle FILE.rcnn]',
  details: [
    'Reads the file as it streams from disk. A file named like one the ONNX Model Zoo publishes for the original',
    `R-CNN (${RCNN_ILSVRC13.files.filter((f) => !f.supersededBy).map((f) => f.name).join(', ')}), or exactly its size, must be`,
    'that file: its size and SHA-256 are checked and a truncated or different file is refused. Other files (your own',
    'export, a replica) are read with the note "not the published file, checksum not checked".',
    'A .tar.gz is unpacked on the fly; only model.onnx and test_data_set_N/{input_0,output_0}.pb are kept.',
    'The graph is matched against CaffeNet (kernel sizes, strides, pads, groups, LRN numbers and order) and refused,',
    "naming the node, when it is not that family; rcnn-ilsvrc13's 200-way fc-rcnn layer becomes the SVM head with the",
    'ILSVRC13 class names. Caffe\'s ceil-mode pooling, which the zoo files write as extra end pads for their declared',
    '224 x 224 input, is kept as Caffe semantics: detection warps to 227 x 227 as R-CNN does.',
    'When the file brings test data, every test input runs through the imported network at the size the graph declares',
    '(tfjs-wasm) and the outputs are compared with the stored ones: the max relative error is printed, and the model is',
    'refused (nothing written) when it exceeds 1e-3.',
    '  --out DIR       package folder to write (model.json, cnn.bin, heads.bin)',
    '  --name NAME     package name (default: the file name)',
    '  --float16       store CNN weights as float16 (half the size; relative weight change <= 2^-11); the',
    '                  effect on fc7 and the scores is measured and recorded in the provenance',
    '  --bundle FILE   also write a one-file .rcnn bundle (for the app\'s drag and drop)',
    'Prints a JSON summary on stdout. Get the original R-CNN with:',
    `  curl -LO ${RCNN_ILSVRC13.recommended.url}`,
    `  rcnn import ${RCNN_ILSVRC13.recommended.name} --out models/rcnn-ilsvrc13`,
  ].join('\n'),
  options: {
    out: { type: 'string' },
    name: { type: 'string' },
    float16: { type: 'boolean' },
    bundle: { type: 'string' },
  },
  positionals: true,
  async run(ctx) {
    const { positionals, values, stdout, stderr } = ctx;
    if (positionals.length !== 1) throw new CliError('expected exactly one .onnx or .tar.gz file', 2);
    const out = values.out as string | undefined;
    if (!out) throw new CliError('--out <dir> is required', 2);
    const path = positionals[0];
    const download = await readFileVerified(path, stderr);
    if (download.kind === 'onnx') await refuseIfNotOnnx(download.model, path);
    const name = (values.name as string | undefined) ?? basename(path).replace(/\.(onnx|tar\.gz|tgz|tar)$/i, '');
    let result: ImportResult;
    try {
      result = importOnnx(download.model, { source: download.published?.url ?? basename(path), name });
    } catch (e) {
      if (e instanceof OnnxImportError) throw new CliError(`${path}: ${e.message}`);
      // Whatever else a file makes the reader throw (a tensor declared larger than its data, a
      // count no array can hold) is about the file: one line naming it, never a stack trace.
      const msg = (e as Error)?.message ?? String(e);
      throw new CliError(`${path}: not a readable ONNX model: ${e instanceof ProtoError ? msg : `${(e as Error)?.name ?? 'error'}: ${msg}`}`, 1, IMPORT_HINT);
    }
    // Said once the file is known to be a model (a refusal stays one line).
    for (const n of download.notes) stderr(`note: ${n}\n`);
    // The file's bytes are no longer needed: let them go before the network is built.
    download.model = new Uint8Array(0);
    const { pkg, report } = result;
    for (const n of report.notes) stderr(`note: ${n}\n`);
    const testData = await checkAgainstTestData(path, download, result, stderr);
    recordProvenance(pkg, download, testData);
    const float16Effect = values.float16 ? await measureFloat16(pkg) : undefined;
    const written = await savePackageDir(pkg, out, { float16: Boolean(values.float16) });
    if (values.bundle) {
      await savePackageBundle(pkg, values.bundle as string, { float16: Boolean(values.float16) });
      written.push(values.bundle as string);
    }
    stdout(JSON.stringify(summary(pkg, result, download, testData, { out, written, float16: Boolean(values.float16), float16Effect }), null, 1) + '\n');
    return 0;
  },
};

/** Streams the file through the zoo reader (size + SHA-256 for published files, tar.gz unpacked on the fly). */
async function readFileVerified(path: string, stderr: CommandContext['stderr']): Promise<ModelDownload> {
  let size: number;
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new CliError(`${path} is a folder; give the .onnx or .tar.gz file`);
    size = s.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as NodeJS.ErrnoException).code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path}: ${(e as Error).message}`);
  }
  const progress = progressPrinter(stderr);
  const mb = (n: number) => Math.round(n / 1e6);
  try {
    return await readModelDownload(createReadStream(path, { highWaterMark: 1 << 20 }), {
      fileName: basename(path),
      size,
      // node:crypto's native SHA-256 (about 15x the TypeScript one the browser uses).
      hasher: () => {
        const h = createHash('sha256');
        return { update: (b: Uint8Array) => h.update(b), hex: () => h.digest('hex') };
      },
      onProgress: size > 20e6 ? (n) => progress(`reading ${basename(path)} (MB)`, mb(n), mb(size)) : undefined,
    });
  } catch (e) {
    if (e instanceof ZooFileError) throw new CliError(e.message.startsWith(basename(path)) ? `${path}${e.message.slice(basename(path).length)}` : `${path}: ${e.message}`);
    throw e;
  }
}

type Parity = Awaited<ReturnType<typeof import('../../model/onnx/testData').checkTestData>>;

/** Runs the file's own test data through the imported network; refuses the model when it does not match. */
async function checkAgainstTestData(path: string, download: ModelDownload, { pkg, report }: ImportResult, stderr: CommandContext['stderr']): Promise<Parity | null> {
  if (download.testSets.length === 0) {
    stderr(`note: ${basename(path)} brings no test data${download.kind === 'onnx' ? ' (a bare .onnx)' : ''}: the import is not checked against reference outputs\n`);
    return null;
  }
  const { checkTestData, describeParity, TestDataError } = await import('../../model/onnx/testData');
  await useNodeBackend('wasm');
  let parity: Parity;
  try {
    parity = await checkTestData(pkg, report, download.testSets, { onProgress: progressPrinter(stderr).bind(null, 'test data') });
  } catch (e) {
    if (e instanceof TestDataError) throw new CliError(`${path}: its test data cannot be used: ${e.message}`);
    throw e;
  }
  for (const line of describeParity(parity)) stderr(`test data: ${line}\n`);
  if (!parity.pass) {
    throw new CliError(
      `${path}: refused: the imported network does not reproduce the file's own test data: max relative error ${parity.maxRelativeError.toExponential(2)} ` +
        `(${parity.worst}) against the tolerance ${parity.tolerance}; nothing was written`,
      1,
      'The file is damaged, or its graph means something this importer reads differently; the numbers per test set are above.',
    );
  }
  return parity;
}

function recordProvenance(pkg: ModelPackage, download: ModelDownload, parity: Parity | null): void {
  const notes = pkg.provenance.notes ?? [];
  notes.push(
    download.published
      ? `verified: ${download.published.name}, ${download.bytes} bytes, SHA-256 ${download.sha256} as published by the ONNX Model Zoo (${RCNN_ILSVRC13.licence})`
      : `read from ${download.modelPath} (${download.bytes} bytes, SHA-256 ${download.sha256}); not a published file, so no checksum to compare`,
  );
  if (parity) {
    notes.push(`the file's ${parity.sets.length} test sets reproduced on tfjs-${parity.backend} at ${parity.inputShape.join('x')}: max relative error ${parity.maxRelativeError.toExponential(2)} (tolerance ${parity.tolerance})`);
    pkg.provenance.metrics = { ...pkg.provenance.metrics, 'test data max relative error': parity.maxRelativeError };
  }
  if (download.published) {
    notes.push(`${RCNN_ILSVRC13.mAP.percent} % mAP on ${RCNN_ILSVRC13.mAP.dataset} as the zoo states it, ${RCNN_ILSVRC13.mAP.note}; ${RCNN_ILSVRC13.svmsFolded}`);
  }
  pkg.provenance.notes = notes;
}

/** Float16 storage is written only with its measured effect recorded next to it. */
async function measureFloat16(pkg: ModelPackage): Promise<Float16Effect> {
  await useNodeBackend('wasm');
  const crops = syntheticCrops(pkg, 16);
  const effect = await measureFloat16Effect(pkg, crops);
  crops.dispose();
  pkg.provenance.metrics = {
    ...pkg.provenance.metrics,
    'float16 fc7 relative error': effect.fc7RelativeError,
    'float16 max score change': effect.scoreMaxAbsChange,
    'float16 top-1 agreement': effect.top1Agreement,
  };
  pkg.provenance.notes = [...(pkg.provenance.notes ?? []), `CNN weights stored as float16; measured on ${effect.crops} synthetic crops against float32`];
  return effect;
}

function summary(
  pkg: ModelPackage,
  { report }: ImportResult,
  download: ModelDownload,
  parity: Parity | null,
  o: { out: string; written: string[]; float16: boolean; float16Effect?: Float16Effect },
) {
  const a = pkg.architecture;
  return {
    name: pkg.name,
    out: o.out,
    files: o.written,
    file: { kind: download.kind, bytes: download.bytes, sha256: download.sha256, published: download.published?.name ?? null, model: download.modelPath },
    opset: report.opset,
    producer: report.producer,
    input: `${a.inputHeight}x${a.inputWidth}x${a.inputChannels} ${a.channelOrder}, mean ${a.mean.join('/')}`,
    declaredInput: report.declaredInputShape,
    caffeCeilPools: report.caffeCeilPools,
    normOrder: a.normOrder,
    layers: describeArch(a).map((l) => `${l.name} ${l.shape.join('x')}`),
    params: totalParams(a),
    macs: totalMacs(a),
    classifier: a.fc8 > 0 ? a.fc8 : null,
    svm: pkg.svm ? { classes: pkg.svm.classes.length, first: pkg.svm.classes.slice(0, 3) } : null,
    testData: parity
      ? {
          pass: parity.pass,
          maxRelativeError: parity.maxRelativeError,
          tolerance: parity.tolerance,
          backend: parity.backend,
          input: parity.inputShape,
          sets: parity.sets.map((s) => ({ name: s.name, maxRelativeError: s.maxRelativeError, maxAbsError: s.maxAbsError })),
        }
      : null,
    weights: o.float16 ? 'float16' : 'float32',
    float16Effect: o.float16Effect,
    manifest: join(o.out, 'model.json'),
    notes: [...download.notes, ...report.notes],
  };
}

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
