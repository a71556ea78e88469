// worker_threads entry of the training/eval CNN workers (src/cli/train/trainerPool.ts): a worker
// thread does not inherit the tsx loader, so register it before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./trainerWorker.ts');
