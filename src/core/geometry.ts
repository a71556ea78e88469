/**
 * Box geometry shared by every stage.
 *
 * Pixel convention (used everywhere in this project unless a function says otherwise):
 * continuous image coordinates, pixel (i, j) covers [i, i+1) x [j, j+1). A box is
 * [x1, y1, x2, y2] with x2 > x1 exclusive, so its width is x2 - x1 and a box covering
 * integer pixel columns a..b inclusive is [a, ., b + 1, .]. PASCAL VOC annotations are
 * 1-based inclusive (xmin..xmax), which maps to [xmin - 1, ymin - 1, xmax, ymax].
 *
 * The R-CNN MATLAB release treats boxes as inclusive integer pixel indices and computes
 * areas with +1 ("inclusive" convention below). Both conventions are supported where the
 * paper's numbers depend on them (IoU, NMS); "continuous" is the default.
 *
 * Many boxes are stored flat: a Float32Array/Float64Array of length 4 * N, box i at [4i, 4i + 4).
 */

export type Box = [x1: number, y1: number, x2: number, y2: number];
export type BoxArray = Float32Array | Float64Array;
export type AreaConvention = 'continuous' | 'inclusive';

/** Offset added to (x2 - x1) when measuring a side: 0 for continuous, 1 for inclusive indices. */
export function sideOffset(convention: AreaConvention = 'continuous'): number {
  return convention === 'inclusive' ? 1 : 0;
}

export function boxWidth(b: ArrayLike<number>, convention: AreaConvention = 'continuous'): number {
  return Math.max(0, b[2] - b[0] + sideOffset(convention));
}

export function boxHeight(b: ArrayLike<number>, convention: AreaConvention = 'continuous'): number {
  return Math.max(0, b[3] - b[1] + sideOffset(convention));
}

export function boxArea(b: ArrayLike<number>, convention: AreaConvention = 'continuous'): number {
  return boxWidth(b, convention) * boxHeight(b, convention);
}

export function intersectionArea(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  convention: AreaConvention = 'continuous',
): number {
  const o = sideOffset(convention);
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]) + o;
  if (w <= 0) return 0;
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]) + o;
  if (h <= 0) return 0;
  return w * h;
}

/** Intersection over union; 0 when both boxes are empty. */
export function iou(a: ArrayLike<number>, b: ArrayLike<number>, convention: AreaConvention = 'continuous'): number {
  const inter = intersectionArea(a, b, convention);
  if (inter === 0) return 0;
  return inter / (boxArea(a, convention) + boxArea(b, convention) - inter);
}

/** Areas of N flat boxes. */
export function boxAreas(boxes: ArrayLike<number>, convention: AreaConvention = 'continuous'): Float64Array {
  const n = boxes.length >> 2;
  const o = sideOffset(convention);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = boxes[4 * i + 2] - boxes[4 * i] + o;
    const h = boxes[4 * i + 3] - boxes[4 * i + 1] + o;
    out[i] = w > 0 && h > 0 ? w * h : 0;
  }
  return out;
}

/**
 * IoU of every box in `a` (N flat boxes) with every box in `b` (M flat boxes):
 * row-major N x M, entry [i * M + j] = IoU(a_i, b_j).
 */
export function iouMatrix(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  convention: AreaConvention = 'continuous',
): Float32Array {
  const n = a.length >> 2;
  const m = b.length >> 2;
  const o = sideOffset(convention);
  const areaA = boxAreas(a, convention);
  const areaB = boxAreas(b, convention);
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    const ax1 = a[4 * i], ay1 = a[4 * i + 1], ax2 = a[4 * i + 2], ay2 = a[4 * i + 3];
    const aa = areaA[i];
    const row = i * m;
    for (let j = 0; j < m; j++) {
      const w = Math.min(ax2, b[4 * j + 2]) - Math.max(ax1, b[4 * j]) + o;
      if (w <= 0) continue;
      const h = Math.min(ay2, b[4 * j + 3]) - Math.max(ay1, b[4 * j + 1]) + o;
      if (h <= 0) continue;
      const inter = w * h;
      out[row + j] = inter / (aa + areaB[j] - inter);
    }
  }
  return out;
}

