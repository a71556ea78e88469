import { useEffect, useState } from 'react';
import { datasetStore } from '../../runner/datasetActions';

/**
 * An object URL of a dataset photo's bytes, read from storage when `enabled` (e.g. once a
 * thumbnail scrolls into view) and revoked when the component goes. The browser shows it upright
 * (CSS image-orientation: from-image), as the decoder turns it.
 */
export function usePhotoUrl(id: string | null, enabled = true): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!id || !enabled) return;
    let u: string | null = null;
    let live = true;
    void datasetStore()
      .bytes(id)
      .then((b) => {
        if (!live || !b) return;
        u = URL.createObjectURL(new Blob([b as BlobPart]));
        setUrl(u);
      });
    return () => {
      live = false;
      if (u) URL.revokeObjectURL(u);
      setUrl(null);
    };
  }, [id, enabled]);
  return url;
}
