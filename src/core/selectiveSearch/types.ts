/**
 * Types of the selective-search stage (Uijlings et al., IJCV 2013, as used by R-CNN;
 * docs/algorithm.md section 1). Everything that crosses a worker boundary is plain data: numbers,
 * strings and typed arrays, so a run result can be posted with its buffers as transferables.
 */

/**
 * Colour spaces of the release's Image2ColourSpace. Each is converted to 8-bit channels first
 * (the release segments and histograms the uint8 image), so:
 * - HSV: MATLAB rgb2hsv scaled to 0..255 (hue included, treated linearly as the release does);
 * - Lab: CIE L*a*b* in the 8-bit ICC encoding (L*255/100, a+128, b+128);
 * - rgI: normalised r and g (each min-max stretched over the image) plus grey intensity;
 * - H: the hue channel only; I: grey intensity only (the release replicates them 3 times, which we
 *   reproduce exactly with one channel and a sqrt(3) edge-weight factor).
 */
export type ColorSpace = 'RGB' | 'HSV' | 'Lab' | 'rgI' | 'H' | 'I';
export const COLOR_SPACES: readonly ColorSpace[] = ['RGB', 'HSV', 'Lab', 'rgI', 'H', 'I'];

/**
 * A similarity set: the enabled measures as letters in the order C, T, S, F:
 * C = colour histogram intersection, T = texture histogram intersection, S = size, F = fill.
 * The release's four merging strategies are 'CTSF', 'TSF', 'F' and 'S'; any non-empty
 * combination (e.g. 'CS') is accepted for custom runs.
 */
export type SimilaritySet = string;
export const RELEASE_SIMILARITY_SETS: readonly SimilaritySet[] = ['CTSF', 'TSF', 'F', 'S'];

export type SearchMode = 'fast' | 'quality';

/** One diversification run: one base segmentation grouped with one similarity set. */
export interface RunSpec {
  colorSpace: ColorSpace;
  /** Felzenszwalb-Huttenlocher threshold constant k (in 0..255 colour units). */
  k: number;
  similarity: SimilaritySet;
  /** Gaussian smoothing before segmentation; the release uses 0.8. */
  sigma?: number;
  /** Minimum segment size in pixels; the release sets minSize = k. */
  minSize?: number;
}

/** A custom strategy: the cross product colorSpaces x ks x similarities. */
export interface CustomStrategy {
  colorSpaces: ColorSpace[];
  ks: number[];
  similarities: SimilaritySet[];
  sigma?: number;
}

/**
 * The result of one run on the resized image (coordinates in resized pixels, continuous
 * convention of src/core/geometry.ts: integer edges, x2/y2 exclusive).
 *
 * Regions are numbered as in the release's blobStruct: ids 0..n-1 are the base segments (labels of
 * the segmentation), id n + j is the region created by merge j. So `boxes` holds 2n - 1 boxes,
 * region r at [4r, 4r + 4), and the last region (id 2n - 2) is the whole image.
 */
export interface RunResult {
  spec: Required<RunSpec>;
  /** Resized image size the run worked on. */
  width: number;
  height: number;
  /** n: number of base segments. */
  segmentCount: number;
  /** 4 * (2n - 1) box coordinates, base segments first, then one box per merge in merge order. */
  boxes: Float32Array;
  /**
   * The release's priority (hierarchy position) per region: a region made by merge j gets
   * n - 1 - j (1 = the last merge, the whole image); base segments all get n. Lower is better
   * before the random factor.
   */
  hierarchyPositions: Int32Array;
  /** Merge history: 2 * (n - 1) region ids, merge j joined merges[2j] and merges[2j + 1] into region n + j. */
  merges: Int32Array;
  /** Similarity of the pair at each merge (the value the heap popped). */
  mergeSimilarity: Float32Array;
  /** Base segmentation, one segment id per pixel of the resized image (only when requested). */
  labels?: Int32Array;
  /**
   * Milliseconds this run spent. Work shared between runs (colour conversion, the sorted pixel
   * graph, texture, the segmentation and region features of one (colour space, k)) is counted once,
   * by the first run that needed it.
   */
  timings: { segmentationMs: number; featuresMs: number; groupingMs: number; totalMs: number };
}

/** The pooled, ranked proposals of a whole search (R-CNN's region proposals for one image). */
export interface ProposalSet {
  /** 4 * N box coordinates in the input image's pixels, best-ranked first (rank = index). */
  boxes: Float32Array;
  /** Per box: index of the run (in the run list given to the pooler) that produced it first. */
  runIndex: Int32Array;
  /** Per box: its region id inside that run (see RunResult; >= segmentCount means a merged region). */
  regionId: Int32Array;
  /** Per box: the release's hierarchy position of that region. */
  hierarchyPosition: Int32Array;
  /** Per box: the ranking key hierarchyPosition * random (ascending). */
  rankKey: Float32Array;
  /** Input image size (boxes are in these pixels). */
  width: number;
  height: number;
  /** The resized image the runs worked on, and input pixels per resized pixel. */
  resizedWidth: number;
  resizedHeight: number;
  scaleX: number;
  scaleY: number;
  /** Funnel counts: pooled candidates, after the minimum-side filter, after duplicate removal (before top-N). */
  counts: { pooled: number; afterMinSide: number; unique: number };
}

/** Options of the pooling step. */
export interface PoolOptions {
  /** Seed of the random factor of the ranking; the same seed gives the same ranking. Default 1. */
  seed?: number;
  /** Keep at most this many proposals. Default 2000 (R-CNN). */
  maxBoxes?: number;
  /** Drop boxes narrower or shorter than this, in resized pixels. Default 20 (the release's minBoxWidth). */
  minBoxSide?: number;
  /** Input image size the boxes are mapped back to. Default: the resized size. */
  outputWidth?: number;
  outputHeight?: number;
}

export interface SelectiveSearchOptions extends PoolOptions {
  /** 'fast' (R-CNN's choice, the default) or 'quality'; ignored when `strategy` or `runs` is given. */
  mode?: SearchMode;
  strategy?: CustomStrategy;
  /** An explicit run list (overrides mode and strategy). */
  runs?: RunSpec[];
  /** Width the image is resized to first. Default 500 (R-CNN); 0 keeps the input size. */
  resizeWidth?: number;
}
