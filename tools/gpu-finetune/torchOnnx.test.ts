/**
 * ONNX files written by another producer than this project's own exporter: PyTorch's
 * torch.onnx.export (TorchScript path, opset 11), from finetune.py's CaffeNet with random weights.
 * - Without LRN, or with LRN exported as the ONNX LRN op (a torch.autograd.Function with a
 *   symbolic), `importOnnx` reads it and the imported network matches onnxruntime-node on fc8.
 * - With PyTorch's own LRN export, local_response_norm becomes a subgraph (Pad, AveragePool, an If node whose
 *   branches are graph attributes, ...). The reader must skip those attributes cleanly and the
 *   importer refuse the graph with a message naming the branching value, not a protobuf error
 *   (a skip bug in proto.ts once turned such files into "unsupported wire type 7").
 *
 * Needs Python 3 with PyTorch and NumPy, as finetune.test.ts (PYTHON names the interpreter).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { caffeNetArch } from '../../src/model/architecture';
import { CaffeNet, gaussian, randomWeights, toNchw } from '../../src/model/caffenet';
import { maxRelativeError } from '../../src/model/cpuReference';
import { savePackageDir } from '../../src/model/packageNode';
import { useNodeBackend } from '../../src/model/node';
import { importOnnx } from '../../src/model/onnx/import';

const ROOT = new URL('../../', import.meta.url).pathname;
const PYTHON = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

describe('ONNX from PyTorch (torch.onnx.export)', () => {
  it('imports CaffeNets without LRN and with the LRN op that match onnxruntime on fc8, and refuses PyTorch\'s LRN subgraph by name', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'torch-onnx-'));
    const arch = caffeNetArch({ width: 0.1, numClasses: 4 });
    const pkgDir = join(tmp, 'pkg');
    await savePackageDir({ name: 'torch-onnx', architecture: arch, classes: null, weights: randomWeights(arch, { seed: 5, scheme: 'he' }), provenance: { createdBy: 'torchOnnx.test.ts', createdAt: new Date(0).toISOString() } }, pkgDir);
    const exportTo = (file: string, lrn: 'none' | 'torch' | 'op') => {
      try {
        execFileSync(PYTHON, ['tools/gpu-finetune/export_onnx.py', pkgDir, file, '--lrn', lrn], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        const err = e as { stderr?: Buffer; message: string };
        throw new Error(`${PYTHON} could not export with torch.onnx (needs PyTorch and NumPy; Debian: apt-get install python3-torch python3-numpy): ${err.stderr?.toString() || err.message}`);
      }
      return new Uint8Array(readFileSync(file));
    };

    // 1. Without LRN (Conv/Relu/MaxPool/Flatten/Gemm as PyTorch writes them), and 2. with LRN
    // exported as the ONNX LRN op: both import and match onnxruntime-node on fc8.
    await useNodeBackend('wasm');
    const batch = 2;
    const g = gaussian(9);
    const input = Float32Array.from({ length: batch * 3 * 227 * 227 }, () => g() * 60);
    for (const lrn of ['none', 'op'] as const) {
      const bytes = exportTo(join(tmp, `${lrn}.onnx`), lrn);
      const { pkg, report } = importOnnx(bytes, { source: `${lrn}.onnx` });
      expect(pkg.architecture.conv.conv1.filters).toBe(arch.conv.conv1.filters);
      expect(pkg.architecture.fc8).toBe(arch.fc8);
      if (lrn === 'none') expect(pkg.architecture.norm1 ?? null).toBeNull();
      else expect(pkg.architecture.norm1).toEqual(arch.norm1);
      const session = await ort.InferenceSession.create(bytes);
      const ref = (await session.run({ [report.inputName]: new ort.Tensor('float32', input, [batch, 3, 227, 227]) })).fc8;
      await session.release();
      const net = new CaffeNet(pkg.architecture, pkg.weights);
      const x = tf.tidy(() => tf.transpose(tf.tensor4d(input, [batch, 3, 227, 227]), [0, 2, 3, 1]) as tf.Tensor4D);
      const out = net.forward(x, { outputs: ['fc8'] });
      const ours = tf.tidy(() => toNchw(out.fc8!));
      expect(ours.shape).toEqual([batch, arch.fc8]);
      const theirs = ref.data as Float32Array;
      expect(Math.max(...Array.from(theirs, Math.abs)), lrn).toBeGreaterThan(0.1); // not a network of zeros
      expect(maxRelativeError(await ours.data(), theirs), lrn).toBeLessThan(1e-4);
      tf.dispose([x, ours, ...Object.values(out)]);
      net.dispose();
    }

    // 3. PyTorch's own LRN subgraph: read to the end, refused with the node names and the way out.
    const withLrn = exportTo(join(tmp, 'torch-lrn.onnx'), 'torch');
    expect(() => importOnnx(withLrn, { source: 'torch-lrn.onnx' })).toThrow(/value "[^"]+" feeds \d+ nodes \(.*\); only a single chain of layers is supported.*LocalResponseNorm.*ONNX LRN op/);
  }, 120_000);
});
