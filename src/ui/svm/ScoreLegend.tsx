import { fmtScore } from './useScores';
import './svm.css';

interface Props {
  centre: number;
  half: number;
  /** What the centre is ("threshold" or "0"). */
  centreLabel: string;
  /** Swatch text for cells with no value (e.g. "not scored yet", "no proposal"). */
  emptyLabel?: string;
  testId?: string;
}

/**
 * The diverging scale of the heat map and the score map: blue below the centre, white at it,
 * orange above; a linear CSS gradient reproduces scores.divergingLut exactly (it is linear in RGB).
 */
export function ScoreLegend({ centre, half, centreLabel, emptyLabel, testId }: Props) {
  return (
    <div className="svm-legend" data-testid={testId}>
      <div className="svm-legend-bar" role="img" aria-label={`Colour scale from ${fmtScore(centre - half)} (blue) through ${fmtScore(centre)} (white, ${centreLabel}) to ${fmtScore(centre + half)} (orange)`} />
      <div className="svm-legend-ticks" aria-hidden="true">
        <span>≤ {fmtScore(centre - half)}</span>
        <span>
          {fmtScore(centre)} ({centreLabel})
        </span>
        <span>≥ {fmtScore(centre + half)}</span>
      </div>
      {emptyLabel && (
        <div className="svm-legend-empty small">
          <span className="svm-hatch" aria-hidden="true" /> {emptyLabel}
        </div>
      )}
    </div>
  );
}
