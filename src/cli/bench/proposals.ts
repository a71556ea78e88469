/**
 * `rcnn bench proposals`: our selective search (1 thread, and the worker pool) against OpenCV's
 * ximgproc implementation, on the same images: time per image, proposals per image, recall at
 * IoU 0.5 / 0.7 and mean best overlap over the ground-truth boxes of a VOC-layout dataset.
 *
 * Fairness: every method gets the very same 500-px-wide resized raster (OpenCV through a PPM
 * file), ground truth is scaled to that raster, and the three methods run one after the other on
 * each image (OpenCV in a persistent python process fed path by path), so machine load from
 * other processes hits all of them alike. Each method gets one untimed warm-up image.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { CliError } from '../command';
import { loadImageFile } from '../io';
import { createNodeProposalPool } from '../ssPool';
import { fitAnnotationToImage, parseVocXml } from '../../core/dataset/voc';
import { makeGroundTruth, type GroundTruth } from '../../core/dataset/groundTruth';
import { proposalRecall } from '../../core/eval/recall';
import { DEFAULT_MAX_BOXES, DEFAULT_SEED, prepareSearchImage, selectiveSearch, type SearchMode } from '../../core/selectiveSearch/index';
import { PYTHON, REPO_ROOT, defaultDataset, writePpm } from './shared';
import { type BenchTarget, benchNumber, formatTable, median } from './types';

const OPENCV_SCRIPT = join(REPO_ROOT, 'scripts/bench/opencv_selective_search.py');

interface MethodStats {
  ms: number[];
  /** Proposals of every image, in rank order (resized pixels). */
  proposals: Float32Array[];
}

function newStats(): MethodStats {
  return { ms: [], proposals: [] };
}

/**
 * Timing and proposal quality (src/core/eval/recall.ts, difficult objects excluded as in VOC):
 * recall at IoU 0.5 / 0.7, MABO (Uijlings et al.: mean over classes of the average best overlap)
 * and the plain mean best overlap over all ground-truth boxes.
 */
function summary(stats: MethodStats, gts: GroundTruth[], numClasses: number) {
  const q = proposalRecall(stats.proposals, gts, numClasses, { thresholds: [0.5, 0.7] });
  return {
    median: median(stats.ms),
    mean: stats.ms.reduce((a, b) => a + b, 0) / Math.max(1, stats.ms.length),
    proposals: q.meanProposals,
    r05: q.recall[0],
    r07: q.recall[1],
    mabo: q.mabo,
    meanBo: q.meanBestOverlap,
  };
}

/** A persistent OpenCV process answering one JSON line per image path. */
class OpenCvPeer {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly waiting: Array<(line: string | null) => void> = [];
  private readonly buffered: string[] = [];
  private closed = false;
  stderr = '';

  constructor(mode: SearchMode) {
    this.proc = spawn(PYTHON, [OPENCV_SCRIPT, '--mode', mode, '--threads', '1', '--stdin'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d) => (this.stderr += String(d)));
    this.proc.on('error', (e) => {
      this.stderr += String(e);
      this.close();
    });
    this.lines = createInterface({ input: this.proc.stdout });
    this.lines.on('line', (l) => {
      const w = this.waiting.shift();
      if (w) w(l);
      else this.buffered.push(l);
    });
    this.lines.on('close', () => this.close());
  }

  private close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w(null);
  }

  next(): Promise<string | null> {
    const b = this.buffered.shift();
    if (b !== undefined) return Promise.resolve(b);
    if (this.closed) return Promise.resolve(null);
    return new Promise((r) => this.waiting.push(r));
  }

  /** The first line: {"info": ...} or {"error": ...}. */
  async hello(): Promise<{ info?: { opencv: string; threads: number }; error?: string }> {
    const l = await this.next();
    if (l === null) return { error: `python exited (${this.stderr.trim().split('\n').pop() ?? 'no output'})` };
    return JSON.parse(l);
  }

  async process(path: string): Promise<{ ms: number; boxes: number[][] } | { error: string }> {
    this.proc.stdin.write(path + '\n');
    const l = await this.next();
    if (l === null) return { error: 'python exited' };
    return JSON.parse(l);
  }

  end(): void {
    this.proc.stdin.end();
  }
}

