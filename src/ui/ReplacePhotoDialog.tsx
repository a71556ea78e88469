import { useEffect, useRef, useState } from 'react';
import { setReplaceGuard, type ReplaceQuestion } from '../runner/imageActions';

/**
 * Asks before a new photo replaces one whose ground truth the user made (drawn, typed or loaded
 * from their file): a click on another sample or a stray drop used to discard those boxes without
 * a word. A modal <dialog>: focus moves into it (on the safe choice), Tab stays inside, Escape
 * keeps the current photo, and screen readers announce its title and question.
 */
export function ReplacePhotoDialog() {
  const ref = useRef<HTMLDialogElement>(null);
  const [ask, setAsk] = useState<{ q: ReplaceQuestion; answer: (replace: boolean) => void } | null>(null);

  useEffect(() => {
    setReplaceGuard((q) => new Promise<boolean>((resolve) => setAsk({ q, answer: resolve })));
    return () => setReplaceGuard(null);
  }, []);
  useEffect(() => {
    const d = ref.current;
    if (ask && d && !d.open) d.showModal();
  }, [ask]);

  const answer = (replace: boolean) => {
    ask?.answer(replace);
    setAsk(null);
    ref.current?.close();
  };
  const q = ask?.q;
  const boxes = q ? `${q.boxes} ground-truth box${q.boxes === 1 ? '' : 'es'}` : '';
  return (
    <dialog
      ref={ref}
      className="confirm-dialog"
      aria-labelledby="replace-photo-title"
      aria-describedby="replace-photo-text"
      data-testid="replace-photo-dialog"
      onCancel={(e) => {
        e.preventDefault();
        answer(false);
      }}
    >
      {q && (
        <>
          <h2 id="replace-photo-title">Replace {q.current}?</h2>
          <p id="replace-photo-text">
            {q.next} would replace {q.current}, and the {boxes} {q.source === 'xml' && q.file ? `you loaded from ${q.file}` : 'you drew'} for it would be discarded.
          </p>
          <div className="row">
            <button className="btn" autoFocus onClick={() => answer(false)} data-testid="replace-keep">
              Keep {q.current}
            </button>
            <button className="btn btn-primary" onClick={() => answer(true)} data-testid="replace-confirm">
              Load {q.next}, discard the boxes
            </button>
          </div>
        </>
      )}
    </dialog>
  );
}
