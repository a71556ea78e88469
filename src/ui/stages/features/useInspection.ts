/**
 * One proposal through the network with its intermediate activations (runner/cnnActions.ts
 * inspectProposal), cached per model, backend, proposal set and index so that stepping back and
 * forth or switching the shown layer never re-runs the CNN.
 */
import { useEffect, useState } from 'react';
import { useStore } from '../../../state/store';
import type { ProposalsResult } from '../../../runner/proposalActions';
import { ensureCnn, inspectProposal } from '../../../runner/cnnActions';
import type { LayerName } from '../../../model/architecture';
import type { ModelInfo } from '../../../model/modelInfo';

/** Spatial layers offered in the activation view (CNN Explainer shows the same path). */
export const SPATIAL_LAYERS: LayerName[] = ['conv1', 'pool1', 'norm1', 'conv2', 'pool2', 'norm2', 'conv3', 'conv4', 'conv5', 'pool5'];
const INSPECTED: LayerName[] = [...SPATIAL_LAYERS, 'fc7'];

export interface Inspection {
  index: number;
  layers: Partial<Record<LayerName, { shape: number[]; data: Float32Array }>>;
  /** The crop exactly as the network received it (RGB bytes, S x S x 3), when the worker sent it. */
  crop?: Uint8Array;
  cropSize: number;
  backend: string;
  /** Name of the model that computed it. */
  model: string;
  ms: number;
}

const ids = new WeakMap<object, number>();
let nextId = 1;
function idOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
}

const cache = new Map<string, Promise<Inspection | null>>();
const CACHE_LIMIT = 48;

function inspect(key: string, index: number, backend: string, cropSize: number, model: string): Promise<Inspection | null> {
  let p = cache.get(key);
  if (!p) {
    const t0 = performance.now();
    p = inspectProposal(index, INSPECTED).then((r) => (r ? { index, layers: r.layers, crop: r.crops, cropSize, backend, model, ms: performance.now() - t0 } : null));
    p.catch(() => cache.delete(key));
    cache.set(key, p);
    if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  }
  return p;
}

export type InspectionState =
  | { status: 'idle' | 'loading'; data: Inspection | null }
  | { status: 'ready'; data: Inspection }
  | { status: 'error'; data: null; message: string };

function keyOf(model: ModelInfo, backend: string, proposals: ProposalsResult, index: number): string {
  return `${idOf(model)}|${backend}|${idOf(proposals)}|${index}`;
}

/** The selected proposal's activations; starts the CNN worker (bundled model) when needed. */
export function useInspection(index: number): InspectionState {
  const proposals = useStore((s) => s.proposals);
  const image = useStore((s) => s.image);
  const model = useStore((s) => s.model);
  const backend = useStore((s) => s.backend);
  const [state, setState] = useState<InspectionState>({ status: 'idle', data: null });
  const fresh = !!proposals && !!image && proposals.imageKey === image.key && index < proposals.boxes.length / 4;
  const key = fresh && model && backend ? keyOf(model, backend.name, proposals, index) : null;

  useEffect(() => {
    if (!fresh) return;
    let live = true;
    if (!key) {
      // The CNN has not started yet: start it (bundled model); the key then appears.
      setState((s) => ({ status: 'loading', data: s.data }));
      ensureCnn().catch((e: Error) => live && setState({ status: 'error', data: null, message: e.message }));
      return () => {
        live = false;
      };
    }
    setState((s) => ({ status: 'loading', data: s.data }));
    inspect(key, index, backend!.name, model!.architecture.inputHeight, model!.name)
      .then((r) => {
        if (!live) return;
        if (r) setState({ status: 'ready', data: r });
        else setState({ status: 'idle', data: null });
      })
      .catch((e: Error) => {
        if (live) setState({ status: 'error', data: null, message: e.message });
      });
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, fresh]);
  return state;
}
