import { useStore } from '../../../state/store';
import { BUNDLED_MODELS } from '../../../runner/cnnActions';
import { SampleGallery } from '../../ImageInput';
import { GroundTruthEditor } from '../../GroundTruth';
import { ZooOfferLine } from '../../model/Zoo';
import { openTrainView } from '../../../runner/datasetActions';

const ORIENTATION_TEXT: Record<number, string> = {
  1: 'none needed',
  2: 'mirrored horizontally',
  3: 'rotated 180°',
  4: 'mirrored vertically',
  5: 'transposed',
  6: 'rotated 90° clockwise',
  7: 'transversed',
  8: 'rotated 90° counter-clockwise',
};

export function ImageStage() {
  const image = useStore((s) => s.image);
  const loading = useStore((s) => s.imageLoading);
  // Until the CNN first runs no model is loaded, and the bundled one is what will be.
  const bundled = useStore((s) => s.modelSource === null || BUNDLED_MODELS.some((m) => m.label === s.modelSource));
  return (
    <div className="stage-body">
      <p>
        R-CNN starts from an ordinary photo. It is decoded here in your browser (nothing is uploaded anywhere), turned
        upright using its EXIF orientation, and scaled down to a working size if it is very large. Boxes are always
        reported in the original photo's pixels.
      </p>
      <ZooOfferLine />
      {image ? (
        <dl className="facts" data-testid="image-facts">
          <dt>Name</dt>
          <dd>{image.name}</dd>
          <dt>Format</dt>
          <dd>{String(image.format).toUpperCase()}</dd>
          <dt>Original size</dt>
          <dd data-testid="original-size">
            {image.originalWidth} × {image.originalHeight} px
          </dd>
          <dt>Working size</dt>
          <dd data-testid="working-size">
            {image.image.width} × {image.image.height} px
            {image.scaleX !== 1 ? ` (scale ${(1 / image.scaleX).toFixed(3)})` : ' (unchanged)'}
          </dd>
          <dt>EXIF orientation</dt>
          <dd>{ORIENTATION_TEXT[image.orientation] ?? image.orientation}</dd>
          <dt>Decoded in</dt>
          <dd>{image.decodeMs.toFixed(0)} ms</dd>
        </dl>
      ) : (
        <p className="muted">{loading ? 'Decoding…' : 'No image yet.'}</p>
      )}
      <GroundTruthEditor />
      <h3>Sample photos</h3>
      <SampleGallery />
      {bundled && (
        <p className="muted small" data-testid="samples-model-note">
          The bundled models know five classes (apple, banana, orange, raccoon, kangaroo) and learnt them from scratch
          from one small dataset of 530 photos. The three fruit samples are old scans unlike those photos, and on them they
          mislabel or miss the fruit: a limit of that small training set, which the R-CNN model's{' '}
          <a href={`${import.meta.env.BASE_URL}models/fruit-animals/MODEL_CARD.md`} target="_blank" rel="noreferrer">
            model card
          </a>{' '}
          measures. The other samples hold none of their classes: they show how proposals, warped crops and features look
          on any photo, and a model trained for their classes can be loaded under <strong>Model &amp; backend</strong>.
        </p>
      )}
      <p>
        <button className="link" onClick={() => openTrainView()} data-testid="teach-link">
          Teach it your own objects
        </button>
        : add your photos, box the objects, and train R-CNN's SVMs and box regressors on them, here in the browser.
      </p>
      <p className="muted small">
        Or upload your own: use <strong>Upload photo…</strong>, drop a file anywhere on the page, or paste an image
        (Ctrl+V). JPEG and PNG are read by content, so a PNG named .jpg works too.
      </p>
    </div>
  );
}
