/** Small helpers for reading ONNX nodes, shared by the importer and its pattern matchers. */
import type { OnnxAttribute, OnnxNode } from './proto';

export function nodeLabel(n: OnnxNode): string {
  return n.name ? `${n.opType} node "${n.name}"` : `${n.opType} node producing "${n.output[0]}"`;
}

export function getAttr(n: OnnxNode, name: string): OnnxAttribute | undefined {
  return n.attribute.find((a) => a.name === name);
}

export function intAttr(n: OnnxNode, name: string, fallback: number): number {
  const a = getAttr(n, name);
  return a?.i ?? fallback;
}

/** A float attribute; float32 values are shown as their shortest decimal (1e-4, not 9.99999974e-5). */
export function floatAttr(n: OnnxNode, name: string, fallback: number): number {
  const a = getAttr(n, name);
  if (a?.f !== undefined) return Number(a.f.toPrecision(7));
  return a?.i ?? fallback;
}

export function intsAttr(n: OnnxNode, name: string): number[] | undefined {
  return getAttr(n, name)?.ints;
}

export function stringAttr(n: OnnxNode, name: string): string | undefined {
  const a = getAttr(n, name);
  return a?.s ? new TextDecoder().decode(a.s) : undefined;
}
