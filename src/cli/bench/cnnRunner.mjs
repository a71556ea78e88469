// worker_threads entry of `rcnn bench cnn` (src/cli/bench/cnn.ts): a worker thread does not
// inherit the tsx loader, so register it, then load the TypeScript runner.
import { register } from 'tsx/esm/api';

register();
await import('./cnnRunner.ts');
