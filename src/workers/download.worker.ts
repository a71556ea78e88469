/// <reference lib="webworker" />
/**
 * Downloads model files off the main thread. Measured in Chromium here: reading a fast 400 MB
 * response body on the page stalled its main thread for 1.4-2.7 s at a time (with the chunks kept
 * or dropped alike, and no progress updates); the same read in a worker left the page's longest
 * stall at 69-134 ms. The original R-CNN's file (zooHost.ts) is downloaded, stored, hashed and
 * unpacked here too.
 */
import { DownloadHost } from './downloadHost';
import type { DownloadRequest, DownloadResponse } from './downloadProtocol';
import { OpfsStore } from './opfsStore';
import { ZooHost } from './zooHost';

const post = (msg: DownloadResponse, transfer?: Transferable[]) => (self as unknown as Worker).postMessage(msg, transfer ?? []);
const host = new DownloadHost(post);
const zoo = new ZooHost(post, { openStore: () => OpfsStore.open(), estimate: () => OpfsStore.estimate() });
self.onmessage = (ev: MessageEvent<DownloadRequest>) => {
  const m = ev.data;
  if (m.type === 'cancel') {
    if (!zoo.cancel(m.id)) host.handle(m);
  } else if (m.type === 'start') host.handle(m);
  else zoo.handle(m);
};
