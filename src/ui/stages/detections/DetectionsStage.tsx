import { saveFile } from '../../../runner/saveFile';
import { useCallback, useMemo, useState } from 'react';
import { useStore } from '../../../state/store';
import { computeNms, useNms, useRegressedBoxes } from '../../../state/derived';
import { computeFeatures } from '../../../runner/cnnActions';
import { classColor } from '../../palette';
import { strokeBox, type DrawnBoxes, type ViewTransform } from '../../ImageCanvas';
import { drawLabels, type Label } from '../../labels';
import { rgbToRgba } from '../../../core/image/raster';
import { detectionsToJson, scaleDetection, type Detection } from '../../../core/detect';
import { matchDetections, type MatchResult } from '../../../core/eval/matchDetections';
import { regressedBoxes } from '../../../state/derived';
import { FeatureModeSwitch, MODE_LABEL } from '../../sharedConv/FeatureModeSwitch';
import { PathComparison } from '../../sharedConv/PathComparison';
import { runsByMode } from '../../sharedConv/compare';
import '../../sharedConv/sharedConv.css';

/** Which detection the list points at (shared by the list and the overlay). */

function useGroundTruthMatch(dets: Detection[] | undefined): MatchResult | null {
  const gt = useStore((s) => s.groundTruth);
  const image = useStore((s) => s.image);
  return useMemo(() => {
    if (!dets || !gt || !image || gt.imageKey !== image.key || gt.labels.length === 0) return null;
    return matchDetections(dets, gt.boxes, gt.labels);
  }, [dets, gt, image]);
}

/** Draw labelled detection boxes (also used for the PNG export). */
function drawDetections(ctx: CanvasRenderingContext2D, vt: ViewTransform, dets: Detection[], match: MatchResult | null, hovered: number | null): DrawnBoxes {
  const labels: Label[] = [];
  dets.forEach((d, k) => {
    const color = classColor(d.classIndex);
    const isHover = hovered === k;
    strokeBox(ctx, d.box, isHover ? '#FFFFFF' : color, isHover ? 5 : 3, vt, match && match.matched[k] < 0 ? [8, 5] : undefined);
    labels.push({ box: d.box, text: `${d.className} ${d.score.toFixed(2)}${match ? (match.matched[k] >= 0 ? ' ✓' : ' ✗') : ''}`, bg: color });
  });
  // Best-scoring first (detections come per class), the hovered one before all.
  const order = dets.map((_, k) => k).sort((a, b) => Number(b === hovered) - Number(a === hovered) || dets[b].score - dets[a].score);
  drawLabels(ctx, vt, order.map((k) => labels[k]), { fontPx: 13, heightPx: 18 });
  return dets.map((d) => d.box);
}

/**
 * The other path's detections (the run kept from before the switch) with the same NMS settings,
 * for drawing both sets at once; null without a complete run of the other path on these proposals.
 */
export function useOtherDetections(): Detection[] | null {
  const features = useStore((s) => s.features);
  const other = useStore((s) => s.otherFeatures);
  const image = useStore((s) => s.image);
  const p = useStore((s) => s.nmsParams);
  return useMemo(() => {
    if (!image) return null;
    const runs = runsByMode(features, other, image.key);
    const o = other && runs[other.mode] === other ? other : null;
    if (!o) return null;
    return computeNms(o, regressedBoxes(o, image.image.width, image.image.height), p)?.detections ?? null;
  }, [features, other, image, p]);
}

/** The other path's boxes: thin and dotted, no labels, under the current path's. */
function drawOther(ctx: CanvasRenderingContext2D, vt: ViewTransform, dets: Detection[]): DrawnBoxes {
  for (const d of dets) strokeBox(ctx, d.box, classColor(d.classIndex), 2, vt, [2, 4]);
  return dets.map((d) => d.box);
}

