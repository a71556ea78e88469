/**
 * Executing diversification runs on the resized image, sharing what runs have in common.
 *
 * What depends on what (so what one run can reuse from another on the same image):
 *   colour space              -> colour planes, smoothed sorted pixel graph (per sigma), texture maps
 *   colour space, sigma, k    -> base segmentation, region sizes/boxes/adjacency, histograms
 *   + similarity set          -> the hierarchical grouping (the only per-run work)
 * The release does the same: Image2HierarchicalGrouping segments once per (colour space, k) and
 * groups that segmentation with every similarity function.
 */
import type { RgbImage } from '../image/raster';
import { convertColourSpace, type ColourPlanes } from './colorSpace';
import { buildPixelGraph, segmentGraph, type PixelGraph, type Segmentation } from './felzenszwalb';
import { colourHistograms, regionGeometry, textureBins, textureHistograms, type RegionFeatures, type RegionGeometry, type TextureBins } from './features';
import { hierarchicalGrouping } from './grouping';
import { parseSimilaritySet, resolveRunSpec, segmentationKey } from './plan';
import type { ColorSpace, RunResult, RunSpec } from './types';

interface ColourEntry {
  colour: ColourPlanes;
  graphs: Map<number, PixelGraph>;
  texture: TextureBins | null;
}

interface SegmentationEntry {
  seg: Segmentation;
  geometry: RegionGeometry;
  colourHist: { length: number; hist: Float32Array } | null;
  textureHist: { length: number; hist: Float32Array } | null;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Caches the shared intermediate results of runs on one (already resized) image. Memory: about
 * 24 bytes per pixel per colour space for the graph and texture maps plus 8 per segmentation, so
 * by default only the most recently used colour space is kept (run lists grouped by colour space,
 * as the planner's tasks are, never recompute anything).
 */
export class SearchContext {
  private readonly colours = new Map<ColorSpace, ColourEntry>();
  private readonly segmentations = new Map<string, SegmentationEntry>();

  /** @param image the resized image (see prepareSearchImage); @param keepColourSpaces how many colour spaces' caches to keep. */
  constructor(readonly image: RgbImage, readonly keepColourSpaces = 1) {
    if (image.width < 1 || image.height < 1 || image.data.length !== image.width * image.height * 3) {
      throw new Error(`invalid RGB raster ${image.width} x ${image.height} with ${image.data.length} bytes`);
    }
  }

  /** Execute one run: segmentation (cached), region features (cached), hierarchical grouping. */
  execute(spec: RunSpec, options: { labels?: boolean } = {}): RunResult {
    const s = resolveRunSpec(spec);
    const flags = parseSimilaritySet(s.similarity);
    const t0 = now();
    const colourEntry = this.colourEntry(s.colorSpace);
    let graph = colourEntry.graphs.get(s.sigma);
    if (!graph) {
      graph = buildPixelGraph(colourEntry.colour, s.sigma);
      colourEntry.graphs.set(s.sigma, graph);
    }
    const key = segmentationKey(s);
    let entry = this.segmentations.get(key);
    if (!entry) {
      const seg = segmentGraph(graph, s.k, s.minSize);
      entry = { seg, geometry: regionGeometry(seg), colourHist: null, textureHist: null };
      this.segmentations.set(key, entry);
    }
    const t1 = now();
    if (flags.colour && !entry.colourHist) entry.colourHist = colourHistograms(entry.seg, colourEntry.colour, entry.geometry.sizes);
    if (flags.texture && !entry.textureHist) {
      if (!colourEntry.texture) colourEntry.texture = textureBins(colourEntry.colour);
      entry.textureHist = textureHistograms(entry.seg, colourEntry.texture, entry.geometry.sizes);
    }
    const features: RegionFeatures = {
      ...entry.geometry,
      colourLength: entry.colourHist?.length ?? 0,
      colourHist: entry.colourHist?.hist ?? new Float32Array(0),
      textureLength: entry.textureHist?.length ?? 0,
      textureHist: entry.textureHist?.hist ?? new Float32Array(0),
    };
    const t2 = now();
    const g = hierarchicalGrouping(features, flags);
    const t3 = now();
    return {
      spec: s,
      width: this.image.width,
      height: this.image.height,
      segmentCount: g.segmentCount,
      boxes: g.boxes,
      hierarchyPositions: g.hierarchyPositions,
      merges: g.merges,
      mergeSimilarity: g.mergeSimilarity,
      ...(options.labels ? { labels: entry.seg.labels.slice() } : {}),
      timings: { segmentationMs: t1 - t0, featuresMs: t2 - t1, groupingMs: t3 - t2, totalMs: t3 - t0 },
    };
  }

  private colourEntry(space: ColorSpace): ColourEntry {
    let e = this.colours.get(space);
    if (e) {
      // Mark as most recently used.
      this.colours.delete(space);
      this.colours.set(space, e);
      return e;
    }
    e = { colour: convertColourSpace(this.image, space), graphs: new Map(), texture: null };
    this.colours.set(space, e);
    while (this.colours.size > Math.max(1, this.keepColourSpaces)) {
      const oldest = this.colours.keys().next().value as ColorSpace;
      this.colours.delete(oldest);
      for (const k of [...this.segmentations.keys()]) if (k.startsWith(`${oldest}|`)) this.segmentations.delete(k);
    }
    return e;
  }
}

/**
 * Execute ONE run (colour space, k, similarity set) on the resized image. Runs sharing a colour
 * space or segmentation should share a SearchContext instead, which caches that work.
 */
export function executeRun(resized: RgbImage, spec: RunSpec, options: { labels?: boolean } = {}): RunResult {
  return new SearchContext(resized).execute(spec, options);
}

/**
 * Order in which to execute a run list so a one-colour-space cache never recomputes: grouped by
 * colour space, then segmentation, in first-appearance order.
 */
export function executionOrder(runs: RunSpec[]): number[] {
  const resolved = runs.map(resolveRunSpec);
  const colourRank = new Map<string, number>();
  const segRank = new Map<string, number>();
  resolved.forEach((r) => {
    if (!colourRank.has(r.colorSpace)) colourRank.set(r.colorSpace, colourRank.size);
    const k = segmentationKey(r);
    if (!segRank.has(k)) segRank.set(k, segRank.size);
  });
  return resolved
    .map((r, i) => ({ i, c: colourRank.get(r.colorSpace)!, s: segRank.get(segmentationKey(r))! }))
    .sort((a, b) => a.c - b.c || a.s - b.s || a.i - b.i)
    .map((x) => x.i);
}
