import { useId } from 'react';

interface Props {
  label: string;
  value: number;
  min: number;
  max: number;
  step: number;
  onChange: (v: number) => void;
  /** How the value is shown next to the label. */
  format?: (v: number) => string;
  /** One line under the slider saying what it does. */
  help?: string;
  testId?: string;
  disabled?: boolean;
}

/** A labelled range input; arrow keys move it by one step, Page Up/Down by ten (native behaviour). */
export function Slider({ label, value, min, max, step, onChange, format, help, testId, disabled }: Props) {
  const id = useId();
  const text = format ? format(value) : String(value);
  return (
    <div className="slider">
      <label htmlFor={id}>
        <span>{label}</span>
        <output htmlFor={id} data-testid={testId ? `${testId}-value` : undefined}>
          {text}
        </output>
      </label>
      <input
        id={id}
        type="range"
        min={min}
        max={max}
        step={step}
        value={value}
        disabled={disabled}
        aria-valuetext={text}
        aria-describedby={help ? `${id}-help` : undefined}
        data-testid={testId}
        onChange={(e) => onChange(Number(e.target.value))}
      />
      {help && (
        <div id={`${id}-help`} className="slider-help">
          {help}
        </div>
      )}
    </div>
  );
}
