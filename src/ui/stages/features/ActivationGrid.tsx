import { useMemo, useState } from 'react';
import type { LayerName } from '../../../model/architecture';
import { ALEXNET_DESIGN_NOTES } from '../../../model/architecture';
import { sequentialCss } from '../../palette';
import { PixelCanvas } from './PixelCanvas';
import { channelRgba, channelStats, filterRgba } from './maps';
import type { Conv1Weights } from './conv1Weights';

const FIRST = 32;

interface Props {
  layer: LayerName;
  /** [1, C, H, W] (Caffe order) as the worker returns it. */
  shape: number[];
  data: Float32Array;
  /** conv1 filters, to show the filter next to its response map. */
  conv1?: Conv1Weights | null;
  channel: number | null;
  onChannel: (c: number | null) => void;
}

/** What each kind of layer does to the maps, one line. */
const LAYER_WHAT: Partial<Record<LayerName, string>> = {
  conv1: 'Each map is one 11 × 11 filter slid over the crop with stride 4, after ReLU.',
  pool1: 'Max over overlapping 3 × 3 windows, stride 2: half the resolution.',
  norm1: 'Local response normalisation across 5 neighbouring channels.',
  conv2: '5 × 5 filters, each seeing only its half of the channels (group 2), after ReLU.',
  pool2: 'Max over overlapping 3 × 3 windows, stride 2.',
  norm2: 'Local response normalisation across 5 neighbouring channels.',
  conv3: '3 × 3 filters over all channels (the layer where the two GPUs talked), after ReLU.',
  conv4: '3 × 3 filters, group 2, after ReLU.',
  conv5: '3 × 3 filters, group 2, after ReLU.',
  pool5: 'The last max-pooling: 6 × 6 maps, flattened into the pool5 feature used by box regression.',
};

/**
 * Every channel of one layer for the selected crop as a small map, strongest channels (by mean
 * activation) first, all on one colour scale so maps can be compared; click one to enlarge it.
 */
export function ActivationGrid({ layer, shape, data, conv1, channel, onChannel }: Props) {
  const [C, H, W] = shape.slice(-3);
  const stats = useMemo(() => channelStats(data, C, H, W), [data, C, H, W]);
  const [showAll, setShowAll] = useState(false);
  const shown = showAll ? stats.order : stats.order.slice(0, FIRST);
  const tiles = useMemo(() => Array.from(shown, (c) => ({ c, px: channelRgba(data, c, H, W, 0, stats.max) })), [shown, data, H, W, stats.max]);
  const tile = H >= 27 ? 46 : 40;
  const focus = channel !== null && channel < C ? channel : null;
  const zero = Array.from(stats.maxes).filter((m) => m <= 0).length;
  const strongest = Array.from(stats.order.slice(0, 3), (c) => `${c} (mean ${stats.means[c].toFixed(2)})`).join(', ');
  return (
    <div className="act" data-testid="activation-grid" data-layer={layer} data-channels={C}>
      <p className="small muted">
        {LAYER_WHAT[layer]} {C} maps of {H} × {W}
        {zero > 0 ? `; ${zero} channel${zero === 1 ? ' is' : 's are'} all zero for this crop` : ''}.
      </p>
      <div className="act-scale small" aria-hidden="true">
        <span>0</span>
        <span className="act-scale-bar" style={{ background: `linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map((t) => sequentialCss(t)).join(', ')})` }} />
        <span>{stats.max.toPrecision(3)}</span>
        <span className="muted">shared by all maps</span>
      </div>
      {focus !== null && (
        <div className="act-focus" data-testid="channel-focus">
          <PixelCanvas width={W} height={H} pixels={channelRgba(data, focus, H, W, 0, stats.max)} cssWidth={150} cssHeight={150} label={`${layer} channel ${focus}, enlarged`} />
          {layer === 'conv1' && conv1 && (
            <PixelCanvas
              width={conv1.shape[1]}
              height={conv1.shape[0]}
              pixels={filterRgba(conv1.data, conv1.shape[0], conv1.shape[1], conv1.shape[2], conv1.shape[3], focus)}
              cssWidth={66}
              cssHeight={66}
              label={`conv1 filter ${focus}`}
            />
          )}
          <div className="small">
            <strong>
              {layer} channel {focus}
            </strong>
            <div>mean {stats.means[focus].toFixed(3)}, max {stats.maxes[focus].toFixed(3)}</div>
            <div>rank {Array.from(stats.order).indexOf(focus) + 1} of {C} by mean</div>
            {layer === 'conv1' && <div className="muted">Left: where its filter (right, in RGB) matched the crop.</div>}
            <button className="link" onClick={() => onChannel(null)}>
              close
            </button>
          </div>
        </div>
      )}
      <ul className="act-grid" aria-label={`${layer} channel maps, strongest first: ${strongest}`} style={{ gridTemplateColumns: `repeat(auto-fill, ${tile + 4}px)` }}>
        {tiles.map(({ c, px }) => (
          <li key={c}>
            <button
              className={`act-tile${c === focus ? ' act-tile-on' : ''}`}
              onClick={() => onChannel(c === focus ? null : c)}
              aria-label={`Channel ${c}, mean ${stats.means[c].toFixed(2)}`}
              aria-pressed={c === focus}
              title={`channel ${c}: mean ${stats.means[c].toFixed(3)}, max ${stats.maxes[c].toFixed(3)}`}
            >
              <PixelCanvas width={W} height={H} pixels={px} cssWidth={tile} cssHeight={tile} testId="activation-map" />
            </button>
          </li>
        ))}
      </ul>
      {C > FIRST && (
        <button className="link small" onClick={() => setShowAll(!showAll)} aria-expanded={showAll}>
          {showAll ? `Show the strongest ${FIRST} only` : `Show all ${C} channels`}
        </button>
      )}
      {ALEXNET_DESIGN_NOTES[layer] && (
        <p className="small act-note">
          <strong>{ALEXNET_DESIGN_NOTES[layer]!.title}.</strong> {ALEXNET_DESIGN_NOTES[layer]!.text}
        </p>
      )}
    </div>
  );
}
