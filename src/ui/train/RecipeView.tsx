/**
 * R-CNN's recipe as it ran (docs/algorithm.md sections 5 and 6), from the trainer's own numbers:
 * per class, every retrain of the SVM during hard-negative mining (the cache of negatives before
 * and after the easy ones are evicted, and the objective), the negatives the final SVM most
 * wanted to call an object, and the box-regression pairs with their IoU before and after.
 */
import { useEffect, useRef, useState } from 'react';
import { useStore } from '../../state/store';
import type { ClassMining, ClassRegression, HardNegative, TrainRun } from '../../runner/trainRun';
import { classColor } from '../palette';
import { usePhotoUrl } from './usePhotoUrl';

/** Objective and cache size over the retrains of one class: two small line charts in one SVG. */
function MiningChart({ m, color }: { m: ClassMining; color: string }) {
  const r = m.retrains;
  if (r.length < 1) return null;
  const W = 360, H = 90, pad = 28;
  const x = (i: number) => pad + (r.length === 1 ? 0.5 : i / (r.length - 1)) * (W - 2 * pad);
  const series = (vals: number[], top: number, h: number) => {
    const lo = Math.min(...vals), hi = Math.max(...vals);
    const y = (v: number) => top + h - (hi > lo ? (v - lo) / (hi - lo) : 0.5) * h;
    return { d: vals.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(''), lo, hi, y };
  };
  const obj = series(r.map((s) => s.primal), 8, 28);
  const cache = series(r.map((s) => s.cacheSize), 52, 26);
  return (
    <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} className="fluid-svg chart" role="img" aria-label={`${m.name}: objective from ${r[0].primal.toFixed(3)} to ${r[r.length - 1].primal.toFixed(3)} over ${r.length} retrains; cache from ${r[0].cacheSize} to ${r[r.length - 1].cacheSize} negatives`}>
      <path d={obj.d} fill="none" stroke={color} strokeWidth={2} />
      <path d={cache.d} fill="none" stroke="#555" strokeWidth={1.5} strokeDasharray="4 2" />
      {r.map((_, i) => (
        <circle key={i} cx={x(i)} cy={obj.y(r[i].primal)} r={2.5} fill={color} />
      ))}
      <text x={2} y={16} fontSize={10}>objective</text>
      <text x={2} y={62} fontSize={10}>cache</text>
      <text x={W - 2} y={16} fontSize={10} textAnchor="end">{obj.hi.toFixed(3)}</text>
      <text x={W - 2} y={36} fontSize={10} textAnchor="end">{obj.lo.toFixed(3)}</text>
      <text x={W - 2} y={62} fontSize={10} textAnchor="end">{cache.hi}</text>
      <text x={W - 2} y={H - 4} fontSize={10} textAnchor="end">{cache.lo}</text>
    </svg>
  );
}

function MiningTable({ m, c }: { m: ClassMining; c: number }) {
  const passes = new Set(m.retrains.map((r) => r.imagesSeen));
  void passes;
  return (
    <div data-testid={`mining-${m.name}`}>
      <h5>
        <span className="swatch" style={{ background: classColor(c) }} aria-hidden="true" />“{m.name}”: {m.positives} positives (its ground-truth boxes)
        {m.candidateNegatives ? `, ${m.candidateNegatives} candidate negatives (proposals under 0.3 IoU)` : ''}
      </h5>
      <MiningChart m={m} color={classColor(c)} />
      <table className="table">
        <caption className="visually-hidden">Retrains of the {m.name} SVM during hard-negative mining</caption>
        <thead>
          <tr>
            <th scope="col">retrain</th>
            <th scope="col">after photos</th>
            <th scope="col">cache → kept</th>
            <th scope="col">evicted</th>
            <th scope="col">objective</th>
            <th scope="col">support vectors</th>
          </tr>
        </thead>
        <tbody>
          {m.retrains.map((r, i) => (
            <tr key={i}>
              <td>{r.retrain}</td>
              <td>{r.imagesSeen}</td>
              <td>
                {r.numNegatives} → {r.cacheSize}
              </td>
              <td>{r.evicted}</td>
              <td>{r.primal.toFixed(4)}</td>
              <td>
                {r.positiveSupportVectors} + {r.negativeSupportVectors}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {m.addedPerPass.length > 0 && (
        <p className="muted small">
          Hard negatives taken per pass: {m.addedPerPass.join(', ')}
          {m.addedPerPass.length > 1 ? ' (a later pass finds what only the final model scores above −1)' : ''}.
        </p>
      )}
    </div>
  );
}

/** The box as the CNN sees it: dilated by 16 px of context at 227 px, warped to a square. */
function Crop({ photo, box, size = 72, label }: { photo: string; box: ArrayLike<number>; size?: number; label: string }) {
  const url = usePhotoUrl(photo);
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!url || !ref.current) return;
    const img = new Image();
    img.onload = () => {
      const c = ref.current;
      if (!c) return;
      const dpr = window.devicePixelRatio || 1;
      c.width = size * dpr;
      c.height = size * dpr;
      const ctx = c.getContext('2d')!;
      const s = 227 / (227 - 32);
      const cx = (box[0] + box[2]) / 2, cy = (box[1] + box[3]) / 2;
      const w = (box[2] - box[0]) * s, h = (box[3] - box[1]) * s;
      ctx.fillStyle = 'rgb(123,117,104)'; // the mean colour fills what lies outside the photo
      ctx.fillRect(0, 0, c.width, c.height);
      ctx.drawImage(img, cx - w / 2, cy - h / 2, w, h, 0, 0, c.width, c.height);
    };
    img.src = url;
  }, [url, box, size]);
  return <canvas ref={ref} style={{ width: size, height: size }} role="img" aria-label={label} />;
}

