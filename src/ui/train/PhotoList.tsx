/**
 * The dataset's photos as a grid of thumbnails (each read from storage only once it scrolls into
 * view), with a filter: every photo, the photos still without boxes, or the photos of one class.
 */
import { useEffect, useRef, useState } from 'react';
import { useStore } from '../../state/store';
import { summarise, type TrainPhoto } from '../../core/dataset/trainingSet';
import { usePhotoUrl } from './usePhotoUrl';

function Thumb({ photo, current }: { photo: TrainPhoto; current: boolean }) {
  const ref = useRef<HTMLButtonElement>(null);
  const [visible, setVisible] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el || visible) return;
    const io = new IntersectionObserver((es) => es.some((e) => e.isIntersecting) && setVisible(true), { rootMargin: '200px' });
    io.observe(el);
    return () => io.disconnect();
  }, [visible]);
  const url = usePhotoUrl(photo.id, visible);
  const n = photo.boxes.length;
  const state = n ? `${n} box${n === 1 ? '' : 'es'}` : photo.noObjects ? 'background' : 'no boxes';
  return (
    <button
      ref={ref}
      className={`thumb train-thumb${current ? ' thumb-current' : ''}${n === 0 && !photo.noObjects ? ' thumb-unboxed' : ''}`}
      aria-current={current ? 'true' : undefined}
      aria-label={`${photo.name}: ${state}`}
      onClick={() => useStore.getState().setTrain({ selected: photo.id, selectedBox: null })}
      data-photo={photo.name}
    >
      {url ? <img src={url} alt="" /> : <span className="thumb-placeholder" />}
      <span className="thumb-name">{photo.name}</span>
      <span className={n ? 'muted' : 'thumb-warn'}>{state}</span>
    </button>
  );
}

export function PhotoList() {
  const photos = useStore((s) => s.train.photos);
  const selected = useStore((s) => s.train.selected);
  const filter = useStore((s) => s.train.filter);
  const s = summarise(photos);
  const shown = filter === 'unboxed' ? s.unboxed : filter === 'background' ? s.background : filter.startsWith('class:') ? photos.filter((p) => p.boxes.some((b) => b.label === filter.slice(6))) : photos;
  const [limit, setLimit] = useState(200);
  if (!photos.length) return null;
  return (
    <section className="photo-list" aria-labelledby="photo-list-h">
      <div className="row">
        <h2 id="photo-list-h" className="inline-heading">
          Photos
        </h2>
        <label className="small">
          Show{' '}
          <select value={filter} onChange={(e) => useStore.getState().setTrain({ filter: e.target.value })} data-testid="photo-filter">
            <option value="all">all {photos.length}</option>
            <option value="unboxed">without boxes ({s.unboxed.length})</option>
            {s.background.length > 0 && <option value="background">background only ({s.background.length})</option>}
            {s.classes.map((c) => (
              <option key={c} value={`class:${c}`}>
                with {c} ({s.photosPerClass[c]})
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="gallery train-gallery" data-testid="photo-list">
        {shown.slice(0, limit).map((p) => (
          <Thumb key={p.id} photo={p} current={p.id === selected} />
        ))}
      </div>
      {shown.length > limit && (
        <button className="btn btn-small" onClick={() => setLimit(limit + 200)}>
          Show {Math.min(200, shown.length - limit)} more of {shown.length - limit}
        </button>
      )}
    </section>
  );
}
