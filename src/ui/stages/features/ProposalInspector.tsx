import { useMemo } from 'react';
import { useStore } from '../../../state/store';
import type { LayerName } from '../../../model/architecture';
import { warpedCropRgba } from '../warp/crops';
import { classColor } from '../../palette';
import { PixelCanvas, rgbToRgbaPixels } from './PixelCanvas';
import { ActivationGrid } from './ActivationGrid';
import { Fc7Strip } from './Fc7Strip';
import { SPATIAL_LAYERS, type InspectionState } from './useInspection';
import type { Conv1Weights } from './conv1Weights';
import { topClass } from './maps';

const STRIP = 8;

function Thumb({ index, selected, onSelect }: { index: number; selected: boolean; onSelect: (i: number) => void }) {
  const image = useStore((s) => s.image);
  const proposals = useStore((s) => s.proposals);
  const px = useMemo(() => (image && proposals ? warpedCropRgba(image.image, proposals.boxes.subarray(4 * index, 4 * index + 4)).data : null), [image, proposals, index]);
  return (
    <button className={`crop-thumb${selected ? ' crop-selected' : ''}`} onClick={() => onSelect(index)} aria-label={`Proposal ${index + 1}`} aria-current={selected || undefined} data-testid="feature-thumb">
      <PixelCanvas width={227} height={227} pixels={px} cssWidth={40} cssHeight={40} />
    </button>
  );
}

interface Props {
  index: number;
  count: number;
  inspection: InspectionState;
  layer: LayerName;
  onLayer: (l: LayerName) => void;
  channel: number | null;
  onChannel: (c: number | null) => void;
  conv1: Conv1Weights | null;
}

/** The selected proposal: its crop as the network saw it, a layer's channel maps, and its fc7. */
export function ProposalInspector({ index, count, inspection, layer, onLayer, channel, onChannel, conv1 }: Props) {
  const select = useStore((s) => s.setSelectedProposal);
  const features = useStore((s) => s.features);
  const data = inspection.data && inspection.data.index === index ? inspection.data : null;
  const cropPx = useMemo(() => (data?.crop ? rgbToRgbaPixels(data.crop, data.cropSize * data.cropSize) : null), [data]);
  const act = data?.layers[layer];
  const fc7 = data?.layers.fc7?.data;
  const start = Math.max(0, Math.min(count - STRIP, index - (index % STRIP)));
  const scored = features && features.scores && features.classes && features.computed[index] ? topClass(features.scores, features.classes.length, index) : null;
  const go = (i: number) => {
    select(Math.max(0, Math.min(count - 1, i)));
    onChannel(null);
  };
  return (
    <section className="inspector" aria-labelledby="inspector-h">
      <div className="row inspector-nav">
        <h3 id="inspector-h">Proposal</h3>
        <button className="btn" onClick={() => go(index - 1)} disabled={index <= 0} aria-label="Previous proposal" data-testid="prev-proposal">
          ‹
        </button>
        <label className="small">
          #{' '}
          <input
            type="number"
            min={1}
            max={count}
            value={index + 1}
            onChange={(e) => {
              const v = Math.round(Number(e.target.value));
              if (Number.isFinite(v) && v >= 1 && v <= count) go(v - 1);
            }}
            style={{ width: 64 }}
            aria-label="Proposal number"
            data-testid="proposal-number"
          />{' '}
          of {count}
        </label>
        <button className="btn" onClick={() => go(index + 1)} disabled={index >= count - 1} aria-label="Next proposal" data-testid="next-proposal">
          ›
        </button>
      </div>
      <div className="thumb-strip" role="group" aria-label={`Proposals ${start + 1} to ${Math.min(count, start + STRIP)}`}>
        {Array.from({ length: Math.min(STRIP, count) }, (_, k) => start + k).map((i) => (
          <Thumb key={i} index={i} selected={i === index} onSelect={go} />
        ))}
      </div>
      <div className="inspector-top">
        <div className="inspector-crop">
          {cropPx ? (
            <PixelCanvas width={data!.cropSize} height={data!.cropSize} pixels={cropPx} cssWidth={150} cssHeight={150} label={`Proposal ${index + 1} as the network received it, ${data!.cropSize} by ${data!.cropSize}`} testId="inspector-crop" />
          ) : (
            <div className="crop-placeholder" style={{ width: 150, height: 150 }} />
          )}
        </div>
        <div className="small" aria-live="polite">
          {inspection.status === 'error' ? (
            <p className="error-text" role="alert">
              The network could not run on this proposal: {inspection.message}
            </p>
          ) : !data ? (
            <p className="muted">Running proposal #{index + 1} through the network…</p>
          ) : (
            <>
              <p>
                The warped {data.cropSize} × {data.cropSize} crop that entered the network (read back from the {data.backend} backend), and what every layer made of it.
              </p>
              <p className="muted">
                One forward pass with all intermediate layers: {data.ms.toFixed(0)} ms
                {inspection.status === 'loading' ? ' (updating…)' : ''}.
              </p>
            </>
          )}
          {scored && (
            <p data-testid="inspector-class">
              Top SVM score: <span className="swatch" style={{ background: scored.cls >= 0 ? classColor(scored.cls) : '#9aa3ad' }} aria-hidden="true" />
              {scored.cls >= 0 ? features!.classes![scored.cls] : 'background (all scores below 0)'} {scored.score.toFixed(2)}
            </p>
          )}
        </div>
      </div>
      <div className="row">
        <label>
          Layer{' '}
          <select value={layer} onChange={(e) => { onLayer(e.target.value as LayerName); onChannel(null); }} data-testid="layer-select">
            {SPATIAL_LAYERS.map((l) => (
              <option key={l} value={l}>
                {l}
                {data?.layers[l] ? ` (${data.layers[l]!.shape.slice(-3).join(' × ')})` : ''}
              </option>
            ))}
          </select>
        </label>
      </div>
      {act ? <ActivationGrid layer={layer} shape={act.shape} data={act.data} conv1={conv1} channel={channel} onChannel={onChannel} /> : <div className="act-placeholder" />}
      <h4>fc7: the feature R-CNN keeps</h4>
      {fc7 ? <Fc7Strip values={fc7} proposal={index} backend={data!.backend} model={data!.model} /> : <div className="fc7-placeholder" />}
    </section>
  );
}
