/**
 * For tests: the model store's files in Maps, what OPFS holds, without a browser
 * (workers/opfsStore.ts is the real one). Used by core/modelStore.test.ts and workers/zooHost.test.ts.
 */
import type { StoreBackend } from './modelStore';

export class MemoryBackend implements StoreBackend {
  readonly meta = new Map<string, string>();
  readonly data = new Map<string, Uint8Array>();
  async ids() {
    return [...new Set([...this.meta.keys(), ...this.data.keys()])];
  }
  async readMeta(id: string) {
    return this.meta.get(id) ?? null;
  }
  async writeMeta(id: string, json: string) {
    this.meta.set(id, json);
  }
  async dataSize(id: string) {
    return this.data.get(id)?.length ?? null;
  }
  async truncateData(id: string, size: number) {
    const d = this.data.get(id) ?? new Uint8Array(0);
    const out = new Uint8Array(size);
    out.set(d.subarray(0, size));
    this.data.set(id, out);
  }
  async remove(id: string) {
    this.meta.delete(id);
    this.data.delete(id);
  }
  append(id: string, n: number) {
    const d = this.data.get(id) ?? new Uint8Array(0);
    const out = new Uint8Array(d.length + n);
    out.set(d);
    this.data.set(id, out);
  }
}
