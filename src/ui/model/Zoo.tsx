/**
 * The original R-CNN in the app (issue 20): the Model dialog's section (one click, progress,
 * cancel, the card, the stored models, the drop zone when the browser cannot fetch) and the
 * Image stage's one-line offer. Actions: runner/zooActions.ts.
 */
import { useEffect, useRef, useState } from 'react';
import { formatDecimalMB, formatSeconds } from '../../core/rate';
import type { StoredEntry } from '../../core/modelStore';
import { useStore } from '../../state/store';
import {
  ZOO_CARD,
  cancelZoo,
  getOriginalRcnn,
  loadZooFile,
  refreshStored,
  removeStored,
  setZooOfferState,
  loadStoredModel,
  zooOfferState,
} from '../../runner/zooActions';
import type { ZooState } from '../../runner/zooLoad';
import { zooOffer } from '../../runner/zooSource';

/** "Get the original R-CNN (ILSVRC13, 200 classes, about 215 MB from the ONNX Model Zoo)". */
export function zooOfferText(): string {
  const o = zooOffer();
  const from = o.facts.standIn ? `${new URL(o.url).host} (a local test server)` : 'the ONNX Model Zoo';
  return `Get the original R-CNN (ILSVRC13, ${ZOO_CARD.classes} classes, about ${formatDecimalMB(o.facts.file!.bytes)} from ${from})`;
}

const PHASE_TEXT: Record<NonNullable<ZooState['busy']>['phase'], string> = {
  download: 'downloading',
  disk: 'reading from this browser\'s storage',
  file: 'reading your file',
  import: 'importing model.onnx',
  verify: 'running the file\'s test data through the network',
  upload: 'uploading the weights to the backend',
};

/** One progress line: phase, MB of MB, MB/s, time left, the last reconnection; and Cancel. */
export function ZooProgress({ compact = false }: { compact?: boolean }) {
  const busy = useStore((s) => s.zoo.busy);
  const backend = useStore((s) => s.backend?.name);
  if (!busy) return null;
  const bytesPhase = busy.phase === 'download' || busy.phase === 'disk' || busy.phase === 'file';
  const parts: string[] = [`${busy.what}: ${PHASE_TEXT[busy.phase]}${busy.phase === 'verify' && backend ? ` on ${backend}` : ''}`];
  if (bytesPhase) parts.push(`${formatDecimalMB(busy.loaded)}${busy.total !== null ? ` of ${formatDecimalMB(busy.total)}` : ''}`);
  if (busy.phase === 'verify' && busy.total) parts.push(`${busy.loaded} of ${busy.total} test sets`);
  if (busy.rate) parts.push(`${formatDecimalMB(busy.rate)}/s`);
  if (busy.eta !== null) parts.push(`${formatSeconds(busy.eta)} left`);
  const max = bytesPhase && busy.total ? busy.total : busy.phase === 'verify' && busy.total ? busy.total : undefined;
  return (
    <div className="load-progress zoo-progress" data-testid="zoo-progress" data-phase={busy.phase} data-loaded={busy.loaded} data-resumes={busy.resumes}>
      <div className="small" aria-live="polite">
        {parts.join(', ')}
        {busy.note && !compact && <div className="muted">{busy.note}</div>}
      </div>
      <div className="row">
        <progress max={max} value={max ? Math.min(busy.loaded, max) : undefined} aria-label={`Loading ${busy.what}`} />
        <button className="btn" onClick={cancelZoo} data-testid="zoo-cancel">
          Cancel
        </button>
      </div>
    </div>
  );
}

function ZooResult() {
  const result = useStore((s) => s.zoo.result);
  const ref = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    void ref.current?.scrollIntoView?.({ block: 'nearest' });
  }, [result]);
  if (!result) return null;
  return (
    <p ref={ref} className={`message ${result.ok ? 'message-info' : 'message-error'}`} role={result.ok ? 'status' : 'alert'} data-testid={result.ok ? 'zoo-ok' : 'zoo-error'}>
      <span>
        {result.text}
        {result.hint && <span className="hint load-hint">{result.hint}</span>}
      </span>
    </p>
  );
}

