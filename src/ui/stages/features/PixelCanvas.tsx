import { useEffect, useRef } from 'react';

interface Props {
  width: number;
  height: number;
  /** RGBA, width x height x 4. */
  pixels: Uint8ClampedArray | null;
  cssWidth: number | string;
  cssHeight: number | string;
  label?: string;
  className?: string;
  testId?: string;
  title?: string;
}

/** A canvas showing raw RGBA pixels at their own resolution, scaled by CSS (crisp, no smoothing). */
export function PixelCanvas({ width, height, pixels, cssWidth, cssHeight, label, className, testId, title }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c || !pixels) return;
    c.width = width;
    c.height = height;
    c.getContext('2d')!.putImageData(new ImageData(pixels as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
  }, [pixels, width, height]);
  return (
    <canvas
      ref={ref}
      className={`pixel-canvas${className ? ` ${className}` : ''}`}
      style={{ width: cssWidth, height: cssHeight }}
      role={label ? 'img' : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
      data-testid={testId}
      title={title}
    />
  );
}

/** RGB bytes (S x S x 3) as RGBA. */
export function rgbToRgbaPixels(rgb: Uint8Array, n: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(4 * n);
  for (let i = 0; i < n; i++) {
    out[4 * i] = rgb[3 * i];
    out[4 * i + 1] = rgb[3 * i + 1];
    out[4 * i + 2] = rgb[3 * i + 2];
    out[4 * i + 3] = 255;
  }
  return out;
}
