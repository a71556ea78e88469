import { sequentialCss } from '../../palette';
import { fmtScore } from './useScores';
import './svm.css';

interface Props {
  centre: number;
  half: number;
  /** Diverging (blue, white at the centre, orange) or sequential (viridis over the range). */
  kind?: 'diverging' | 'sequential';
  /** What the centre is ("threshold", "boundary"); diverging scales only. */
  centreLabel?: string;
  /** Swatch text for cells with no value (e.g. "not scored yet", "no proposal"). */
  emptyLabel?: string;
  testId?: string;
}

const VIRIDIS_GRADIENT = `linear-gradient(to right, ${Array.from({ length: 10 }, (_, k) => sequentialCss(k / 9)).join(', ')})`;

/**
 * The colour scale of the heat map and the score map. The diverging bar is a linear CSS gradient,
 * which reproduces scores.divergingLut exactly (it is linear in RGB between its three stops).
 */
export function ScoreLegend({ centre, half, kind = 'diverging', centreLabel, emptyLabel, testId }: Props) {
  const lo = centre - half, hi = centre + half;
  const seq = kind === 'sequential';
  const aria = seq
    ? `Colour scale from ${fmtScore(lo)} (dark purple) to ${fmtScore(hi)} (yellow), this class's range`
    : `Colour scale from ${fmtScore(lo)} (blue) through ${fmtScore(centre)} (white, ${centreLabel}) to ${fmtScore(hi)} (orange)`;
  return (
    <div className="svm-legend" data-testid={testId}>
      <div className="svm-legend-bar" role="img" aria-label={aria} style={seq ? { background: VIRIDIS_GRADIENT } : undefined} />
      <div className="svm-legend-ticks" aria-hidden="true">
        <span>
          {seq ? '' : '≤ '}
          {fmtScore(lo)}
        </span>
        <span>{seq ? `${fmtScore(centre)} (class range)` : `${fmtScore(centre)} (${centreLabel})`}</span>
        <span>
          {seq ? '' : '≥ '}
          {fmtScore(hi)}
        </span>
      </div>
      {emptyLabel && (
        <div className="svm-legend-empty small">
          <span className="svm-hatch" aria-hidden="true" /> {emptyLabel}
        </div>
      )}
    </div>
  );
}
