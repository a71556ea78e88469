// worker_threads entry of the CLI's selective-search pool (src/cli/ssPool.ts). A worker thread
// starts without the tsx loader the `rcnn` command registered, so register it here, then load
// the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./ssWorker.ts');