/** Where the browser cannot fetch: one line, the file's address, and a drop zone for the file downloaded by hand. */
function CannotFetch() {
  const c = useStore((s) => s.zoo.cannotFetch);
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  if (!c) return null;
  return (
    <div className={`drop-zone zoo-drop${over ? ' drop-zone-over' : ''}`} data-testid="zoo-cannot-fetch"
      onDragOver={(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        e.stopPropagation();
        setOver(false);
        const f = e.dataTransfer.files?.[0];
        if (f) void loadZooFile(f);
      }}
    >
      <p className="small">
        This browser cannot fetch the file ({c.reason}). Download it by hand from{' '}
        <a href={c.url} target="_blank" rel="noreferrer" data-testid="zoo-manual-url">{c.url}</a> and drop the .tar.gz (or the .onnx) here: it goes through the same checks.
      </p>
      <button className="btn" onClick={() => input.current?.click()} data-testid="zoo-choose-file">
        Choose the downloaded file…
      </button>
      <input ref={input} type="file" accept=".gz,.tgz,.tar,.onnx,application/gzip" hidden data-testid="zoo-file-input"
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) void loadZooFile(f);
        }}
      />
    </div>
  );
}

/** The card of the original R-CNN: what the file is, and what this browser checked. */
function ZooCard() {
  const model = useStore((s) => s.model);
  const v = model?.verification;
  const active = !!v?.file.published;
  return (
    <details className="small zoo-card" open={active} data-testid="zoo-card">
      <summary>{active ? `The loaded model is the original R-CNN (${model!.name})` : 'What the original R-CNN is'}</summary>
      <dl className="facts">
        <dt>Source</dt>
        <dd>
          <a href={ZOO_CARD.readme} target="_blank" rel="noreferrer">ONNX Model Zoo, rcnn_ilsvrc13</a>: {ZOO_CARD.source}
        </dd>
        <dt>Licence</dt>
        <dd data-testid="zoo-licence">{ZOO_CARD.licence} (BSD-3)</dd>
        <dt>Classes</dt>
        <dd>the {ZOO_CARD.classes} ILSVRC2013 detection classes</dd>
        <dt>Heads</dt>
        <dd>{ZOO_CARD.svmsFolded}; no box regressors</dd>
        <dt>Stated accuracy</dt>
        <dd data-testid="zoo-map">
          {ZOO_CARD.mAP.percent} % mAP on {ZOO_CARD.mAP.dataset}, as the zoo states it; {ZOO_CARD.mAP.note}
        </dd>
        {v && (
          <>
            <dt>File</dt>
            <dd data-testid="zoo-file-check">
              {v.file.name}, {v.file.bytes.toLocaleString('en-US')} bytes, SHA-256 <code>{v.file.sha256.slice(0, 16)}…</code>{' '}
              {v.file.published ? `matches the published ${v.file.published}${v.file.standIn ? ' (stand-in facts of a local test server)' : ''}` : 'is not a published file (no checksum to compare)'}
            </dd>
            <dt>Test data</dt>
            <dd data-testid="zoo-parity">
              {v.parity
                ? `${v.parity.sets.length} test sets of ${v.parity.inputShape.join('×')} through the network on ${v.parity.backend}: max relative error ${v.parity.maxRelativeError.toExponential(2)} (${v.parity.worst}), ${v.parity.pass ? 'pass' : 'FAIL'} at ${v.parity.tolerance}; ${(v.parity.ms / 1000).toFixed(1)} s`
                : 'the file brings none'}
            </dd>
          </>
        )}
      </dl>
    </details>
  );
}

function entryText(e: StoredEntry): string {
  if (e.status === 'verified') return `verified${e.meta?.verifiedAt ? ` ${e.meta.verifiedAt.slice(0, 10)}` : ''}`;
  if (e.status === 'partial') return `partial download: ${formatDecimalMB(e.size)} of ${formatDecimalMB(e.meta!.expected.bytes)} (Get continues it)`;
  return `damaged: ${e.problem}`;
}

