import { useEffect, useId, useRef, useState } from 'react';
import { useStore } from '../../state/store';
import { BUNDLED_MODELS, type BundledModel, bundledModelUrl, downloadModelBundle, ensureCnn, loadUserModel, switchBackend } from '../../runner/cnnActions';
import { describeModelFiles, labelForUrl, MODEL_FILE_ACCEPT, modelSourceFromFiles, validateModelUrl } from '../../runner/modelSources';
import { BACKEND_ORDER, type BackendName } from '../../model/backend';
import { formatCount } from '../stages/features/ArchitectureView';
import { getZooUrl, isZooFile, loadZooFile } from '../../runner/zooActions';
import { ZooSection } from './Zoo';
import './model.css';

const BACKEND_HELP: Record<BackendName | 'auto', string> = {
  auto: 'WebGPU or WebGL on a real GPU, otherwise wasm (a software GPU is never preferred)',
  webgpu: 'compute shaders on the GPU',
  webgl: 'fragment shaders on the GPU',
  wasm: 'SIMD WebAssembly on the CPU, one worker per core',
  cpu: 'plain JavaScript (slow; reference)',
};

function mib(b: number): string {
  return b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${(b / 2 ** 20).toFixed(b < 10 * 2 ** 20 ? 1 : 0)} MiB`;
}

function lastError(): { text: string; hint?: string } | null {
  return useStore.getState().messages.filter((x) => x.kind === 'error').pop() ?? null;
}

function BackendSection() {
  const backend = useStore((s) => s.backend);
  const pref = useStore((s) => s.backendPref);
  const [choice, setChoice] = useState<BackendName | 'auto'>(pref);
  const [switching, setSwitching] = useState<string | null>(null);
  const name = useId();
  useEffect(() => {
    setChoice(pref);
  }, [pref]);
  const apply = async () => {
    setSwitching(choice);
    try {
      await switchBackend(choice);
      if (!useStore.getState().backend) await ensureCnn();
    } catch (e) {
      useStore.getState().pushMessage({ kind: 'error', text: `The CNN could not start on ${choice}: ${(e as Error).message}`, hint: 'Choose "auto" or "wasm" and press "Use this backend" again.' });
    } finally {
      setSwitching(null);
    }
  };
  return (
    <section aria-labelledby="md-backend-h" data-testid="backend-section">
      <h3 id="md-backend-h">Backend</h3>
      {backend ? (
        <dl className="facts" data-testid="backend-info" data-backend={backend.name}>
          <dt>Running on</dt>
          <dd>
            <strong data-testid="backend-name">{backend.name}</strong>
            {backend.requested !== backend.name && <span className="muted"> (asked for {backend.requested})</span>}
            {pref === 'auto' && <span className="muted"> · chosen automatically</span>}
          </dd>
          {backend.adapter && (
            <>
              <dt>Adapter</dt>
              <dd>
                {[backend.adapter.vendor, backend.adapter.architecture, backend.adapter.device, backend.adapter.description].filter(Boolean).join(' · ') || 'unnamed'}
                {backend.adapter.isFallbackAdapter && ' (fallback adapter)'}
              </dd>
            </>
          )}
          {backend.glRenderer && (
            <>
              <dt>Renderer</dt>
              <dd>{backend.glRenderer}</dd>
            </>
          )}
          {backend.limits && (
            <>
              <dt>Limits</dt>
              <dd>
                binding {mib(backend.limits.maxStorageBufferBindingSize)}, buffer {mib(backend.limits.maxBufferSize)}
              </dd>
            </>
          )}
        </dl>
      ) : (
        <p className="small muted">The CNN worker has not started yet; it starts when a stage needs it, or when you apply a choice below.</p>
      )}
      {backend?.fellBack && (
        <p className="message message-warning" role="note" data-testid="backend-fallback">
          <span>
            {backend.requested} is not available in this browser, so the CNN runs on {backend.name}.
            {backend.notes.length > 0 && <span className="small"> ({backend.notes.filter((n) => n.startsWith(backend.requested)).join('; ') || backend.notes[0]})</span>}
          </span>
        </p>
      )}
      {backend?.software && (
        <p className="message message-warning" role="note" data-testid="backend-software">
          {backend.name} runs on a software adapter ({backend.adapter?.architecture || backend.glRenderer || 'no GPU'}), not a GPU: expect it to be much slower than wasm.
        </p>
      )}
      <fieldset className="controls">
        <legend>Run the CNN on</legend>
        {(['auto', ...BACKEND_ORDER] as const).map((b) => (
          <label key={b} className="backend-choice">
            <input type="radio" name={name} value={b} checked={choice === b} onChange={() => setChoice(b)} data-testid={`backend-${b}`} />
            <span>
              <strong>{b}</strong> <span className="muted small">{BACKEND_HELP[b]}</span>
            </span>
          </label>
        ))}
        <div className="row">
          <button className="btn btn-primary" onClick={() => void apply()} disabled={!!switching || (choice === pref && !!backend)} data-testid="apply-backend">
            {switching ? `Switching to ${switching}…` : 'Use this backend'}
          </button>
          <span className="small muted" aria-live="polite">
            {switching ? 'The model is uploaded again; a first GPU run compiles its shaders (seconds on a software adapter).' : 'Switching keeps the model; features computed so far are dropped and computed again on the new backend when you run the CNN.'}
          </span>
        </div>
      </fieldset>
      {backend && backend.notes.length > 0 && (
        <details className="small">
          <summary>Why this backend</summary>
          <ul>
            {backend.notes.map((n, i) => (
              <li key={i}>{n}</li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

function ModelSection() {
  const model = useStore((s) => s.model);
  const source = useStore((s) => s.modelSource);
  const [saving, setSaving] = useState<string | null>(null);
  if (!model) return (
    <section aria-labelledby="md-model-h">
      <h3 id="md-model-h">Model</h3>
      <p className="small muted">No model loaded yet: the bundled one loads when the CNN first runs.</p>
    </section>
  );
  const p = model.provenance;
  const save = async () => {
    setSaving('Packing…');
    try {
      const r = await downloadModelBundle();
      setSaving(`Saved ${r.name} (${mib(r.bytes)}).`);
    } catch (e) {
      setSaving(`Could not export the model: ${(e as Error).message}`);
    }
  };
  return (
    <section aria-labelledby="md-model-h" data-testid="model-info">
      <h3 id="md-model-h">Model</h3>
      <dl className="facts">
        <dt>Name</dt>
        <dd data-testid="model-name">{model.name}</dd>
        <dt>From</dt>
        <dd>{source}</dd>
        <dt>Network</dt>
        <dd>
          conv {(['conv1', 'conv2', 'conv3', 'conv4', 'conv5'] as const).map((c) => model.architecture.conv[c].filters).join('/')}, fc {model.architecture.fc6}; {formatCount(model.totalParams)} parameters,{' '}
          {formatCount(model.totalMacs)} mult-adds per crop
        </dd>
        <dt>Size</dt>
        <dd>{mib(model.bytes)} read</dd>
        <dt>SVM classes</dt>
        <dd data-testid="model-classes">{model.svmClasses ? model.svmClasses.join(', ') : 'none (no SVM head: features only)'}</dd>
        {model.classes && (
          <>
            <dt>fc8 outputs</dt>
            <dd>{model.classes.length > 12 ? `${model.classes.length} (${model.classes.slice(0, 5).join(', ')}, …)` : model.classes.join(', ')}</dd>
          </>
        )}
        <dt>Box regression</dt>
        <dd>{model.bboxClasses ? `${model.bboxClasses.length} classes` : model.verification?.file.published ? 'none: the published file has no box regressors, so proposals are used unchanged' : 'none'}</dd>
        <dt>Made by</dt>
        <dd>
          {p.createdBy}
          {p.createdAt && `, ${p.createdAt.slice(0, 10)}`}
          {p.method && <div className="small">{p.method}</div>}
          {p.source && <div className="small muted">from {p.source}</div>}
        </dd>
        {p.metrics && Object.keys(p.metrics).length > 0 && (
          <>
            <dt>Metrics</dt>
            <dd>
              {Object.entries(p.metrics).map(([k, v]) => (
                <div key={k} className="small">
                  {k}: <strong>{typeof v === 'number' && v < 1 && v > 0 ? v.toFixed(3) : String(v)}</strong>
                </div>
              ))}
            </dd>
          </>
        )}
        {model.splitFcLayers.length > 0 && (
          <>
            <dt>Split</dt>
            <dd>
              {model.splitFcLayers.join(', ')} kept as column blocks for the {model.maxBindingBytes ? mib(model.maxBindingBytes) : ''} binding limit
            </dd>
          </>
        )}
        <dt>Batch</dt>
        <dd>{model.batchSize} crops on this backend</dd>
      </dl>
      {p.card && (
        <details className="small" data-testid="model-card-text">
          <summary>Model card</summary>
          <pre className="note-text" style={{ whiteSpace: 'pre-wrap' }}>{p.card}</pre>
        </details>
      )}
      {[...(p.notes ?? []), ...model.importNotes].length > 0 && (
        <details className="small">
          <summary>Notes</summary>
          <ul>
            {[...(p.notes ?? []), ...model.importNotes].map((n, i) => (
              <li key={i} className="note-text">
                {n}
              </li>
            ))}
          </ul>
        </details>
      )}
      <div className="row">
        <button className="btn" onClick={() => void save()} disabled={saving === 'Packing…'} data-testid="download-model">
          Download this model (.rcnn)
        </button>
        <span className="small muted" role="status">
          {saving}
        </span>
      </div>
    </section>
  );
}

type Loader = ReturnType<typeof useModelLoader>;

/** Loading a user's model: files or a URL, with progress, cancel and the outcome in words. */
function useModelLoader() {
  const [busy, setBusy] = useState<{ label: string; ctl: AbortController } | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string; hint?: string } | null>(null);
  const load = async (make: () => Promise<{ source: Parameters<typeof loadUserModel>[0]; label: string }>) => {
    const ctl = new AbortController();
    setResult(null);
    try {
      const { source, label } = await make();
      setBusy({ label, ctl });
      const ok = await loadUserModel(source, label, ctl.signal);
      if (ok) setResult({ ok: true, text: `Loaded ${useStore.getState().model?.name} from ${label}.` });
      else if (ctl.signal.aborted) setResult({ ok: false, text: `Loading ${label} was cancelled; the previous model stays loaded.` });
      else {
        const err = lastError();
        const text = (err?.text ?? `Could not load ${label}`).replace(/[.\s]*$/, '.');
        setResult({ ok: false, text: `${text} The previous model stays loaded.`, hint: err?.hint });
      }
    } catch (e) {
      setResult({ ok: false, text: (e as Error).message });
    } finally {
      setBusy(null);
    }
  };
  const fromFiles = (files: File[]) => {
    // The zoo's archive (or a file claiming to be a published one) takes the verified path: size,
    // SHA-256, its test data on the backend; the outcome shows in the original R-CNN's section.
    if (files.length === 1 && isZooFile(files[0])) {
      setResult({ ok: true, text: `${files[0].name} goes through the original R-CNN's checks: see that section above.` });
      void loadZooFile(files[0]);
      return;
    }
    if (files.length) void load(async () => ({ source: await modelSourceFromFiles(files), label: describeModelFiles(files.map((f) => f.name)) }));
  };
  const fromUrl = (text: string) => {
    let u: string | null = null;
    try {
      u = validateModelUrl(text);
    } catch {
      // load() below says what is wrong with it.
    }
    if (u && /\.(tar\.gz|tgz)([?#]|$)/i.test(u)) {
      setResult({ ok: true, text: `${labelForUrl(u)} goes through the original R-CNN's checks: see that section above.` });
      void getZooUrl(u);
      return;
    }
    void load(async () => {
      const u = validateModelUrl(text);
      return { source: { kind: 'url', url: u }, label: labelForUrl(u) };
    });
  };
  const fromBundled = (m: BundledModel) => void load(async () => ({ source: { kind: 'url', url: bundledModelUrl(m.dir) }, label: m.label }));
  return { busy, result, fromFiles, fromUrl, fromBundled };
}

/** The models shipped with the app (public/models), one button each; the loaded one is marked. */
function BundledList({ loader }: { loader: Loader }) {
  const source = useStore((s) => s.modelSource);
  return (
    <div data-testid="bundled-models">
      <p className="small">Shipped with the app (no download), both trained by this project's own code on the same 450 photos:</p>
      <ul className="bundled-list">
        {BUNDLED_MODELS.map((m) => {
          const loaded = source === m.label;
          return (
            <li key={m.dir}>
              <button className="btn" onClick={() => loader.fromBundled(m)} disabled={!!loader.busy || loaded} data-testid={`bundled-${m.dir}`} aria-describedby={`bundled-${m.dir}-d`}>
                {loaded ? `${m.title} (loaded)` : `Use ${m.title}`}
              </button>{' '}
              <span id={`bundled-${m.dir}-d`} className="small muted">
                {m.summary}
              </span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function LoadSection({ loader, dragging }: { loader: Loader; dragging: boolean }) {
  const progress = useStore((s) => s.progress);
  const [url, setUrl] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const urlId = useId();
  const { busy, result } = loader;
  const resultRef = useRef<HTMLParagraphElement>(null);
  // The outcome is at the bottom of a scrolling dialog: bring it into view.
  useEffect(() => {
    // Braces matter: scrollIntoView returns a promise in recent Chromium, and an effect must not return one.
    void resultRef.current?.scrollIntoView({ block: 'nearest' });
  }, [result]);
  const loading = busy && progress?.label === 'Loading the model' ? progress : null;
  return (
    <section aria-labelledby="md-load-h">
      <h3 id="md-load-h">Load another model</h3>
      <BundledList loader={loader} />
      <div className={`drop-zone${dragging ? ' drop-zone-over' : ''}`} data-testid="model-drop-zone">
        <p className="small">
          {dragging ? (
            <strong>Drop the model file(s) to load them.</strong>
          ) : (
            <>
              Drop a <strong>.rcnn</strong> bundle, an AlexNet-family <strong>.onnx</strong> file, the model zoo's <strong>.tar.gz</strong>, or <strong>model.json</strong> together with its .bin files on this dialog, or
            </>
          )}
        </p>
        <button className="btn" onClick={() => input.current?.click()} disabled={!!busy} data-testid="choose-model-files">
          Choose model file(s)…
        </button>
        <input
          ref={input}
          type="file"
          multiple
          accept={MODEL_FILE_ACCEPT}
          hidden
          data-testid="model-file-input"
          onChange={(e) => {
            loader.fromFiles(Array.from(e.target.files ?? []));
            e.target.value = '';
          }}
        />
      </div>
      <div className="url-row">
        <label htmlFor={urlId}>Or a URL</label>
        <div className="row">
          <input
            id={urlId}
            type="url"
            placeholder="https://…/model.onnx, .rcnn, or a folder with model.json"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !busy && url.trim()) loader.fromUrl(url);
            }}
            data-testid="model-url"
          />
          <button className="btn" onClick={() => loader.fromUrl(url)} disabled={!!busy || !url.trim()} data-testid="load-model-url">
            Load
          </button>
        </div>
        <p className="small muted">Nothing is downloaded until you press Load. The server must allow cross-origin requests. A .tar.gz (the model zoo's archive) is read through the original R-CNN's checks above.</p>
      </div>
      {busy && (
        <div className="load-progress" data-testid="model-load-progress">
          <div className="small">
            Loading {busy.label}
            {loading && loading.total > 1 ? `: ${loading.detail?.split(': ').pop() ?? ''} ${mib(loading.done)} of ${mib(loading.total)}` : '…'}
          </div>
          <div className="row">
            <progress max={loading && loading.total > 1 ? loading.total : undefined} value={loading && loading.total > 1 ? loading.done : undefined} aria-label={`Loading ${busy.label}`} />
            <button className="btn" onClick={() => busy.ctl.abort()}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {result && (
        <p ref={resultRef} className={`message ${result.ok ? 'message-info' : 'message-error'}`} role={result.ok ? 'status' : 'alert'} data-testid={result.ok ? 'model-load-ok' : 'model-load-error'}>
          <span>
            {result.text}
            {result.hint && <span className="hint load-hint">{result.hint}</span>}
          </span>
        </p>
      )}
    </section>
  );
}

/** The dialog's content; the whole dialog is a drop target for model files. */
function DialogBody({ onClose }: { onClose: () => void }) {
  const loader = useModelLoader();
  const [dragging, setDragging] = useState(false);
  const depth = useRef(0);
  return (
    <div
      className="model-dialog-body"
      onDragEnter={() => {
        depth.current++;
        setDragging(true);
      }}
      onDragLeave={() => {
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setDragging(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        depth.current = 0;
        setDragging(false);
        loader.fromFiles(Array.from(e.dataTransfer.files ?? []));
      }}
    >
      <div className="model-dialog-head">
        <h2 id="model-dialog-title">Model &amp; backend</h2>
        <button className="btn-icon" onClick={onClose} aria-label="Close" data-testid="close-model-dialog">
          ×
        </button>
      </div>
      <BackendSection />
      <ModelSection />
      <ZooSection />
      <LoadSection loader={loader} dragging={dragging} />
    </div>
  );
}

/** Header control: which backend runs the CNN and which model it holds, and loading another. */
export function ModelButton() {
  const backend = useStore((s) => s.backend);
  const model = useStore((s) => s.model);
  const ref = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  const show = () => {
    setOpen(true);
    ref.current?.showModal();
  };
  const close = () => ref.current?.close();
  const warn = backend && (backend.fellBack || (backend.software && backend.name !== 'wasm' && backend.name !== 'cpu'));
  // Drops on the dialog load a model; they must not reach the window's image drop handler.
  const stop = (e: React.DragEvent) => {
    e.stopPropagation();
    if (e.type !== 'dragleave') e.preventDefault();
  };
  return (
    <>
      <button className="btn model-btn" onClick={show} aria-haspopup="dialog" aria-expanded={open} data-testid="model-button">
        Model &amp; backend{' '}
        <span className={`badge${warn ? ' badge-warn' : ''}`} data-testid="backend-badge">
          {backend ? backend.name : 'not started'}
          {warn ? ' ⚠' : ''}
        </span>
        {model && <span className="visually-hidden">, model {model.name}</span>}
      </button>
      <dialog
        ref={ref}
        className="model-dialog"
        aria-labelledby="model-dialog-title"
        data-testid="model-dialog"
        onClose={() => setOpen(false)}
        onClick={(e) => {
          // A click on the backdrop (the dialog element itself, outside its box) closes it.
          if (e.target === ref.current) {
            const r = ref.current.getBoundingClientRect();
            if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) close();
          }
        }}
        onDragEnter={stop}
        onDragOver={stop}
        onDragLeave={stop}
        onDrop={stop}
      >
        <DialogBody onClose={close} />
      </dialog>
    </>
  );
}
