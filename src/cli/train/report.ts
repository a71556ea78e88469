import type { FineTuneLogEntry } from './finetune';

/** The fine-tuning loss/accuracy curves as a small standalone SVG (written next to the model). */
export function lossCurveSvg(log: readonly FineTuneLogEntry[], width = 640, height = 280): string {
  const pad = { l: 48, r: 48, t: 20, b: 32 };
  const W = width - pad.l - pad.r;
  const H = height - pad.t - pad.b;
  const n = log.length;
  if (n === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"/>`;
  const maxIt = log[n - 1].iteration;
  // Smooth the noisy per-batch loss with a trailing mean over 1% of the run.
  const k = Math.max(1, Math.round(n / 100));
  const smooth = (f: (e: FineTuneLogEntry) => number) =>
    log.map((_, i) => {
      const s = log.slice(Math.max(0, i - k + 1), i + 1);
      return s.reduce((a, e) => a + f(e), 0) / s.length;
    });
  const loss = smooth((e) => e.loss);
  // The first iterations from scratch have losses many times the rest: leave them off the scale
  // (clipped at the top) so the part of the curve that matters is readable.
  const skip = Math.floor(n * 0.03);
  const maxLoss = Math.max(...loss.slice(skip), ...log.filter((e) => e.val).map((e) => e.val!.loss)) * 1.1;
  const x = (it: number) => pad.l + (it / maxIt) * W;
  const yl = (v: number) => pad.t + H - (Math.min(v, maxLoss) / maxLoss) * H;
  const ya = (v: number) => pad.t + H - v * H;
  const path = (pts: Array<[number, number]>) => pts.map(([a, b], i) => `${i ? 'L' : 'M'}${a.toFixed(1)},${b.toFixed(1)}`).join('');
  const trainLoss = path(log.map((e, i) => [x(e.iteration), yl(loss[i])]));
  const vals = log.filter((e) => e.val);
  const valLoss = path(vals.map((e) => [x(e.iteration), yl(e.val!.loss)]));
  const valAcc = path(vals.map((e) => [x(e.iteration), ya(e.val!.accuracy)]));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${pad.l}" y="13">Fine-tuning: training loss (smoothed), validation loss and accuracy</text>
<line x1="${pad.l}" y1="${pad.t + H}" x2="${pad.l + W}" y2="${pad.t + H}" stroke="#888"/>
<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${pad.t + H}" stroke="#888"/>
<line x1="${pad.l + W}" y1="${pad.t}" x2="${pad.l + W}" y2="${pad.t + H}" stroke="#888"/>
<text x="${pad.l - 4}" y="${pad.t + 4}" text-anchor="end">${maxLoss.toFixed(2)}</text>
<text x="${pad.l - 4}" y="${pad.t + H / 2 + 4}" text-anchor="end">${(maxLoss / 2).toFixed(2)}</text>
<line x1="${pad.l}" y1="${pad.t + H / 2}" x2="${pad.l + W}" y2="${pad.t + H / 2}" stroke="#eee"/>
<text x="${pad.l - 4}" y="${pad.t + H}" text-anchor="end">0</text>
<text x="${pad.l + W + 4}" y="${pad.t + 4}">100%</text>
<text x="${pad.l + W + 4}" y="${pad.t + H}">0%</text>
<text x="${pad.l}" y="${height - 8}">0</text>
<text x="${pad.l + W / 2}" y="${height - 8}" text-anchor="middle">iteration</text>
<text x="${pad.l + W}" y="${height - 8}" text-anchor="end">${maxIt}</text>
<path d="${trainLoss}" fill="none" stroke="#0072B2" stroke-width="1.5"/>
<path d="${valLoss}" fill="none" stroke="#D55E00" stroke-width="2"/>
<path d="${valAcc}" fill="none" stroke="#009E73" stroke-width="2" stroke-dasharray="5 3"/>
<text x="${pad.l + 8}" y="${pad.t + H - 24}" fill="#0072B2">train loss</text>
<text x="${pad.l + 8}" y="${pad.t + H - 12}" fill="#D55E00">val loss</text>
<text x="${pad.l + 80}" y="${pad.t + H - 12}" fill="#009E73">val accuracy</text>
</svg>
`;
}
