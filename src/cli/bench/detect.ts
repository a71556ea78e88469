/**
 * `rcnn bench detect`: why R-CNN is slow, measured. The same photos, proposals and CNN through
 * R-CNN's path (every proposal warped to 227 x 227 and run through the whole network) and the
 * shared-convolution path of SPPnet / Fast R-CNN (conv1..conv5 once on the photo, RoI pooling,
 * fc6 + fc7 per proposal; src/model/sharedConv.ts): per-photo time by stage and validation mAP,
 * in one run, with the ratios.
 *
 * Each photo's stages run one after the other in this thread (as `rcnn detect`, the in-process
 * Detector on tfjs-wasm), path after path on the same photo, so load from other processes hits
 * the paths alike. Selective search is timed once per photo (the paths share its proposals,
 * which come from the proposal cache as in `rcnn eval`). mAP is PASCAL VOC's (IoU 0.5, all-point
 * AP, difficult objects ignored) over the photos run, with and without box regression, at the
 * model's NMS threshold; detections are kept as `rcnn eval` keeps them (at most 100 per class and
 * photo, no score threshold), so with every photo of a split it is `rcnn eval`'s number.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from '../command';
import { readVocDataset } from '../dataset';
import { loadDatasetImages, toRaster, type DatasetImage } from '../train/data';
import { loadModelForCli } from '../io';
import { BUNDLED_MODEL_DIR } from '../defaults';
import { selectiveSearch } from '../../core/selectiveSearch/index';
import { evaluateDetections, groupDetectionsByClass, type ImageDetections } from '../../core/eval/ap';
import { defaultNmsThreshold } from '../../core/nms';
import type { Detection } from '../../core/detect';
import { describeArch } from '../../model/architecture';
import type { ModelPackage } from '../../model/package';
import { DEFAULT_ROI_SCALE, ROI_SCALES, type RoiScale, sharedConvMacs } from '../../model/sharedConv';
import type { Detector } from '../../pipeline/detector';
import { REPO_ROOT, defaultDataset } from './shared';
import { type BenchTarget, benchNumber, formatTable, median } from './types';

interface Path {
  label: string;
  detector: Detector;
  features: 'warp' | 'roi';
  /** Per photo: ms of each part of the CNN stage, and NMS. */
  cnn: number[];
  parts: Record<string, number[]>;
  nms: number[];
  withReg: ImageDetections[];
  without: ImageDetections[];
}

function toImageDetections(dets: readonly Detection[], sx: number, sy: number): ImageDetections {
  const n = dets.length;
  const boxes = new Float32Array(4 * n);
  const scores = new Float32Array(n);
  const labels = new Int32Array(n);
  dets.forEach((d, k) => {
    boxes.set([d.box[0] * sx, d.box[1] * sy, d.box[2] * sx, d.box[3] * sy], 4 * k);
    scores[k] = d.score;
    labels[k] = d.classIndex;
  });
  return { boxes, scores, labels };
}

