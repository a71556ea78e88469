/**
 * tfjs in Node (CLI, tests, training): the wasm backend (SIMD, single thread) and the cpu
 * backend. tfjs-node cannot be installed here (docs/platform-notes.md), so wasm is the fast
 * path. Loading '@tensorflow/tfjs' registers the gradient functions training needs (its Node
 * bundle carries them; the ESM gradient files cannot be loaded by Node directly).
 * Browser code must not import this file: use backend.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './training';

export type NodeBackend = 'wasm' | 'cpu';

/** Selects a backend and checks that it really is active (setBackend can fall back silently). */
export async function useNodeBackend(name: NodeBackend = 'wasm'): Promise<NodeBackend> {
  if (name === 'wasm') registerWasmTrainingKernels();
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name) throw new Error(`tfjs backend ${name} did not initialise (active: ${tf.getBackend()})`);
  return name;
}
