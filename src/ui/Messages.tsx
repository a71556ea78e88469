import { useStore } from '../state/store';

/** Errors, warnings and notices: announced to screen readers, dismissable. */
export function Messages() {
  const messages = useStore((s) => s.messages);
  const dismiss = useStore((s) => s.dismissMessage);
  if (messages.length === 0) return null;
  return (
    <div className="messages">
      {messages.map((m, i) => (
        <div key={`${i}-${m.text}`} className={`message message-${m.kind}`} role={m.kind === 'error' ? 'alert' : 'status'} data-testid={`message-${m.kind}`}>
          <div>
            <strong>{m.kind === 'error' ? 'Error: ' : m.kind === 'warning' ? 'Note: ' : ''}</strong>
            {m.text}
            {m.hint && <div className="hint">{m.hint}</div>}
          </div>
          <button className="btn-icon" onClick={() => dismiss(i)} aria-label="Dismiss message">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
