import { describe, expect, it } from 'vitest';
import { overlapArea, placeLabels, type Rect } from './labels';

const inside = (r: Rect, W: number, H: number) => r.x >= 0 && r.y >= 0 && r.x + r.w <= W + 1e-9 && r.y + r.h <= H + 1e-9;
const pairwiseOverlap = (rs: Rect[]) => {
  let total = 0;
  for (let i = 0; i < rs.length; i++) for (let j = i + 1; j < rs.length; j++) total += overlapArea(rs[i], rs[j]);
  return total;
};

describe('placeLabels', () => {
  it('overlapArea on known rectangles', () => {
    expect(overlapArea({ x: 0, y: 0, w: 10, h: 10 }, { x: 5, y: 5, w: 10, h: 10 })).toBe(25);
    expect(overlapArea({ x: 0, y: 0, w: 10, h: 10 }, { x: 10, y: 0, w: 5, h: 5 })).toBe(0); // touching edges
    expect(overlapArea({ x: 0, y: 0, w: 10, h: 10 }, { x: 2, y: 3, w: 2, h: 2 })).toBe(4);
  });

  it('gives the first label its preferred spot and moves the next off it', () => {
    // Two proposals sharing their top-left corner (100, 100), as in the SVM stage's top boxes.
    const r = placeLabels([{ box: [100, 100, 300, 260], w: 60, h: 16 }, { box: [100, 100, 280, 240], w: 60, h: 16 }], 640, 480);
    expect(r[0]).toEqual({ x: 100, y: 84, w: 60, h: 16 }); // above the box
    expect(r[1]).toEqual({ x: 100, y: 100, w: 60, h: 16 }); // just inside it
    expect(overlapArea(r[0], r[1])).toBe(0);
    const inner = placeLabels([{ box: [100, 100, 300, 260], w: 60, h: 16, prefer: 'inside' }], 640, 480);
    expect(inner[0]).toEqual({ x: 100, y: 100, w: 60, h: 16 });
    // A ground-truth label goes below its box; a stage label placed before it keeps its spot.
    const gt = placeLabels([{ box: [100, 100, 300, 260], w: 60, h: 16 }, { box: [100, 84, 300, 100], w: 60, h: 16, prefer: 'below' }], 640, 480);
    expect(gt[1]).toEqual({ x: 100, y: 100, w: 60, h: 16 });
  });

  it('keeps ten labels of nested boxes apart and inside the image, one at the top edge', () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ box: [0, 0, 400 - 10 * i, 300 - 10 * i], w: 70, h: 16 }));
    const r = placeLabels(items, 400, 300);
    expect(r[0]).toEqual({ x: 0, y: 0, w: 70, h: 16 }); // no room above: clamped into the image
    for (const q of r) expect(inside(q, 400, 300)).toBe(true);
    expect(pairwiseOverlap(r)).toBe(0);
  });

  it('falls back to the least overlap when there is no room, still inside the image', () => {
    const items = Array.from({ length: 6 }, () => ({ box: [0, 0, 40, 20], w: 30, h: 16 }));
    const r = placeLabels(items, 40, 20);
    for (const q of r) expect(inside(q, 40, 20)).toBe(true);
    // The second label takes the spot that overlaps the first least: the top-right corner
    // (x 10: 20 of its 30 px over the first), not the bottom edge (y 4: 12 of its 16 px).
    expect(r[1]).toEqual({ x: 10, y: 0, w: 30, h: 16 });
    expect(overlapArea(r[0], r[1])).toBe(20 * 16);
    expect(r.length).toBe(6);
  });
});
