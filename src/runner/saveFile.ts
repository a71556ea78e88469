/**
 * Saves bytes or a Blob as a file the browser downloads (the page's only way to write a file):
 * the Detections export, the model bundle, the Train view's model, card and VOC zip.
 */
export function saveFile(data: Blob | Uint8Array | ArrayBuffer, name: string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(data instanceof Blob ? data : new Blob([data as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Revoked later: a click starts the download asynchronously.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
