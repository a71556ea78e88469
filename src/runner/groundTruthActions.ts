import { fitAnnotationToImage, VocAnnotationError } from '../core/dataset/voc';
import { useStore, type GroundTruthBoxes, type UserMessage } from '../state/store';
import { readVocAnnotation } from './annotationReader';

/**
 * Most ground-truth boxes one photo takes. PASCAL VOC photos hold a few dozen at most; the app
 * draws and labels every box on each redraw (label placement is quadratic in the count) and lists
 * each one, so a 10,000-object file would stall every frame. Refused, keeping what the user had.
 */
export const MAX_GROUND_TRUTH_BOXES = 1000;

/**
 * Ground truth exactly as a sample's bundled annotation gave it: losing it loses nothing the user
 * made ("Load this sample's boxes" brings it back). Any edit makes a new object, not in the set.
 */
const reloadable = new WeakSet<GroundTruthBoxes>();

export function markReloadableGroundTruth(g: GroundTruthBoxes | null): void {
  if (g) reloadable.add(g);
}

export function isReloadableGroundTruth(g: GroundTruthBoxes): boolean {
  return reloadable.has(g);
}

/** Warnings shown one by one; the rest are summed up in one line (the store keeps 4 messages). */
const MAX_WARNING_MESSAGES = 3;

function pushWarnings(push: (m: UserMessage) => void, source: string, warnings: string[]): void {
  for (const m of warnings.slice(0, MAX_WARNING_MESSAGES)) push({ kind: 'warning', text: m });
  const rest = warnings.length - MAX_WARNING_MESSAGES;
  if (rest > 0) push({ kind: 'warning', text: `${source}: ${rest} more warning${rest === 1 ? '' : 's'} not shown.` });
}

/**
 * Load a PASCAL VOC annotation as the current image's ground truth. Boxes are fitted to the
 * decoded image (wrong <size>, boxes outside the image) and every repair is reported.
 */
export async function loadVocAnnotation(file: File): Promise<boolean> {
  const st = useStore.getState();
  const img = st.image;
  if (!img) {
    st.pushMessage({ kind: 'error', text: 'Load a photo before its annotation.', hint: 'Choose the photo first, then its VOC XML.' });
    return false;
  }
  try {
    // Parsed in a worker: the page answers while a large or hostile file is read.
    const ann = await readVocAnnotation(file);
    if (ann === null) return false; // superseded by a newer file
    if (useStore.getState().image?.key !== img.key) return false; // the photo changed meanwhile
    const fit = fitAnnotationToImage(ann, img.originalWidth, img.originalHeight, { source: file.name });
    const objects = fit.annotation.objects;
    const gtNow = useStore.getState().groundTruth;
    const current = gtNow && gtNow.imageKey === img.key && gtNow.labels.length > 0 ? gtNow : null;
    const kept = current ? `; the ${current.labels.length} ground-truth box${current.labels.length === 1 ? '' : 'es'} you had stay${current.labels.length === 1 ? 's' : ''}` : '';
    if (objects.length > MAX_GROUND_TRUTH_BOXES) {
      st.pushMessage({
        kind: 'error',
        text: `${file.name} has ${objects.length} boxes, more than the ${MAX_GROUND_TRUTH_BOXES} one photo takes here${kept}.`,
        hint: 'Check the file is this photo\'s annotation (PASCAL VOC photos hold a few dozen objects at most).',
      });
      return false;
    }
    if (objects.length === 0 && current) {
      // Nothing usable would replace boxes the user has: keep them (a bad file loses nothing).
      const why = ann.objects.length === 0 ? 'has no <object> boxes' : `has no usable boxes (${[...ann.warnings, ...fit.messages].slice(0, 3).join(' ') || 'every box was dropped'})`;
      st.pushMessage({ kind: 'error', text: `${file.name} ${why}${kept}.`, hint: 'Check the file is this photo\'s annotation. To clear the ground truth, remove its boxes with ×.' });
      return false;
    }
    const boxes = new Float32Array(objects.length * 4);
    objects.forEach((o, i) => {
      boxes[4 * i] = o.box[0] / img.scaleX;
      boxes[4 * i + 1] = o.box[1] / img.scaleY;
      boxes[4 * i + 2] = o.box[2] / img.scaleX;
      boxes[4 * i + 3] = o.box[3] / img.scaleY;
    });
    st.setGroundTruth({ imageKey: img.key, boxes, labels: objects.map((o) => o.name), source: 'xml', name: file.name });
    pushWarnings(st.pushMessage, file.name, [...ann.warnings, ...fit.messages]);
    if (ann.filename && img.name && ann.filename !== img.name) {
      st.pushMessage({ kind: 'warning', text: `${file.name} annotates "${ann.filename}", but the photo is "${img.name}".`, hint: 'Check you loaded the matching annotation.' });
    }
    if (objects.length === 0) st.pushMessage({ kind: 'warning', text: `${file.name} has no usable boxes.` });
    return true;
  } catch (e) {
    const text = e instanceof VocAnnotationError ? e.message : `Could not read ${file.name}: ${(e as Error).message}`;
    const gtNow = useStore.getState().groundTruth;
    const n = gtNow && gtNow.imageKey === img.key ? gtNow.labels.length : 0;
    const kept = n > 0 ? ` The ${n} ground-truth box${n === 1 ? '' : 'es'} you had stay${n === 1 ? 's' : ''}.` : '';
    st.pushMessage({ kind: 'error', text, hint: `Use a PASCAL VOC annotation (.xml with <object><bndbox>).${kept}` });
    return false;
  }
}

export function addGroundTruthBox(box: [number, number, number, number], label: string): void {
  const st = useStore.getState();
  const img = st.image;
  if (!img) return;
  const cur = st.groundTruth && st.groundTruth.imageKey === img.key ? st.groundTruth : null;
  const boxes = new Float32Array((cur ? cur.boxes.length : 0) + 4);
  if (cur) boxes.set(cur.boxes);
  boxes.set(box, boxes.length - 4);
  st.setGroundTruth({ imageKey: img.key, boxes, labels: [...(cur?.labels ?? []), label], source: cur?.source ?? 'drawn', name: cur?.name });
}

export function removeGroundTruthBox(index: number): void {
  const st = useStore.getState();
  const g = st.groundTruth;
  if (!g) return;
  const boxes = new Float32Array(g.boxes.length - 4);
  boxes.set(g.boxes.subarray(0, 4 * index));
  boxes.set(g.boxes.subarray(4 * index + 4), 4 * index);
  st.setGroundTruth(boxes.length ? { ...g, boxes, labels: g.labels.filter((_, i) => i !== index) } : null);
}
