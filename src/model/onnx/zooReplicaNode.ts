/**
 * Node side of the zoo replica (zooReplica.ts): the test data's outputs are computed by
 * onnxruntime-node running the replica's own model.onnx, as the zoo's were computed by Caffe2
 * running the converted net; then the archive is packed and gzipped. For tests and
 * scripts/zoo-replica.mts (onnxruntime-node is a devDependency).
 */
import * as ort from 'onnxruntime-node';
import { gzipBytes } from '../../core/tar';
import type { ModelPackage } from '../package';
import { type OnnxModel, type OnnxTensor, floatTensor, tensorToFloat32 } from './proto';
import { type ReplicaOptions, type ReplicaTestSet, ZOO_ARCHIVE_FOLDER, exportZooLayout, packZooArchive, replicaPackage, replicaTestInputs } from './zooReplica';

/** onnxruntime's output of an ONNX model for each input tensor, as a TensorProto named like the graph output. */
export async function referenceOutputs(model: Uint8Array, inputs: OnnxTensor[]): Promise<ReplicaTestSet[]> {
  // Severity 3: errors only (it warns about every initializer the old converter lists as an input).
  const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  try {
    const out: ReplicaTestSet[] = [];
    for (const input of inputs) {
      const r = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', tensorToFloat32(input), input.dims) });
      const name = session.outputNames[0];
      out.push({ input, output: floatTensor(name, r[name].dims.map(Number), r[name].data as Float32Array) });
    }
    return out;
  } finally {
    await session.release();
  }
}

export interface ZooReplica {
  pkg: ModelPackage;
  /** model.onnx as packed (opset 9). */
  onnx: Uint8Array;
  model: OnnxModel;
  sets: ReplicaTestSet[];
  tar: Uint8Array;
  tarGz: Uint8Array;
}

/** A replica of rcnn-ilsvrc13-9.tar.gz: model.onnx plus `testSets` test_data_set folders (the zoo has 6). */
export async function buildZooReplica(opts: ReplicaOptions & { testSets?: number; folder?: string } = {}): Promise<ZooReplica> {
  const pkg = replicaPackage(opts);
  const { bytes: onnx, model } = exportZooLayout(pkg, 9);
  const sets = await referenceOutputs(onnx, replicaTestInputs(opts.testSets ?? 6, (opts.seed ?? 1) + 10));
  const tar = packZooArchive(onnx, sets, opts.folder ?? ZOO_ARCHIVE_FOLDER);
  return { pkg, onnx, model, sets, tar, tarGz: await gzipBytes(tar) };
}
