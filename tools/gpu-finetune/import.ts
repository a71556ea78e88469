/**
 * Turns finetune.py's cnn.bin (float32, tfjs layouts, the weights in weightShapes order) into a
 * model package with the layout finetune-log.json records (runs before it did so: ARCH_MODEL's,
 * with fc8 sized for the run's classes), no SVMs and no box regressors yet: the --init of
 * `rcnn train --stages svm,bbox`, which trains the other two models on this machine's CPU.
 * Usage: tsx tools/gpu-finetune/import.ts RUN_DIR ARCH_MODEL OUT_DIR
 *   RUN_DIR holds cnn.bin and finetune-log.json from finetune.py.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelPath, savePackageDir } from '../../src/model/packageNode';
import { weightShapes, type NamedWeights } from '../../src/model/caffenet';

const [runDir, archModel, outDir] = process.argv.slice(2);
if (!outDir) throw new Error('usage: tsx tools/gpu-finetune/import.ts RUN_DIR ARCH_MODEL OUT_DIR');
const base = await loadModelPath(archModel);
const run = JSON.parse(readFileSync(join(runDir, 'finetune-log.json'), 'utf8'));
const bin = readFileSync(join(runDir, 'cnn.bin'));
const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
// Runs before finetune-log.json recorded its classes trained on ARCH_MODEL's own.
const classes: string[] = run.classes ?? base.classes;
if (!classes) throw new Error(`${join(runDir, 'finetune-log.json')} names no classes and ${archModel} has none either`);
const architecture = run.architecture ?? { ...base.architecture, fc8: classes.length };
if (architecture.fc8 !== classes.length) throw new Error(`${join(runDir, 'finetune-log.json')}: fc8 has ${architecture.fc8} outputs for ${classes.length} classes`);
const weights: NamedWeights = {};
let o = 0;
for (const { name, shape } of weightShapes(architecture)) {
  const n = shape.reduce((a, b) => a * b, 1);
  if (JSON.stringify(run.shapes[name]) !== JSON.stringify(shape)) throw new Error(`${name}: finetune.py wrote ${JSON.stringify(run.shapes[name])}, the layout needs ${JSON.stringify(shape)}`);
  const data = all.slice(o, o + n);
  for (const v of data) if (!Number.isFinite(v)) throw new Error(`${name} holds a non-finite value`);
  weights[name] = { shape, data };
  o += n;
}
if (o !== all.length) throw new Error(`cnn.bin holds ${all.length} floats, the layout ${o}`);
await savePackageDir(
  {
    name: base.name,
    architecture,
    classes,
    weights,
    provenance: {
      createdBy: 'tools/gpu-finetune (finetune.py, then import.ts)',
      createdAt: new Date().toISOString(),
      notes: [
        run.kind === 'roi'
          ? `${run.command} (Fast R-CNN fine-tuning through RoI pooling: ${run.iterations} iterations on ${run.device}, torch ${run.torch}; its own softmax + box-layer detector on the validation images: mAP ${(100 * run.fastRcnnDetector.withRegression.map).toFixed(1)} %, ${(100 * run.fastRcnnDetector.withoutRegression.map).toFixed(1)} % without the box layer)`
          : `${run.command} (${run.iterations} iterations on ${run.device}, torch ${run.torch}; softmax mAP on the validation images ${(100 * run.softmaxMap).toFixed(1)} %)`,
      ],
    },
  },
  outDir,
);
console.log(`wrote ${outDir}: ${run.kind === 'roi' ? 'CNN fine-tuned through RoI pooling' : 'fine-tuned CNN'} of ${run.iterations} iterations (${run.device}), no SVMs or box regressors yet`);
