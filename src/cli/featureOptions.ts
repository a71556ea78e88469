/**
 * `--features warp|roi` and `--roi-scale fast-rcnn|search`, shared by detect, eval, train and
 * bench detect: R-CNN's warped crops, or the shared-convolution path (conv5 of the photo once,
 * RoI pooling per proposal; src/model/sharedConv.ts).
 */
import { type CommandContext, stringOption } from './command';
import { FEATURE_MODES, type FeatureMode } from '../model/extract';
import { DEFAULT_ROI_SCALE, ROI_SCALES, ROI_SCALE_TEXT, type RoiScale } from '../model/sharedConv';
import type { ModelPackage } from '../model/package';

export const FEATURE_OPTIONS = {
  features: { type: 'string' },
  'roi-scale': { type: 'string' },
} as const;

export function featureOptionsHelp(what: string): string[] {
  return [
    `  --features M      ${what}: warp (R-CNN: every proposal warped to 227 x 227 through the whole CNN) | roi`,
    '                    (SPPnet / Fast R-CNN: conv1..conv5 once on the photo, each proposal RoI-pooled out of conv5,',
    '                    then fc6, fc7 and the heads); default: what the model\'s heads were trained on (its headFeatures)',
    `  --roi-scale S     the photo's size for --features roi: fast-rcnn (${ROI_SCALE_TEXT['fast-rcnn']}) | search`,
    `                    (${ROI_SCALE_TEXT.search}); default: the model's, else ${DEFAULT_ROI_SCALE}`,
  ];
}

/** The mode and scale asked for, defaulting to what the package's heads were trained on. */
export function readFeatureOptions(values: CommandContext['values'], pkg?: ModelPackage | null): { features: FeatureMode; roiScale: RoiScale } {
  const features = stringOption<FeatureMode>(values, 'features', pkg?.headFeatures?.mode ?? 'warp', FEATURE_MODES);
  const roiScale = stringOption<RoiScale>(values, 'roi-scale', pkg?.headFeatures?.roiScale ?? DEFAULT_ROI_SCALE, ROI_SCALES);
  return { features, roiScale };
}

/** Said once on stderr when the heads were trained on the other kind of features (the mismatch is the point of trying it, but it should not be silent). */
export function featureMismatchNote(pkg: ModelPackage, f: { features: FeatureMode; roiScale: RoiScale }): string | null {
  const trained = pkg.headFeatures ? `RoI-pooled features (${pkg.headFeatures.roiScale})` : 'warped crops';
  const used = f.features === 'roi' ? `RoI-pooled features (${f.roiScale})` : 'warped crops';
  return trained === used ? null : `note: ${pkg.name}'s SVMs and box regressors were trained on ${trained}; scoring ${used} with them shows the mismatch (retrain them: rcnn train --stages svm,bbox --features ${f.features})`;
}

/** The feature cache's model key: warp keeps the key it always had; RoI features are other features of the same network. */
export function featureCacheKey(modelKey: string, f: { features: FeatureMode; roiScale: RoiScale }): string {
  return f.features === 'roi' ? `${modelKey};roi:${f.roiScale}` : modelKey;
}
