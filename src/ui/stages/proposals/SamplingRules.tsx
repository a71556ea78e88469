import { useEffect, useMemo, useRef } from 'react';
import { useStore } from '../../../state/store';
import type { ProposalsView } from '../../../state/views';
import { labelProposals, SAMPLING_RULES, SVM_NEGATIVE, type ProposalSampling } from '../../../core/learn/sampling';
import { makeGroundTruth } from '../../../core/dataset/groundTruth';
import { classColor } from '../../palette';
import type { RgbImage } from '../../../core/image/raster';
import { rgbToRgba } from '../../../core/image/raster';

export type Rule = 'fineTune' | 'svm' | 'bbox';

/** A raster as a canvas image source (for RuleCanvas). */
function rasterCanvas(image: RgbImage): HTMLCanvasElement {
  const src = document.createElement('canvas');
  src.width = image.width;
  src.height = image.height;
  src.getContext('2d')!.putImageData(new ImageData(rgbToRgba(image) as Uint8ClampedArray<ArrayBuffer>, image.width, image.height), 0, 0);
  return src;
}

/**
 * A small picture of a photo (`photo`: anything a canvas draws, `width` x `height` in the pixels
 * the boxes are in) with the proposals as one rule labels them. Also the Train view's.
 */
export function RuleCanvas({ photo, width, height, draw, label }: { photo: CanvasImageSource | null; width: number; height: number; draw: (ctx: CanvasRenderingContext2D, s: number) => void; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const W = 168;
  const s = W / width;
  const H = Math.round(height * s);
  useEffect(() => {
    const c = ref.current;
    if (!c || !photo) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = W * dpr;
    c.height = H * dpr;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(photo, 0, 0, c.width, c.height);
    ctx.fillStyle = 'rgba(0,0,0,0.35)';
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.setTransform(s * dpr, 0, 0, s * dpr, 0, 0);
    draw(ctx, s);
  }, [photo, draw, s, H]);
  return <canvas ref={ref} style={{ width: W, height: H }} role="img" aria-label={label} />;
}

export interface RuleView {
  id: Rule;
  title: string;
  counts: string;
  draw: (ctx: CanvasRenderingContext2D, s: number) => void;
}

/** The three rules' labelling of the current proposals against the ground truth (null without both). */
export function useSamplingRules(svmClass: number): { rules: RuleView[]; classes: string[]; numProposals: number } | null {
  const proposals = useStore((s) => s.proposals);
  const gt = useStore((s) => s.groundTruth);
  const image = useStore((s) => s.image);
  const classes = useMemo(() => (gt ? [...new Set(gt.labels)].sort() : []), [gt]);
  const sampling = useMemo(() => {
    if (!proposals || !gt || !image || gt.imageKey !== image.key || proposals.imageKey !== image.key || gt.labels.length === 0) return null;
    const g = makeGroundTruth(gt.boxes, gt.labels.map((l) => classes.indexOf(l)));
    return labelProposals(proposals.boxes, g, classes.length);
  }, [proposals, gt, image, classes]);
  if (!sampling || !proposals || !gt || !image) return null;
  return { rules: ruleViews(sampling, proposals.boxes, gt.boxes, gt.labels, classes, svmClass), classes, numProposals: sampling.numProposals };
}

/**
 * The three rules' pictures and counts for one photo: `boxes` are its proposals, `gtBoxes` and
 * `gtLabels` its ground truth (the same pixels), `c` the class whose SVM is shown.
 */
export function ruleViews(sampling: ProposalSampling, boxes: ArrayLike<number>, gtBoxes: ArrayLike<number>, gtLabels: readonly string[], classes: readonly string[], svmClass: number): RuleView[] {
  const c = Math.max(0, Math.min(svmClass, classes.length - 1));
  const n = sampling.numProposals;
  const gt = { boxes: gtBoxes, labels: gtLabels };
  const rect = (ctx: CanvasRenderingContext2D, i: number, color: string, w: number, s: number) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = w / s;
    ctx.strokeRect(boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2] - boxes[4 * i], boxes[4 * i + 3] - boxes[4 * i + 1]);
  };
  const gtRect = (ctx: CanvasRenderingContext2D, j: number, s: number, color = '#fff') => {
    ctx.strokeStyle = color;
    ctx.lineWidth = 2.5 / s;
    const b = gt.boxes;
    ctx.strokeRect(b[4 * j], b[4 * j + 1], b[4 * j + 2] - b[4 * j], b[4 * j + 3] - b[4 * j + 1]);
  };
  const fgTotal = sampling.counts.fineTuneForeground.reduce((a, b) => a + b, 0);
  const rules: RuleView[] = [
    {
      id: 'fineTune',
      title: 'Fine-tuning the CNN',
      counts: `${fgTotal} positive (IoU ≥ 0.5), ${sampling.counts.fineTuneBackground} background`,
      draw: (ctx, s) => {
        for (let i = n - 1; i >= 0; i--) if (sampling.fineTuneLabel[i] === 0 && i % 4 === 0) rect(ctx, i, 'rgba(160,160,160,0.35)', 0.6, s);
        for (let i = n - 1; i >= 0; i--) if (sampling.fineTuneLabel[i] > 0) rect(ctx, i, classColor(sampling.fineTuneLabel[i] - 1), 1, s);
      },
    },
    {
      id: 'svm',
      title: `SVM for “${classes[c]}”`,
      counts: `${sampling.counts.svmPositives[c]} positive (ground truth only), ${sampling.counts.svmNegatives[c]} negative (IoU < 0.3), ${sampling.counts.svmIgnored[c]} ignored`,
      draw: (ctx, s) => {
        for (let i = n - 1; i >= 0; i--) if (sampling.svmLabel[i * classes.length + c] === SVM_NEGATIVE && i % 3 === 0) rect(ctx, i, 'rgba(200,200,200,0.45)', 0.6, s);
        gt.labels.forEach((l, j) => l === classes[c] && gtRect(ctx, j, s, classColor(c)));
      },
    },
    {
      id: 'bbox',
      title: 'Box regression',
      counts: `${sampling.counts.bboxUsed.reduce((a, b) => a + b, 0)} pairs (IoU > 0.6), ${sampling.counts.bboxUnused} unused`,
      draw: (ctx, s) => {
        gt.labels.forEach((_, j) => gtRect(ctx, j, s));
        for (let i = n - 1; i >= 0; i--) if (sampling.bboxClass[i] >= 0) rect(ctx, i, classColor(sampling.bboxClass[i]), 1, s);
      },
    },
  ];
  return rules;
}

