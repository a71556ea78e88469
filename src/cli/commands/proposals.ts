import { CliError, numberOption, stringOption, type Command } from '../command';
import { loadImageFile, progressPrinter } from '../io';
import { createNodeProposalPool, nodePoolSize } from '../ssPool';
import { DEFAULT_MAX_BOXES, DEFAULT_SEED, selectiveSearch, type ProposalSet } from '../../core/selectiveSearch/index';

const MODES = ['fast', 'quality'] as const;

/** Coordinates to 2 decimals: enough for original-image pixels, and keeps the JSON compact. */
function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

export const proposalsCommand: Command = {
  name: 'proposals',
  summary: 'Selective search region proposals (R-CNN fast mode by default) for one image, as JSON on stdout.',
  usage: 'proposals <image> [--mode fast|quality] [--max 2000] [--threads N] [--seed S]',
  details: [
    'Prints one JSON object: {"width":W,"height":H,"ms":T,"boxes":[[x1,y1,x2,y2],...]}: W x H is the',
    'upright original image, boxes are in its pixels (continuous convention, x2/y2 exclusive), best-ranked',
    'first; ms is the selective-search time (decoding excluded). Progress goes to stderr.',
    '  --mode     fast (HSV+Lab x k 50,100 x 2 similarity sets = 8 runs, what R-CNN used; default) or',
    '             quality (5 colour spaces x 4 k x 4 similarity sets = 80 runs)',
    `  --max      keep at most this many proposals (default ${DEFAULT_MAX_BOXES})`,
    `  --threads  worker threads (default: os.availableParallelism(), here ${nodePoolSize()}); 1 runs in-process`,
    `  --seed     seed of the ranking's random factor (default ${DEFAULT_SEED}); same seed, same output`,
  ].join('\n'),
  options: {
    mode: { type: 'string' },
    max: { type: 'string' },
    threads: { type: 'string' },
    seed: { type: 'string' },
  },
  positionals: true,
  async run({ positionals, values, stdout, stderr }) {
    if (positionals.length !== 1) throw new CliError('expected exactly one image path', 2);
    const mode = stringOption(values, 'mode', 'fast', MODES);
    const maxBoxes = numberOption(values, 'max', DEFAULT_MAX_BOXES, { min: 0, integer: true });
    const threads = numberOption(values, 'threads', nodePoolSize(), { min: 1, max: 64, integer: true });
    const seed = numberOption(values, 'seed', DEFAULT_SEED, { integer: true });
    // Workers boot (tsx + module loading, ~0.2 s) while the image decodes.
    const pool = threads > 1 ? createNodeProposalPool(threads) : null;
    if (pool) pool.warmUp();
    let img: ReturnType<typeof loadImageFile>;
    try {
      img = loadImageFile(positionals[0]);
    } catch (e) {
      pool?.dispose();
      throw e;
    }
    for (const w of img.warnings) stderr(`rcnn proposals: ${w}\n`);
    let result: ProposalSet & { ms: number };
    if (!pool) {
      result = selectiveSearch(img.image, { mode, maxBoxes, seed });
      stderr(`selective search (${mode}, 1 thread): ${result.ms.toFixed(0)} ms\n`);
    } else {
      const progress = progressPrinter(stderr);
      try {
        result = await pool.run(img.image, {
          mode,
          maxBoxes,
          seed,
          onProgress: (p) => progress(`selective search (${mode}, ${threads} threads)`, p.done, p.total),
        });
      } finally {
        pool.dispose();
      }
      stderr(`selective search: ${result.ms.toFixed(0)} ms\n`);
    }
    // Working-raster pixels -> original pixels.
    const sx = img.scaleX;
    const sy = img.scaleY;
    const b = result.boxes;
    const boxes: number[][] = [];
    for (let i = 0; i < b.length; i += 4) boxes.push([round2(b[i] * sx), round2(b[i + 1] * sy), round2(b[i + 2] * sx), round2(b[i + 3] * sy)]);
    stdout(JSON.stringify({ width: img.originalWidth, height: img.originalHeight, ms: Math.round(result.ms), boxes }) + '\n');
    return 0;
  },
};
