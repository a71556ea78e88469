import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { chooseBackend } from './backend';

describe('chooseBackend when the chosen backend cannot start', () => {
  it('falls back to the automatic choice and says why, instead of leaving tfjs without a backend', async () => {
    // A WebGPU that registers but whose adapter request fails, as in a browser with WebGPU off:
    // the async factory rejects, so setBackend resolves false and no backend is active. With the
    // highest priority, tf.getBackend() would now throw "The highest priority backend 'webgpu'
    // has not yet been initialized", the error users saw in the app.
    tf.registerBackend('webgpu', async () => {
      throw new Error('requestAdapter() returned null');
    }, 10);
    const info = await chooseBackend({ prefer: 'webgpu' });
    expect(info.requested).toBe('webgpu');
    expect(info.fellBack).toBe(true);
    expect(['wasm', 'cpu']).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name);
    expect(info.notes.join(' ')).toMatch(/webgpu failed to initialise/);
    // The backend really runs.
    const y = tf.add(tf.tensor1d([1, 2]), 1);
    expect(Array.from(await y.data())).toEqual([2, 3]);
    y.dispose();
  });

  it('keeps a choice that works', async () => {
    const info = await chooseBackend({ prefer: 'cpu' });
    expect([info.name, info.requested, info.fellBack]).toEqual(['cpu', 'cpu', false]);
  });
});
