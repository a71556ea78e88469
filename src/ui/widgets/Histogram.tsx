interface Props {
  values: ArrayLike<number>;
  bins?: number;
  /** Vertical marker (e.g. the score threshold). */
  marker?: number;
  markerLabel?: string;
  width?: number;
  height?: number;
  label: string;
  color?: string;
  /** Bars at or above the marker use this colour. */
  aboveColor?: string;
  domain?: [number, number];
}

/** A small SVG histogram with an optional threshold marker; log-scaled counts so rare tails show. */
export function Histogram({ values, bins = 40, marker, markerLabel, width = 360, height = 110, label, color = '#56B4E9', aboveColor = '#E69F00', domain }: Props) {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (domain) [lo, hi] = domain;
  if (!(hi > lo)) { lo = (Number.isFinite(lo) ? lo : 0) - 1; hi = lo + 2; }
  const counts = new Float64Array(bins);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)));
    counts[b]++;
  }
  const maxLog = Math.log1p(Math.max(1, ...counts));
  const padB = 18, padT = 12;
  const bw = width / bins;
  const x = (v: number) => ((v - lo) / (hi - lo)) * width;
  const above = marker ?? Infinity;
  return (
    <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} className="histogram fluid-svg">
      {Array.from(counts, (c, b) => {
        const h = (Math.log1p(c) / maxLog) * (height - padB - padT);
        const binStart = lo + (b / bins) * (hi - lo);
        return <rect key={b} x={b * bw + 0.5} y={height - padB - h} width={Math.max(0.5, bw - 1)} height={h} fill={binStart >= above ? aboveColor : color} />;
      })}
      <line x1={0} x2={width} y1={height - padB} y2={height - padB} stroke="#888" />
      <text x={0} y={height - 4} fontSize={11} fill="#555">{lo.toFixed(2)}</text>
      <text x={width} y={height - 4} fontSize={11} fill="#555" textAnchor="end">{hi.toFixed(2)}</text>
      {marker !== undefined && marker >= lo && marker <= hi && (
        <g>
          <line x1={x(marker)} x2={x(marker)} y1={padT - 2} y2={height - padB} stroke="#D55E00" strokeWidth={2} />
          <text x={x(marker)} y={padT - 3} fontSize={11} fill="#D55E00" textAnchor={x(marker) > width * 0.8 ? 'end' : x(marker) < width * 0.2 ? 'start' : 'middle'}>
            {markerLabel ?? marker.toFixed(2)}
          </text>
        </g>
      )}
    </svg>
  );
}
