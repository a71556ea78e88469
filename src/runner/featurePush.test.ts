import { describe, expect, it } from 'vitest';
import { FEATURE_PUSH_MS, featurePushInterval } from './cnnActions';

describe('featurePushInterval', () => {
  it('pushes every 150 ms while the panels redraw in under 7.5 ms', () => {
    expect(featurePushInterval(0)).toBe(FEATURE_PUSH_MS);
    expect(featurePushInterval(7.5)).toBe(150);
  });

  it('keeps redrawing under 5 % of the main thread when the panels are slow, but pushes at least once a second', () => {
    expect(featurePushInterval(18)).toBe(360);
    expect(featurePushInterval(40)).toBe(800);
    expect(featurePushInterval(500)).toBe(1000);
  });
});
