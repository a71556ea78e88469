import { useId, useState, type ReactNode } from 'react';
import './svm.css';

const TIP_W = 300;

/**
 * A "?" that explains on hover or keyboard focus (Escape hides it). The text is the button's
 * accessible description, so screen readers get it without hovering. The tip is fixed-positioned
 * and clamped to the window, so the scrolling panel never clips it.
 */
export function Explain({ label, children }: { label: string; children: ReactNode }) {
  const id = useId();
  const [pos, setPos] = useState<{ left: number; top: number } | null>(null);
  const show = (e: React.SyntheticEvent<HTMLButtonElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const left = Math.max(8, Math.min(window.innerWidth - TIP_W - 8, r.right - TIP_W + 12));
    setPos({ left, top: r.bottom + 6 });
  };
  const hide = () => setPos(null);
  return (
    <span className="explain">
      <button
        type="button"
        className="explain-btn"
        aria-label={label}
        aria-describedby={id}
        onMouseEnter={show}
        onMouseLeave={hide}
        onFocus={show}
        onBlur={hide}
        onKeyDown={(e) => e.key === 'Escape' && hide()}
      >
        ?
      </button>
      <span role="tooltip" id={id} className={`explain-tip${pos ? ' explain-open' : ''}`} style={pos ? { left: pos.left, top: pos.top, width: TIP_W } : undefined}>
        {children}
      </span>
    </span>
  );
}