/** For each box in `a`, the best IoU with any box of `b` and its index (-1 when b is empty). */
export function bestOverlaps(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  convention: AreaConvention = 'continuous',
): { overlap: Float32Array; index: Int32Array } {
  const n = a.length >> 2;
  const m = b.length >> 2;
  const mat = iouMatrix(a, b, convention);
  const overlap = new Float32Array(n);
  const index = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bi = -1;
    for (let j = 0; j < m; j++) {
      const v = mat[i * m + j];
      if (v > best) {
        best = v;
        bi = j;
      }
    }
    overlap[i] = Math.max(0, best);
    index[i] = bi;
  }
  return { overlap, index };
}

/** Clip a box to the image rectangle [0, width] x [0, height] (continuous convention). */
export function clipBox(b: ArrayLike<number>, width: number, height: number): Box {
  return [
    Math.min(Math.max(b[0], 0), width),
    Math.min(Math.max(b[1], 0), height),
    Math.min(Math.max(b[2], 0), width),
    Math.min(Math.max(b[3], 0), height),
  ];
}

/** Clip N flat boxes in place. */
export function clipBoxesInPlace<T extends BoxArray>(boxes: T, width: number, height: number): T {
  for (let i = 0; i < boxes.length; i += 4) {
    boxes[i] = Math.min(Math.max(boxes[i], 0), width);
    boxes[i + 1] = Math.min(Math.max(boxes[i + 1], 0), height);
    boxes[i + 2] = Math.min(Math.max(boxes[i + 2], 0), width);
    boxes[i + 3] = Math.min(Math.max(boxes[i + 3], 0), height);
  }
  return boxes;
}

/** Scale flat boxes by (sx, sy) into a new array (e.g. working-image pixels to original pixels). */
export function scaleBoxes(boxes: ArrayLike<number>, sx: number, sy: number = sx): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = boxes[i] * sx;
    out[i + 1] = boxes[i + 1] * sy;
    out[i + 2] = boxes[i + 2] * sx;
    out[i + 3] = boxes[i + 3] * sy;
  }
  return out;
}

/**
 * The R-CNN box transform (docs/algorithm.md section 6), continuous convention: with P and G given
 * by centre (x, y) and size (w, h),
 *   tx = (Gx - Px) / Pw,  ty = (Gy - Py) / Ph,  tw = log(Gw / Pw),  th = log(Gh / Ph).
 * Encodes N proposals P against N targets G (flat, paired by index) into 4N deltas.
 */
export function encodeBoxes(proposals: ArrayLike<number>, targets: ArrayLike<number>): Float64Array {
  const n = proposals.length >> 2;
  const out = new Float64Array(4 * n);
  for (let i = 0; i < n; i++) {
    const pw = proposals[4 * i + 2] - proposals[4 * i];
    const ph = proposals[4 * i + 3] - proposals[4 * i + 1];
    const px = proposals[4 * i] + 0.5 * pw;
    const py = proposals[4 * i + 1] + 0.5 * ph;
    const gw = targets[4 * i + 2] - targets[4 * i];
    const gh = targets[4 * i + 3] - targets[4 * i + 1];
    const gx = targets[4 * i] + 0.5 * gw;
    const gy = targets[4 * i + 1] + 0.5 * gh;
    out[4 * i] = (gx - px) / pw;
    out[4 * i + 1] = (gy - py) / ph;
    out[4 * i + 2] = Math.log(gw / pw);
    out[4 * i + 3] = Math.log(gh / ph);
  }
  return out;
}

/** Inverse of encodeBoxes: apply deltas (tx, ty, tw, th) once to each proposal. */
export function decodeBoxes(proposals: ArrayLike<number>, deltas: ArrayLike<number>): Float32Array {
  const n = proposals.length >> 2;
  const out = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const pw = proposals[4 * i + 2] - proposals[4 * i];
    const ph = proposals[4 * i + 3] - proposals[4 * i + 1];
    const px = proposals[4 * i] + 0.5 * pw;
    const py = proposals[4 * i + 1] + 0.5 * ph;
    const cx = px + deltas[4 * i] * pw;
    const cy = py + deltas[4 * i + 1] * ph;
    const w = pw * Math.exp(deltas[4 * i + 2]);
    const h = ph * Math.exp(deltas[4 * i + 3]);
    out[4 * i] = cx - 0.5 * w;
    out[4 * i + 1] = cy - 0.5 * h;
    out[4 * i + 2] = cx + 0.5 * w;
    out[4 * i + 3] = cy + 0.5 * h;
  }
  return out;
}

/** PASCAL VOC 1-based inclusive [xmin, ymin, xmax, ymax] to this project's continuous box. */
export function vocToBox(xmin: number, ymin: number, xmax: number, ymax: number): Box {
  return [xmin - 1, ymin - 1, xmax, ymax];
}