export const proposalsBench: BenchTarget = {
  name: 'proposals',
  summary: 'Selective search vs OpenCV ximgproc on VOC images: time per image (1 thread, worker pool), proposals, recall@0.5/0.7, MABO.',
  optionsHelp: `--images N (default 50) --mode fast|quality (default fast) --threads N (pool size, default ${availableParallelism()}) --max ${DEFAULT_MAX_BOXES} --seed ${DEFAULT_SEED} --dataset DIR (VOC layout; default ../shared/datasets/fruit-animals) --no-opencv`,
  async run({ options, stdout, stderr }) {
    const nImages = benchNumber(options, 'images', 50, { min: 1, integer: true });
    const mode = String(options.mode ?? 'fast') as SearchMode;
    if (mode !== 'fast' && mode !== 'quality') throw new CliError(`--mode must be fast or quality, got "${mode}"`, 2);
    const threads = benchNumber(options, 'threads', availableParallelism(), { min: 1, max: 64, integer: true });
    const maxBoxes = benchNumber(options, 'max', DEFAULT_MAX_BOXES, { min: 1, integer: true });
    const seed = benchNumber(options, 'seed', DEFAULT_SEED, { integer: true });
    if (![nImages, threads, maxBoxes, seed].every(Number.isInteger) || nImages < 1 || threads < 1) throw new CliError('--images, --threads, --max and --seed take integers (images, threads >= 1)', 2);
    const root = String(options.dataset ?? defaultDataset());
    const setFile = join(root, 'ImageSets/Main/trainval.txt');
    if (!existsSync(setFile)) throw new CliError(`no VOC image set at ${setFile}`, 1, 'Pass --dataset DIR with JPEGImages/, Annotations/ and ImageSets/Main/trainval.txt.');
    const ids = readFileSync(setFile, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    // Evenly spaced over the set, so every class is represented, not the first N of one class.
    const picked = Array.from({ length: Math.min(nImages, ids.length) }, (_, i) => ids[Math.floor((i * ids.length) / Math.min(nImages, ids.length))]);

    const tmp = mkdtempSync(join(tmpdir(), 'rcnn-bench-ss-'));
    const ours1 = newStats();
    const oursPool = newStats();
    const cvAll = newStats();
    const cvTop = newStats();
    let cvNote = '';
    let cv: OpenCvPeer | null = null;
    if (options['no-opencv'] === undefined) {
      cv = new OpenCvPeer(mode);
      const hello = await cv.hello();
      if (hello.error) {
        cvNote = `OpenCV not measured: ${hello.error}. Install Debian's python3-opencv (apt-get install python3-opencv) to compare.`;
        cv = null;
      } else {
        cvNote = `OpenCV ${hello.info?.opencv} ximgproc, ${hello.info?.threads} thread, switchToSelectiveSearch${mode === 'fast' ? 'Fast' : 'Quality'}: its own strategy (${mode === 'fast' ? 'HSV + Lab, k = 150/300/450, min size 100, 2 strategies; re-sorts all similarities after each merge' : 'HSV, Lab, I, H, rgI x k = 50..350, 4 strategies'}); it returns all its boxes (often > 2000), "top ${maxBoxes}" keeps its best-ranked ${maxBoxes}.`;
      }
    } else {
      cvNote = 'OpenCV skipped (--no-opencv).';
    }
    const pool = createNodeProposalPool(threads);
    const gts: GroundTruth[] = [];
    const classes = new Map<string, number>();
    try {
      for (let i = 0; i < picked.length; i++) {
        const id = picked[i];
        const img = loadImageFile(join(root, 'JPEGImages', `${id}.jpg`));
        const { resized } = prepareSearchImage(img.image);
        const raw = parseVocXml(readFileSync(join(root, 'Annotations', `${id}.xml`), 'utf8'), `${id}.xml`);
        // Boxes checked against the decoded size (clipped), then scaled to the resized raster every method works on.
        const ann = fitAnnotationToImage(raw, img.originalWidth, img.originalHeight, { source: `${id}.xml` }).annotation;
        const gx = resized.width / img.originalWidth;
        const gy = resized.height / img.originalHeight;
        const boxes = ann.objects.flatMap((o) => [o.box[0] * gx, o.box[1] * gy, o.box[2] * gx, o.box[3] * gy]);
        const labels = ann.objects.map((o) => {
          if (!classes.has(o.name)) classes.set(o.name, classes.size);
          return classes.get(o.name)!;
        });
        gts.push(makeGroundTruth(boxes, labels, ann.objects.map((o) => o.difficult)));
        const ppm = join(tmp, `${i}.ppm`);
        if (cv) writePpm(ppm, resized);
        const warm = i === 0;
        // Warm-up: the first image once, untimed, for every method.
        for (let rep = warm ? 2 : 1; rep > 0; rep--) {
          const record = rep === 1;
          if (cv) {
            const r = await cv.process(ppm);
            if ('error' in r) {
              cvNote = `OpenCV failed on ${id}: ${r.error}; ${cv.stderr.trim().split('\n').pop() ?? ''}`;
              cv = null;
            } else if (record) {
              const flat = new Float32Array(r.boxes.flat());
              cvAll.ms.push(r.ms);
              cvAll.proposals.push(flat);
              cvTop.ms.push(r.ms);
              cvTop.proposals.push(flat.subarray(0, 4 * maxBoxes));
            }
          }
          const s = selectiveSearch(resized, { mode, maxBoxes, seed });
          if (record) {
            ours1.ms.push(s.ms);
            ours1.proposals.push(s.boxes);
          }
          const p = await pool.run(resized, { mode, maxBoxes, seed });
          if (record) {
            oursPool.ms.push(p.ms);
            oursPool.proposals.push(p.boxes);
          }
        }
        stderr(`bench proposals: ${i + 1}/${picked.length} ${id}: ours ${ours1.ms[i].toFixed(0)} ms, pool ${oursPool.ms[i].toFixed(0)} ms${cvAll.ms[i] !== undefined ? `, OpenCV ${cvAll.ms[i].toFixed(0)} ms` : ''}\n`);
      }
    } finally {
      pool.dispose();
      cv?.end();
      rmSync(tmp, { recursive: true, force: true });
    }

    const numClasses = classes.size;
    const sum = (st: MethodStats) => summary(st, gts, numClasses);
    const rows: Array<Array<string | number>> = [['method', 'threads', 'median ms', 'mean ms', 'proposals/img', 'recall@0.5', 'recall@0.7', 'MABO', 'mean BO']];
    const row = (name: string, t: number, st: MethodStats) => {
      const s = sum(st);
      rows.push([name, t, s.median, s.mean, s.proposals, s.r05, s.r07, s.mabo, s.meanBo]);
    };
    row(`ours (${mode})`, 1, ours1);
    row(`ours (${mode}), worker pool`, threads, oursPool);
    if (cvAll.ms.length) {
      row(`OpenCV ${mode}, all boxes`, 1, cvAll);
      row(`OpenCV ${mode}, top ${maxBoxes}`, 1, cvTop);
    }
    const objects = gts.reduce((a, g) => a + g.labels.length - g.difficult.reduce((x, d) => x + d, 0), 0);
    stdout(`selective search on ${picked.length} images of ${root} (${objects} ground-truth boxes, ${numClasses} classes; difficult ones excluded), resized to 500 px wide; max ${maxBoxes} proposals, seed ${seed}\n`);
    stdout('MABO = mean over classes of the average best overlap (Uijlings et al.); mean BO = mean best overlap over all boxes.\n\n');
    stdout(formatTable(rows));
    stdout(`\n${cvNote}\n`);
    if (cvAll.ms.length) {
      const a = sum(ours1), p = sum(oursPool), c = sum(cvAll), ct = sum(cvTop);
      const ratioRows: Array<Array<string | number>> = [
        ['ratio', 'value', 'target', 'met'],
        ['ours 1 thread / OpenCV median time', a.median / c.median, '<= 1', a.median <= c.median ? 'yes' : 'NO'],
        [`ours pool (${threads}) / OpenCV median time`, p.median / c.median, '<= 0.5', p.median <= 0.5 * c.median ? 'yes' : 'NO'],
        ['ours / OpenCV (all boxes) recall@0.7', a.r07 / c.r07, '>= 1', a.r07 >= c.r07 ? 'yes' : 'NO'],
        ['ours / OpenCV (all boxes) MABO', a.mabo / c.mabo, '>= 1', a.mabo >= c.mabo ? 'yes' : 'NO'],
        [`ours / OpenCV (top ${maxBoxes}) recall@0.7`, a.r07 / ct.r07, '>= 1', a.r07 >= ct.r07 ? 'yes' : 'NO'],
        [`ours / OpenCV (top ${maxBoxes}) MABO`, a.mabo / ct.mabo, '>= 1', a.mabo >= ct.mabo ? 'yes' : 'NO'],
      ];
      stdout('\n' + formatTable(ratioRows));
    }
    return 0;
  },
};
