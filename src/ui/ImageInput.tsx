import { useEffect, useRef, useState } from 'react';
import { loadFile, loadSample } from '../runner/imageActions';
import { SAMPLES, sampleClassesKnown, sampleUrl } from '../runner/decodeClient';
import { activeStoredModel } from '../runner/zooLoad';
import { DEFAULT_GT_CLASSES } from './GroundTruth';
import { useStore } from '../state/store';
import { loadVocAnnotation } from '../runner/groundTruthActions';
import { ReplacePhotoDialog } from './ReplacePhotoDialog';

/** A VOC annotation: .xml, or an XML type. Not SVG (image/svg+xml), which goes to the image decoder and its message. */
function isXml(f: File): boolean {
  return /\.xml$/i.test(f.name) || f.type === 'text/xml' || f.type === 'application/xml';
}

/** Load dropped or picked files: the photo first, then a VOC annotation for it if one came along. */
async function loadFiles(files: File[], source: 'drop' | 'file'): Promise<void> {
  const image = files.find((f) => !isXml(f));
  const xml = files.find(isXml);
  if (image) {
    const ok = await loadFile(image, source);
    if (!ok) {
      if (xml) useStore.getState().pushMessage({ kind: 'warning', text: `${xml.name} was not loaded, because its photo ${image.name} could not be read.`, hint: 'Load a readable photo, then the annotation again.' });
      return;
    }
  }
  if (xml) await loadVocAnnotation(xml);
}

/** Upload button + hidden file input. Also owns window-level drag-and-drop and paste. */
export function UploadButton() {
  const inputRef = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    let depth = 0;
    const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');
    // The Train view takes drops and pastes itself (into the dataset).
    const trainOpen = () => useStore.getState().train.open;
    const enter = (e: DragEvent) => {
      if (!hasFiles(e) || trainOpen()) return;
      depth++;
      setDragging(true);
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const over = (e: DragEvent) => {
      if (hasFiles(e)) e.preventDefault();
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e) || trainOpen()) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      const files = Array.from(e.dataTransfer?.files ?? []);
      if (files.length) void loadFiles(files, 'drop');
    };
    const paste = (e: ClipboardEvent) => {
      const target = e.target as HTMLElement | null;
      if ((target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA')) || trainOpen()) return;
      const file = Array.from(e.clipboardData?.files ?? []).find((f) => f.type.startsWith('image/')) ?? e.clipboardData?.files[0];
      if (file) {
        e.preventDefault();
        void loadFile(file, 'paste');
      }
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    window.addEventListener('paste', paste);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
      window.removeEventListener('paste', paste);
    };
  }, []);

  return (
    <>
      <button className="btn btn-primary" onClick={() => inputRef.current?.click()} title="Upload a photo (or drop one anywhere, or paste with Ctrl+V)">
        Upload photo…
      </button>
      <input
        ref={inputRef}
        type="file"
        accept="image/*,.jpg,.jpeg,.png,.webp,.gif,.bmp,.xml"
        multiple
        className="visually-hidden"
        data-testid="file-input"
        aria-label="Upload a photo"
        tabIndex={-1}
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = '';
          if (files.length) void loadFiles(files, 'file');
        }}
      />
      {/* Every new photo (button, drop, paste, sample) passes through here: asks before it discards the user's ground truth. */}
      <ReplacePhotoDialog />
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <div>Drop the photo to run R-CNN on it</div>
        </div>
      )}
    </>
  );
}

/**
 * Each sample's thumbnail, decoded once for the page's lifetime at the size it is shown. As plain
 * <img>s of the 512-768 px photos, the gallery decoded all eight again, under new ids, each time
 * the Image stage was shown after a run, and Chromium's compositor kept every old decode
 * (cc/image_memory grew 11 MB a run, the renderer's resident memory with it; measured with
 * scripts/memory-creep.mjs). Small bitmaps drawn into canvases are not decoded again.
 */
const thumbnails = new Map<string, Promise<ImageBitmap | null>>();
const THUMB_HEIGHT = 64;

function thumbnail(file: string): Promise<ImageBitmap | null> {
  let t = thumbnails.get(file);
  if (!t) {
    // Twice the shown height, for high-density screens.
    const h = THUMB_HEIGHT * Math.min(2, Math.max(1, Math.ceil(window.devicePixelRatio || 1)));
    t = fetch(sampleUrl(file))
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((b) => createImageBitmap(b, { resizeHeight: h, resizeQuality: 'high' }))
      .catch(() => null); // a missing thumbnail leaves the button's label; loading the sample reports errors
    thumbnails.set(file, t);
  }
  return t;
}

function Thumbnail({ file }: { file: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    let live = true;
    void thumbnail(file).then((bm) => {
      const c = ref.current;
      if (!live || !bm || !c) return;
      c.width = bm.width;
      c.height = bm.height;
      c.getContext('2d')?.drawImage(bm, 0, 0);
    });
    return () => {
      live = false;
    };
  }, [file]);
  return <canvas ref={ref} width={96} height={THUMB_HEIGHT} aria-hidden="true" />;
}

/**
 * The classes the gallery marks against: the loaded model's SVM classes; before the CNN first
 * runs, the bundled model's (what will load), unless a stored model will load instead.
 */
function useGalleryClasses(): { classes: readonly string[] | null; name: string } {
  const model = useStore((s) => s.model);
  if (model) return { classes: model.svmClasses ?? model.classes, name: model.name };
  return activeStoredModel() ? { classes: null, name: '' } : { classes: DEFAULT_GT_CLASSES, name: 'the bundled model' };
}

/** Thumbnails of the bundled sample photos, each marked with the classes of its objects the model knows. */
export function SampleGallery() {
  const current = useStore((s) => s.image);
  const { classes, name } = useGalleryClasses();
  const marks = SAMPLES.map((s) => sampleClassesKnown(s, classes));
  return (
    <>
      {classes && (
        <p className="small muted" data-testid="gallery-legend">
          <span className="thumb-mark thumb-mark-yes" aria-hidden="true">✓</span> marks the photos with objects of a class {name} knows ({marks.filter((m) => m.length).length} of {SAMPLES.length}).
        </p>
      )}
      <div className="gallery" role="list" aria-label="Sample photos">
        {SAMPLES.map((s, i) => {
          const known = marks[i];
          return (
            <div key={s.file} role="listitem" className="thumb-item">
              <button
                className={`thumb${current?.source === 'sample' && current.name === s.file ? ' thumb-current' : ''}`}
                onClick={() => void loadSample(s.file)}
                aria-label={`Load sample photo: ${s.label}${classes ? (known.length ? ` (the model knows ${known.join(', ')})` : ' (none of its objects is a class of the model)') : ''}`}
                aria-current={current?.source === 'sample' && current.name === s.file ? 'true' : undefined}
                data-sample={s.file}
              >
                <Thumbnail file={s.file} />
                <span>{s.label}</span>
                {classes && (
                  <span className={`thumb-mark ${known.length ? 'thumb-mark-yes' : 'thumb-mark-no'}`} data-testid="sample-mark" data-known={known.join(',')} aria-hidden="true">
                    {known.length ? `✓ ${known.join(', ')}` : 'no known class'}
                  </span>
                )}
              </button>
            </div>
          );
        })}
      </div>
    </>
  );
}
