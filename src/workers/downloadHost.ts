/**
 * The download worker's logic, separate from its entry so it runs under Node in tests. Each
 * 'start' runs core/download.ts's downloadWithLimits with its own AbortController; 'cancel'
 * aborts it, which closes the connection at once.
 */
import { downloadWithLimits } from '../core/download';
import type { DownloadRequest, DownloadResponse } from './downloadProtocol';

export type DownloadPost = (msg: DownloadResponse, transfer?: Transferable[]) => void;

export class DownloadHost {
  private readonly running = new Map<number, AbortController>();

  constructor(private readonly post: DownloadPost, private readonly fetchImpl?: typeof fetch) {}

  handle(msg: DownloadRequest): void {
    if (msg.type === 'cancel') {
      this.running.get(msg.id)?.abort();
      return;
    }
    void this.start(msg);
  }

  private async start(msg: Extract<DownloadRequest, { type: 'start' }>): Promise<void> {
    const ctl = new AbortController();
    this.running.set(msg.id, ctl);
    try {
      const bytes = await downloadWithLimits(msg.url, {
        fetch: this.fetchImpl,
        signal: ctl.signal,
        maxBytes: msg.maxBytes,
        label: msg.label,
        onProgress: (loaded, total) => this.post({ type: 'progress', id: msg.id, loaded, total }),
      });
      const buf = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer);
      this.post({ type: 'done', id: msg.id, bytes: buf, url: msg.url }, [buf]);
    } catch (e) {
      const err = e as Error;
      this.post({ type: 'error', id: msg.id, name: err?.name ?? 'Error', message: err?.message ?? String(e) });
    } finally {
      this.running.delete(msg.id);
    }
  }
}
