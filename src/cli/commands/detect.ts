import { CliError, numberOption, stringOption, type Command } from '../command';
import { loadImageFile, loadModelForCli } from '../io';
import { BUNDLED_MODEL_DIR } from '../defaults';
import { DEFAULT_SEED, type SearchMode } from '../../core/selectiveSearch/index';
import { scaleDetection, detectionsToJson } from '../../core/detect';
import { defaultNmsThreshold } from '../../core/nms';
import { FEATURE_OPTIONS, featureMismatchNote, featureOptionsHelp, readFeatureOptions } from '../featureOptions';

export const detectCommand: Command = {
  name: 'detect',
  summary: 'Run the whole R-CNN pipeline on one image and print the detections as JSON.',
  usage: 'detect <image> [--model DIR] [--proposals N] [--mode fast|quality] [--seed S] [--score-threshold T] [--nms T] [--inclusive] [--no-regression] [--features warp|roi] [--roi-scale fast-rcnn|search]',
  details: [
    'Prints {"image":{"width","height"},"model","proposals","regression",',
    '"detections":[{"class","score","box":[x1,y1,x2,y2],"proposal":[...]}],"timings":{decode,proposals,cnn,nms,total in ms}}',
    'with boxes in the original image\'s pixels (continuous convention), classes in model order, best score first within a class.',
    `  --model DIR          model package folder, .rcnn bundle or .onnx (default: the bundled model, ${BUNDLED_MODEL_DIR})`,
    '  --proposals N        selective-search proposals kept (default 2000, as R-CNN)',
    '  --mode fast|quality  selective-search mode (default fast)',
    '  --seed S             ranking seed of selective search (default 1)',
    '  --score-threshold T  drop boxes whose SVM score is below T before NMS (default 0: what the R-CNN demo shows; it runs',
    '                       NMS on boxes above -1, which leaves the same boxes at 0 and above)',
    '  --nms T              NMS overlap threshold: a box is removed when its IoU with a better one exceeds T (default: the',
    '                       model\'s own, chosen on its validation photos, else R-CNN\'s 0.3)',
    '  --inclusive          compute NMS areas with +1 pixel (the MATLAB release\'s convention)',
    '  --no-regression      report proposal boxes instead of regressed ones',
    ...featureOptionsHelp('how each proposal gets its CNN features'),
    'cnnStages splits the CNN stage (ms): warp and cnn on the warp path; conv, roiPool and fc on the roi path.',
  ].join('\n'),
  options: {
    model: { type: 'string' },
    proposals: { type: 'string' },
    mode: { type: 'string' },
    seed: { type: 'string' },
    'score-threshold': { type: 'string' },
    nms: { type: 'string' },
    inclusive: { type: 'boolean' },
    'no-regression': { type: 'boolean' },
    ...FEATURE_OPTIONS,
  },
  positionals: true,
  async run({ positionals, values, stdout, stderr }) {
    if (positionals.length !== 1) throw new CliError('expected exactly one image path', 2);
    const maxBoxes = numberOption(values, 'proposals', 2000, { min: 1, integer: true });
    const mode = stringOption<SearchMode>(values, 'mode', 'fast', ['fast', 'quality']);
    const seed = numberOption(values, 'seed', DEFAULT_SEED, { integer: true });
    const scoreThreshold = numberOption(values, 'score-threshold', 0);
    const t0 = performance.now();
    const img = loadImageFile(positionals[0]);
    for (const w of img.warnings) stderr(`rcnn detect: ${w}\n`);
    const tDecode = performance.now();
    const modelPath = String(values.model ?? BUNDLED_MODEL_DIR);
    const pkg = await loadModelForCli(modelPath);
    const iouThreshold = numberOption(values, 'nms', defaultNmsThreshold(pkg), { min: 0, max: 1 });
    if (!pkg.svm) throw new CliError(`${modelPath} has no SVM head: it can extract features but not detect`, 1, 'Use a model trained by `rcnn train` or an imported rcnn-ilsvrc13.');
    const feat = readFeatureOptions(values, pkg);
    const mismatch = featureMismatchNote(pkg, feat);
    if (mismatch) stderr(`rcnn detect: ${mismatch}\n`);
    const { loadDetector } = await import('../../pipeline/node');
    const detector = await loadDetector(pkg);
    let run;
    try {
      run = await detector.detect(img.image, {
        proposals: { mode, maxBoxes, seed },
        scoreThreshold,
        iouThreshold,
        convention: values.inclusive ? 'inclusive' : 'continuous',
        useRegression: !values['no-regression'],
        features: feat.features,
        roi: { scale: feat.roiScale },
      });
    } finally {
      await detector.dispose();
    }
    stderr(`rcnn detect: ${run.scored.proposals.length / 4} proposals in ${run.timings.proposals.toFixed(0)} ms\n`);
    const dets = run.detections.map((d) => scaleDetection(d, img.scaleX, img.scaleY));
    const tEnd = performance.now();
    stdout(
      JSON.stringify(
        detectionsToJson(
          dets,
          { decode: tDecode - t0, proposals: run.timings.proposals, cnn: run.timings.cnn, nms: run.timings.nms, total: tEnd - t0 },
          { image: { width: img.originalWidth, height: img.originalHeight }, model: pkg.name, proposals: run.scored.proposals.length / 4, regression: run.regressed, features: feat.features === 'roi' ? `roi (${feat.roiScale})` : 'warp', cnnStages: roundAll(run.timings.cnnStages) },
        ),
      ) + '\n',
    );
    return 0;
  },
};

function roundAll(o: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v ?? 0)]));
}
