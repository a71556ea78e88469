import { useState } from 'react';
import { useStore } from '../../../state/store';
import { computeProposals } from '../../../runner/proposalActions';
import type { LayerName } from '../../../model/architecture';
import { RunPanel } from './RunPanel';
import { ProposalInspector } from './ProposalInspector';
import { Conv1Filters } from './Conv1Filters';
import { FeatureMapView } from './FeatureMapView';
import { ArchitectureView } from './ArchitectureView';
import { useInspection } from './useInspection';
import { useConv1Weights } from './conv1Weights';
import { FeatureModeSwitch } from '../../sharedConv/FeatureModeSwitch';
import { PathComparison } from '../../sharedConv/PathComparison';
import { RoiGridPicture } from '../../sharedConv/RoiGridPicture';
import './features.css';
import '../../sharedConv/sharedConv.css';

export function FeaturesStage() {
  const image = useStore((s) => s.image);
  const proposals = useStore((s) => s.proposals);
  const model = useStore((s) => s.model);
  const selected = useStore((s) => s.selectedProposal) ?? 0;
  const [layer, setLayer] = useState<LayerName>('conv1');
  const [channel, setChannel] = useState<number | null>(null);
  const fresh = proposals && image && proposals.imageKey === image.key ? proposals : null;
  const count = fresh ? fresh.boxes.length / 4 : 0;
  const index = Math.min(selected, Math.max(0, count - 1));
  const inspection = useInspection(index);
  const conv1 = useConv1Weights();
  return (
    <div className="stage-body features-stage">
      <p>
        Each warped crop goes through AlexNet (CaffeNet layout): five convolutional layers, then two fully connected layers of {model?.architecture.fc7 ?? 4096} units. R-CNN keeps the
        last hidden layer, fc7, as the crop's feature vector, and pool5 for box regression.
      </p>
      <FeatureModeSwitch idSuffix="features" />
      <RunPanel />
      {!fresh ? (
        <div className="pending" data-testid="stage-pending">
          <p>
            <strong>No proposals yet.</strong> The network looks at one warped crop per proposal.
          </p>
          <button className="btn" onClick={() => void computeProposals()} disabled={!image}>
            Compute proposals
          </button>
        </div>
      ) : (
        <ProposalInspector
          index={index}
          count={count}
          inspection={inspection}
          layer={layer}
          onLayer={setLayer}
          channel={channel}
          onChannel={setChannel}
          conv1={conv1.weights}
        />
      )}
      <details className="section" open>
        <summary>
          <h3>Warp every proposal, or convolve once</h3>
        </summary>
        <PathComparison detailed />
        <RoiGridPicture />
      </details>
      <details className="section" open>
        <summary>
          <h3>conv1 filters</h3>
        </summary>
        {model ? (
          <Conv1Filters
            weights={conv1.weights}
            error={conv1.error}
            selected={layer === 'conv1' ? channel : null}
            onSelect={(f) => {
              setLayer('conv1');
              setChannel(f);
            }}
          />
        ) : (
          <p className="small muted">Shown once the model is loaded.</p>
        )}
      </details>
      <details className="section" open>
        <summary>
          <h3>All proposals in fc7 space</h3>
        </summary>
        <FeatureMapView />
      </details>
      <details className="section" open>
        <summary>
          <h3>Network architecture</h3>
        </summary>
        {model ? <ArchitectureView model={model} /> : <p className="small muted">Shown once the model is loaded.</p>}
      </details>
    </div>
  );
}
