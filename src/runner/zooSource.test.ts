import { describe, expect, it } from 'vitest';
import { RCNN_ILSVRC13 } from '../model/zoo';
import { standInFile, zooOffer, zooPublished } from './zooSource';

const SHA = 'ab'.repeat(32);

describe('the zoo file the app offers', () => {
  it('is the published archive from its CORS-readable media address, checked against every published file', () => {
    const o = zooOffer('');
    expect(o.url).toBe('https://media.githubusercontent.com/media/onnx/models/main/validated/vision/classification/rcnn_ilsvrc13/model/rcnn-ilsvrc13-9.tar.gz');
    expect(o.manualUrl).toBe('https://github.com/onnx/models/raw/main/validated/vision/classification/rcnn_ilsvrc13/model/rcnn-ilsvrc13-9.tar.gz');
    expect(o.facts.file).toBe(RCNN_ILSVRC13.recommended);
    expect(o.facts.file).toMatchObject({ bytes: 214_642_550, sha256: 'ef3f40805e4257213440401536e28ad3aa6404ebce5a6cf9d7fcdb44fee09f37' });
    expect(o.facts.standIn).toBeUndefined();
  });

  it('takes the stand-in facts a test gives only for a loopback address', () => {
    const q = (url: string, bytes = '2144077', sha = SHA) => `?zoo-url=${encodeURIComponent(url)}&zoo-bytes=${bytes}&zoo-sha256=${sha}`;
    const local = zooOffer(q('http://127.0.0.1:5123/rcnn-ilsvrc13-9.tar.gz'));
    expect(local.facts).toEqual({ file: { name: 'rcnn-ilsvrc13-9.tar.gz', kind: 'tar.gz', url: 'http://127.0.0.1:5123/rcnn-ilsvrc13-9.tar.gz', mediaUrl: 'http://127.0.0.1:5123/rcnn-ilsvrc13-9.tar.gz', bytes: 2144077, sha256: SHA, opset: 9 }, published: [local.facts.file], standIn: true });
    expect(standInFile(new URLSearchParams(q('http://localhost:80/x.onnx')))?.kind).toBe('onnx');
    // Anything else leaves the published facts in place.
    for (const bad of [
      q('https://evil.example/rcnn-ilsvrc13-9.tar.gz'),
      q('http://127.0.0.1.evil.example/rcnn-ilsvrc13-9.tar.gz'),
      q('http://127.0.0.1:5123/rcnn-ilsvrc13-9.tar.gz', '-5'),
      q('http://127.0.0.1:5123/rcnn-ilsvrc13-9.tar.gz', '100', 'xyz'),
      q('http://127.0.0.1:5123/model.zip'),
      q('file:///tmp/rcnn-ilsvrc13-9.tar.gz'),
    ]) {
      expect(zooOffer(bad).facts.file).toBe(RCNN_ILSVRC13.recommended);
      expect(zooPublished(bad).standIn).toBe(false);
    }
  });
});
