/**
 * Node: `loadDetector(path)` reads a model package folder, .rcnn bundle or .onnx file, selects the
 * wasm backend and returns a Detector that runs in this thread. Browser code must not import this
 * file (it reads files); the app builds its Detector in src/runner.
 */
import { loadModelPath } from '../model/packageNode';
import { useNodeBackend, type NodeBackend } from '../model/node';
import type { ModelPackage } from '../model/package';
import type { Detector, ProposalEngine } from './detector';
import { createInProcessDetector } from './inProcess';

export async function loadDetector(model: string | ModelPackage, opts: { backend?: NodeBackend; proposals?: ProposalEngine } = {}): Promise<Detector> {
  const pkg = typeof model === 'string' ? await loadModelPath(model) : model;
  await useNodeBackend(opts.backend ?? 'wasm');
  return createInProcessDetector(pkg, { proposals: opts.proposals });
}
