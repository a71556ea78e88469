import { describe, expect, it } from 'vitest';
import { limitSplit, parseNumberList, parseSvmC } from './train';

describe('rcnn train --svm-c', () => {
  it("defaults to the paper's C = 0.001 and keeps a list in the order given", () => {
    expect(parseSvmC(undefined)).toEqual([0.001]);
    expect(parseSvmC('0.01')).toEqual([0.01]);
    expect(parseSvmC('0.001, 0.01,0.1')).toEqual([0.001, 0.01, 0.1]);
    expect(parseSvmC('1e-3,3e-3')).toEqual([0.001, 0.003]);
  });
  it('rejects what is not a positive number, and repeats', () => {
    for (const bad of ['', 'abc', '0', '-0.01', '0.001,x', 'NaN', 'Infinity']) expect(() => parseSvmC(bad), bad).toThrow(/--svm-c expects positive numbers/);
    expect(() => parseSvmC('0.01,1e-2')).toThrow(/lists a value twice/);
  });
});

describe('rcnn train --bbox-lambda', () => {
  it("defaults to the paper's lambda = 1000 and names its flag in errors", () => {
    expect(parseNumberList(undefined, '--bbox-lambda', [1000])).toEqual([1000]);
    expect(parseNumberList('100,1000, 10000', '--bbox-lambda', [1000])).toEqual([100, 1000, 10000]);
    expect(() => parseNumberList('100,-1', '--bbox-lambda', [1000])).toThrow(/--bbox-lambda expects positive numbers/);
    expect(() => parseNumberList('100,1e2', '--bbox-lambda', [1000])).toThrow(/--bbox-lambda lists a value twice/);
  });
});

describe('rcnn train --max-images', () => {
  const split = { train: Array.from({ length: 450 }, (_, i) => `t${i}`), val: Array.from({ length: 80 }, (_, i) => `v${i}`) };
  it('uses N images in all, split as --val-fraction says, with at least one validation image', () => {
    const sizes = (n: number, f: number) => {
      const r = limitSplit(split, n, f);
      return [r.trainIds.size, r.valIds.size];
    };
    expect(sizes(2, 0.15)).toEqual([1, 1]);
    expect(sizes(3, 0.15)).toEqual([2, 1]);
    expect(sizes(20, 0.15)).toEqual([17, 3]);
    expect(sizes(10, 0)).toEqual([10, 0]);
    expect([...limitSplit(split, 3, 0.15).trainIds]).toEqual(['t0', 't1']);
  });
});