/**
 * How R-CNN's three models would label this image's proposals during training, side by side: the
 * same proposals, three different rules (docs/algorithm.md sections 4-6). Choosing one shows it on
 * the main image.
 */
export function SamplingRules() {
  const image = useStore((s) => s.image);
  const view = useStore((s) => s.proposalsView);
  const setView = (v: Partial<ProposalsView>) => useStore.getState().setView('proposalsView', v);
  const r = useSamplingRules(view.ruleClass);
  const photo = useMemo(() => (image ? rasterCanvas(image.image) : null), [image]);
  if (!r || !image) return null;
  const { rules, classes, numProposals: n } = r;
  const c = Math.max(0, Math.min(view.ruleClass, classes.length - 1));
  return (
    <section aria-labelledby="rules-heading" data-testid="sampling-rules">
      <h3 id="rules-heading">How the three models were trained on an image like this</h3>
      <p className="muted small">
        The same {n} proposals, labelled by each of R-CNN's three training rules against your ground truth. Negatives
        and background are thinned out in the pictures; the counts are exact.
      </p>
      {classes.length > 1 && (
        <label>
          SVM class{' '}
          <select value={c} onChange={(e) => setView({ ruleClass: Number(e.target.value) })}>
            {classes.map((k, i) => (
              <option key={k} value={i}>
                {k}
              </option>
            ))}
          </select>
        </label>
      )}
      <div className="rules-grid">
        {rules.map((r) => (
          <figure key={r.id} className={`rule${view.rule === r.id ? ' rule-on' : ''}`}>
            <RuleCanvas photo={photo} width={image.image.width} height={image.image.height} draw={r.draw} label={`${r.title}: ${r.counts}`} />
            <figcaption>
              <button className="link" aria-pressed={view.rule === r.id} onClick={() => setView({ rule: view.rule === r.id ? null : r.id, showSegmentation: false })}>
                <strong>{r.title}</strong> {view.rule === r.id ? '(shown on the image)' : '(show on the image)'}
              </button>
              <div className="small" data-testid={`rule-${r.id}`}>{r.counts}</div>
              <div className="muted small">{SAMPLING_RULES[r.id]}</div>
            </figcaption>
          </figure>
        ))}
      </div>
    </section>
  );
}
