import { useMemo, useState } from 'react';
import { useStore } from '../../state/store';
import { BUNDLED_MODELS, bundledModelUrl, computeFeatures, loadUserModel } from '../../runner/cnnActions';
import { DEFAULT_ROI_SCALE, ROI_SCALE_TEXT, roiImageSizes } from '../../model/roiGeometry';
import { MODE_LABEL } from './FeatureModeSwitch';
import { formatMacs, formatMs, macsSummary, runsByMode } from './compare';
import type { FeatureMode } from '../../model/extract';

const PARTS: Record<FeatureMode, Array<[string, string]>> = {
  warp: [
    ['warp', 'warp'],
    ['cnn', 'conv1-fc7 + heads'],
  ],
  roi: [
    ['conv', 'conv1-conv5 (photo)'],
    ['roiPool', 'RoI pooling'],
    ['fc', 'fc6, fc7 + heads'],
  ],
};

/**
 * Both paths side by side on this photo: the measured wall time of each run (and where the
 * workers spent it), and the multiply-adds the architecture implies: R-CNN runs the conv layers
 * once per proposal, the shared path once per photo. The papers' numbers give the scale.
 */
export function PathComparison({ detailed }: { detailed: boolean }) {
  const features = useStore((s) => s.features);
  const other = useStore((s) => s.otherFeatures);
  const image = useStore((s) => s.image);
  const model = useStore((s) => s.model);
  const proposals = useStore((s) => s.proposals);
  const runs = runsByMode(features, other, image?.key);
  const n = proposals && image && proposals.imageKey === image.key ? proposals.boxes.length / 4 : 0;
  const scale = model?.headFeatures?.roiScale ?? DEFAULT_ROI_SCALE;
  const macs = useMemo(() => (model && image && n ? macsSummary(model.architecture, image.image.width, image.image.height, n, scale) : null), [model, image, n, scale]);
  const roiSizes = image && model ? roiImageSizes(image.image.width, image.image.height, scale, model.architecture.inputHeight) : null;
  if (!model || !image) return null;
  const both = runs.warp && runs.roi;
  const heads = model.headFeatures ? 'trained on RoI-pooled features' : 'trained on warped crops';
  return (
    <section className="path-compare" aria-labelledby={`path-compare-h-${detailed ? 'f' : 'd'}`} data-testid="path-compare">
      <h3 id={`path-compare-h-${detailed ? 'f' : 'd'}`}>Why R-CNN is slow: the two paths on this photo</h3>
      <table className="table" data-testid="path-table">
        <thead>
          <tr>
            <th scope="col">path</th>
            <th scope="col">measured</th>
            <th scope="col">proposals/s</th>
            <th scope="col">multiply-adds</th>
          </tr>
        </thead>
        <tbody>
          {(['warp', 'roi'] as const).map((m) => {
            const r = runs[m];
            const ops = macs ? (m === 'warp' ? macs.warp : macs.shared) : null;
            return (
              <tr key={m} data-testid={`path-row-${m}`}>
                <th scope="row">{MODE_LABEL[m]}</th>
                <td data-testid={`path-time-${m}`} data-ms={r ? r.ms : ''}>
                  {r ? formatMs(r.ms) : <span className="muted">not run</span>}
                  {r && detailed && (
                    <span className="small muted">
                      {' '}
                      ({PARTS[m].filter(([k]) => r.stageMs[k] !== undefined).map(([k, label]) => `${label} ${formatMs(r.stageMs[k]!)}`).join(', ')}
                      {r.tfMemory && r.tfMemory.workers > 1 ? `, summed over ${r.tfMemory.workers} workers` : ''})
                    </span>
                  )}
                </td>
                <td>{r ? r.cropsPerSecond.toFixed(0) : '–'}</td>
                <td>{ops ? formatMacs(ops) : '–'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="small" data-testid="path-ratio">
        {both ? (
          <>
            On this photo the shared path was <strong>{(runs.warp!.ms / runs.roi!.ms).toFixed(1)}x</strong> faster ({formatMs(runs.warp!.ms)} vs {formatMs(runs.roi!.ms)} for {n} proposals on{' '}
            {runs.roi!.backend}
            {macs ? `; ${(macs.warp / macs.shared).toFixed(0)}x fewer multiply-adds` : ''}).
          </>
        ) : (
          <>Run both paths (switch above) to compare their times on this photo.</>
        )}
      </p>
      {macs && roiSizes && (
        <p className="small muted">
          R-CNN runs conv1-conv5 on every one of the {n} warped crops: {formatMacs(macs.warp - (macs.shared - macs.sharedConv))} of its {formatMacs(macs.warp)} multiply-adds. The shared path runs them once on the whole photo,
          resized to {roiSizes.map((r) => `${r.width} x ${r.height}`).join(', ')} ({ROI_SCALE_TEXT[scale]}): {formatMacs(macs.sharedConv)}, and only fc6 and fc7 per proposal ({formatMacs(macs.sharedFc)}). The SVMs and box regressors are
          this model's, {heads}{model.headFeatures ? '' : ': on RoI features they score features unlike those they were trained on, so expect weaker detections (retrained heads: rcnn train --stages svm,bbox --features roi)'}.
        </p>
      )}
      <OtherBundledModel />
      {detailed && macs && (
        <details>
          <summary>Multiply-adds per layer</summary>
          <table className="table" data-testid="macs-table">
            <thead>
              <tr>
                <th scope="col">layer</th>
                <th scope="col">per crop</th>
                <th scope="col">R-CNN: x {n} crops</th>
                <th scope="col">shared conv</th>
              </tr>
            </thead>
            <tbody>
              {macs.layers.map((l) => (
                <tr key={l.name}>
                  <th scope="row">{l.name}</th>
                  <td>{formatMacs(l.perCrop)}</td>
                  <td>{formatMacs(l.warp)}</td>
                  <td>
                    {formatMacs(l.shared)} <span className="muted small">{l.kind === 'conv' ? 'once, whole photo' : `x ${n} RoIs`}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
      <p className="small muted">
        The papers, for scale (one K40 GPU, VGG16, proposals not counted): R-CNN took 47 s per image, Fast R-CNN 0.32 s, 146x faster at test time (Fast R-CNN, ICCV 2015, Table 4); SPPnet had
        introduced pooling regions out of one conv5. Fast R-CNN also fine-tunes the network through RoI pooling, so that fc6 learns pooled features instead of warped crops (docs/fast-rcnn.md).
      </p>
    </section>
  );
}

/**
 * With one of the bundled models loaded, the other one a click away: the R-CNN model's heads were
 * trained on warped crops, the Fast R-CNN model's network was fine-tuned through RoI pooling and
 * its heads on RoI features, so each path is at its best with its own model.
 */
function OtherBundledModel() {
  const source = useStore((s) => s.modelSource);
  const [loading, setLoading] = useState(false);
  const current = BUNDLED_MODELS.findIndex((m) => m.label === source);
  if (current < 0) return null;
  const other = BUNDLED_MODELS[1 - current];
  const toFast = current === 0;
  return (
    <p className="small" data-testid="other-bundled-model">
      {toFast
        ? 'This network was fine-tuned on warped crops only. The bundled Fast R-CNN model is the same network fine-tuned further through RoI pooling, with SVMs and box regressors trained on its RoI features: the shared path at its own accuracy.'
        : 'This network was fine-tuned through RoI pooling and its SVMs and box regressors were trained on RoI features, so the warp path scores features unlike those it learnt. The bundled R-CNN model is the one made for warped crops.'}{' '}
      <button
        className="btn"
        disabled={loading}
        onClick={async () => {
          // A path that had run on this photo runs again on the new model (its path), as the user
          // asked to see it; a new model drops the old one's runs.
          const st = useStore.getState();
          const ran = !!(st.features || st.otherFeatures);
          setLoading(true);
          try {
            if ((await loadUserModel({ kind: 'url', url: bundledModelUrl(other.dir) }, other.label)) && ran) void computeFeatures();
          } finally {
            setLoading(false);
          }
        }}
        data-testid="use-other-bundled"
      >
        {loading ? `Loading the ${other.title} model…` : `Use the ${other.title} model`}
      </button>
    </p>
  );
}
