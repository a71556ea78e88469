import { useEffect, useMemo, useRef } from 'react';
import { useStore } from '../../state/store';
import { describeArch } from '../../model/architecture';
import { DEFAULT_ROI_SCALE, roiImageSizes, roiLevels } from '../../model/roiGeometry';
import { FAST_RCNN_ROI_POOL, boxesToRois, roiBinBounds } from '../../core/roiPool';
import { rgbToRgba, type RgbImage } from '../../core/image/raster';
import { warpedCropRgba } from '../stages/warp/crops';
import { PixelCanvas } from '../stages/features/PixelCanvas';

const VIEW = 240;
const photoCanvases = new WeakMap<RgbImage, HTMLCanvasElement>();

function photoCanvas(img: RgbImage): HTMLCanvasElement {
  let c = photoCanvases.get(img);
  if (!c) {
    c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    c.getContext('2d')!.putImageData(new ImageData(rgbToRgba(img) as Uint8ClampedArray<ArrayBuffer>, img.width, img.height), 0, 0);
    photoCanvases.set(img, c);
  }
  return c;
}

export interface RoiGeometry {
  /** conv5 grid of the resized photo, cells. */
  gridW: number;
  gridH: number;
  /** Photo pixels to the resized photo. */
  scale: number;
  inputW: number;
  inputH: number;
  /** Bin bounds on conv5 (core/roiPool.ts roiBinBounds), 4 x 6 cells. */
  bounds: Int32Array;
  stride: number;
}

/** Where one proposal lands on conv5 of the photo at the RoI scale, by Fast R-CNN's rules. */
export function roiGeometry(width: number, height: number, box: ArrayLike<number>, arch: Parameters<typeof describeArch>[0], scale = DEFAULT_ROI_SCALE): RoiGeometry {
  const sizes = roiImageSizes(width, height, scale, Math.max(arch.inputHeight, arch.inputWidth));
  // A pyramid pools each proposal from one of its levels (the one closest to 224 x 224).
  const size = sizes[roiLevels(box, sizes.map((s) => s.scale))[0]];
  const conv5 = describeArch({ ...arch, inputHeight: size.height, inputWidth: size.width }).find((l) => l.name === 'conv5')!.shape;
  const bounds = roiBinBounds(boxesToRois(box, size.scale), conv5[1], conv5[2], FAST_RCNN_ROI_POOL);
  return { gridW: conv5[2], gridH: conv5[1], scale: size.scale, inputW: size.width, inputH: size.height, bounds, stride: 1 / FAST_RCNN_ROI_POOL.spatialScale };
}

/**
 * One proposal two ways: its RoI on the conv5 grid of the whole photo (cells of 16 resized
 * pixels, the rounded RoI and its 6 x 6 max-pooling bins), next to the 227 x 227 crop R-CNN warps
 * it into and runs all five conv layers on.
 */
