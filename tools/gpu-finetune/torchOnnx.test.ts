/**
 * ONNX files written by another producer than this project's own exporter: PyTorch's
 * torch.onnx.export (TorchScript path, opset 11), from finetune.py's CaffeNet with random weights.
 * - Without LRN, or with LRN exported as the ONNX LRN op (a torch.autograd.Function with a
 *   symbolic), `importOnnx` reads it and the imported network matches onnxruntime-node on fc8.
 * - With PyTorch's own LRN export, local_response_norm becomes a subgraph of 39 nodes (Shape,
 *   Gather, Pad, AveragePool, an If node whose branches are graph attributes, ...). The importer
 *   reads it as LRN (torchLrn.ts) and the network matches onnxruntime-node too (a skip bug in
 *   proto.ts once turned such files into "unsupported wire type 7").
 *
 * Needs Python 3 with PyTorch and NumPy, as finetune.test.ts (PYTHON names the interpreter).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caffeNetArch } from '../../src/model/architecture';
import { randomWeights } from '../../src/model/caffenet';
import { savePackageDir } from '../../src/model/packageNode';
import { useNodeBackend } from '../../src/model/node';
import { importOnnx } from '../../src/model/onnx/import';
import { ortParity } from '../../src/model/onnx/ortParity';
import { python } from './python';

describe('ONNX from PyTorch (torch.onnx.export)', () => {
  it('imports CaffeNets without LRN, with the LRN op and with PyTorch\'s LRN subgraph that match onnxruntime on fc8', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'torch-onnx-'));
    const arch = caffeNetArch({ width: 0.1, numClasses: 4 });
    const pkgDir = join(tmp, 'pkg');
    await savePackageDir({ name: 'torch-onnx', architecture: arch, classes: null, weights: randomWeights(arch, { seed: 5, scheme: 'he' }), provenance: { createdBy: 'torchOnnx.test.ts', createdAt: new Date(0).toISOString() } }, pkgDir);
    const exportTo = (file: string, lrn: 'none' | 'torch' | 'op') => {
      python(['tools/gpu-finetune/export_onnx.py', pkgDir, file, '--lrn', lrn]);
      return new Uint8Array(readFileSync(file));
    };

    // 1. Without LRN (Conv/Relu/MaxPool/Flatten/Gemm as PyTorch writes them), 2. with LRN exported
    // as the ONNX LRN op, and 3. with PyTorch's own LRN subgraph: all import and match
    // onnxruntime-node on fc8.
    await useNodeBackend('wasm');
    for (const lrn of ['none', 'op', 'torch'] as const) {
      const bytes = exportTo(join(tmp, `${lrn}.onnx`), lrn);
      const { pkg, report } = importOnnx(bytes, { source: `${lrn}.onnx` });
      expect(pkg.architecture.conv.conv1.filters).toBe(arch.conv.conv1.filters);
      expect(pkg.architecture.fc8).toBe(arch.fc8);
      if (lrn === 'none') expect(pkg.architecture.norm1 ?? null).toBeNull();
      else {
        expect(pkg.architecture.norm1).toEqual(arch.norm1);
        expect(pkg.architecture.norm2).toEqual(arch.norm2);
      }
      if (lrn === 'torch') expect(report.notes.filter((n) => /PyTorch's LocalResponseNorm subgraph .* read as LRN size 5/.test(n))).toHaveLength(2);
      const { errors, refMax } = await ortParity(bytes, bytes, 2, 9);
      expect(Object.keys(errors), lrn).toEqual(['fc8']); // the file's only output
      expect(refMax.fc8, lrn).toBeGreaterThan(0.1); // not a network of zeros
      expect(errors.fc8, lrn).toBeLessThan(1e-4);
    }
  }, 120_000);
});
