import { describe, expect, it } from 'vitest';
import { describeModelFiles, labelForUrl, modelSourceFromFiles, validateModelUrl } from './modelSources';

describe('model files', () => {
  it('labels file sets and URLs', () => {
    expect(describeModelFiles(['x.onnx'])).toBe('x.onnx');
    expect(describeModelFiles(['cnn.bin', 'model.json', 'heads.bin'])).toBe('model.json + 2 files');
    expect(describeModelFiles(['a.bin', 'b.bin'])).toBe('a.bin, b.bin');
    expect(labelForUrl('https://example.org/models/rcnn-ilsvrc13-9.onnx?raw=1')).toBe('rcnn-ilsvrc13-9.onnx');
    expect(labelForUrl('https://example.org/')).toBe('example.org');
  });

  it('accepts http(s) addresses only, resolved against the page', () => {
    expect(validateModelUrl(' https://a.org/m.onnx ')).toBe('https://a.org/m.onnx');
    expect(validateModelUrl('models/x/', 'http://127.0.0.1:4173/app/')).toBe('http://127.0.0.1:4173/app/models/x/');
    expect(() => validateModelUrl('')).toThrow(/Type the address/);
    expect(() => validateModelUrl('file:///etc/passwd')).toThrow(/http and https/);
    expect(() => validateModelUrl('javascript:alert(1)', 'http://x/')).toThrow(/http and https/);
  });

  it('turns one file into bytes and several into a package file set', async () => {
    const one = await modelSourceFromFiles([new File([new Uint8Array([1, 2, 3])], 'm.rcnn')]);
    expect(one.kind).toBe('bytes');
    if (one.kind === 'bytes') expect(new Uint8Array(one.bytes)).toEqual(new Uint8Array([1, 2, 3]));
    const many = await modelSourceFromFiles([new File(['{}'], 'model.json'), new File([new Uint8Array(4)], 'cnn.bin')]);
    expect(many.kind).toBe('files');
    if (many.kind === 'files') expect(many.files.map((f) => [f.name, f.bytes.byteLength])).toEqual([['model.json', 2], ['cnn.bin', 4]]);
    await expect(modelSourceFromFiles([])).rejects.toThrow(/no file/);
  });
});