export function useDetectionsOverlay() {
  const nms = useNms();
  const other = useOtherDetections();
  const hovered = useStore((s) => s.detectionsView.hovered);
  const match = useGroundTruthMatch(nms?.detections);
  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, vt: ViewTransform) => {
      const under = other ? drawOther(ctx, vt, other) : [];
      const top = nms ? drawDetections(ctx, vt, nms.detections, match, hovered) : [];
      return [...top, ...under];
    },
    [nms, other, match, hovered],
  );
  return { draw, key: [nms, other, hovered, match] };
}

function baseName(name: string): string {
  return name.replace(/\.[^.]+$/, '') || 'image';
}

interface CurvePoint {
  t: number;
  precision: number;
  recall: number;
  dets: number;
}

/** Nothing passed the score threshold: say what the best box was, so the user knows how far off it is. */
function NoDetections() {
  const features = useStore((s) => s.features);
  const threshold = useStore((s) => s.nmsParams.scoreThreshold);
  const best = useMemo(() => {
    if (!features?.scores || !features.classes) return null;
    const C = features.classes.length;
    let bi = -1;
    for (let i = 0; i < features.total * C; i++) {
      if (features.computed[Math.floor(i / C)] && (bi < 0 || features.scores[i] > features.scores[bi])) bi = i;
    }
    return bi < 0 ? null : { className: features.classes[bi % C], score: features.scores[bi] };
  }, [features]);
  return (
    <p className="muted" data-testid="no-detections">
      No box scored above the threshold ({threshold.toFixed(2)}).
      {best && ` The best was ${best.className} at ${best.score.toFixed(2)}: on this photo every proposal is on the background side of the threshold for every class.`}{' '}
      Lower the score threshold in the NMS stage to see weaker detections.
    </p>
  );
}

