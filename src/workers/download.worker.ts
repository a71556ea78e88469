/// <reference lib="webworker" />
/**
 * Downloads model files off the main thread. Measured in Chromium here: reading a fast 400 MB
 * response body on the page stalled its main thread for 1.4-2.7 s at a time (with the chunks kept
 * or dropped alike, and no progress updates); the same read in a worker left the page's longest
 * stall at 69-134 ms.
 */
import { DownloadHost } from './downloadHost';
import type { DownloadRequest } from './downloadProtocol';

const host = new DownloadHost((msg, transfer) => (self as unknown as Worker).postMessage(msg, transfer ?? []));
self.onmessage = (ev: MessageEvent<DownloadRequest>) => host.handle(ev.data);
