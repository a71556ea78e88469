import { useStore } from '../../state/store';
import { computeFeatures } from '../../runner/cnnActions';
import type { FeatureMode } from '../../model/extract';

export const MODE_LABEL: Record<FeatureMode, string> = {
  warp: 'R-CNN: warp every proposal',
  roi: 'shared conv: RoI pooling',
};

/**
 * Switches the CNN stage between R-CNN's path and the shared-convolution path (docs/fast-rcnn.md).
 * Once the pipeline has run on these proposals, switching runs the other path too, so that both
 * runs can be compared; each path's run is kept until the proposals, model or backend change.
 */
export function chooseFeatureMode(m: FeatureMode): void {
  const s = useStore.getState();
  if (s.featureMode === m) return;
  s.setFeatureMode(m);
  const st = useStore.getState();
  const ran = st.otherFeatures && st.otherFeatures.imageKey === st.image?.key;
  if (!st.features && ran) void computeFeatures();
}

/** Two radio buttons (arrow keys move between them; the group is named for screen readers). */
export function FeatureModeSwitch({ idSuffix }: { idSuffix: string }) {
  const mode = useStore((s) => s.featureMode);
  const name = `feature-mode-${idSuffix}`;
  return (
    <fieldset className="mode-switch" data-testid="feature-mode">
      <legend>How each proposal gets its CNN features</legend>
      {(['warp', 'roi'] as const).map((m) => (
        <label key={m} className={mode === m ? 'mode-on' : undefined}>
          <input type="radio" name={name} value={m} checked={mode === m} onChange={() => chooseFeatureMode(m)} data-testid={`mode-${m}`} />
          {MODE_LABEL[m]}
        </label>
      ))}
    </fieldset>
  );
}
