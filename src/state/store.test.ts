import { describe, expect, it } from 'vitest';
import { useStore } from './store';
import type { ModelInfo } from '../model/modelInfo';

const info = (name: string, nms?: number) => ({ name, detection: nms === undefined ? null : { nmsThreshold: nms } }) as unknown as ModelInfo;

describe('store: the NMS threshold follows the loaded model', () => {
  it("starts at the model's own threshold, R-CNN's 0.3 without one, and keeps the user's value for the same model", () => {
    const st = () => useStore.getState();
    expect(st().nmsParams.iouThreshold).toBe(0.3);
    st().setModel(info('bundled', 0.4), 'bundled');
    expect(st().nmsParams.iouThreshold).toBe(0.4);
    st().setNmsParams({ iouThreshold: 0.55 });
    st().setModel(info('bundled', 0.4), 'bundled'); // the same model again (e.g. reloaded): the user's value stays
    expect(st().nmsParams.iouThreshold).toBe(0.55);
    st().setModel(info('imported.onnx'), 'imported.onnx');
    expect(st().nmsParams.iouThreshold).toBe(0.3);
    expect(st().nmsParams.scoreThreshold).toBe(0); // only the IoU threshold changes
  });
});

describe('store: messages', () => {
  it('keeps the last four, drops repeats, and lets a group (model loading) hold one message that a success clears', () => {
    const st = () => useStore.getState();
    st().clearMessages();
    st().pushMessage({ kind: 'warning', text: 'photo note' });
    for (const f of ['a.onnx', 'b.onnx', 'c.onnx']) st().pushMessage({ kind: 'error', text: `Could not load the model ${f}`, group: 'model-load' });
    expect(st().messages.map((m) => m.text)).toEqual(['photo note', 'Could not load the model c.onnx']);
    st().pushMessage({ kind: 'warning', text: 'photo note' });
    expect(st().messages.map((m) => m.text)).toEqual(['Could not load the model c.onnx', 'photo note']);
    for (const t of ['1', '2', '3', '4']) st().pushMessage({ kind: 'info', text: t });
    expect(st().messages.map((m) => m.text)).toEqual(['1', '2', '3', '4']);
    st().pushMessage({ kind: 'error', text: 'Could not load the model d.onnx', group: 'model-load' });
    st().clearMessageGroup('model-load');
    expect(st().messages.map((m) => m.text)).toEqual(['2', '3', '4']);
  });
});

describe('store: the warp / shared-convolution switch', () => {
  type F = NonNullable<ReturnType<typeof useStore.getState>['features']>;
  const run = (mode: 'warp' | 'roi', complete = true) => ({ mode, complete, imageKey: 'k', ms: mode === 'warp' ? 9000 : 700 }) as unknown as F;
  it('keeps the complete run it switches from and brings back the run of the mode it switches to', () => {
    const st = () => useStore.getState();
    st().setModel(info('bundled', 0.3), 'bundled');
    expect(st().featureMode).toBe('warp');
    const warp = run('warp');
    st().setFeatures(warp);
    st().setFeatureMode('roi');
    expect(st().features).toBeNull(); // the shared path has not run yet
    expect(st().otherFeatures).toBe(warp);
    const roi = run('roi');
    st().setFeatures(roi);
    st().setFeatureMode('warp');
    expect([st().features, st().otherFeatures]).toEqual([warp, roi]);
    // A cancelled (incomplete) run is dropped; the other mode's complete run stays.
    st().setFeatures(run('warp', false));
    st().setFeatureMode('roi');
    expect([st().features, st().otherFeatures]).toEqual([roi, null]);
    // New proposals drop both.
    st().setFeatureMode('warp');
    st().setProposals(null);
    expect([st().features, st().otherFeatures]).toEqual([null, null]);
  });

  it('follows what a newly loaded model\'s heads were trained on', () => {
    const st = () => useStore.getState();
    st().setModel({ ...info('roi heads', 0.3), headFeatures: { mode: 'roi', roiScale: 'fast-rcnn' } } as unknown as ModelInfo, 'roi');
    expect(st().featureMode).toBe('roi');
    st().setModel(info('bundled', 0.3), 'bundled');
    expect(st().featureMode).toBe('warp');
  });
});
