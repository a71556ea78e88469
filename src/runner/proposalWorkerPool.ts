/**
 * A pool of selective-search workers. Each diversification run (colour space, k, similarity set)
 * is independent, so a search is split into tasks (groups of runs that share a colour space or a
 * segmentation, see groupRunsIntoTasks), spread over the workers; each finished run is streamed
 * back (progress), and the runs are pooled and ranked here when all are in.
 *
 * Shell-neutral: the browser pool (createBrowserProposalPool, Web Workers) and the CLI pool
 * (src/cli/ssPool.ts, worker_threads) differ only in the worker factory.
 *
 * Cancellation: a worker runs a tight synchronous loop and cannot read messages mid-run, so
 * aborting a search terminates the workers busy with it (their replacements start on demand);
 * the promise rejects at once with an AbortError.
 */
import type { RgbImage } from '../core/image/raster';
import {
  groupRunsIntoTasks,
  poolRuns,
  prepareSearchImage,
  runsFromOptions,
  type ProposalSet,
  type RunResult,
  type RunSpec,
  type SelectiveSearchOptions,
} from '../core/selectiveSearch/index';
import type { SsTaskRequest, SsWorkerRequest, SsWorkerResponse } from '../workers/selectiveSearchProtocol';

/** The little a pool needs from a worker (Web Worker or worker_threads Worker, adapted). */
export interface PoolWorker {
  postMessage(msg: SsWorkerRequest, transfer?: ArrayBuffer[]): void;
  terminate(): void;
  onmessage: ((msg: SsWorkerResponse) => void) | null;
  onerror: ((err: Error) => void) | null;
}

export type PoolWorkerFactory = () => PoolWorker;

export interface ProposalProgress {
  /** Runs finished so far, and in total. */
  done: number;
  total: number;
  /** The run that just finished (index into `runs`) and its result. */
  runIndex: number;
  spec: Required<RunSpec>;
  result: RunResult;
  /** Milliseconds since the search started. */
  elapsedMs: number;
}

export interface ProposalJobOptions extends SelectiveSearchOptions {
  signal?: AbortSignal;
  onProgress?: (p: ProposalProgress) => void;
  /** Run indices whose base segmentation labels (Int32Array, resized size) should come back. */
  labelsFor?: number[];
}

export interface ProposalJobResult extends ProposalSet {
  /** The run list (resolved specs) and each run's result, same order. */
  specs: Required<RunSpec>[];
  runs: RunResult[];
  /** Wall time from the call to the pooled result. */
  ms: number;
  /** Workers that took part. */
  workers: number;
}

/**
 * Default pool size: one worker per logical core, at most 8. More workers than that buy nothing
 * for fast mode (its 8 runs share 4 segmentations) and each worker holds ~50 MB of caches.
 */
export function defaultPoolSize(): number {
  const hc = typeof navigator !== 'undefined' && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 2;
  return Math.max(1, Math.min(8, hc));
}

export function abortError(): Error {
  return typeof DOMException !== 'undefined' ? new DOMException('The selective search was aborted.', 'AbortError') : Object.assign(new Error('The selective search was aborted.'), { name: 'AbortError' });
}

interface Job {
  id: number;
  specs: Required<RunSpec>[];
  results: Array<RunResult | undefined>;
  done: number;
  tasksLeft: number;
  options: ProposalJobOptions;
  outputWidth: number;
  outputHeight: number;
  t0: number;
  settled: boolean;
  workers: Set<Slot>;
  resolve: (r: ProposalJobResult) => void;
  reject: (e: unknown) => void;
  cleanup: () => void;
}

interface Task {
  job: Job;
  request: SsTaskRequest;
}

interface Slot {
  worker: PoolWorker | null;
  task: Task | null;
}

export class ProposalPool {
  readonly size: number;
  private readonly slots: Slot[];
  private readonly queue: Task[] = [];
  private nextJob = 1;
  private nextTask = 1;
  private disposed = false;

  constructor(private readonly createWorker: PoolWorkerFactory, size = defaultPoolSize()) {
    this.size = Math.max(1, Math.floor(size));
    this.slots = Array.from({ length: this.size }, () => ({ worker: null, task: null }));
  }

  /** Selective search on `image` (any size; resized to 500 px wide inside). Boxes come back in `image` pixels. */
  run(image: RgbImage, options: ProposalJobOptions = {}): Promise<ProposalJobResult> {
    if (this.disposed) return Promise.reject(new Error('the proposal pool was disposed'));
    if (options.signal?.aborted) return Promise.reject(abortError());
    const t0 = performance.now();
    let specs: Required<RunSpec>[];
    let resized: RgbImage;
    try {
      specs = runsFromOptions(options);
      resized = prepareSearchImage(image, options.resizeWidth).resized;
    } catch (e) {
      return Promise.reject(e);
    }
    const id = this.nextJob++;
    const groups = groupRunsIntoTasks(specs, this.size);
    return new Promise<ProposalJobResult>((resolve, reject) => {
      const job: Job = {
        id,
        specs,
        results: new Array(specs.length),
        done: 0,
        tasksLeft: groups.length,
        options,
        outputWidth: image.width,
        outputHeight: image.height,
        t0,
        settled: false,
        workers: new Set(),
        resolve,
        reject,
        cleanup: () => {},
      };
      if (options.signal) {
        const onAbort = () => this.fail(job, abortError());
        options.signal.addEventListener('abort', onAbort, { once: true });
        job.cleanup = () => options.signal?.removeEventListener('abort', onAbort);
      }
      const labelsFor = options.labelsFor ?? [];
      // The image key is per job: a worker reuses its caches for the tasks of this job only.
      const imagePayload = { key: `job-${id}`, width: resized.width, height: resized.height, data: resized.data };
      for (const g of groups) {
        this.queue.push({
          job,
          request: {
            type: 'task',
            jobId: id,
            taskId: this.nextTask++,
            image: imagePayload,
            runs: g.map((index) => ({ index, spec: specs[index] })),
            labelsFor: labelsFor.filter((i) => g.includes(i)),
          },
        });
      }
      this.dispatch();
    });
  }

