import { Fragment, useMemo } from 'react';
import { ALEXNET_DESIGN_NOTES, caffeNetArch, describeArch, type LayerInfo } from '../../../model/architecture';
import type { ModelInfo } from '../../../model/modelInfo';

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

function shapeText(l: LayerInfo): string {
  return l.shape.length === 3 ? `${l.shape[1]}×${l.shape[2]}×${l.shape[0]}` : String(l.shape[0]);
}

function Note({ id }: { id: keyof typeof ALEXNET_DESIGN_NOTES }) {
  const n = ALEXNET_DESIGN_NOTES[id];
  if (!n) return null;
  return (
    <tr className="arch-note">
      <td colSpan={4}>
        <strong>{n.title}.</strong> {n.text}
      </td>
    </tr>
  );
}

/** Blocks an fc weight is cut into for the binding cap (as src/model/caffenet.ts cuts it). */
function fcBlocks(l: LayerInfo, cap: number | null, layers: LayerInfo[]): number {
  if (!cap) return 1;
  const i = layers.indexOf(l);
  const prev = layers[i - 1];
  const din = prev.shape.reduce((a, b) => a * b, 1);
  return Math.min(l.shape[0], Math.max(1, Math.ceil((din * l.shape[0] * 4) / cap)));
}

/**
 * The loaded network layer by layer (output shape, learned parameters, multiply-adds per crop),
 * with AlexNet's design choices next to the layer where each acts.
 */
export function ArchitectureView({ model }: { model: ModelInfo }) {
  const a = model.architecture;
  const full = useMemo(() => {
    const ls = describeArch(caffeNetArch({ numClasses: 1000 }));
    return { params: ls.reduce((s, l) => s + l.params, 0), macs: ls.reduce((s, l) => s + l.macs, 0) };
  }, []);
  const isFull = model.totalParams === full.params;
  return (
    <div>
      <table className="table arch-table" data-testid="arch-table" data-layers={model.layers.length} data-total-params={model.totalParams} data-total-macs={model.totalMacs}>
        <caption className="small muted">
          {model.name}: output per crop as height × width × channels; mult-adds per crop.
        </caption>
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col">Output</th>
            <th scope="col" className="num">
              Params
            </th>
            <th scope="col" className="num">
              Mult-adds
            </th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">
              input
              <div className="arch-detail">
                {a.channelOrder}, mean ({a.mean.join(', ')}) subtracted
              </div>
            </th>
            <td>
              {a.inputHeight}×{a.inputWidth}×{a.inputChannels}
            </td>
            <td className="num">–</td>
            <td className="num">–</td>
          </tr>
          <Note id="input" />
          {model.layers.map((l) => {
            const split = model.splitFcLayers.includes(l.name);
            return (
              <Fragment key={l.name}>
                <tr data-layer={l.name} className={`arch-${l.kind}`}>
                  <th scope="row">
                    {l.name}
                    <div className="arch-detail">{l.detail}</div>
                    {split && (
                      <div className="arch-split" data-testid={`split-${l.name}`}>
                        weight split into {fcBlocks(l, model.maxBindingBytes, model.layers)} column blocks: {((l.params * 4) / 2 ** 20).toFixed(0)} MiB exceeds this device's{' '}
                        {model.maxBindingBytes ? `${(model.maxBindingBytes / 2 ** 20).toFixed(0)} MiB` : ''} binding limit
                      </div>
                    )}
                  </th>
                  <td>{shapeText(l)}</td>
                  <td className="num">{l.params ? formatCount(l.params) : '–'}</td>
                  <td className="num">{l.macs ? formatCount(l.macs) : '–'}</td>
                </tr>
                <Note id={l.name} />
              </Fragment>
            );
          })}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">total</th>
            <td />
            <td className="num" data-testid="arch-total-params">
              {formatCount(model.totalParams)}
            </td>
            <td className="num">{formatCount(model.totalMacs)}</td>
          </tr>
        </tfoot>
      </table>
      <p className="small muted">
        {model.totalParams.toLocaleString('en-US')} parameters ({((model.totalParams * 4) / 2 ** 20).toFixed(1)} MiB as float32), {formatCount(model.totalMacs)} multiply-adds per crop.
        {isFull
          ? ' This is full-size CaffeNet.'
          : ` Full CaffeNet has ${formatCount(full.params)} parameters and ${formatCount(full.macs)} multiply-adds per crop; this model has ${(full.params / model.totalParams).toFixed(0)}× fewer parameters and needs ${(full.macs / model.totalMacs).toFixed(0)}× less compute per crop.`}{' '}
        {model.splitFcLayers.length === 0 && model.maxBindingBytes ? `Every weight fits this device's ${(model.maxBindingBytes / 2 ** 20).toFixed(0)} MiB binding limit, so no fc layer is split.` : ''}
      </p>
    </div>
  );
}
