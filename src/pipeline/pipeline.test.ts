/**
 * One pipeline: the app's path (CNN worker protocol and pool, the app's Detector, the NMS the
 * panels read, with InteractiveNms), the `rcnn eval` path (training workers, heads on the main
 * thread, evaluateModel) and the `rcnn detect` path (an in-process Detector) give the same
 * detections on the same photo and proposals, with the bundled model. 32 proposals keep it quick;
 * the code paths are the same at 2000.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useNodeBackend } from '../model/node';
import { loadModelPath } from '../model/packageNode';
import type { BackendInfo } from '../model/backend';
import { type ModelPackage, encodeBundle } from '../model/package';
import { CnnWorkerHost } from '../workers/cnnWorkerHost';
import type { CnnRequest, CnnResponse } from '../workers/cnnProtocol';
import { CnnWorkerClient, type WorkerLike } from '../runner/cnnWorkerClient';
import { CnnWorkerPool } from '../runner/cnnWorkerPool';
import { appDetector, type FeaturesResult } from '../runner/cnnActions';
import type { ProposalsResult } from '../runner/proposalActions';
import { computeNms, regressedBoxes } from '../state/derived';
import { loadImageFile } from '../cli/io';
import { selectiveSearch } from '../core/selectiveSearch/index';
import { makeGroundTruth } from '../core/dataset/groundTruth';
import { startFeaturePool } from '../cli/train/trainerPool';
import { evaluateModel, EVAL_DEFAULTS } from '../cli/train/evaluate';
import type { DatasetImage } from '../cli/train/data';
import { createInProcessDetector } from './inProcess';
import type { Detection } from '../core/detect';

const MODEL = 'public/models/fruit-animals';
const N = 32;
const IOU = 0.3;

let pkg: ModelPackage;
let image: ReturnType<typeof loadImageFile>['image'];
let proposals: Float32Array;
let hostPort: MessagePort;
let clientPort: MessagePort;

beforeAll(async () => {
  await useNodeBackend('wasm');
  pkg = await loadModelPath(MODEL);
  image = loadImageFile('public/samples/fruits.jpg').image;
  proposals = selectiveSearch(image, { maxBoxes: N }).boxes;
  const ch = new MessageChannel();
  hostPort = ch.port1;
  clientPort = ch.port2;
  const host = new CnnWorkerHost((msg: CnnResponse, transfer?: ArrayBuffer[]) => hostPort.postMessage(msg, transfer ?? []), {
    chooseBackend: async () => ({ name: 'wasm', requested: 'wasm', fellBack: false, software: false, notes: [] }) satisfies BackendInfo,
  });
  hostPort.onmessage = (e: MessageEvent<CnnRequest>) => host.handle(e.data);
  (clientPort as unknown as { start(): void }).start();
});

afterAll(() => {
  hostPort.close();
  clientPort.close();
});

/** Per class, the kept detections as [score, x1, y1, x2, y2], best first. */
function byClass(dets: readonly Detection[], C: number): number[][][] {
  const out: number[][][] = Array.from({ length: C }, () => []);
  for (const d of dets) out[d.classIndex].push([d.score, ...d.box]);
  return out;
}

function expectSame(a: number[][][], b: number[][][]) {
  expect(a.map((l) => l.length)).toEqual(b.map((l) => l.length));
  a.forEach((l, c) => l.forEach((row, k) => row.forEach((v, j) => expect(Math.abs(v - b[c][k][j]), `class ${c} detection ${k} value ${j}: ${v} vs ${b[c][k][j]}`).toBeLessThan(j === 0 ? 1e-4 : 1e-2))));
}

describe('one pipeline for the app, rcnn eval and rcnn detect', () => {
  it.each(['warp', 'roi'] as const)('gives the same detections on the same photo and proposals (%s features)', async (mode) => {
    const classes = pkg.svm!.classes;
    const C = classes.length;
    expect(pkg.boxRegressor?.classes).toEqual(classes);

    // The app: CNN worker (protocol over a MessageChannel), its pool, the app's Detector, the panels' NMS.
    const pool = new CnnWorkerPool([new CnnWorkerClient(clientPort as unknown as WorkerLike)]);
    await pool.init('wasm');
    const bundle = await encodeBundle(pkg);
    const info = await pool.loadModel({ kind: 'bytes', name: 'bundled.rcnn', bytes: bundle.buffer.slice(bundle.byteOffset, bundle.byteOffset + bundle.byteLength) as ArrayBuffer });
    const scores = new Float32Array(N * C).fill(NaN);
    const deltas = new Float32Array(N * C * 4);
    await appDetector(pool, info).extract(image, proposals, {
      features: mode,
      onBatch: (b) => {
        scores.set(b.svmScores!, b.start * C);
        deltas.set(b.bboxDeltas!, b.start * C * 4);
      },
    });
    const features = { proposals: { boxes: proposals } as ProposalsResult, scores, deltas, classes, done: N } as unknown as FeaturesResult;
    const regressed = regressedBoxes(features, image.width, image.height);
    const app = computeNms(features, regressed, { scoreThreshold: -Infinity, iouThreshold: IOU, convention: 'continuous', useRegression: true })!;
    expect(app.regressed).toBe(true);

    // rcnn eval (and the trainer's validation): training workers, heads on this thread, evaluateModel.
    const im: DatasetImage = { id: 'fruits', record: {} as DatasetImage['record'], raster: image, sx: 1, sy: 1, width: image.width, height: image.height, proposals, gt: makeGroundTruth([], []) };
    const trainer = await startFeaturePool(1, pkg.architecture, pkg.weights, [im], { features: mode });
    let evalDets;
    try {
      evalDets = (await evaluateModel(trainer, [im], classes, pkg.svm!, pkg.boxRegressor!, { ...EVAL_DEFAULTS, proposals: N, nmsThreshold: IOU }, () => {})).detections[0].withRegression[0];
    } finally {
      await trainer.dispose();
    }
    const evalByClass = evalDets.map((l) => Array.from(l.scores, (s, k) => [s, ...l.boxes.subarray(4 * k, 4 * k + 4)]));

    // rcnn detect: the in-process Detector.
    const detector = createInProcessDetector(pkg);
    const run = await detector.detect(image, { proposals, iouThreshold: IOU, features: mode });
    await detector.dispose();

    const appByClass = byClass(app.detections, C);
    expect(appByClass.flat().length).toBeGreaterThan(C); // several boxes per class survive NMS at 32 proposals
    expectSame(appByClass, evalByClass);
    expectSame(appByClass, byClass(run.detections, C));
    await pool.dispose();
  });
});
