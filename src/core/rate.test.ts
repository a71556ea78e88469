import { describe, expect, it } from 'vitest';
import { RateMeter, formatDecimalMB, formatSeconds } from './rate';

describe('RateMeter', () => {
  it('measures the speed over its window and the time left from it', () => {
    const m = new RateMeter(2000);
    expect(m.rate()).toBeNull();
    // 1 MB/s for 4 s, then 4 MB/s for 3 s: the 2 s window shows the new speed.
    for (let t = 0; t <= 4000; t += 250) m.add(t, t * 1000);
    expect(m.rate()).toBeCloseTo(1e6, -3);
    expect(m.eta(10e6)).toBeCloseTo(6, 1);
    for (let t = 4250; t <= 7000; t += 250) m.add(t, 4e6 + (t - 4000) * 4000);
    expect(m.rate()).toBeCloseTo(4e6, -3);
    expect(m.eta(20e6)).toBeCloseTo((20e6 - 16e6) / 4e6, 1);
    expect(m.eta(null)).toBeNull();
  });

  it('starts over when the bytes go down (a download that restarted from 0)', () => {
    const m = new RateMeter(2000);
    for (let t = 0; t <= 2000; t += 250) m.add(t, t * 1000);
    m.add(2250, 1000);
    expect(m.rate()).toBeNull();
    m.add(2750, 501_000);
    expect(m.rate()).toBeCloseTo(1e6, -3);
  });

  it('formats sizes and durations', () => {
    expect(formatDecimalMB(214_642_550)).toBe('215 MB');
    expect(formatDecimalMB(12_345_678)).toBe('12.3 MB');
    expect(formatSeconds(47.4)).toBe('47 s');
    expect(formatSeconds(185)).toBe('3 min 05 s');
    expect(formatSeconds(3720)).toBe('1 h 02 min');
  });
});