/** Precision and recall on this image as the score threshold sweeps (the other NMS settings fixed). */
function ThresholdCurve() {
  const features = useStore((s) => s.features);
  const params = useStore((s) => s.nmsParams);
  const gt = useStore((s) => s.groundTruth);
  const image = useStore((s) => s.image);
  const regressed = useRegressedBoxes();
  const curve = useMemo(() => {
    if (!features?.scores || !gt || !image || gt.imageKey !== image.key || !gt.labels.length) return null;
    const ts = Array.from({ length: 41 }, (_, i) => -2 + i * 0.1);
    return ts.map((t): CurvePoint => {
      const v = computeNms(features, regressed, { ...params, scoreThreshold: t });
      const m = v ? matchDetections(v.detections, gt.boxes, gt.labels) : null;
      const dets = v?.detections.length ?? 0;
      return { t, precision: dets ? m!.truePositives / dets : 1, recall: m ? m.found / Math.max(1, m.groundTruths) : 0, dets };
    });
  }, [features, params, gt, image, regressed]);
  if (!curve) return null;
  const W = 380, H = 130, pad = 24;
  const x = (t: number) => pad + ((t + 2) / 4) * (W - 2 * pad);
  const y = (v: number) => H - pad - v * (H - 2 * pad);
  const path = (f: (p: CurvePoint) => number) => curve.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(f(p)).toFixed(1)}`).join('');
  return (
    <figure className="pr-curve">
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} className="fluid-svg" role="img" aria-label="Precision and recall against the score threshold">
        <line x1={pad} x2={W - pad} y1={H - pad} y2={H - pad} stroke="#999" />
        <line x1={pad} x2={pad} y1={pad} y2={H - pad} stroke="#999" />
        <path d={path((p) => p.precision)} fill="none" stroke="#0072B2" strokeWidth={2} />
        <path d={path((p) => p.recall)} fill="none" stroke="#D55E00" strokeWidth={2} strokeDasharray="5 3" />
        {params.scoreThreshold >= -2 && params.scoreThreshold <= 2 && <line x1={x(params.scoreThreshold)} x2={x(params.scoreThreshold)} y1={pad - 6} y2={H - pad} stroke="#555" />}
        <text x={pad} y={H - 6} fontSize={11}>−2</text>
        <text x={W - pad} y={H - 6} fontSize={11} textAnchor="end">2</text>
        <text x={W / 2} y={H - 6} fontSize={11} textAnchor="middle">score threshold</text>
        <text x={pad + 4} y={pad - 8} fontSize={11} fill="#0072B2">precision</text>
        <text x={pad + 70} y={pad - 8} fontSize={11} fill="#D55E00">recall</text>
      </svg>
      <figcaption className="muted small">On this image, at IoU 0.5 against your ground truth, with the current NMS threshold.</figcaption>
    </figure>
  );
}

export function DetectionsStage() {
  const features = useStore((s) => s.features);
  const image = useStore((s) => s.image);
  const timings = useStore((s) => s.timings);
  const model = useStore((s) => s.model);
  const params = useStore((s) => s.nmsParams);
  const proposals = useStore((s) => s.proposals);
  const nms = useNms();
  const hovered = useStore((s) => s.detectionsView.hovered);
  const setHovered = ((hovered: number | null) => useStore.getState().setView('detectionsView', { hovered }));
  const match = useGroundTruthMatch(nms?.detections);
  const [exporting, setExporting] = useState(false);
  const other = useOtherDetections();
  const otherMode = features?.mode === 'warp' ? 'roi' : 'warp';
  if (!features || !image || features.imageKey !== image.key) {
    return (
      <div className="stage-body pending" data-testid="stage-pending">
        <FeatureModeSwitch idSuffix="detections" />
        <p>
          <strong>Not computed yet.</strong> Detections need every stage before: proposals, CNN features and SVM scores.
        </p>
        <button className="btn btn-primary" onClick={() => void computeFeatures()} data-testid="run-all">
          Run the whole pipeline
        </button>
      </div>
    );
  }
  const dets = nms?.detections ?? [];
  const toOriginal = (d: Detection) => scaleDetection(d, image.scaleX, image.scaleY);
  const stageTimes: Array<[string, number | undefined]> = [
    ['Decode', image.decodeMs],
    ['Selective search', timings.proposals],
    ...(timings.modelLoad ? ([['Loading the model (first run)', timings.modelLoad]] as Array<[string, number]>) : []),
    [features.mode === 'roi' ? 'conv once + RoI pooling + fc + SVM + regression' : 'Warp + CNN + SVM + regression', features.complete ? features.ms : timings.features],
    ['NMS', nms?.ms],
  ];
  const total = stageTimes.reduce((a, [, v]) => a + (v ?? 0), 0);
  const exportJson = () => {
    const json = detectionsToJson(
      dets.map(toOriginal),
      { decode: image.decodeMs, proposals: timings.proposals ?? 0, cnn: timings.features ?? 0, nms: nms?.ms ?? 0, total },
      {
        image: { width: image.originalWidth, height: image.originalHeight, name: image.name },
        model: model?.name,
        proposals: proposals ? proposals.boxes.length / 4 : 0,
        regression: nms?.regressed ?? false,
        settings: { scoreThreshold: params.scoreThreshold, nms: params.iouThreshold, convention: params.convention, proposals: proposals?.params },
        backend: features.backend,
      },
    );
    saveFile(new Blob([JSON.stringify(json, null, 1)], { type: 'application/json' }), `${baseName(image.name)}-detections.json`);
  };
  const exportPng = async () => {
    setExporting(true);
    try {
      const c = document.createElement('canvas');
      c.width = image.image.width;
      c.height = image.image.height;
      const ctx = c.getContext('2d')!;
      ctx.putImageData(new ImageData(rgbToRgba(image.image) as Uint8ClampedArray<ArrayBuffer>, c.width, c.height), 0, 0);
      // Line widths and labels sized as if the picture were shown 800 px wide.
      const scale = 800 / Math.max(800, c.width);
      drawDetections(ctx, { scale, width: c.width * scale, height: c.height * scale }, dets, match, null);
      const blob = await new Promise<Blob | null>((r) => c.toBlob(r, 'image/png'));
      if (blob) saveFile(blob, `${baseName(image.name)}-detections.png`);
    } finally {
      setExporting(false);
    }
  };
  return (
    <div className="stage-body">
      <FeatureModeSwitch idSuffix="detections" />
      <p className="small det-sets" data-testid="detection-sets" data-current={dets.length} data-other={other ? other.length : ''}>
        Solid: {MODE_LABEL[features.mode]}, {dets.length} box{dets.length === 1 ? '' : 'es'}.{' '}
        {other ? `Dotted: ${MODE_LABEL[otherMode]}, ${other.length} box${other.length === 1 ? '' : 'es'} with the same NMS settings.` : `Switch to "${MODE_LABEL[otherMode]}" to draw its detections too.`}
      </p>
      <p data-testid="detections-summary">
        <strong>{dets.length}</strong> detection{dets.length === 1 ? '' : 's'} at score ≥ {params.scoreThreshold.toFixed(2)} and NMS IoU {params.iouThreshold.toFixed(2)}
        {nms?.regressed ? ', regressed boxes' : ', proposal boxes'}.
        {!features.complete && ` (${features.done}/${features.total} proposals scored so far)`}
      </p>
      {match && (
        <p data-testid="gt-match">
          Against your ground truth at IoU 0.5: <strong>{match.truePositives}</strong> true positive{match.truePositives === 1 ? '' : 's'}, <strong>{match.falsePositives}</strong> false positive{match.falsePositives === 1 ? '' : 's'} (dashed), {match.found}/
          {match.groundTruths} objects found: precision {dets.length ? ((100 * match.truePositives) / dets.length).toFixed(0) : '–'}%, recall{' '}
          {((100 * match.found) / Math.max(1, match.groundTruths)).toFixed(0)}%.
        </p>
      )}
      <div className="row">
        <button className="btn" onClick={exportJson} disabled={!nms} data-testid="export-json">
          Export JSON
        </button>
        <button className="btn" onClick={() => void exportPng()} disabled={!nms || exporting} data-testid="export-png">
          Export PNG
        </button>
      </div>
      {nms && (
        <ol className="det-list" data-testid="detections-list" onMouseLeave={() => setHovered(null)}>
          {dets.map((d, k) => {
            const o = toOriginal(d);
            return (
              <li key={k} className={hovered === k ? 'selected' : ''}>
                <button className="det-item" onMouseEnter={() => setHovered(k)} onFocus={() => setHovered(k)} onBlur={() => setHovered(null)} aria-label={`${d.className}, score ${d.score.toFixed(2)}`}>
                  <span className="swatch" style={{ background: classColor(d.classIndex) }} aria-hidden="true" />
                  <strong>{d.className}</strong> {d.score.toFixed(3)}
                  <span className="muted">
                    {' '}
                    [{o.box.map((v) => Math.round(v)).join(', ')}]
                  </span>
                  {match && <span className={match.matched[k] >= 0 ? 'tp' : 'fp'}>{match.matched[k] >= 0 ? ' TP' : ' FP'}</span>}
                </button>
              </li>
            );
          })}
        </ol>
      )}
      {dets.length === 0 && nms && <NoDetections />}
      <ThresholdCurve />
      <h3>Time per stage</h3>
      <table className="table" data-testid="timings">
        <tbody>
          {stageTimes.map(([k, v]) => (
            <tr key={k}>
              <td>{k}</td>
              <td>{v === undefined ? '–' : v < 1000 ? `${v.toFixed(v < 10 ? 1 : 0)} ms` : `${(v / 1000).toFixed(2)} s`}</td>
            </tr>
          ))}
          <tr>
            <td>
              <strong>Total</strong>
            </td>
            <td>
              <strong>{(total / 1000).toFixed(2)} s</strong> on {features.backend}
              {features.complete && `, ${features.cropsPerSecond.toFixed(1)} crops/s`}
            </td>
          </tr>
        </tbody>
      </table>
      <p className="muted small">R-CNN reported about 13 s per image on a 2014 GPU and 53 s on a CPU with full CaffeNet and 2000 proposals.</p>
      <PathComparison detailed={false} />
    </div>
  );
}