function HardNegatives({ list, name, photoName }: { list: HardNegative[]; name: string; photoName: (id: string) => string }) {
  const [all, setAll] = useState(false);
  if (!list.length) return null;
  const shown = all ? list : list.slice(0, 6);
  return (
    <div>
      <p className="small">
        The {list.length} negatives the final “{name}” SVM scores highest: the boxes it most wanted to call {name} (each under
        0.3 IoU with every {name} box; a score above −1 is inside the margin, above 0 a false positive).
      </p>
      <div className="negatives" data-testid={`negatives-${name}`}>
        {shown.map((h, i) => (
          <figure key={i}>
            <Crop photo={h.photo} box={h.box} label={`Negative ${i + 1} for ${name}: score ${h.score.toFixed(2)}, in ${photoName(h.photo)}`} />
            <figcaption>
              {h.score.toFixed(2)}
              <br />
              <span className="muted">IoU {h.iou.toFixed(2)}</span>
            </figcaption>
          </figure>
        ))}
      </div>
      {list.length > 6 && (
        <button className="btn btn-small" onClick={() => setAll(!all)}>
          {all ? 'Fewer' : `All ${list.length}`}
        </button>
      )}
    </div>
  );
}

/** IoU before and after regression, as two histograms over the same bins. */
function IouHistogram({ r, color }: { r: ClassRegression; color: string }) {
  const bins = 16, lo = 0.2, hi = 1;
  const count = (vals: number[]) => {
    const h = new Array(bins).fill(0);
    for (const v of vals) h[Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)))]++;
    return h;
  };
  const b = count(r.iouBefore), a = count(r.iouAfter);
  const max = Math.max(1, ...b, ...a);
  const W = 360, H = 90, pad = 16, bw = (W - 2 * pad) / bins;
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);
  return (
    <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} className="fluid-svg chart" role="img" aria-label={`${r.name}: mean IoU with the ground truth ${mean(r.iouBefore).toFixed(3)} before and ${mean(r.iouAfter).toFixed(3)} after regression, over ${r.pairs} pairs`}>
      {b.map((v, i) => (
        <rect key={`b${i}`} x={pad + i * bw + 1} width={bw / 2 - 1} y={H - pad - (v / max) * (H - 2 * pad)} height={(v / max) * (H - 2 * pad)} fill="#999" />
      ))}
      {a.map((v, i) => (
        <rect key={`a${i}`} x={pad + i * bw + bw / 2} width={bw / 2 - 1} y={H - pad - (v / max) * (H - 2 * pad)} height={(v / max) * (H - 2 * pad)} fill={color} />
      ))}
      <line x1={pad} x2={W - pad} y1={H - pad} y2={H - pad} stroke="#777" />
      <text x={pad} y={H - 3} fontSize={10}>IoU {lo}</text>
      <text x={pad + ((0.6 - lo) / (hi - lo)) * (W - 2 * pad)} y={H - 3} fontSize={10} textAnchor="middle">0.6</text>
      <text x={W - pad} y={H - 3} fontSize={10} textAnchor="end">1</text>
      <text x={pad} y={10} fontSize={10} fill="#555">before</text>
      <text x={pad + 44} y={10} fontSize={10} fill="#333">after (colour)</text>
    </svg>
  );
}

