/**
 * One stage computes at a time: a task is an AbortController that the next task, a new photo or
 * the user's Cancel aborts. The actions (proposalActions, cnnActions) begin and end tasks; the
 * progress bar belongs to the task in flight.
 */
import { useStore } from '../state/store';

let current: AbortController | null = null;

/** Stop whatever stage is running (its workers are terminated; partial results are dropped). */
export function cancelRunning(): void {
  current?.abort();
  current = null;
  useStore.getState().setProgress(null);
}

export function isAbort(e: unknown): boolean {
  return (e as { name?: string })?.name === 'AbortError';
}

/** Start a cancellable task: whatever ran before is cancelled (one stage computes at a time). */
export function beginTask(): AbortController {
  cancelRunning();
  const ctl = new AbortController();
  current = ctl;
  return ctl;
}

/** A task finished (or failed): clear its progress unless a newer task took over. */
export function endTask(ctl: AbortController): void {
  if (current === ctl) {
    current = null;
    useStore.getState().setProgress(null);
  }
}
