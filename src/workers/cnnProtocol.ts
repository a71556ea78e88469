/**
 * Message protocol between the main thread (src/runner/cnnWorkerClient.ts) and the CNN worker
 * (src/workers/cnn.worker.ts, logic in cnnWorkerHost.ts). Plain data only; big arrays travel
 * as transferables.
 *
 * Every request carries a numeric `id`; the worker answers with messages carrying the same id:
 *   init / setBackend  -> 'backend'                       (BackendInfo: active backend, adapter, notes)
 *   loadModel          -> 'progress'* then 'model'        (ModelInfo)
 *   extract            -> 'progress'* 'batch'* then 'done' (FeatureBatch per batch, as it completes)
 *   getWeights         -> 'weights'
 *   exportBundle       -> 'bundle'
 *   benchForward       -> 'benchForward'                 (forward-only passes in a time budget)
 *   dispose            -> 'disposed'
 *   cancel {target}    -> the target request ends with an 'error' whose name is 'AbortError'
 * Any request can end in 'error' instead ({ name, message, file? }).
 * Requests run one at a time in arrival order, except cancel, which acts immediately.
 */
import type { BackendInfo, BackendName } from '../model/backend';
import type { WeightName } from '../model/caffenet';
import type { FeatureBatch, FeatureRequest } from '../model/extract';
import type { ModelInfo, Verification } from '../model/modelInfo';
import type { OnnxTestSet } from '../model/onnx/testSet';

export type ModelSource =
  /** A package folder URL (…/model.json optional), a .rcnn bundle URL, or an .onnx URL. */
  | { kind: 'url'; url: string }
  /**
   * One file's bytes: a .rcnn bundle or an .onnx model (sniffed, not by name). A model.onnx the
   * zoo reader (workers/zooHost.ts) checked brings what it was checked against and the file's
   * test sets: the worker runs them through the imported network on its backend and refuses the
   * model, with the numbers, when they do not match (model/onnx/testData.ts).
   */
  | { kind: 'bytes'; name: string; bytes: ArrayBuffer; testSets?: OnnxTestSet[]; verified?: Verification['file'] }
  /** Several files dropped together: model.json + its .bin files (or one bundle / .onnx among them). */
  | { kind: 'files'; files: Array<{ name: string; bytes: ArrayBuffer }> };

export interface ImageMessage {
  width: number;
  height: number;
  /** Interleaved RGB (RgbImage.data). Omit to reuse the image last sent with the same key. */
  data?: ArrayBuffer;
  /** Cache key (e.g. rasterFingerprint) so repeated extracts on one image upload it once. */
  key: string;
}

/** A feature request as model/extract.ts takes it, less what travels separately (boxes) or cannot travel (signal). */
export type ExtractOptions = Omit<FeatureRequest, 'boxes' | 'signal' | 'warp'>;

export type CnnRequest =
  /**
   * maxBindingBytes caps the largest tensor binding below the device's own limit, e.g. 128 MiB to
   * reproduce a typical discrete GPU's default on a machine whose adapter allows more.
   */
  | { type: 'init'; id: number; backend?: BackendName | 'auto'; benchmark?: boolean; maxBindingBytes?: number }
  | { type: 'setBackend'; id: number; backend: BackendName | 'auto'; benchmark?: boolean; maxBindingBytes?: number }
  | { type: 'loadModel'; id: number; source: ModelSource }
  | { type: 'extract'; id: number; image: ImageMessage; boxes: Float32Array; options: ExtractOptions }
  | { type: 'getWeights'; id: number; names: WeightName[] }
  | { type: 'exportBundle'; id: number; float16?: boolean }
  /**
   * The forward-only peer of `rcnn bench app`: conv1..fc7 of the loaded model on one fixed batch
   * of preprocessed crops (no warp, no heads), fc7 read back, repeated for `ms` after one warm-up
   * pass; what `rcnn bench cnn-browser` measures, in the app's own workers.
   */
  | { type: 'benchForward'; id: number; batch: number; ms: number }
  | { type: 'cancel'; id: number; target: number }
  | { type: 'dispose'; id: number };

export type ProgressPhase = 'download' | 'verify' | 'import' | 'upload' | 'warmup' | 'extract';

export type CnnResponse =
  | { type: 'backend'; id: number; info: BackendInfo }
  | { type: 'progress'; id: number; phase: ProgressPhase; loaded: number; total: number }
  | { type: 'model'; id: number; info: ModelInfo }
  | { type: 'batch'; id: number; batch: FeatureBatch }
  | { type: 'done'; id: number; total: number; ms: number; cropsPerSecond: number; memory: TfMemory }
  | { type: 'weights'; id: number; tensors: Partial<Record<WeightName, { shape: number[]; data: Float32Array }>> }
  | { type: 'bundle'; id: number; bytes: ArrayBuffer; name: string }
  | { type: 'benchForward'; id: number; passes: number; ms: number }
  | { type: 'disposed'; id: number }
  | { type: 'error'; id: number; name: string; message: string; file?: string };

/** Buffers in a batch, for postMessage's transfer list. */
export function batchTransferables(b: FeatureBatch): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const a of [b.pool5, b.fc7, b.svmScores, b.bboxDeltas, b.crops]) if (a) out.push(a.buffer as ArrayBuffer);
  for (const l of Object.values(b.layers ?? {})) if (l) out.push(l.data.buffer as ArrayBuffer);
  return [...new Set(out)];
}

/** tf.memory() of one worker after a request: what it still holds (the model, the photo's raster). */
export interface TfMemory {
  numTensors: number;
  numBytes: number;
}
