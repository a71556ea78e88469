import { describe, expect, it } from 'vitest';
import { parseNumberList, parseSvmC } from './train';

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
