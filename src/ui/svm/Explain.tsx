import { useId, type ReactNode } from 'react';
import './svm.css';

/** A "?" that shows an explanation on hover or keyboard focus (the text is also its accessible description). */
export function Explain({ label, children }: { label: string; children: ReactNode }) {
  const id = useId();
  return (
    <span className="explain">
      <button type="button" className="explain-btn" aria-label={label} aria-describedby={id}>
        ?
      </button>
      <span role="tooltip" id={id} className="explain-tip">
        {children}
      </span>
    </span>
  );
}
