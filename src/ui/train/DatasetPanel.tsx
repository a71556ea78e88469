/**
 * The dataset half of the Train view's panel: adding photos (files, a folder, VOC zips), what the
 * last add did (every refusal with its reason and what to do), counts per class, and the boxes of
 * the photo in the editor with their class names.
 */
import { useRef, useState } from 'react';
import { useStore } from '../../state/store';
import { cleanClassName, summarise, type TrainPhoto } from '../../core/dataset/trainingSet';
import { addFiles, cancelAdding, clearDataset, deletePhoto, exportDataset, renameClass, setBoxClass, setBoxes, setNoObjects } from '../../runner/datasetActions';
import { classColor } from '../palette';
import { addMiddleBox } from './BoxEditor';

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function AddReportView() {
  const report = useStore((s) => s.train.report);
  const [open, setOpen] = useState(false);
  if (!report) return null;
  const withBoxes = report.added.filter((p) => p.boxes.length).length;
  return (
    <div className="info-card" data-testid="add-report" role="status">
      <p className="small">
        <strong>{report.what}:</strong> {plural(report.added.length, 'photo')} added{report.added.length ? ` (${withBoxes} with boxes)` : ''}
        {report.duplicates.length > 0 && `, ${plural(report.duplicates.length, 'photo')} already in the dataset`}
        {report.refused.length > 0 && `, ${report.refused.length} refused`}.
        <button className="btn-icon" onClick={() => useStore.getState().setTrain({ report: null })} aria-label="Dismiss the report">
          ×
        </button>
      </p>
      {report.refused.length > 0 && (
        <ul className="refusals small" data-testid="refusals">
          {report.refused.map((r, i) => (
            <li key={i}>
              {r.reason} <span className="muted">{r.hint}</span>
            </li>
          ))}
        </ul>
      )}
      {report.notes.length + report.ignored.length > 0 && (
        <details open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)} className="small">
          <summary>{[report.notes.length && `${plural(report.notes.length, 'note')} on the annotations`, report.ignored.length && `${plural(report.ignored.length, 'other file')} skipped`].filter(Boolean).join(', ')}</summary>
          <ul className="notes">
            {report.notes.slice(0, 50).map((n, i) => (
              <li key={i}>{n}</li>
            ))}
            {report.notes.length > 50 && <li>… and {report.notes.length - 50} more</li>}
            {report.ignored.length > 0 && <li>Not photos or annotations, skipped: {report.ignored.slice(0, 10).join(', ')}{report.ignored.length > 10 ? ', …' : ''}</li>}
          </ul>
        </details>
      )}
    </div>
  );
}

function ClassTable() {
  const photos = useStore((s) => s.train.photos);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [to, setTo] = useState('');
  const s = summarise(photos);
  if (!photos.length) return null;
  return (
    <>
      <table className="table" data-testid="class-counts">
        <caption className="visually-hidden">Boxes and photos per class</caption>
        <thead>
          <tr>
            <th scope="col">Class</th>
            <th scope="col">Boxes</th>
            <th scope="col">Photos</th>
            <th scope="col"><span className="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {s.classes.map((c, k) => (
            <tr key={c} data-class={c}>
              <td>
                <span className="swatch" style={{ background: classColor(k) }} aria-hidden="true" />
                {renaming === c ? (
                  <form
                    className="inline-form"
                    onSubmit={(e) => {
                      e.preventDefault();
                      void renameClass(c, to);
                      setRenaming(null);
                    }}
                  >
                    <input value={to} onChange={(e) => setTo(e.target.value)} aria-label={`New name for ${c}`} autoFocus />
                    <button className="btn btn-small" type="submit">Rename</button>
                  </form>
                ) : (
                  c
                )}
              </td>
              <td className={s.boxesPerClass[c] < 2 ? 'cell-warn' : undefined}>{s.boxesPerClass[c]}</td>
              <td>{s.photosPerClass[c]}</td>
              <td>
                <button className="link small" onClick={() => { setRenaming(c); setTo(c); }} aria-label={`Rename the class ${c}`}>
                  rename
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small" data-testid="dataset-totals">
        {plural(photos.length, 'photo')}, {plural(s.boxes, 'box', 'boxes')} in {plural(s.classes.length, 'class', 'classes')}
        {s.unboxed.length > 0 && (
          <>
            {'; '}
            <button className="link" onClick={() => useStore.getState().setTrain({ filter: 'unboxed' })} data-testid="unboxed-count">
              {plural(s.unboxed.length, 'photo')} without boxes
            </button>
          </>
        )}
        {s.background.length > 0 && `; ${plural(s.background.length, 'photo')} of background only`}.
      </p>
    </>
  );
}

