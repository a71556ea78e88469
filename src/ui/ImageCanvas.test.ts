import { describe, expect, it } from 'vitest';
import { sameOverlayKey } from './ImageCanvas';

describe('sameOverlayKey', () => {
  it('treats a fresh array of the same elements as the same key (no redraw at every render)', () => {
    const view = { topN: 200 };
    expect(sameOverlayKey([view, null, 3], [view, null, 3])).toBe(true);
    expect(sameOverlayKey([view, undefined], [view, undefined])).toBe(true);
    expect(sameOverlayKey('3:4', '3:4')).toBe(true);
    expect(sameOverlayKey(undefined, undefined)).toBe(true);
  });

  it('sees a changed element, a changed length and a changed value', () => {
    const view = { topN: 200 };
    expect(sameOverlayKey([view, null, 3], [view, null, 4])).toBe(false);
    expect(sameOverlayKey([view, null, 3], [{ topN: 200 }, null, 3])).toBe(false);
    expect(sameOverlayKey([view, null], [view, null, 3])).toBe(false);
    expect(sameOverlayKey([view], view)).toBe(false);
    expect(sameOverlayKey('3:4', '3:5')).toBe(false);
    expect(sameOverlayKey([NaN], [NaN])).toBe(true);
  });
});
