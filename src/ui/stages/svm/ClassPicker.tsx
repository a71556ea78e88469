import { useId, useMemo, useState } from 'react';
import { fmtScore } from './useScores';

interface Props {
  classes: readonly string[];
  /** Best score per class (NaN while none is scored), shown next to each name. */
  best: ArrayLike<number>;
  value: number;
  onChange: (c: number) => void;
  /** Whether `value` is the automatic choice (the best-scoring class). */
  automatic: boolean;
  onAutomatic: () => void;
  testId?: string;
}

/**
 * The focused class: a select with each class's best score, plus a filter box when there are many
 * classes (an imported ILSVRC13 model has 200). The options stay sorted by name; typing narrows them.
 */
export function ClassPicker({ classes, best, value, onChange, automatic, onAutomatic, testId }: Props) {
  const id = useId();
  const [filter, setFilter] = useState('');
  const many = classes.length > 12;
  const shown = useMemo(() => {
    const q = filter.trim().toLowerCase();
    const idx = classes.map((_, c) => c).filter((c) => !q || classes[c].toLowerCase().includes(q));
    // The chosen class stays listed so the select shows it even when the filter excludes it.
    if (!idx.includes(value)) idx.unshift(value);
    return idx;
  }, [classes, filter, value]);
  return (
    <div className="svm-picker">
      <label htmlFor={`${id}-sel`}>Class</label>
      {many && (
        <input
          type="search"
          className="svm-filter"
          placeholder={`Filter ${classes.length} classes…`}
          aria-label="Filter the class list"
          value={filter}
          onChange={(e) => {
            setFilter(e.target.value);
            const q = e.target.value.trim().toLowerCase();
            const first = classes.findIndex((n) => n.toLowerCase().includes(q));
            if (q && first >= 0 && !classes[value].toLowerCase().includes(q)) onChange(first);
          }}
          data-testid={testId ? `${testId}-filter` : undefined}
        />
      )}
      <select id={`${id}-sel`} value={value} onChange={(e) => onChange(Number(e.target.value))} data-testid={testId}>
        {shown.map((c) => (
          <option key={c} value={c}>
            {classes[c]} (best {fmtScore(best[c])})
          </option>
        ))}
      </select>
      <button className="btn btn-small" onClick={onAutomatic} disabled={automatic} title="Focus the class whose best proposal scores highest">
        Best
      </button>
    </div>
  );
}