function SelectedPhoto({ photo }: { photo: TrainPhoto }) {
  const selectedBox = useStore((s) => s.train.selectedBox);
  const boxClass = useStore((s) => s.train.boxClass);
  const photos = useStore((s) => s.train.photos);
  const classes = summarise(photos).classes;
  const sel = selectedBox !== null && selectedBox < photo.boxes.length ? selectedBox : null;
  const [confirmDelete, setConfirmDelete] = useState(false);
  const applyClass = () => {
    const label = cleanClassName(boxClass);
    if (sel !== null && label && label !== photo.boxes[sel].label) void setBoxes(photo.id, photo.boxes.map((b, i) => (i === sel ? { ...b, label } : b)), sel);
  };
  return (
    <section aria-labelledby="sel-photo-h" data-testid="selected-photo">
      <h3 id="sel-photo-h">
        {photo.name} <span className="muted small">{photo.width} × {photo.height} px</span>
      </h3>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          applyClass();
        }}
      >
        <label>
          Class{' '}
          <input list="train-classes" value={boxClass} onChange={(e) => void setBoxClass(e.target.value)} placeholder="e.g. mug" style={{ width: 130 }} data-testid="box-class" aria-describedby="box-class-help" />
        </label>
        <datalist id="train-classes">
          {classes.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
        {sel !== null && (
          <button className="btn btn-small" type="submit" disabled={!cleanClassName(boxClass) || cleanClassName(boxClass) === photo.boxes[sel].label} data-testid="apply-class">
            Give box {sel + 1} this class
          </button>
        )}
        <button className="btn btn-small" type="button" onClick={() => addMiddleBox(photo)} data-testid="add-box">
          Add a box
        </button>
      </form>
      <p id="box-class-help" className="muted small">
        New boxes get this class. Draw on the photo, or add a box here and place it with the arrow keys in the editor
        (Shift + arrows resizes).
      </p>
      {photo.boxes.length > 0 ? (
        <ul className="gt-list" data-testid="box-list">
          {photo.boxes.map((b, i) => (
            <li key={i} className={i === sel ? 'selected' : undefined}>
              <button className="link" aria-pressed={i === sel} onClick={() => useStore.getState().setTrain({ selectedBox: i === sel ? null : i, boxClass: b.label })}>
                {i + 1}. {b.label}
                {b.difficult ? ' (difficult)' : ''}: {Math.round(b.box[2] - b.box[0])} × {Math.round(b.box[3] - b.box[1])} px
              </button>
              <button className="btn-icon" onClick={() => void setBoxes(photo.id, photo.boxes.filter((_, k) => k !== i), null)} aria-label={`Delete box ${i + 1} (${b.label})`}>
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <label className="check small">
          <input type="checkbox" checked={!!photo.noObjects} onChange={(e) => void setNoObjects(photo.id, e.target.checked)} data-testid="no-objects" />
          This photo shows none of the classes (train on it as background)
        </label>
      )}
      <div className="row">
        {confirmDelete ? (
          <>
            <span className="small">Delete {photo.name} from the dataset?</span>
            <button className="btn btn-small" onClick={() => void deletePhoto(photo.id)} data-testid="confirm-delete-photo">
              Delete
            </button>
            <button className="btn btn-small" onClick={() => setConfirmDelete(false)}>
              Keep
            </button>
          </>
        ) : (
          <button className="btn btn-small" onClick={() => setConfirmDelete(true)}>
            Delete this photo…
          </button>
        )}
      </div>
    </section>
  );
}

function BusyRow({ busy }: { busy: NonNullable<ReturnType<typeof useStore.getState>['train']['busy']> }) {
  const el = (performance.now() - busy.startedAt) / 1000;
  const eta = busy.done > 0 && busy.total > busy.done ? (el / busy.done) * (busy.total - busy.done) : NaN;
  return (
    <div className="load-progress row" role="status" data-testid="dataset-busy">
      <span className="small">{busy.label}…</span>
      <progress max={Math.max(1, busy.total)} value={busy.done} aria-label={busy.label} />
      <span className="small">
        {busy.done}/{busy.total}
        {Number.isFinite(eta) ? `, about ${Math.ceil(eta)} s left` : ''}
      </span>
      {busy.label.startsWith('Adding') || busy.label.startsWith('Reading') ? (
        <button className="btn btn-small" onClick={cancelAdding} data-testid="cancel-adding">
          Stop
        </button>
      ) : null}
    </div>
  );
}

export function DatasetPanel() {
  const photos = useStore((s) => s.train.photos);
  const busy = useStore((s) => s.train.busy);
  const selected = useStore((s) => s.train.photos.find((p) => p.id === s.train.selected) ?? null);
  const running = useStore((s) => s.train.run?.status === 'running');
  const files = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement>(null);
  const [confirmClear, setConfirmClear] = useState(false);
  const pick = (e: React.ChangeEvent<HTMLInputElement>) => {
    const list = Array.from(e.target.files ?? []);
    e.target.value = '';
    if (list.length) void addFiles(list);
  };
  return (
    <section aria-labelledby="dataset-h" data-testid="dataset-panel">
      <h3 id="dataset-h">1. Your photos and boxes</h3>
      <div className="row">
        <button className="btn btn-primary" onClick={() => files.current?.click()} disabled={!!busy} data-testid="add-photos">
          Add photos or a VOC .zip…
        </button>
        <button className="btn" onClick={() => folder.current?.click()} disabled={!!busy}>
          Add a folder…
        </button>
        <input ref={files} type="file" multiple accept="image/*,.jpg,.jpeg,.png,.webp,.gif,.bmp,.xml,.zip,application/zip" className="visually-hidden" tabIndex={-1} aria-label="Add photos, VOC annotations or a VOC zip" onChange={pick} data-testid="train-file-input" />
        <input
          ref={(el) => {
            folder.current = el;
            el?.setAttribute('webkitdirectory', '');
          }}
          type="file"
          multiple
          className="visually-hidden"
          tabIndex={-1}
          aria-label="Add a folder of photos (and VOC annotations)"
          onChange={pick}
          data-testid="train-folder-input"
        />
      </div>
      <p className="muted small">
        Or drop photos, a folder or a zip anywhere on this view. A PASCAL VOC layout (JPEGImages/ with Annotations/)
        brings its boxes along. Everything stays in this browser (IndexedDB): a reload keeps it.
      </p>
      {busy && <BusyRow busy={busy} />}
      <AddReportView />
      <ClassTable />
      {photos.length > 0 && (
        <div className="row">
          <button className="btn btn-small" onClick={() => void exportDataset()} disabled={!!busy} data-testid="export-voc">
            Export as VOC .zip
          </button>
          {confirmClear ? (
            <>
              <span className="small">Delete all {photos.length} photos and their boxes from this browser?</span>
              <button className="btn btn-small" onClick={() => { setConfirmClear(false); void clearDataset(); }} disabled={running} data-testid="confirm-clear">
                Delete all
              </button>
              <button className="btn btn-small" onClick={() => setConfirmClear(false)}>
                Keep them
              </button>
            </>
          ) : (
            <button className="btn btn-small" onClick={() => setConfirmClear(true)} disabled={!!busy || running}>
              Delete the dataset…
            </button>
          )}
        </div>
      )}
      {selected && <SelectedPhoto key={selected.id} photo={selected} />}
    </section>
  );
}
