import { useEffect, useRef, useState } from 'react';
import { loadFile, loadSample } from '../runner/imageActions';
import { SAMPLES, sampleUrl } from '../runner/decodeClient';
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

/** Thumbnails of the bundled sample photos. */
export function SampleGallery() {
  const current = useStore((s) => s.image);
  return (
    <div className="gallery" role="list" aria-label="Sample photos">
      {SAMPLES.map((s) => (
        <div key={s.file} role="listitem" className="thumb-item">
          <button
            className={`thumb${current?.source === 'sample' && current.name === s.file ? ' thumb-current' : ''}`}
            onClick={() => void loadSample(s.file)}
            aria-label={`Load sample photo: ${s.label}`}
            aria-current={current?.source === 'sample' && current.name === s.file ? 'true' : undefined}
            data-sample={s.file}
          >
            <img src={sampleUrl(s.file)} alt="" loading="lazy" width={96} height={72} />
            <span>{s.label}</span>
          </button>
        </div>
      ))}
    </div>
  );
}
