/**
 * What a verified zoo file adds to the imported package's provenance (its checksum, the test
 * data's numbers, the card's facts), the same for `rcnn import` and the app's CNN worker.
 */
import type { ModelPackage } from './package';
import type { TestDataParity } from './onnx/testData';
import { type ModelDownload, RCNN_ILSVRC13 } from './zoo';

export function recordZooProvenance(
  pkg: ModelPackage,
  download: Pick<ModelDownload, 'bytes' | 'sha256' | 'modelPath'> & { published: { name: string } | null },
  parity: TestDataParity | null,
): void {
  const notes = pkg.provenance.notes ?? [];
  notes.push(
    download.published
      ? `verified: ${download.published.name}, ${download.bytes} bytes, SHA-256 ${download.sha256} as published by the ONNX Model Zoo (${RCNN_ILSVRC13.licence})`
      : `read from ${download.modelPath} (${download.bytes} bytes, SHA-256 ${download.sha256}); not a published file, so no checksum to compare`,
  );
  if (parity) {
    notes.push(`the file's ${parity.sets.length} test sets reproduced on tfjs-${parity.backend} at ${parity.inputShape.join('x')}: max relative error ${parity.maxRelativeError.toExponential(2)} (tolerance ${parity.tolerance})`);
    pkg.provenance.metrics = { ...pkg.provenance.metrics, 'test data max relative error': parity.maxRelativeError };
  }
  if (download.published) {
    notes.push(`${RCNN_ILSVRC13.mAP.percent} % mAP on ${RCNN_ILSVRC13.mAP.dataset} as the zoo states it, ${RCNN_ILSVRC13.mAP.note}; ${RCNN_ILSVRC13.svmsFolded}`);
  }
  pkg.provenance.notes = notes;
}
