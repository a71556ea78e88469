/**
 * Messages between the proposal pool (src/runner/proposalWorkerPool.ts) and a selective-search worker
 * (the browser's src/workers/selectiveSearch.worker.ts or the CLI's worker_threads worker), and
 * the worker-side handler both entry points share. Plain data only; run results travel with their
 * typed arrays' buffers as transferables (no copy).
 */
import { SearchContext, executionOrder, type RunResult, type RunSpec } from '../core/selectiveSearch/index';

/** The resized image (see prepareSearchImage). `key` identifies it, so a worker reuses its caches across tasks. */
export interface SsImagePayload {
  key: string;
  width: number;
  height: number;
  data: Uint8Array;
}

/** Execute a group of runs (they share a colour space or segmentation, see groupRunsIntoTasks). */
export interface SsTaskRequest {
  type: 'task';
  jobId: number;
  taskId: number;
  image: SsImagePayload;
  /** Runs with their index in the job's run list. */
  runs: Array<{ index: number; spec: RunSpec }>;
  /** Run indices whose base segmentation labels should be returned. */
  labelsFor: number[];
}

export type SsWorkerRequest = SsTaskRequest;

export type SsWorkerResponse =
  /** One run finished (sent as soon as it is, for streaming progress). */
  | { type: 'run'; jobId: number; taskId: number; index: number; result: RunResult }
  /** Every run of the task finished. */
  | { type: 'task-done'; jobId: number; taskId: number; ms: number }
  | { type: 'error'; jobId: number; taskId: number; message: string };

/** The buffers of a run result, for postMessage's transfer list. */
export function runResultTransferables(r: RunResult): ArrayBuffer[] {
  const arrays = [r.boxes, r.hierarchyPositions, r.merges, r.mergeSimilarity, r.labels];
  const out: ArrayBuffer[] = [];
  for (const a of arrays) {
    if (a && a.buffer instanceof ArrayBuffer && !out.includes(a.buffer)) out.push(a.buffer);
  }
  return out;
}

/**
 * The worker side: executes tasks in arrival order, reusing the search context while the image
 * key stays the same, and posts one 'run' message per finished run, then 'task-done'.
 */
export function createSelectiveSearchWorkerHandler(post: (msg: SsWorkerResponse, transfer: ArrayBuffer[]) => void): (req: SsWorkerRequest) => void {
  let ctx: SearchContext | null = null;
  let ctxKey = '';
  return (req) => {
    if (req.type !== 'task') return;
    const t0 = performance.now();
    const { jobId, taskId } = req;
    try {
      if (!ctx || ctxKey !== req.image.key) {
        const { width, height, data } = req.image;
        ctx = new SearchContext({ width, height, data });
        ctxKey = req.image.key;
      }
      const specs = req.runs.map((r) => r.spec);
      for (const i of executionOrder(specs)) {
        const { index, spec } = req.runs[i];
        const result = ctx.execute(spec, { labels: req.labelsFor.includes(index) });
        post({ type: 'run', jobId, taskId, index, result }, runResultTransferables(result));
      }
      post({ type: 'task-done', jobId, taskId, ms: performance.now() - t0 }, []);
    } catch (e) {
      ctx = null;
      post({ type: 'error', jobId, taskId, message: e instanceof Error ? e.message : String(e) }, []);
    }
  };
}
