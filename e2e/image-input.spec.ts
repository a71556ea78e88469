import { expect, test } from '@playwright/test';
import { canvasRegionMean, canvasStats, collectConsoleErrors, screenshot, stageIds, waitForImage } from './helpers';
import { halves, jpegBytes, pngBytes, withExifOrientation, writeFixture } from './fixtures';

test.describe('image input and the stage stepper', () => {
  test('opens on the default sample and draws it on the canvas', async ({ page }) => {
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForImage(page, 'apple.jpg');
    await expect(page.getByTestId('original-size')).toHaveText('512 × 512 px');
    const stats = await canvasStats(page);
    // A real photo was drawn: a large opaque canvas with varied pixels, not blank.
    expect(stats.width).toBeGreaterThan(300);
    expect(stats.opaque).toBe(1);
    expect(stats.std).toBeGreaterThan(20);
    await screenshot(page, 'stage-1-image');
    // The note on what the bundled model can do with the samples links to a model card that is served.
    const note = page.getByTestId('samples-model-note');
    await expect(note).toContainText('apple, banana, orange, raccoon, kangaroo');
    const card = await page.request.get(await note.getByRole('link', { name: 'model card' }).getAttribute('href') ?? '');
    expect(card.status()).toBe(200);
    expect(await card.text()).toContain('# Model card: fruit-animals');
    expect(errors).toEqual([]);
  });

  test('gallery, file picker, bad files and keyboard stepping', async ({ page }) => {
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForImage(page, 'apple.jpg');
    const appleStats = await canvasStats(page);

    // Gallery: another sample replaces the image.
    await page.locator('[data-sample="orange.jpg"]').click();
    await waitForImage(page, 'orange.jpg');
    const orangeStats = await canvasStats(page);
    expect(Math.abs(orangeStats.mean - appleStats.mean)).toBeGreaterThan(1);

    // Upload through the file picker: a PNG with a known layout is drawn where it should be.
    const W = 300, H = 200;
    const png = writeFixture('halves.png', pngBytes(W, H, halves(W, H), 4));
    await page.getByTestId('file-input').setInputFiles(png);
    await waitForImage(page, 'halves.png');
    await expect(page.getByTestId('working-size')).toContainText('300 × 200 px');
    const left = await canvasRegionMean(page, 0.3, 0.6, 0.15, 0.3);
    const right = await canvasRegionMean(page, 0.6, 0.3, 0.3, 0.6);
    const tl = await canvasRegionMean(page, 0.05, 0.05, 0.12, 0.12);
    expect(left[0]).toBeGreaterThan(200);
    expect(left[2]).toBeLessThan(50);
    expect(right[2]).toBeGreaterThan(200);
    expect(right[0]).toBeLessThan(50);
    expect(tl[1]).toBeGreaterThan(180);

    // Not an image: a clear message, and the previous image stays.
    const txt = writeFixture('notes.jpg', new TextEncoder().encode('this is not a photo at all'));
    await page.getByTestId('file-input').setInputFiles(txt);
    await expect(page.getByTestId('message-error')).toContainText('notes.jpg is not an image');
    await expect(page.getByTestId('message-error')).toContainText('previous image is still loaded');
    await expect(page.getByTestId('image-facts')).toContainText('halves.png');
    expect((await canvasRegionMean(page, 0.6, 0.3, 0.3, 0.6))[2]).toBeGreaterThan(200);
    await screenshot(page, 'bad-input-message');

    // PNG data named .jpg loads as PNG.
    const disguised = writeFixture('disguised.jpg', pngBytes(W, H, halves(W, H), 4));
    await page.getByTestId('file-input').setInputFiles(disguised);
    await waitForImage(page, 'disguised.jpg');
    await expect(page.getByTestId('image-facts')).toContainText('PNG');

    // Keyboard: arrows step through stages; each later stage says what computes it.
    const ids = await stageIds(page);
    await page.getByRole('tab', { name: /Image/ }).focus();
    for (let i = 1; i < ids.length; i++) {
      await page.keyboard.press('ArrowRight');
      await expect(page.getByRole('tab', { selected: true })).toHaveAttribute('data-stage', ids[i]);
      await screenshot(page, `stage-${i + 1}-${ids[i]}`);
    }
    await page.keyboard.press('ArrowLeft');
    await expect(page.getByRole('tab', { selected: true })).toHaveAttribute('data-stage', ids[ids.length - 2]);
    expect(errors).toEqual([]);
  });

  test('EXIF rotation, grey and RGBA PNGs, tiny, truncated and huge photos', async ({ page }) => {
    test.setTimeout(300_000);
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForImage(page, 'apple.jpg');

    // Stored 300 x 200 with EXIF orientation 6 (rotate 90° clockwise): shown 200 x 300, and the
    // stored top-left green square ends up top-right.
    const rot = writeFixture('rotated.jpg', withExifOrientation(jpegBytes(300, 200, halves(300, 200), 95), 6));
    await page.getByTestId('file-input').setInputFiles(rot);
    await waitForImage(page, 'rotated.jpg');
    await expect(page.getByTestId('original-size')).toHaveText('200 × 300 px');
    await expect(page.getByTestId('image-facts')).toContainText('rotated 90° clockwise');
    const topRight = await canvasRegionMean(page, 0.8, 0.05, 0.15, 0.15);
    const topLeft = await canvasRegionMean(page, 0.05, 0.05, 0.15, 0.15);
    expect(topRight[1]).toBeGreaterThan(150);
    expect(topLeft[1]).toBeLessThan(100);

    // Greyscale PNG.
    const grey = new Uint8Array(64 * 48).map((_, i) => (i % 64) * 4);
    await page.getByTestId('file-input').setInputFiles(writeFixture('grey.png', pngBytes(64, 48, grey, 1)));
    await waitForImage(page, 'grey.png');
    const g = await canvasRegionMean(page, 0.8, 0.4, 0.1, 0.2);
    expect(Math.abs(g[0] - g[1])).toBeLessThan(3);
    expect(g[0]).toBeGreaterThan(150);

    // RGBA PNG fully transparent: composited over white.
    await page.getByTestId('file-input').setInputFiles(writeFixture('clear.png', pngBytes(64, 48, halves(64, 48, 0), 4)));
    await waitForImage(page, 'clear.png');
    expect((await canvasRegionMean(page, 0.4, 0.4, 0.2, 0.2))[0]).toBeGreaterThan(245);

    // 1 x 1: refused with its size; the previous image stays.
    await page.getByTestId('file-input').setInputFiles(writeFixture('dot.png', pngBytes(1, 1, new Uint8Array([1, 2, 3]), 3)));
    await expect(page.getByTestId('message-error')).toContainText('1 x 1 pixels');
    await expect(page.getByTestId('image-facts')).toContainText('clear.png');

    // Truncated JPEG: loads with a warning (grey rows), or a clear error; never a crash.
    const full = jpegBytes(400, 300, halves(400, 300), 90);
    await page.getByTestId('file-input').setInputFiles(writeFixture('cut.jpg', full.subarray(0, Math.floor(full.length * 0.55))));
    await expect(page.locator('[data-testid="message-warning"], [data-testid="message-error"]').first()).toContainText(/cut\.jpg/);

    // A 12000 x 9000 photo is decoded in the worker and downscaled to the working size.
    const W = 12000, H = 9000;
    const big = new Uint8Array(W * H * 4);
    for (let i = 0; i < W * H; i++) {
      const x = i % W;
      big[4 * i] = x < W / 2 ? 200 : 30;
      big[4 * i + 1] = 90;
      big[4 * i + 2] = x < W / 2 ? 40 : 190;
      big[4 * i + 3] = 255;
    }
    const huge = writeFixture('huge.jpg', jpegBytes(W, H, big, 70));
    // Decoding 108 MP takes seconds: it says so and can be stopped (Escape), keeping the photo shown.
    const shown = (await page.getByTestId('image-facts').textContent())!;
    const input = page.getByTestId('file-input');
    await input.setInputFiles(huge);
    await expect(page.getByTestId('decoding')).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('decoding')).toHaveCount(0);
    await expect(page.getByTestId('image-facts')).toHaveText(shown);
    // A photo chosen while a big one decodes replaces it; the big one never shows up afterwards.
    await input.setInputFiles(huge);
    await expect(page.getByTestId('decoding')).toBeVisible();
    await input.setInputFiles(writeFixture('after.png', pngBytes(120, 80, halves(120, 80), 4)));
    await waitForImage(page, 'after.png');
    await expect(page.getByTestId('decoding')).toHaveCount(0);
    await page.waitForTimeout(3000);
    await expect(page.getByTestId('image-facts')).toContainText('after.png');
    // Decoding 108 MP in pure JS takes a few seconds, more on a loaded machine.
    await input.setInputFiles(huge);
    await expect(page.getByTestId('image-facts')).toContainText('huge.jpg', { timeout: 180_000 });
    await expect(page.getByTestId('original-size')).toHaveText('12000 × 9000 px');
    await expect(page.getByTestId('working-size')).toContainText('1600 × 1200 px');
    console.log(`12000 x 9000 JPEG decoded in ${await page.evaluate(() => (window as unknown as { __rcnnStore: { getState(): { image: { decodeMs: number } } } }).__rcnnStore.getState().image.decodeMs.toFixed(0))} ms`);
    expect((await canvasRegionMean(page, 0.1, 0.3, 0.3, 0.3))[0]).toBeGreaterThan(170);
    await screenshot(page, 'huge-photo');
    expect(errors).toEqual([]);
  });

  test('a VOC annotation becomes the ground truth; a file with no usable boxes keeps the boxes you had', async ({ page }) => {
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForImage(page, 'apple.jpg');
    const W = 300, H = 200;
    await page.getByTestId('file-input').setInputFiles(writeFixture('scene.jpg', jpegBytes(W, H, halves(W, H))));
    await waitForImage(page, 'scene.jpg');
    const voc = (objects: string, size = `<width>${W}</width><height>${H}</height>`) =>
      new TextEncoder().encode(`<annotation><filename>scene.jpg</filename><size>${size}<depth>3</depth></size>${objects}</annotation>`);
    const obj = (name: string, b: number[]) => `<object><name>${name}</name><difficult>0</difficult><bndbox><xmin>${b[0]}</xmin><ymin>${b[1]}</ymin><xmax>${b[2]}</xmax><ymax>${b[3]}</ymax></bndbox></object>`;
    const xml = page.getByTestId('gt-xml-input');
    const list = page.getByTestId('gt-list').locator('li');

    await xml.setInputFiles(writeFixture('scene.xml', voc(obj('apple', [11, 21, 110, 120]) + obj('orange', [151, 51, 290, 190]))));
    await expect(list).toHaveCount(2);
    await expect(list.nth(0)).toContainText('apple: 100 × 100 px');
    await expect(list.nth(1)).toContainText('orange: 140 × 140 px');

    // Every box outside the photo: nothing usable, so the two boxes stay and the message says why.
    await xml.setInputFiles(writeFixture('outside.xml', voc(obj('apple', [400, 20, 500, 90]))));
    const err = page.getByTestId('message-error').filter({ hasText: 'outside.xml has no usable boxes' });
    await expect(err).toContainText('the 2 ground-truth boxes you had stay');
    await expect(list).toHaveCount(2);
    await xml.setInputFiles(writeFixture('empty.xml', voc('')));
    await expect(page.getByTestId('message-error').filter({ hasText: 'empty.xml has no <object> boxes' })).toBeVisible();
    await expect(list).toHaveCount(2);
    await expect(list.nth(1)).toContainText('orange: 140 × 140 px');

    // A usable annotation replaces them.
    await xml.setInputFiles(writeFixture('one.xml', voc(obj('banana', [1, 1, 60, 40]))));
    await expect(list).toHaveCount(1);
    await expect(list.nth(0)).toContainText('banana: 60 × 40 px');

    // Without a mouse: type the corners and press Enter; a box outside the photo is refused.
    await page.getByText("Type a box's corners instead").click();
    await page.getByLabel('Class of new boxes').fill('kangaroo');
    for (const [k, val] of Object.entries({ xmin: '20', ymin: '30', xmax: '320', ymax: '90' })) await page.getByTestId(`gt-${k}`).fill(val);
    await page.getByTestId('gt-ymax').press('Enter');
    await expect(page.getByTestId('gt-numbers-error')).toContainText('inside the photo: 0-300 across');
    await page.getByTestId('gt-xmax').fill('120');
    await page.getByTestId('gt-xmax').press('Enter');
    await expect(list).toHaveCount(2);
    await expect(list.nth(1)).toContainText('kangaroo: 100 × 60 px');
    await expect(page.getByTestId('gt-numbers-error')).toHaveCount(0);
    expect(errors).toEqual([]);
  });
});
