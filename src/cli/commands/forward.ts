import { loadModelForCli } from '../io';
import { readFile, writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import type { Command } from '../command';
import { CliError, fileSystemProblem, numberOption, stringOption } from '../command';
import { encodeNpy, parseNpy } from '../npy';
import { type LayerName, layerNames } from '../../model/architecture';
import { useNodeBackend } from '../../model/node';
import { RcnnModel } from '../../model/rcnnModel';
import { toNchw } from '../../model/caffenet';
import { importOnnx } from '../../model/onnx/import';

export const forwardCommand: Command = {
  name: 'forward',
  summary: 'Run the network on a preprocessed NCHW float32 .npy batch and write one layer\'s output as .npy.',
  usage: 'forward --model <dir|file.rcnn|model.onnx> --input in.npy --output out.npy [--layer NAME] [--backend wasm|cpu] [--batch N]',
  details: [
    '  --model    a package folder, a .rcnn bundle, or an .onnx model (imported on the fly)',
    '  --input    N x 3 x H x W float32 (or float64), already preprocessed: BGR, mean subtracted, H x W = the',
    '             network input (227 x 227 for CaffeNet)',
    '  --output   the layer output, NCHW for conv/pool/norm layers, N x D for fc layers',
    '  --layer    conv1 pool1 norm1 conv2 pool2 norm2 conv3 conv4 conv5 pool5 fc6 fc7 fc8 prob, or svm (SVM head',
    '             scores); for an .onnx model also the ONNX value name of one of these. Default: the last layer',
    '             (svm for rcnn-ilsvrc13, whose last layer is the SVM head). conv and fc outputs are after ReLU.',
    '  --backend  tfjs backend (default wasm)',
    '  --batch    crops per forward pass (default 16)',
  ].join('\n'),
  options: {
    model: { type: 'string' },
    input: { type: 'string' },
    output: { type: 'string' },
    layer: { type: 'string' },
    backend: { type: 'string' },
    batch: { type: 'string' },
  },
  async run({ values, stderr }) {
    for (const k of ['model', 'input', 'output']) if (!values[k]) throw new CliError(`--${k} is required`, 2);
    const backend = stringOption(values, 'backend', 'wasm', ['wasm', 'cpu'] as const);
    const batch = numberOption(values, 'batch', 16, { min: 1, integer: true });
    const modelPath = values.model as string;
    const pkg = await loadModelForCli(modelPath);
    const a = pkg.architecture;
    const names: string[] = [...layerNames(a), ...(pkg.svm ? ['svm'] : [])];
    let layer = (values.layer as string | undefined) ?? (pkg.svm && a.fc8 === 0 ? 'svm' : names[layerNames(a).length - 1]);
    if (!names.includes(layer) && /\.onnx$/i.test(modelPath)) {
      const { report } = importOnnx(new Uint8Array(await readFile(modelPath)));
      const hit = Object.entries(report.layerValues).find(([, v]) => v === layer)?.[0] ?? (report.svmValue === layer ? 'svm' : undefined);
      if (hit) layer = hit;
    }
    if (!names.includes(layer)) throw new CliError(`unknown layer "${layer}"; this network has: ${names.join(', ')}`, 2);
    let input;
    try {
      input = parseNpy(new Uint8Array(await readFile(values.input as string)), values.input as string);
    } catch (e) {
      throw new CliError(fileSystemProblem(e) ?? (e as Error).message);
    }
    const [n, c, h, w] = input.shape;
    if (input.shape.length !== 4 || c !== a.inputChannels || h !== a.inputHeight || w !== a.inputWidth) {
      throw new CliError(`input has shape (${input.shape.join(', ')}); this network takes (N, ${a.inputChannels}, ${a.inputHeight}, ${a.inputWidth}) NCHW`);
    }
    if (n === 0) throw new CliError(`${values.input as string} holds no crops (shape ${input.shape.join(' x ')}): nothing to run`);
    await useNodeBackend(backend);
    const model = new RcnnModel(pkg);
    const t0 = performance.now();
    const chunks: Float32Array[] = [];
    let outShape: number[] = [];
    const per = c * h * w;
    for (let s = 0; s < n; s += batch) {
      const m = Math.min(batch, n - s);
      const res = tf.tidy(() => {
        const x = tf.transpose(tf.tensor4d(input.data.subarray(s * per, (s + m) * per), [m, c, h, w]), [0, 2, 3, 1]) as tf.Tensor4D;
        if (layer === 'svm') return model.heads.scores(model.net.forward(x, { outputs: ['fc7'] }).fc7 as tf.Tensor2D);
        return toNchw(model.net.forward(x, { outputs: [layer as LayerName] })[layer as LayerName]!);
      });
      outShape = res.shape.slice();
      chunks.push((await res.data()) as Float32Array);
      res.dispose();
    }
    model.dispose();
    const data = new Float32Array(chunks.reduce((q, x) => q + x.length, 0));
    let o = 0;
    for (const ch of chunks) {
      data.set(ch, o);
      o += ch.length;
    }
    outShape[0] = n;
    await writeFile(values.output as string, encodeNpy({ shape: outShape, data }));
    const ms = performance.now() - t0;
    stderr(`${layer}: (${outShape.join(', ')}) written to ${values.output} in ${(ms / 1000).toFixed(2)} s on ${tf.getBackend()} (${((n * 1000) / ms).toFixed(1)} crops/s)\n`);
    return 0;
  },
};
