import { describe, expect, it } from 'vitest';
import { useStore } from './store';
import type { ModelInfo } from '../workers/cnnProtocol';

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