/** The models stored in this browser, with their sizes, Use and Remove, and the browser's estimate. */
function StoredModels() {
  const listing = useStore((s) => s.zoo.listing);
  const busy = useStore((s) => !!s.zoo.busy);
  const model = useStore((s) => s.model);
  const [removing, setRemoving] = useState<string | null>(null);
  if (!listing) return <p className="small muted">Reading this browser's storage…</p>;
  if (!listing.available) return <p className="small muted" data-testid="zoo-no-storage">This browser offers no file storage to this page (OPFS): a downloaded model lasts until the page is closed.</p>;
  const est = listing.estimate;
  return (
    <div data-testid="zoo-stored">
      <h4 className="zoo-h4">Stored in this browser</h4>
      {listing.entries.length === 0 ? (
        <p className="small muted" data-testid="zoo-stored-empty">No model files stored.</p>
      ) : (
        <table className="table small zoo-table">
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col" className="num">Size</th>
              <th scope="col">State</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {listing.entries.map((e) => {
              const inUse = model?.verification?.file.storeId === e.id;
              const name = e.meta?.fileName ?? e.id;
              return (
                <tr key={e.id} data-testid="zoo-stored-entry" data-status={e.status} data-size={e.size}>
                  <td>{name}{e.meta?.standIn ? ' (test)' : ''}</td>
                  <td className="num">{formatDecimalMB(e.size)}</td>
                  <td>{entryText(e)}{inUse ? ', in use' : ''}</td>
                  <td className="zoo-actions">
                    {e.status === 'verified' && !inUse && (
                      <button className="btn btn-small" disabled={busy} onClick={() => void loadStoredModel(e.id, name)} data-testid="zoo-use">
                        Use
                      </button>
                    )}
                    <button
                      className="btn btn-small"
                      disabled={busy || removing === e.id}
                      onClick={async () => {
                        setRemoving(e.id);
                        try {
                          await removeStored(e.id);
                        } finally {
                          setRemoving(null);
                        }
                      }}
                      aria-label={`Remove ${name} from this browser`}
                      data-testid="zoo-remove"
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {est && (
        <p className="small muted" data-testid="zoo-estimate">
          This site uses {formatDecimalMB(est.usage)} of the {formatDecimalMB(est.quota)} the browser allows it (the browser's estimate, all storage included).
          {model?.verification?.file.storeId && listing.entries.every((e) => e.id !== model.verification!.file.storeId) ? ' The loaded model stays in memory until the page closes.' : ''}
        </p>
      )}
    </div>
  );
}

/** The Model dialog's section. Listing the store reads the disk only: nothing is fetched until the click. */
export function ZooSection() {
  const busy = useStore((s) => !!s.zoo.busy);
  const model = useStore((s) => s.model);
  useEffect(() => {
    void refreshStored();
  }, []);
  const isActive = !!model?.verification?.file.published;
  return (
    <section aria-labelledby="md-zoo-h" data-testid="zoo-section">
      <h3 id="md-zoo-h">The original R-CNN</h3>
      <p className="small">
        R-CNN as its authors released it: the full CaffeNet fine-tuned for ILSVRC2013 detection, with its 200 per-class SVMs.
        Downloaded only when you press the button, checked against the published size and SHA-256 and against the file's own test
        outputs on your backend, then kept in this browser so later visits (offline too) load it from disk.
      </p>
      <div className="row">
        <button className="btn btn-primary" onClick={() => void getOriginalRcnn()} disabled={busy || isActive} data-testid="zoo-get">
          {isActive ? 'The original R-CNN is loaded' : zooOfferText()}
        </button>
      </div>
      <ZooProgress />
      <ZooResult />
      <CannotFetch />
      <ZooCard />
      <StoredModels />
    </section>
  );
}

/** The Image stage's one line, until the user dismisses it or takes it (remembered in localStorage). */
export function ZooOfferLine() {
  const model = useStore((s) => s.model);
  const busy = useStore((s) => !!s.zoo.busy);
  const result = useStore((s) => s.zoo.result);
  useStore((s) => s.zoo); // re-render when the offer's state changes (setZooOfferState touches zoo)
  const state = zooOfferState();
  if (model?.verification?.file.published && !busy) return null;
  if (state !== 'open' && !busy) return null;
  return (
    <div className="zoo-offer" data-testid="zoo-offer">
      {busy ? (
        <ZooProgress compact />
      ) : (
        <p className="small">
          <button className="btn btn-small btn-primary" onClick={() => void getOriginalRcnn()} data-testid="zoo-offer-get">
            {zooOfferText()}
          </button>{' '}
          <span className="muted">to detect with the real thing on these samples and your photos.</span>{' '}
          <button className="link small" onClick={() => setZooOfferState('dismissed')} data-testid="zoo-offer-dismiss">
            Not now
          </button>
        </p>
      )}
      {result && !result.ok && !busy && (
        <p className="small message message-error" role="alert">
          {result.text} <span className="hint">Details under Model &amp; backend.</span>
        </p>
      )}
    </div>
  );
}
