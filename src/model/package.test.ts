import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { caffeNetArch } from './architecture';
import { gaussian, randomWeights } from './caffenet';
import {
  type ModelPackage,
  PackageError,
  decodeBundle,
  decodePackage,
  encodeBundle,
  encodePackage,
  fetchPackage,
  floatsToHalf,
  halfsToFloats,
  identityTargetTransform,
  packageFromFiles,
} from './package';
import { defaultNmsThreshold } from '../core/nms';
import { loadModelPath, loadPackageDir, savePackageDir } from './packageNode';
import { sha256HexSync, sha256Hex } from './sha256';
import { exportOnnx } from './onnx/export';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function samplePackage(): ModelPackage {
  const arch = caffeNetArch({ width: 0.125, numClasses: 4, inputSize: 99 });
  const g = gaussian(3);
  const d5 = 32 * 2 * 2;
  const c = 3;
  return {
    name: 'sample',
    architecture: arch,
    classes: ['background', 'cat', 'dog', 'person'],
    weights: randomWeights(arch, { seed: 1 }),
    svm: {
      classes: ['cat', 'dog', 'person'],
      featureLayer: 'fc7',
      featureScale: 0.37,
      weights: Float32Array.from({ length: c * arch.fc7 }, () => g()),
      bias: Float32Array.from({ length: c }, () => g()),
    },
    boxRegressor: {
      classes: ['cat', 'dog', 'person'],
      featureLayer: 'pool5',
      featureScale: 0.5,
      weights: Float32Array.from({ length: c * d5 * 4 }, () => g()),
      bias: Float32Array.from({ length: c * 4 }, () => g()),
      ...identityTargetTransform(c),
    },
    provenance: { createdBy: 'test', createdAt: '2026-01-01T00:00:00Z', metrics: { 'VOC07 mAP': 0.1 } },
  };
}

/** Bit-exact comparison of float arrays (vitest's deep equality is slow on big typed arrays). */
function sameBits(a: Float32Array, b: Float32Array, what: string) {
  expect(b.length, what).toBe(a.length);
  expect(Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)), what).toBe(0);
}

function expectSame(a: ModelPackage, b: ModelPackage) {
  expect(b.architecture).toEqual(a.architecture);
  expect(b.classes).toEqual(a.classes);
  for (const [k, v] of Object.entries(a.weights)) sameBits(v.data, b.weights[k as 'fc6.weight']!.data, k);
  const { weights: sw, bias: sb, ...svm } = a.svm!;
  expect(b.svm).toMatchObject(svm);
  sameBits(sw, b.svm!.weights, 'svm.weight');
  sameBits(sb, b.svm!.bias, 'svm.bias');
  const r = a.boxRegressor!;
  expect(b.boxRegressor!.classes).toEqual(r.classes);
  expect(b.boxRegressor!.featureScale).toBe(r.featureScale);
  for (const k of ['weights', 'bias', 'targetMean', 'targetTransform'] as const) sameBits(r[k], b.boxRegressor![k], k);
  expect(b.provenance).toEqual(a.provenance);
  expect(b.detection).toEqual(a.detection);
}

