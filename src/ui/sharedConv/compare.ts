/**
 * The numbers the side-by-side comparison shows, from the store's runs (pure, no React):
 * each path's measured time, and its multiply-adds per photo from the
 * architecture (model/roiGeometry.ts).
 */
import type { FeaturesResult } from '../../runner/cnnActions';
import type { CaffeNetArch } from '../../model/architecture';
import { perLayerMacs, type RoiScale } from '../../model/roiGeometry';
import type { FeatureMode } from '../../model/extract';

export interface PathRun {
  mode: FeatureMode;
  run: FeaturesResult | null;
}

/** The complete run of each path on the current photo and proposals (null where there is none). */
export function runsByMode(features: FeaturesResult | null, other: FeaturesResult | null, imageKey: string | undefined): Record<FeatureMode, FeaturesResult | null> {
  const out: Record<FeatureMode, FeaturesResult | null> = { warp: null, roi: null };
  for (const f of [features, other]) {
    if (f && f.complete && f.imageKey === imageKey && (!out[f.mode] || f === features)) out[f.mode] = f;
  }
  // Two runs on different proposals are not compared.
  if (out.warp && out.roi && out.warp.proposals !== out.roi.proposals) out[features?.mode === 'warp' ? 'roi' : 'warp'] = null;
  return out;
}

export interface MacsSummary {
  layers: ReturnType<typeof perLayerMacs>;
  warp: number;
  shared: number;
  sharedConv: number;
  sharedFc: number;
}

export function macsSummary(arch: CaffeNetArch, width: number, height: number, n: number, scale: RoiScale): MacsSummary {
  const layers = perLayerMacs(arch, width, height, n, scale);
  const sum = (f: (l: (typeof layers)[number]) => number) => layers.reduce((s, l) => s + f(l), 0);
  return {
    layers,
    warp: sum((l) => l.warp),
    shared: sum((l) => l.shared),
    sharedConv: sum((l) => (l.kind === 'conv' ? l.shared : 0)),
    sharedFc: sum((l) => (l.kind === 'fc' ? l.shared : 0)),
  };
}

/** "130 G", "610 M". */
export function formatMacs(v: number): string {
  return v >= 1e9 ? `${(v / 1e9).toFixed(v >= 1e10 ? 0 : 1)} G` : `${(v / 1e6).toFixed(v >= 1e7 ? 0 : 1)} M`;
}

/** "14.2 s" / "850 ms". */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s` : `${ms.toFixed(0)} ms`;
}