  /**
   * Start every worker now instead of on the first search, so their boot (module loading) overlaps
   * with whatever the caller does meanwhile, e.g. decoding the image.
   */
  warmUp(): void {
    if (this.disposed) return;
    for (const slot of this.slots) if (!slot.worker) slot.worker = this.spawn(slot);
  }

  /** Terminate every worker and reject pending searches. */
  dispose(): void {
    this.disposed = true;
    const jobs = new Set<Job>(this.queue.map((t) => t.job));
    for (const s of this.slots) if (s.task) jobs.add(s.task.job);
    for (const j of jobs) this.fail(j, new Error('the proposal pool was disposed'));
    for (const s of this.slots) {
      s.worker?.terminate();
      s.worker = null;
      s.task = null;
    }
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.task || this.queue.length === 0) continue;
      const task = this.queue.shift()!;
      if (!slot.worker) slot.worker = this.spawn(slot);
      slot.task = task;
      task.job.workers.add(slot);
      try {
        slot.worker.postMessage(task.request);
      } catch (e) {
        this.fail(task.job, e);
      }
    }
  }

  private spawn(slot: Slot): PoolWorker {
    const w = this.createWorker();
    w.onmessage = (msg) => this.onMessage(slot, w, msg);
    w.onerror = (err) => {
      if (slot.worker !== w) return;
      const task = slot.task;
      // A crashed worker is replaced; its search fails with the worker's error.
      w.terminate();
      slot.worker = null;
      slot.task = null;
      if (task) this.fail(task.job, err);
      this.dispatch();
    };
    return w;
  }

  private onMessage(slot: Slot, w: PoolWorker, msg: SsWorkerResponse): void {
    if (slot.worker !== w || !slot.task || msg.taskId !== slot.task.request.taskId) return;
    const job = slot.task.job;
    if (msg.type === 'run') {
      if (job.settled) return;
      job.results[msg.index] = msg.result;
      job.done++;
      job.options.onProgress?.({
        done: job.done,
        total: job.specs.length,
        runIndex: msg.index,
        spec: job.specs[msg.index],
        result: msg.result,
        elapsedMs: performance.now() - job.t0,
      });
    } else if (msg.type === 'task-done') {
      slot.task = null;
      job.tasksLeft--;
      if (job.tasksLeft === 0 && !job.settled) this.finish(job);
      this.dispatch();
    } else {
      slot.task = null;
      this.fail(job, new Error(`selective search failed: ${msg.message}`));
      this.dispatch();
    }
  }

  private finish(job: Job): void {
    job.settled = true;
    job.cleanup();
    try {
      const runs = job.results as RunResult[];
      const pooled = poolRuns(runs, {
        seed: job.options.seed,
        maxBoxes: job.options.maxBoxes,
        minBoxSide: job.options.minBoxSide,
        outputWidth: job.outputWidth,
        outputHeight: job.outputHeight,
      });
      job.resolve({ ...pooled, specs: job.specs, runs, ms: performance.now() - job.t0, workers: job.workers.size });
    } catch (e) {
      job.reject(e);
    }
  }

  /** Settle a job as failed: drop its queued tasks and terminate the workers still busy with it. */
  private fail(job: Job, err: unknown): void {
    if (job.settled) return;
    job.settled = true;
    job.cleanup();
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i].job === job) this.queue.splice(i, 1);
    for (const s of this.slots) {
      if (s.task?.job === job) {
        s.worker?.terminate();
        s.worker = null;
        s.task = null;
      }
    }
    job.reject(err);
    if (!this.disposed) this.dispatch();
  }
}

/** The app's pool: module Web Workers running src/workers/selectiveSearch.worker.ts. */
export function createBrowserProposalPool(size = defaultPoolSize()): ProposalPool {
  return new ProposalPool(() => {
    const w = new Worker(new URL('../workers/selectiveSearch.worker.ts', import.meta.url), { type: 'module', name: 'selective-search' });
    const pw: PoolWorker = {
      postMessage: (m, t) => w.postMessage(m, t ?? []),
      terminate: () => w.terminate(),
      onmessage: null,
      onerror: null,
    };
    w.onmessage = (ev: MessageEvent<SsWorkerResponse>) => pw.onmessage?.(ev.data);
    w.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      pw.onerror?.(new Error(ev.message || 'the selective-search worker failed to load or crashed'));
    };
    w.onmessageerror = () => pw.onerror?.(new Error('a selective-search worker message could not be decoded'));
    return pw;
  }, size);
}
