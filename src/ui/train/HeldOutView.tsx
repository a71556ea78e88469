/**
 * How the trained detector does on photos it has not seen (PASCAL VOC AP at IoU 0.5, with and
 * without box regression, and each class's precision/recall curve), and R-CNN's three labelling
 * rules (docs/algorithm.md sections 4-6) on any training photo, drawn by the Proposals stage's
 * own functions from that photo's cached proposals.
 */
import { useEffect, useMemo, useState } from 'react';
import { useStore } from '../../state/store';
import type { ClassAp, TrainRun } from '../../runner/trainRun';
import { labelProposals, SAMPLING_RULES, type ProposalSampling } from '../../core/learn/sampling';
import { makeGroundTruth } from '../../core/dataset/groundTruth';
import { idbCache } from '../../runner/trainDb';
import { proposalCacheKey } from '../../workers/trainProtocol';
import { classColor } from '../palette';
import { RuleCanvas, ruleViews } from '../stages/proposals/SamplingRules';
import { usePhotoUrl } from './usePhotoUrl';

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : '–');

function PrCurves({ perClass, label }: { perClass: ClassAp[]; label: string }) {
  const W = 360, H = 200, pad = 30;
  const x = (r: number) => pad + r * (W - 2 * pad);
  const y = (p: number) => H - pad - p * (H - 2 * pad);
  return (
    <figure className="pr-curve">
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} className="fluid-svg" role="img" aria-label={label}>
        <line x1={pad} x2={W - pad} y1={H - pad} y2={H - pad} stroke="#999" />
        <line x1={pad} x2={pad} y1={pad} y2={H - pad} stroke="#999" />
        {perClass.map((c, k) =>
          c.recall.length ? (
            <path
              key={c.name}
              d={c.recall.map((r, i) => `${i ? 'L' : 'M'}${x(r).toFixed(1)},${y(c.precision[i]).toFixed(1)}`).join('')}
              fill="none"
              stroke={classColor(k)}
              strokeWidth={2}
            />
          ) : null,
        )}
        <text x={W / 2} y={H - 6} fontSize={11} textAnchor="middle">recall</text>
        <text x={10} y={H / 2} fontSize={11} textAnchor="middle" transform={`rotate(-90 10 ${H / 2})`}>precision</text>
        <text x={pad} y={H - pad + 12} fontSize={10}>0</text>
        <text x={W - pad} y={H - pad + 12} fontSize={10} textAnchor="end">1</text>
        <text x={pad - 4} y={pad + 4} fontSize={10} textAnchor="end">1</text>
      </svg>
      <figcaption className="small">
        {perClass.map((c, k) => (
          <span key={c.name} className="legend-item">
            <span className="swatch" style={{ background: classColor(k) }} aria-hidden="true" />
            {c.name} (AP {pct(c.ap)})
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** R-CNN's three training rules on one training photo of the dataset. */
function PhotoRules() {
  const selected = useStore((s) => s.train.photos.find((p) => p.id === s.train.selected) ?? null);
  const photos = useStore((s) => s.train.photos);
  const classes = useMemo(() => [...new Set(photos.flatMap((p) => p.boxes.map((b) => b.label)))].sort(), [photos]);
  const [proposals, setProposals] = useState<Float32Array | null>(null);
  const [svmClass, setSvmClass] = useState(0);
  // A run that ends has searched the photos: look again (the photo shown may have been selected,
  // with nothing in the cache yet, before the run started).
  const runStatus = useStore((s) => s.train.run?.status ?? null);
  const url = usePhotoUrl(selected?.id ?? null);
  const [img, setImg] = useState<HTMLImageElement | null>(null);
  useEffect(() => {
    setProposals(null);
    if (!selected) return;
    let live = true;
    void idbCache.get(proposalCacheKey(selected.id)).then((b) => live && b && setProposals(new Float32Array(b)));
    return () => {
      live = false;
    };
  }, [selected?.id, runStatus]);
  useEffect(() => {
    if (!url) return;
    const i = new Image();
    i.onload = () => setImg(i);
    i.src = url;
    return () => setImg(null);
  }, [url]);
  const sampling = useMemo<ProposalSampling | null>(() => {
    if (!selected || !proposals || !selected.boxes.length) return null;
    const gt = makeGroundTruth(selected.boxes.flatMap((b) => b.box), selected.boxes.map((b) => classes.indexOf(b.label)));
    return labelProposals(proposals, gt, classes.length);
  }, [selected, proposals, classes]);
  if (!selected) return null;
  return (
    <section aria-labelledby="rules-train-h" data-testid="train-rules">
      <h4 id="rules-train-h">R-CNN's three labelling rules on {selected.name}</h4>
      {!selected.boxes.length ? (
        <p className="muted small">This photo has no boxes: every proposal on it is background (a negative for every class).</p>
      ) : !sampling ? (
        <p className="muted small">Its proposals appear here once a training run has searched it (they are kept in this browser).</p>
      ) : (
        <>
          <p className="muted small">
            The same {sampling.numProposals} proposals, labelled by the three rules against your boxes (negatives and
            background thinned out in the pictures; the counts are exact). Choose another photo in the list to see its.
          </p>
          {classes.length > 1 && (
            <label className="small">
              SVM class{' '}
              <select value={Math.min(svmClass, classes.length - 1)} onChange={(e) => setSvmClass(Number(e.target.value))}>
                {classes.map((k, i) => (
                  <option key={k} value={i}>
                    {k}
                  </option>
                ))}
              </select>
            </label>
          )}
          <div className="rules-grid">
            {ruleViews(sampling, proposals!, selected.boxes.flatMap((b) => b.box), selected.boxes.map((b) => b.label), classes, svmClass).map((r) => (
              <figure key={r.id} className="rule">
                <RuleCanvas photo={img} width={selected.width} height={selected.height} draw={r.draw} label={`${r.title}: ${r.counts}`} />
                <figcaption>
                  <strong>{r.title}</strong>
                  <div className="small" data-testid={`train-rule-${r.id}`}>
                    {r.counts}
                  </div>
                  <div className="muted small">{SAMPLING_RULES[r.id]}</div>
                </figcaption>
              </figure>
            ))}
          </div>
        </>
      )}
    </section>
  );
}

export function HeldOutView({ run }: { run: TrainRun }) {
  const e = run.evaluation;
  return (
    <section aria-labelledby="heldout-h" data-testid="held-out">
      <h3 id="heldout-h">4. How well it does</h3>
      {run.status === 'done' && !e && <p className="small muted">No photos were held out, so it was not measured (raise “Held out” in the settings).</p>}
      {e && (
        <>
          <p className="small">
            PASCAL VOC average precision at IoU 0.5 on the {e.photos} held-out photo{e.photos === 1 ? '' : 's'} ({e.proposals} proposals each,
            NMS 0.3), which training never saw:
          </p>
          <table className="table" data-testid="ap-table">
            <caption className="visually-hidden">Held-out AP per class</caption>
            <thead>
              <tr>
                <th scope="col">Class</th>
                <th scope="col">AP</th>
                <th scope="col">without box regression</th>
                <th scope="col">objects</th>
              </tr>
            </thead>
            <tbody>
              {e.withoutRegression.perClass.map((c, k) => (
                <tr key={c.name} data-class={c.name} data-ap={e.withRegression?.perClass[k].ap ?? ''} data-ap-noreg={c.ap}>
                  <td>
                    <span className="swatch" style={{ background: classColor(k) }} aria-hidden="true" />
                    {c.name}
                  </td>
                  <td>{pct(e.withRegression?.perClass[k].ap ?? NaN)}</td>
                  <td>{pct(c.ap)}</td>
                  <td>{c.positives}</td>
                </tr>
              ))}
              <tr>
                <th scope="row">mean (mAP)</th>
                <td data-testid="map">{pct(e.withRegression?.map ?? NaN)}</td>
                <td>{pct(e.withoutRegression.map)}</td>
                <td />
              </tr>
            </tbody>
          </table>
          {e.withRegression && <PrCurves perClass={e.withRegression.perClass} label={`Precision against recall on the held-out photos, per class: ${e.withRegression.perClass.map((c) => `${c.name} AP ${pct(c.ap)}`).join(', ')}`} />}
          <p className="muted small">
            With a handful of held-out photos each object moves AP by a lot: read it as a rough number. The curve falls where
            the detector's higher-scoring boxes are wrong; it ends at the recall the proposals and the SVM reach.
          </p>
        </>
      )}
      <PhotoRules />
    </section>
  );
}
