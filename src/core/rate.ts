/**
 * Transfer speed and time left for a progress line ("12.0 of 215 MB, 4.1 MB/s, 47 s left"):
 * bytes per second over the last few seconds of samples, so a speed change shows within that
 * window and one fast or slow chunk does not swing it. No DOM.
 */
export class RateMeter {
  private readonly samples: Array<{ t: number; bytes: number }> = [];

  /** `windowMs`: the span the speed is measured over (default 5 s). */
  constructor(private readonly windowMs = 5000) {}

  /** A progress sample: `bytes` so far at time `t` (ms). A drop in bytes (a restart) starts over. */
  add(t: number, bytes: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && bytes < last.bytes) this.samples.length = 0;
    this.samples.push({ t, bytes });
    // Keep one sample older than the window, as the window's start.
    while (this.samples.length > 2 && this.samples[1].t <= t - this.windowMs) this.samples.shift();
  }

  /** Bytes per second over the window; null until there are 0.5 s of samples. */
  rate(): number | null {
    const n = this.samples.length;
    if (n < 2) return null;
    const a = this.samples[0];
    const b = this.samples[n - 1];
    const dt = b.t - a.t;
    return dt >= 500 ? ((b.bytes - a.bytes) * 1000) / dt : null;
  }

  /** Seconds left to `total` at the current rate; null when unknown (no rate, no total, or stalled). */
  eta(total: number | null): number | null {
    const r = this.rate();
    const n = this.samples.length;
    if (total === null || r === null || r <= 0 || n === 0) return null;
    return Math.max(0, (total - this.samples[n - 1].bytes) / r);
  }

  reset(): void {
    this.samples.length = 0;
  }
}

/** "215 MB" / "12.3 MB" (decimal megabytes, as the zoo and download sites state sizes). */
export function formatDecimalMB(bytes: number): string {
  const mb = bytes / 1e6;
  return `${mb >= 100 ? mb.toFixed(0) : mb.toFixed(1)} MB`;
}

/** "47 s", "3 min 05 s", "1 h 02 min". */
export function formatSeconds(s: number): string {
  const r = Math.round(s);
  if (r < 60) return `${r} s`;
  if (r < 3600) return `${Math.floor(r / 60)} min ${String(r % 60).padStart(2, '0')} s`;
  return `${Math.floor(r / 3600)} h ${String(Math.floor((r % 3600) / 60)).padStart(2, '0')} min`;
}
