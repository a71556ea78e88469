/**
 * The Python interpreter the PyTorch tools run under, for tests (finetune.test.ts,
 * torchOnnx.test.ts, the e2e ONNX test): PYTHON, else Debian's /usr/bin/python3 where it exists
 * (.ci/run installs python3-torch python3-numpy python3-pil there), else python3 on the PATH.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const ROOT = new URL('../../', import.meta.url).pathname;

/** Runs PYTHON with `args` in the repository root; returns stdout, or throws with its stderr. */
export function python(args: string[]): string {
  try {
    return execFileSync(PYTHON, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${PYTHON} ${args.join(' ')} failed (the PyTorch tools need PyTorch, NumPy and Pillow: apt-get install python3-torch python3-numpy python3-pil, or set PYTHON): ${err.stderr || err.message}`);
  }
}
