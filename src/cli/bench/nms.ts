import { InteractiveNms, nmsPerClass } from '../../core/nms';
import { mulberry32 as rng } from '../../core/learn/random';
import { proposalLikeBoxes } from './shared';
import { type BenchTarget, benchNumber, formatTable, median } from './types';

export const nmsBench: BenchTarget = {
  name: 'nms',
  summary: 'Per-class greedy NMS time for N boxes x C classes (the NMS sliders re-run this on every move).',
  optionsHelp: '--reps R (default 30)',
  async run({ options, stdout }) {
    const reps = benchNumber(options, 'reps', 30, { min: 1, max: 10000, integer: true });
    const rand = rng(1);
    const rows: Array<Array<string | number>> = [['boxes x classes', 'score threshold', 'kept/class', 'median ms', 'p95 ms', 'frames (16.7 ms)']];
    for (const [n, c] of [[2000, 20], [2000, 200]] as const) {
      const boxes = proposalLikeBoxes(n, rand);
      const perClass = new Float32Array(4 * n * c);
      for (let k = 0; k < c; k++) perClass.set(boxes, 4 * n * k);
      // SVM-like scores: mostly well below -1, a few positives.
      const scores = new Float32Array(n * c);
      for (let i = 0; i < scores.length; i++) scores[i] = -1.5 + rand() * 1.2 + (rand() < 0.02 ? 2 : 0);
      for (const thr of [-Infinity, -1, 0]) {
        const times: number[] = [];
        let kept = 0;
        for (let r = 0; r < reps + 3; r++) {
          const t0 = performance.now();
          const res = nmsPerClass(perClass, scores, c, { iouThreshold: 0.3, scoreThreshold: thr });
          const dt = performance.now() - t0;
          if (r >= 3) times.push(dt);
          kept = res.reduce((s, x) => s + x.keep.length, 0) / c;
        }
        times.sort((a, b) => a - b);
        const med = median(times);
        rows.push([`${n} x ${c}`, thr === -Infinity ? 'none (all boxes)' : String(thr), kept, med, times[Math.floor(0.95 * (times.length - 1))], med / 16.7]);
      }
      // The score slider: after one full run at -1, moving the threshold up only filters (prefix property).
      const inter = new InteractiveNms(perClass, scores, c);
      inter.run({ iouThreshold: 0.3, scoreThreshold: -1 });
      const times: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        inter.run({ iouThreshold: 0.3, scoreThreshold: -1 + ((r % 10) + 1) * 0.05 });
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      rows.push([`${n} x ${c}`, 'slider move above -1 (cached)', '', median(times), times[Math.floor(0.95 * (times.length - 1))], median(times) / 16.7]);
    }
    stdout(formatTable(rows));
    return 0;
  },
};
