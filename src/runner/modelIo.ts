/**
 * The loaded model out of the app: one .rcnn bundle (the package format of src/model/package.ts),
 * written by the worker that holds the weights and saved through the browser's download.
 */
import { ensureCnn } from './cnn';

export async function downloadModelBundle(): Promise<{ name: string; bytes: number }> {
  const pool = await ensureCnn();
  const { bytes, name } = await pool.clients[0].exportBundle();
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return { name, bytes: bytes.byteLength };
}
