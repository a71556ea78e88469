/**
 * What the app shows about a loaded model (the Model dialog, the architecture view, the stages'
 * class lists): plain data, made by the CNN worker from the package it holds and sent to the page.
 */
import { type CaffeNetArch, type LayerInfo, describeArch, totalMacs, totalParams } from './architecture';
import { chooseBatchSize } from './extract';
import type { DetectionSettings, HeadFeatures, ModelPackage, Provenance } from './package';
import type { RcnnModel } from './rcnnModel';

export interface ModelInfo {
  name: string;
  architecture: CaffeNetArch;
  /** Architecture view: output shape, parameters and multiply-adds per layer. */
  layers: LayerInfo[];
  totalParams: number;
  totalMacs: number;
  /** fc8 class names (null when unknown or no fc8). */
  classes: string[] | null;
  svmClasses: string[] | null;
  bboxClasses: string[] | null;
  provenance: Provenance;
  /** Bytes downloaded or read. */
  bytes: number;
  /** Where the model came from and, for ONNX, what the importer noted (e.g. derived input size). */
  importNotes: string[];
  /** fc layers split into column blocks for the device's binding limit. */
  splitFcLayers: string[];
  /** The binding limit in effect (device limit or the init override); null when unlimited. */
  maxBindingBytes: number | null;
  /** Default batch size on the active backend. */
  batchSize: number;
  /** Test-time settings the model was tuned with (its NMS threshold), or null. */
  detection: DetectionSettings | null;
  /** For a file read through the zoo reader: what it was checked against and how it did; else null. */
  verification: Verification | null;
  /** What the heads were trained on when not warped crops (RoI-pooled features), or null. */
  headFeatures: HeadFeatures | null;
}

/** The checks a downloaded, stored or dropped model file passed before it was used (runner/zooActions.ts). */
export interface Verification {
  file: {
    name: string;
    bytes: number;
    sha256: string;
    /** The published file it matched (size and SHA-256), or null when it claims none. */
    published: string | null;
    /** The facts were a loopback test's stand-in for the published ones. */
    standIn: boolean;
    from: 'downloaded' | 'disk' | 'file';
    storeId: string | null;
  };
  /** The file's own test data run through the imported network; null when it brought none. */
  parity: {
    pass: boolean;
    maxRelativeError: number;
    tolerance: number;
    worst: string;
    backend: string;
    inputShape: number[];
    outputName: string;
    sets: Array<{ name: string; maxRelativeError: number; maxAbsError: number }>;
    ms: number;
  } | null;
}

export function describeModel(pkg: ModelPackage, model: RcnnModel | null, loaded: { bytes: number; importNotes: string[]; backend: string; verification?: Verification | null }): ModelInfo {
  const a = pkg.architecture;
  return {
    name: pkg.name,
    architecture: a,
    layers: describeArch(a),
    totalParams: totalParams(a),
    totalMacs: totalMacs(a),
    classes: pkg.classes,
    svmClasses: pkg.svm?.classes ?? null,
    bboxClasses: pkg.boxRegressor?.classes ?? null,
    provenance: pkg.provenance,
    bytes: loaded.bytes,
    importNotes: loaded.importNotes,
    splitFcLayers: model?.net.splitFcLayers ?? [],
    maxBindingBytes: model && Number.isFinite(model.maxBindingBytes) ? model.maxBindingBytes : null,
    batchSize: chooseBatchSize(a, loaded.backend, model?.maxBindingBytes),
    detection: pkg.detection ?? null,
    verification: loaded.verification ?? null,
    headFeatures: pkg.headFeatures ?? null,
  };
}
