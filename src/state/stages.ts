/** The eight stages of R-CNN as the app steps through them, with what computes each. */
export type StageId = 'image' | 'proposals' | 'warp' | 'features' | 'svm' | 'regression' | 'nms' | 'detections';

export interface StageInfo {
  id: StageId;
  title: string;
  /** One sentence: what this stage is in R-CNN. */
  summary: string;
  /** What computes this stage's data (shown while it is not computed yet). */
  computedBy: string;
}

export const STAGES: readonly StageInfo[] = [
  {
    id: 'image',
    title: 'Image',
    summary: 'The input photo, turned upright (EXIF) and scaled to a working size.',
    computedBy: 'Choose a sample, or upload, drop or paste a photo.',
  },
  {
    id: 'proposals',
    title: 'Proposals',
    summary: 'Selective search proposes about 2000 class-agnostic regions by grouping superpixels.',
    computedBy: 'Selective search (fast mode: 8 grouping runs) in a pool of Web Workers.',
  },
  {
    id: 'warp',
    title: 'Warped crops',
    summary: 'Each proposal is dilated for 16 px of context and warped to 227 x 227, ignoring its aspect ratio.',
    computedBy: 'The CNN worker warps every proposal on the tfjs backend before the forward pass.',
  },
  {
    id: 'features',
    title: 'CNN features',
    summary: 'AlexNet (CaffeNet layout) turns each crop into an fc7 feature vector (4096-d at full width) and a pool5 map.',
    computedBy: 'The CNN worker runs the crops through the network in batches.',
  },
  {
    id: 'svm',
    title: 'SVM scores',
    summary: 'One linear SVM per class scores every proposal from its fc7 features.',
    computedBy: 'The SVM head of the model, applied in the same batches as the features.',
  },
  {
    id: 'regression',
    title: 'Box regression',
    summary: 'Per-class ridge regressors on pool5 move each proposal towards the object.',
    computedBy: 'The box-regression head of the model, applied once per proposal and class.',
  },
  {
    id: 'nms',
    title: 'NMS',
    summary: 'Per class, greedy non-maximum suppression keeps the best box among overlapping ones.',
    computedBy: 'Runs instantly in the page from the SVM scores; tune it with the sliders.',
  },
  {
    id: 'detections',
    title: 'Detections',
    summary: 'The final boxes with class and score.',
    computedBy: 'Everything above.',
  },
] as const;

export const STAGE_IDS = STAGES.map((s) => s.id);

export function stageIndex(id: StageId): number {
  return STAGE_IDS.indexOf(id);
}
