/** worker_threads side of the CLI's selective-search pool: the same handler as the browser worker. */
import { parentPort } from 'node:worker_threads';
import { createSelectiveSearchWorkerHandler, type SsWorkerRequest } from '../workers/selectiveSearchProtocol';

if (!parentPort) throw new Error('ssWorker must run as a worker thread');
const port = parentPort;
const handle = createSelectiveSearchWorkerHandler((msg, transfer) => port.postMessage(msg, transfer));
port.on('message', (req: SsWorkerRequest) => handle(req));