function PairPicture({ photo, proposal, regressed, target, color }: { photo: string; proposal: number[]; regressed: number[]; target: number[]; color: string }) {
  const url = usePhotoUrl(photo);
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!url || !ref.current) return;
    const img = new Image();
    img.onload = () => {
      const c = ref.current;
      if (!c) return;
      // The pair's neighbourhood: the union of the three boxes, with a margin.
      const x1 = Math.min(proposal[0], regressed[0], target[0]), y1 = Math.min(proposal[1], regressed[1], target[1]);
      const x2 = Math.max(proposal[2], regressed[2], target[2]), y2 = Math.max(proposal[3], regressed[3], target[3]);
      const m = 0.15 * Math.max(x2 - x1, y2 - y1);
      const sx = Math.max(0, x1 - m), sy = Math.max(0, y1 - m);
      const sw = Math.min(img.naturalWidth, x2 + m) - sx, sh = Math.min(img.naturalHeight, y2 + m) - sy;
      const S = 120, dpr = window.devicePixelRatio || 1, k = (S * dpr) / Math.max(sw, sh);
      c.width = Math.round(sw * k);
      c.height = Math.round(sh * k);
      c.style.width = `${c.width / dpr}px`;
      c.style.height = `${c.height / dpr}px`;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, sx, sy, sw, sh, 0, 0, c.width, c.height);
      const box = (b: number[], stroke: string, dash: number[]) => {
        ctx.setLineDash(dash);
        ctx.lineWidth = 2 * dpr;
        ctx.strokeStyle = stroke;
        ctx.strokeRect((b[0] - sx) * k, (b[1] - sy) * k, (b[2] - b[0]) * k, (b[3] - b[1]) * k);
      };
      box(target, '#fff', [4 * dpr, 3 * dpr]);
      box(proposal, '#999', []);
      box(regressed, color, []);
    };
    img.src = url;
  }, [url, proposal, regressed, target, color]);
  return <canvas ref={ref} role="img" aria-label="A regression pair: the proposal in grey, the regressed box in colour, the ground truth dashed white" />;
}

function Regression({ r, c }: { r: ClassRegression; c: number }) {
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);
  if (!r.pairs) return <p className="small muted">“{r.name}”: no proposal overlapped a {r.name} box by more than 0.6 IoU, so it has no regressor and keeps its proposal boxes.</p>;
  const better = r.iouAfter.filter((v, i) => v > r.iouBefore[i]).length;
  return (
    <div data-testid={`regression-${r.name}`} data-before={mean(r.iouBefore).toFixed(4)} data-after={mean(r.iouAfter).toFixed(4)}>
      <p className="small">
        “{r.name}”: {r.pairs} pairs (proposals over 0.6 IoU with a {r.name} box); mean IoU with the ground truth{' '}
        <strong>
          {mean(r.iouBefore).toFixed(3)} → {mean(r.iouAfter).toFixed(3)}
        </strong>{' '}
        after the learnt regression ({better} of {r.pairs} moved closer). These are training pairs: the held-out AP below
        says whether it generalises.
      </p>
      <IouHistogram r={r} color={classColor(c)} />
      <div className="row">
        {r.examples.map((e, i) => (
          <PairPicture key={i} {...e} color={classColor(c)} />
        ))}
      </div>
    </div>
  );
}

export function RecipeView({ run }: { run: TrainRun }) {
  const photos = useStore((s) => s.train.photos);
  const photoName = (id: string) => photos.find((p) => p.id === id)?.name ?? id.slice(0, 8);
  const anyRetrain = run.mining.some((m) => m.retrains.length);
  if (!anyRetrain && !run.regression.length) return null;
  return (
    <section aria-labelledby="recipe-h" data-testid="recipe">
      <h3 id="recipe-h">3. The recipe as it runs</h3>
      <h4>Hard-negative mining</h4>
      <p className="muted small">
        One pass over the training photos per class: the first photo's negatives train a first SVM; after that a negative
        is kept only if the current SVM scores it above −1.0001 (it is inside the margin: hard), and the SVM is trained
        again whenever 2000 new ones have been added and at the end of the pass, each time dropping the negatives it now
        scores below −1.2 (easy) from the cache.
      </p>
      {run.mining.map((m, c) => (
        <MiningTable key={m.name} m={m} c={c} />
      ))}
      {run.hardNegatives.length > 0 && (
        <>
          <h4>The hardest negatives</h4>
          {run.hardNegatives.map((list, c) => (
            <HardNegatives key={c} list={list} name={run.classes[c]} photoName={photoName} />
          ))}
        </>
      )}
      {run.regression.length > 0 && (
        <>
          <h4>Box regression</h4>
          {run.regression.map((r, c) => (
            <Regression key={r.name} r={r} c={c} />
          ))}
        </>
      )}
    </section>
  );
}
