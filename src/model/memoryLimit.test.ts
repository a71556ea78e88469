import { describe, expect, it } from 'vitest';
import { browserMaxWeightBytes } from './memoryLimit';
import { DEFAULT_MAX_WEIGHT_BYTES, importOnnx } from './onnx/import';
import { exportZooLayout, replicaPackage } from './onnx/zooReplica';

describe('browser weight limit', () => {
  it('is half the device memory shared by the CNN workers, at most the importer default', () => {
    expect(browserMaxWeightBytes(undefined, 4)).toBe(DEFAULT_MAX_WEIGHT_BYTES);
    expect(browserMaxWeightBytes(8, 4)).toBe(2 ** 30);
    expect(browserMaxWeightBytes(2, 2)).toBe(512 * 2 ** 20);
    expect(browserMaxWeightBytes(1, 4)).toBe(128 * 2 ** 20);
  });

  it('refuses a model whose declared weights are over it before decoding them', () => {
    // The replica at width 0.125 needs about 7 MB of float32 weights (fc6 transposed once more).
    const { bytes } = exportZooLayout(replicaPackage({ width: 0.125, seed: 2 }), 9);
    expect(() => importOnnx(bytes, { source: 'r.onnx', maxWeightBytes: 2 * 2 ** 20 })).toThrow(/^the model's weights need [\d.]+ MB as float32 \(.*\), more than the 2\.1 MB allowed; refused before reading them$/);
    expect(importOnnx(bytes, { source: 'r.onnx', maxWeightBytes: browserMaxWeightBytes(1, 4) }).pkg.svm?.classes.length).toBe(200);
  });
});
