import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { CliError } from './command';
import { decodeAndPrepare, type PreparedImage } from '../core/image/decode';
import type { ModelPackage } from '../model/package';
import { loadModelPath } from '../model/packageNode';

/** Read and decode an image file (bytes sniffed, EXIF applied, working raster built). */
export function loadImageFile(path: string, maxSide?: number): PreparedImage {
  let bytes: Uint8Array;
  try {
    if (statSync(path).isDirectory()) throw new CliError(`${path} is a directory, not an image file`);
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path}: ${(e as Error).message}`);
  }
  return decodeAndPrepare(bytes, basename(path), maxSide);
}

/** Print progress on stderr, overwriting the line when stderr is a terminal. */
export function progressPrinter(stderr: (t: string) => void, isTTY = Boolean(process.stderr.isTTY)) {
  let last = 0;
  return (label: string, done: number, total: number) => {
    const now = Date.now();
    if (done < total && now - last < 200) return;
    last = now;
    const pct = total > 0 ? Math.round((100 * done) / total) : 100;
    const line = `${label}: ${done}/${total} (${pct}%)`;
    stderr(isTTY ? `\r${line}${done >= total ? '\n' : ''}` : `${line}\n`);
  };
}

/** A model for a command (--model, --init): a package folder, its model.json, a .rcnn bundle or an .onnx file. */
export async function loadModelForCli(path: string, option = '--model'): Promise<ModelPackage> {
  try {
    return await loadModelPath(path);
  } catch (e) {
    throw new CliError(`cannot load the model ${path} (${option}): ${(e as Error).message}`, 1, 'Give a model package folder (model.json with its .bin files), a .rcnn bundle or an AlexNet-family .onnx file.');
  }
}