export function RoiGridPicture() {
  const image = useStore((s) => s.image);
  const proposals = useStore((s) => s.proposals);
  const model = useStore((s) => s.model);
  const selected = useStore((s) => s.selectedProposal) ?? 0;
  const ref = useRef<HTMLCanvasElement>(null);
  const fresh = image && proposals && proposals.imageKey === image.key && proposals.boxes.length >= 4 ? proposals : null;
  const index = fresh ? Math.min(selected, fresh.boxes.length / 4 - 1) : 0;
  const box = fresh ? fresh.boxes.subarray(4 * index, 4 * index + 4) : null;
  const scale = model?.headFeatures?.roiScale ?? DEFAULT_ROI_SCALE;
  const geo = useMemo(() => (image && box && model ? roiGeometry(image.image.width, image.image.height, box, model.architecture, scale) : null), [image, box, model, scale]);
  const crop = useMemo(() => (image && box ? warpedCropRgba(image.image, box).data : null), [image, box]);
  const P = FAST_RCNN_ROI_POOL.pooled;
  const cells = geo
    ? { x0: geo.bounds[2 * P], x1: geo.bounds[3 * P + P - 1], y0: geo.bounds[0], y1: geo.bounds[P + P - 1] }
    : null;

  useEffect(() => {
    const c = ref.current;
    if (!c || !image || !geo || !cells || !box) return;
    // The view: the RoI's cells and one cell around them, in resized-photo pixels.
    const st = geo.stride;
    const vx0 = Math.max(0, cells.x0 - 1) * st, vx1 = Math.min(geo.gridW, cells.x1 + 1) * st;
    const vy0 = Math.max(0, cells.y0 - 1) * st, vy1 = Math.min(geo.gridH, cells.y1 + 1) * st;
    const k = VIEW / Math.max(vx1 - vx0, vy1 - vy0, 1);
    c.width = Math.max(1, Math.round((vx1 - vx0) * k));
    c.height = Math.max(1, Math.round((vy1 - vy0) * k));
    const ctx = c.getContext('2d')!;
    ctx.imageSmoothingEnabled = true;
    // Resized-photo pixels to photo pixels: / scale.
    ctx.drawImage(photoCanvas(image.image), vx0 / geo.scale, vy0 / geo.scale, (vx1 - vx0) / geo.scale, (vy1 - vy0) / geo.scale, 0, 0, c.width, c.height);
    const X = (v: number) => (v - vx0) * k;
    const Y = (v: number) => (v - vy0) * k;
    ctx.strokeStyle = 'rgba(255,255,255,0.45)';
    ctx.lineWidth = 1;
    for (let g = Math.ceil(vx0 / st); g * st <= vx1; g++) line(ctx, X(g * st), 0, X(g * st), c.height);
    for (let g = Math.ceil(vy0 / st); g * st <= vy1; g++) line(ctx, 0, Y(g * st), c.width, Y(g * st));
    // The bins: each bin's own rectangle (neighbours share a cell where bin sizes are fractional).
    ctx.strokeStyle = '#E69F00';
    ctx.lineWidth = 2;
    for (let ph = 0; ph < P; ph++) {
      for (let pw = 0; pw < P; pw++) {
        const hs = geo.bounds[ph], he = geo.bounds[P + ph], ws = geo.bounds[2 * P + pw], we = geo.bounds[3 * P + pw];
        if (he > hs && we > ws) ctx.strokeRect(X(ws * st) + 2, Y(hs * st) + 2, (we - ws) * st * k - 4, (he - hs) * st * k - 4);
      }
    }
    // The proposal itself.
    ctx.strokeStyle = '#56B4E9';
    ctx.setLineDash([6, 4]);
    ctx.strokeRect(X(box[0] * geo.scale), Y(box[1] * geo.scale), (box[2] - box[0]) * geo.scale * k, (box[3] - box[1]) * geo.scale * k);
    ctx.setLineDash([]);
  }, [image, geo, cells, box]);

  if (!fresh || !geo || !cells || !box) return null;
  const w = box[2] - box[0], h = box[3] - box[1];
  const binW = (cells.x1 - cells.x0) / P, binH = (cells.y1 - cells.y0) / P;
  const label = `Proposal ${index + 1} on the conv5 grid: cells ${cells.x0} to ${cells.x1 - 1} across and ${cells.y0} to ${cells.y1 - 1} down of ${geo.gridW} by ${geo.gridH}, pooled into 6 by 6 bins`;
  return (
    <figure className="roi-picture" data-testid="roi-picture" data-cells={`${cells.x0},${cells.y0},${cells.x1},${cells.y1}`}>
      <div className="roi-pair">
        <div>
          <canvas ref={ref} role="img" aria-label={label} data-testid="roi-grid" />
          <div className="small muted">shared conv: its RoI on conv5 of the whole photo</div>
        </div>
        <div>
          <PixelCanvas width={227} height={227} pixels={crop} cssWidth={160} cssHeight={160} label={`Proposal ${index + 1} warped to 227 by 227 pixels with 16 pixels of context`} testId="roi-warped-crop" />
          <div className="small muted">R-CNN: the same proposal warped to 227 x 227</div>
        </div>
      </div>
      <figcaption className="small">
        Proposal {index + 1} ({Math.round(w)} x {Math.round(h)} px) on the photo resized to {geo.inputW} x {geo.inputH}: conv5 is a {geo.gridW} x {geo.gridH} grid of cells of {geo.stride} px (white), and the
        proposal (blue, dashed) rounds to cells {cells.x0}-{cells.x1 - 1} x {cells.y0}-{cells.y1 - 1}. RoI pooling takes the maximum of each of the 6 x 6 bins (orange, {binW.toFixed(1)} x {binH.toFixed(1)} cells each),
        which is the pool5 fc6 expects. R-CNN instead warps the proposal with 16 px of context to 227 x 227 and runs conv1-conv5 on that crop alone.
      </figcaption>
    </figure>
  );
}

function line(ctx: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number): void {
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
}
