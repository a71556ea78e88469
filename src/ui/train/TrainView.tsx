/**
 * The Train view: build a small dataset of your own photos and boxes, train R-CNN's per-class
 * SVMs (with hard-negative mining) and box regressors on the active CNN's features, exactly as
 * `rcnn train --stages svm,bbox` does, measure AP on held-out photos, and use or save the result.
 * Shown instead of the eight stages (App.tsx), reachable from the header and the Image stage.
 */
import { useEffect, useState } from 'react';
import { useStore } from '../../state/store';
import { addFiles, filesFromDrop, loadDataset, openTrainView } from '../../runner/datasetActions';
import { BoxEditor } from './BoxEditor';
import { PhotoList } from './PhotoList';
import { DatasetPanel } from './DatasetPanel';
import { TrainPanel } from './TrainPanel';
import './train.css';

/** The header's way in and out of the Train view (and #train in the address opens it). */
export function TrainButton() {
  const open = useStore((s) => s.train.open);
  useEffect(() => {
    const sync = () => {
      const want = location.hash === '#train';
      if (want !== useStore.getState().train.open) openTrainView(want);
    };
    sync();
    window.addEventListener('hashchange', sync);
    return () => window.removeEventListener('hashchange', sync);
  }, []);
  return (
    <button className={`btn${open ? ' btn-primary' : ''}`} aria-pressed={open} onClick={() => openTrainView(!open)} data-testid="train-button" title="Build a dataset of your own photos and train R-CNN's SVMs and box regressors on it, here in the browser">
      {open ? 'Back to the eight stages' : 'Train on your photos'}
    </button>
  );
}

function EmptyDataset() {
  const loaded = useStore((s) => s.train.loaded);
  return (
    <div className="viewer-empty train-empty" data-testid="train-empty">
      {loaded ? (
        <>
          <p>
            <strong>No photos yet.</strong>
          </p>
          <p>Add photos of the objects you want it to find (a few dozen per class), then draw a box around each object and name its class.</p>
          <p className="muted small">Or drop a PASCAL VOC dataset (a .zip or a folder with JPEGImages/ and Annotations/) here.</p>
        </>
      ) : (
        <p>Reading your dataset…</p>
      )}
    </div>
  );
}

export function TrainView() {
  const selected = useStore((s) => s.train.photos.find((p) => p.id === s.train.selected) ?? null);
  const [over, setOver] = useState(false);
  useEffect(() => {
    void loadDataset();
  }, []);
  const hasFiles = (e: React.DragEvent) => Array.from(e.dataTransfer.types).includes('Files');
  return (
    <main
      className={`workspace train-workspace${over ? ' train-drop' : ''}`}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setOver(false);
      }}
      onDrop={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.stopPropagation(); // the page-wide drop loads a photo into the eight stages; here it goes into the dataset
        setOver(false);
        void filesFromDrop(e.dataTransfer).then(addFiles);
      }}
      data-testid="train-view"
    >
      <section className="viewer train-viewer" aria-label="The photo and its boxes">
        {selected ? <BoxEditor key={selected.id} photo={selected} /> : <EmptyDataset />}
        <PhotoList />
      </section>
      <section className="panel" aria-labelledby="train-title" id="train-panel">
        <h2 id="train-title">Teach it your own objects</h2>
        <p className="summary">
          R-CNN's training recipe on your photos: features from the CNN, then one linear SVM per class with hard-negative
          mining and one box regressor per class, measured on photos it has not seen.
        </p>
        <DatasetPanel />
        <TrainPanel />
      </section>
    </main>
  );
}
