/**
 * Model packages on the Node file system (CLI, training). Not for the browser bundle.
 */
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  type EncodeOptions,
  type ModelPackage,
  MANIFEST_FILE,
  PackageError,
  decodeBundle,
  decodePackage,
  encodeBundle,
  encodePackage,
  isBundle,
  parseManifest,
} from './package';
import { sniffModelFile } from './modelSniff';

/** Writes model.json + cnn.bin (+ heads.bin) into `dir` (created if needed). */
export async function savePackageDir(pkg: ModelPackage, dir: string, opts: EncodeOptions = {}): Promise<string[]> {
  const { manifest, files } = await encodePackage(pkg, opts);
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [path, bytes] of files) {
    await writeFile(join(dir, path), bytes);
    written.push(join(dir, path));
  }
  // The manifest last: a folder with a manifest is complete.
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 1) + '\n');
  written.push(join(dir, MANIFEST_FILE));
  return written;
}

export async function savePackageBundle(pkg: ModelPackage, file: string, opts: EncodeOptions = {}): Promise<void> {
  await writeFile(file, await encodeBundle(pkg, opts));
}

/** Reads a package folder (model.json + binaries), verifying sizes and checksums. */
export async function loadPackageDir(dir: string): Promise<ModelPackage> {
  const mpath = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(mpath, 'utf8');
  } catch {
    const listing = await readdir(dir).catch(() => [] as string[]);
    throw new PackageError(`${mpath} not found${listing.length ? ` (folder has: ${listing.slice(0, 8).join(', ')})` : ''}`, mpath);
  }
  const manifest = parseManifest(text, mpath);
  const files = new Map<string, Uint8Array>();
  for (const f of manifest.files) {
    const p = join(dir, f.path);
    try {
      files.set(f.path, new Uint8Array(await readFile(p)));
    } catch {
      throw new PackageError(`${p} is missing (listed in ${MANIFEST_FILE})`, p);
    }
  }
  try {
    return await decodePackage(manifest, files);
  } catch (e) {
    if (e instanceof PackageError && e.file && !e.file.includes('/')) throw new PackageError(e.message.replace(e.file, join(dir, e.file)), join(dir, e.file));
    throw e;
  }
}

/**
 * A package from a path: a package folder, a .rcnn bundle, or an .onnx model (imported on the
 * fly; see onnx/import.ts).
 */
export async function loadModelPath(path: string): Promise<ModelPackage> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new PackageError(`no such file or folder: ${path}`, path);
  }
  if (s.isDirectory()) return loadPackageDir(path);
  const bytes = new Uint8Array(await readFile(path));
  if (isBundle(bytes)) return decodeBundle(bytes, path);
  if (basename(path) === 'model.json') return loadPackageDir(join(path, '..'));
  if (/\.json$/i.test(path)) throw new PackageError(`${path} is not a package manifest: a package's manifest is named model.json and sits beside its .bin files`, path);
  // Named for what they are (model/modelSniff.ts), not as failed ONNX ("unsupported wire type").
  const kind = sniffModelFile(bytes, basename(path));
  if (kind === 'package-binary') throw new PackageError(`${path} looks like one weight file of a model package: give the folder that holds it and its model.json`, path);
  if (kind === 'not-a-bundle') throw new PackageError(`${path} is named .rcnn but is not a bundle (a bundle starts with RCNNPKG1; this one does not): it may be truncated or another kind of file`, path);
  const { importOnnx } = await import('./onnx/import');
  return importOnnx(bytes, { source: basename(path) }).pkg;
}
