import { useEffect, useState } from 'react';
import { useStore } from '../../../state/store';
import { modelWeights } from '../../../runner/cnnActions';
import type { ModelInfo } from '../../../model/modelInfo';

export interface Conv1Weights {
  /** HWIO [11, 11, 3, F]. */
  shape: number[];
  data: Float32Array;
}

/** Fetched from the worker once per loaded model. */
const cache = new WeakMap<ModelInfo, Promise<Conv1Weights>>();

export function useConv1Weights(): { weights: Conv1Weights | null; error: string | null } {
  const model = useStore((s) => s.model);
  const [state, setState] = useState<{ model: ModelInfo | null; weights: Conv1Weights | null; error: string | null }>({ model: null, weights: null, error: null });
  useEffect(() => {
    if (!model) return;
    let live = true;
    let p = cache.get(model);
    if (!p) {
      p = modelWeights(['conv1.weight']).then((t) => {
        const w = t['conv1.weight'];
        if (!w) throw new Error('the model has no conv1.weight');
        return w;
      });
      p.catch(() => cache.delete(model));
      cache.set(model, p);
    }
    p.then(
      (weights) => live && setState({ model, weights, error: null }),
      (e: Error) => live && setState({ model, weights: null, error: e.message }),
    );
    return () => {
      live = false;
    };
  }, [model]);
  return state.model === model ? { weights: state.weights, error: state.error } : { weights: null, error: null };
}