export const detectBench: BenchTarget = {
  name: 'detect',
  summary:
    'R-CNN (warp every proposal) vs shared convolution (conv once, RoI pooling): per-photo ms by stage and validation mAP of both paths on the same photos and proposals, with the ratios.',
  optionsHelp:
    '--data DIR (default ../shared/datasets/fruit-animals)  --split FILE (default the bundled model\'s val.txt)  --images N (first N photos of the split, default 10; 0 = all)  ' +
    '--proposals N (default 2000)  --model DIR (default bundled)  --roi-model DIR (heads retrained on RoI features, rcnn train --stages svm,bbox --features roi, on the same CNN or on one fine-tuned through RoI pooling: public/models/fruit-animals-fast-rcnn)  ' +
    '--roi-scale fast-rcnn|search  --cache DIR (proposal cache, default .cache/rcnn)',
  async run({ options, stdout, stderr }) {
    const dataDir = resolve(String(options.data ?? defaultDataset()));
    const split = resolve(String(options.split ?? resolve(REPO_ROOT, 'public/models/fruit-animals/val.txt')));
    if (!existsSync(split)) throw new CliError(`--split ${split}: no such file`, 2);
    const nImages = benchNumber(options, 'images', 10, { min: 0, integer: true });
    const nProposals = benchNumber(options, 'proposals', 2000, { min: 1, integer: true });
    const roiScale = String(options['roi-scale'] ?? DEFAULT_ROI_SCALE) as RoiScale;
    if (!ROI_SCALES.includes(roiScale)) throw new CliError(`--roi-scale must be one of ${ROI_SCALES.join(', ')}, got "${roiScale}"`, 2);
    const pkg = await loadModelForCli(String(options.model ?? BUNDLED_MODEL_DIR));
    if (!pkg.svm) throw new CliError(`${pkg.name} has no SVM head: it cannot detect`, 1);
    const roiPkg: ModelPackage | null = options['roi-model'] ? await loadModelForCli(String(options['roi-model']), '--roi-model') : null;
    if (roiPkg) {
      if (JSON.stringify(roiPkg.architecture.conv) !== JSON.stringify(pkg.architecture.conv) || roiPkg.svm?.classes.join() !== pkg.svm.classes.join()) {
        throw new CliError(`--roi-model ${roiPkg.name} does not have ${pkg.name}'s layers and classes`, 2);
      }
      if (roiPkg.headFeatures?.mode !== 'roi') stderr(`warning: --roi-model's heads are not marked as trained on RoI features (headFeatures)\n`);
    }
    const classes = pkg.svm.classes;
    const ids = readFileSync(split, 'utf8').split(/\r?\n/).map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
    const wanted = nImages > 0 ? ids.slice(0, nImages) : ids;
    const dataset = readVocDataset(dataDir, { classes, ids: new Set(wanted) });
    const records = wanted.map((id) => dataset.images.find((r) => r.id === id)).filter((r): r is NonNullable<typeof r> => !!r);
    if (records.length === 0) throw new CliError(`none of the split's ids were found in ${dataDir}`, 1);
    stderr(`${records.length} photos of ${split}; proposals from the cache (computed once if missing)\n`);
    const images: DatasetImage[] = await loadDatasetImages(records, { cacheDir: resolve(String(options.cache ?? '.cache/rcnn')), log: (l) => stderr(`${l}\n`) });

    const { loadDetector } = await import('../../pipeline/node');
    const nms = defaultNmsThreshold(pkg);
    const paths: Path[] = [];
    const newPath = async (label: string, p: ModelPackage, features: 'warp' | 'roi'): Promise<Path> => ({ label, detector: await loadDetector(p), features, cnn: [], parts: {}, nms: [], withReg: [], without: [] });
    paths.push(await newPath('R-CNN: warp every proposal', pkg, 'warp'));
    paths.push(await newPath(`shared conv, ${roiPkg ? 'the R-CNN heads' : 'its heads'} (${pkg.headFeatures ? 'trained on RoI features' : 'trained on warped crops'})`, pkg, 'roi'));
    if (roiPkg) {
      // The same CNN with retrained heads, or a CNN fine-tuned further through RoI pooling (tools/gpu-finetune/roi_finetune.py).
      const sameCnn = (['conv5.weight', 'fc6.weight', 'fc7.weight'] as const).every((n) => {
        const a = pkg.weights[n]?.data;
        const b = roiPkg.weights[n]?.data;
        return !!a && !!b && a.length === b.length && a.every((v, i) => v === b[i]);
      });
      paths.push(await newPath(sameCnn ? 'shared conv, heads retrained on RoI features' : 'Fast R-CNN: the CNN fine-tuned through RoI pooling, heads on its RoI features', roiPkg, 'roi'));
    }
    const searchMs: number[] = [];
    const proposalCounts: number[] = [];
    try {
      for (const [k, im] of images.entries()) {
        const t0 = performance.now();
        selectiveSearch(im.raster, { maxBoxes: nProposals });
        searchMs.push(performance.now() - t0);
        const props = toRaster(im, im.proposals.subarray(0, 4 * Math.min(nProposals, im.proposals.length >> 2)));
        proposalCounts.push(props.length >> 2);
        for (const p of paths) {
          const run = await p.detector.detect(im.raster, { proposals: props, features: p.features, roi: { scale: roiScale }, iouThreshold: nms, maxPerClass: 100 });
          p.cnn.push(run.timings.cnn);
          p.nms.push(run.timings.nms);
          for (const [part, ms] of Object.entries(run.timings.cnnStages)) (p.parts[part] ??= []).push(ms ?? 0);
          p.withReg.push(toImageDetections(run.detections, im.sx, im.sy));
          const plain = p.detector.finish(run.scored, { iouThreshold: nms, maxPerClass: 100, useRegression: false });
          p.without.push(toImageDetections(plain.detections, im.sx, im.sy));
        }
        stderr(`photo ${k + 1}/${images.length} (${im.id}, ${props.length >> 2} proposals): ${paths.map((p) => `${p.features} ${(p.cnn.at(-1)! / 1000).toFixed(2)} s`).join(', ')}\n`);
      }
    } finally {
      for (const p of paths) await p.detector.dispose();
    }
    const gts = images.map((im) => im.gt);
    const mAP = (l: ImageDetections[]) => evaluateDetections(groupDetectionsByClass(l, classes.length), gts, classes, { metric: 'voc2010' }).map;
    const ss = median(searchMs);
    const warp = paths[0];
    const total = (p: Path) => ss + median(p.cnn) + median(p.nms);
    const part = (p: Path, k: string) => (p.parts[k] ? median(p.parts[k]) : '');
    const rows: Array<Array<string | number>> = [['path', 'search ms', 'warp ms', 'cnn ms', 'conv ms', 'roiPool ms', 'fc ms', 'nms ms', 'CNN stage ms', 'total ms', 'CNN x faster', 'mAP reg %', 'mAP no reg %']];
    const maps = paths.map((p) => ({ withReg: mAP(p.withReg), without: mAP(p.without) }));
    paths.forEach((p, i) => {
      rows.push([p.label, ss, part(p, 'warp'), part(p, 'cnn'), part(p, 'conv'), part(p, 'roiPool'), part(p, 'fc'), median(p.nms), median(p.cnn), total(p), i === 0 ? '1.00x' : `${(median(warp.cnn) / median(p.cnn)).toFixed(1)}x`, 100 * maps[i].withReg, 100 * maps[i].without]);
    });
    stdout(formatTable(rows));
    const n = Math.round(median(proposalCounts));
    const layers = describeArch(pkg.architecture);
    const perCrop = layers.filter((l) => l.kind === 'conv' || (l.kind === 'fc' && l.name !== 'fc8')).reduce((s, l) => s + l.macs, 0);
    const w = images[0].raster.width, h = images[0].raster.height;
    const shared = sharedConvMacs(pkg.architecture, w, h, n, roiScale);
    const notes = [
      `median per photo over ${images.length} photos of ${split} with ${n} proposals (median), ${pkg.name}, tfjs-wasm in one thread, the same proposals on every path${roiPkg ? `, ${pkg.name}'s CNN on the first two and --roi-model's (${roiPkg.name}) on the last` : ' and the same CNN'}; search = selective search (fast mode) on the photo, the same for all`,
      `multiply-adds per photo (conv1..fc7, first photo ${w} x ${h}): warp ${(n * perCrop / 1e9).toFixed(1)} G (${(perCrop / 1e6).toFixed(1)} M per crop) vs shared conv ${((shared.conv + shared.fc) / 1e9).toFixed(2)} G (conv ${(shared.conv / 1e9).toFixed(2)} G once at ${roiScale} scale, fc6 + fc7 ${(shared.fc / 1e9).toFixed(2)} G): ${(n * perCrop / (shared.conv + shared.fc)).toFixed(0)}x fewer`,
      `mAP: PASCAL VOC all-point AP at IoU 0.5 over these ${images.length} photos, NMS ${nms}, at most 100 detections per class and photo; mAP of the shared-conv path minus the R-CNN path: ${maps.slice(1).map((m, i) => `${paths[i + 1].label}: ${(100 * (m.withReg - maps[0].withReg)).toFixed(1)} points with box regression, ${(100 * (m.without - maps[0].without)).toFixed(1)} without`).join('; ')}`,
      'the papers, for scale (one K40 GPU, VGG16, proposals not included): R-CNN 47 s per image, Fast R-CNN 0.32 s, 146x at test time (213x with truncated SVD; Fast R-CNN, ICCV 2015, Table 4); SPPnet, the first to pool regions out of one conv5, reported 24-102x over R-CNN',
    ];
    stdout(notes.map((l) => `- ${l}`).join('\n') + '\n');
    return 0;
  },
};
