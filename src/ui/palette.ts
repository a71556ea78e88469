/**
 * Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008), ordered for contrast on photos.
 * Boxes are drawn with a dark halo under the colour so they stay visible on any background.
 */
export const PALETTE = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7', '#FFFFFF'] as const;

export function classColor(index: number): string {
  return PALETTE[((index % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

/** Sequential colour for a value in [0, 1] (viridis-like, perceptually ordered, colour-blind-safe). */
const VIRIDIS = [
  [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [110, 206, 88], [181, 222, 43], [253, 231, 37],
];
export function sequential(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i], b = VIRIDIS[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

export function sequentialCss(t: number, alpha = 1): string {
  const [r, g, b] = sequential(t);
  return `rgba(${r | 0},${g | 0},${b | 0},${alpha})`;
}

/** Diverging blue-white-orange for signed values (e.g. SVM scores around 0). */
export function diverging(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(-1, Number.isFinite(t) ? t : 0));
  const white = [247, 247, 247];
  const neg = [33, 102, 172];
  const pos = [230, 97, 1];
  const c = x < 0 ? neg : pos;
  const f = Math.abs(x);
  return [white[0] + (c[0] - white[0]) * f, white[1] + (c[1] - white[1]) * f, white[2] + (c[2] - white[2]) * f];
}