describe('sha256', () => {
  it('matches WebCrypto and the FIPS test vectors', async () => {
    expect(sha256HexSync(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256HexSync(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    for (const n of [55, 56, 63, 64, 65, 1000]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 31) & 255);
      expect(sha256HexSync(b), String(n)).toBe(await sha256Hex(b));
    }
  });
});

describe('model package', () => {
  it('round-trips through manifest + files, a bundle, and a folder', async () => {
    const pkg = samplePackage();
    const { manifest, files } = await encodePackage(pkg);
    expect(manifest.files.map((f) => f.path)).toEqual(['cnn.bin', 'heads.bin']);
    expect(manifest.tensors.find((t) => t.name === 'bbox.weight')!.shape).toEqual([3, 128, 4]);
    expectSame(pkg, await decodePackage(manifest, files));
    expectSame(pkg, await decodeBundle(await encodeBundle(pkg)));
    const dir = await mkdtemp(join(tmpdir(), 'rcnn-pkg-'));
    dirs.push(dir);
    await savePackageDir(pkg, dir);
    expectSame(pkg, await loadPackageDir(dir));
    expectSame(pkg, await loadModelPath(dir));
    // The same folder's files dropped in the browser.
    const dropped = await Promise.all(['model.json', 'cnn.bin', 'heads.bin'].map(async (n) => ({ name: n, bytes: new Uint8Array(await readFile(join(dir, n))) })));
    expectSame(pkg, await packageFromFiles(dropped));
  });

  it("keeps the model's own NMS threshold, defaults to R-CNN's 0.3 without one, and refuses a bad one", async () => {
    const pkg = { ...samplePackage(), detection: { nmsThreshold: 0.45, note: 'chosen on validation' } };
    expect(defaultNmsThreshold(pkg)).toBe(0.45);
    expect(defaultNmsThreshold(samplePackage())).toBe(0.3);
    const back = await decodeBundle(await encodeBundle(pkg));
    expect(back.detection).toEqual({ nmsThreshold: 0.45, note: 'chosen on validation' });
    expect((await decodeBundle(await encodeBundle(samplePackage()))).detection).toBeUndefined();
    const { manifest, files } = await encodePackage(pkg);
    for (const bad of [1.5, 0, '0.4', null]) {
      await expect(decodePackage({ ...manifest, detection: { nmsThreshold: bad as number } }, files)).rejects.toThrow(/detection\.nmsThreshold must be a number between 0 and 1/);
    }
  });

  it('loads over fetch from a URL prefix with byte progress', async () => {
    const pkg = samplePackage();
    const { manifest, files } = await encodePackage(pkg);
    const served = new Map<string, Uint8Array>([['/models/x/model.json', new TextEncoder().encode(JSON.stringify(manifest))]]);
    for (const [p, b] of files) served.set(`/models/x/${p}`, b);
    const fakeFetch = (async (url: string) => {
      const b = served.get(url);
      return b ? new Response(b as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(b.length) } }) : new Response('nope', { status: 404 });
    }) as unknown as typeof fetch;
    const progress: Array<[number, number]> = [];
    const got = await fetchPackage('/models/x', { fetch: fakeFetch, onProgress: (a, b) => progress.push([a, b]) });
    expectSame(pkg, got);
    const total = manifest.files.reduce((s, f) => s + f.byteLength, 0);
    expect(progress[progress.length - 1]).toEqual([total, total]);
    await expect(fetchPackage('/models/missing', { fetch: fakeFetch })).rejects.toThrow(/HTTP 404/);
  });

  it("refuses manifest paths that leave the model's folder, and packages over the download cap, before fetching a binary", async () => {
    const { manifest, files } = await encodePackage(samplePackage());
    const requested: string[] = [];
    const serve = (m: unknown, binary: (url: string) => Response) =>
      (async (url: string) => {
        requested.push(url);
        return url.endsWith('/model.json') ? new Response(JSON.stringify(m)) : binary(url);
      }) as unknown as typeof fetch;
    const ok = (url: string) => new Response(files.get(url.split('/').pop()!) as Uint8Array<ArrayBuffer>);
    for (const bad of ['../../secret.bin', '/etc/passwd', 'https://elsewhere.example/cnn.bin', 'sub/../../x.bin', 'C:\\x.bin', '..']) {
      const m = { ...manifest, files: manifest.files.map((f, i) => (i === 0 ? { ...f, path: bad } : f)) };
      requested.length = 0;
      await expect(fetchPackage('https://models.example/m', { fetch: serve(m, ok) })).rejects.toThrow(
        `https://models.example/m/model.json lists the file ${JSON.stringify(bad)}, which is not a plain name inside the model's folder (like cnn.bin)`,
      );
      expect(requested).toEqual(['https://models.example/m/model.json']);
    }
    // The same check holds for dropped files and bundles (they share parseManifest).
    const m = { ...manifest, files: [{ ...manifest.files[0], path: '../cnn.bin' }] };
    await expect(packageFromFiles([{ name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(m)) }])).rejects.toThrow(/not a plain name inside the model's folder/);

    // A manifest listing more than the cap: refused from the manifest alone.
    requested.length = 0;
    const total = manifest.files.reduce((s, f) => s + f.byteLength, 0);
    await expect(fetchPackage('https://models.example/m', { fetch: serve(manifest, ok), maxBytes: total - 1 })).rejects.toThrow(/lists [\d.]+ MB of files, over the [\d.]+ MB download limit; nothing more was downloaded/);
    expect(requested).toEqual(['https://models.example/m/model.json']);
    // A binary that streams on past the cap: stopped there, named.
    const endless = () => new Response(new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array(65536)) }));
    const err = await fetchPackage('https://models.example/m', { fetch: serve(manifest, endless), maxBytes: total }).catch((e) => e);
    expect(err).toBeInstanceOf(PackageError);
    expect(err.file).toBe('cnn.bin');
    expect(err.message).toMatch(/^cnn\.bin \(https:\/\/models\.example\/m\/cnn\.bin\) is larger than the [\d.]+ MB download limit: stopped after [\d.]+ MB \(the server sent no length\)$/);
  });

  it('names the broken or truncated file', async () => {
    const pkg = samplePackage();
    const dir = await mkdtemp(join(tmpdir(), 'rcnn-pkg-'));
    dirs.push(dir);
    await savePackageDir(pkg, dir);
    const cnn = await readFile(join(dir, 'cnn.bin'));
    await writeFile(join(dir, 'cnn.bin'), cnn.subarray(0, cnn.length - 100));
    await expect(loadPackageDir(dir)).rejects.toThrow(new RegExp(`${join(dir, 'cnn.bin').replace(/[/.]/g, '\\$&')} is \\d+ bytes but the manifest says \\d+ \\(truncated`));
    const flipped = new Uint8Array(cnn);
    flipped[1234] ^= 1;
    await writeFile(join(dir, 'cnn.bin'), flipped);
    await expect(loadPackageDir(dir)).rejects.toThrow(/cnn\.bin is corrupt: SHA-256/);
    const bundle = await encodeBundle(pkg);
    await expect(decodeBundle(bundle.subarray(0, bundle.length - 10), 'm.rcnn')).rejects.toThrow(/m\.rcnn is truncated: heads\.bin needs/);
    const err = await decodeBundle(bundle.subarray(0, 20), 'm.rcnn').catch((e) => e);
    expect(err).toBeInstanceOf(PackageError);
    await expect(packageFromFiles([{ name: 'model.json', bytes: new TextEncoder().encode('{}') }])).rejects.toThrow(/not an R-CNN Explorer model manifest/);
  });

  it('stores float16 at half the size with bounded error', async () => {
    const pkg = samplePackage();
    const f32 = await encodePackage(pkg);
    const f16 = await encodePackage(pkg, { float16: true });
    const size = (m: typeof f32) => m.manifest.files.find((f) => f.path === 'cnn.bin')!.byteLength;
    expect(size(f16) / size(f32)).toBeLessThan(0.51);
    const back = await decodePackage(f16.manifest, f16.files);
    for (const [k, v] of Object.entries(pkg.weights)) {
      const got = back.weights[k as 'fc6.weight']!.data;
      for (let i = 0; i < v.data.length; i++) {
        const e = Math.abs(got[i] - v.data[i]);
        if (e > Math.abs(v.data[i]) * 2 ** -11 + 2 ** -24) throw new Error(`${k}[${i}]: ${v.data[i]} -> ${got[i]}`);
      }
    }
    sameBits(pkg.svm!.weights, back.svm!.weights, 'svm'); // heads stay float32
  });

  it('converts float16 exactly at the edges (subnormals, rounding to even, overflow)', () => {
    const xs = new Float32Array([0, -0, 1, -2, 65504, 65520, 1e-8, 6.1e-5, 5.96e-8, 2049, 2051, 0.1, Infinity, NaN]);
    const back = halfsToFloats(floatsToHalf(xs));
    expect(Array.from(back.slice(0, 6))).toEqual([0, -0, 1, -2, 65504, Infinity]);
    expect(back[6]).toBe(0);
    expect(back[7]).toBeCloseTo(6.1e-5, 7);
    expect(back[8]).toBeCloseTo(5.96e-8, 10);
    expect(back[9]).toBe(2048); // tie rounds to even
    expect(back[10]).toBe(2052);
    expect(back[11]).toBeCloseTo(0.1, 4);
    expect(back[12]).toBe(Infinity);
    expect(back[13]).toBeNaN();
  });

  it('imports an .onnx path directly', async () => {
    const pkg = samplePackage();
    delete pkg.svm;
    delete pkg.boxRegressor;
    const dir = await mkdtemp(join(tmpdir(), 'rcnn-pkg-'));
    dirs.push(dir);
    const p = join(dir, 'm.onnx');
    await writeFile(p, exportOnnx(pkg).bytes);
    const got = await loadModelPath(p);
    const { norm1, norm2, ...rest } = pkg.architecture;
    expect(got.architecture).toMatchObject(rest);
    // ONNX stores LRN alpha as float32.
    expect(got.architecture.norm1!.alpha).toBeCloseTo(norm1!.alpha, 10);
    expect(got.architecture.norm2!.beta).toBe(norm2!.beta);
    expect(got.provenance.source).toBe('m.onnx');
  });
});
