import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { collectConsoleErrors, computeFewProposals, screenshot, waitForImage } from './helpers';

/** Boxes the current stage's overlay drew on the main canvas (working-image pixels). */
async function drawnBoxes(page: Page): Promise<number[][]> {
  const raw = await page.getByTestId('main-canvas').getAttribute('data-drawn-boxes');
  return raw ? (JSON.parse(raw) as number[][]) : [];
}

async function setRange(page: Page, testId: string, value: number): Promise<void> {
  await page.getByTestId(testId).fill(String(value));
  await expect(page.getByTestId(`${testId}-value`)).toHaveText(value.toFixed(2));
}

const PROPOSALS = 60;

test.describe('the whole pipeline on a sample photo (wasm backend)', () => {
  test('runs every stage, NMS sliders act as they should, regression moves boxes, export matches rcnn detect', async ({ page }) => {
    test.setTimeout(400_000);
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForImage(page, 'apple.jpg');

    // A small proposal count keeps the CNN part short on this CPU.
    await computeFewProposals(page, PROPOSALS);
    await screenshot(page, 'pipeline-2-proposals');

    await page.locator('[data-stage=detections]').click();
    await page.getByTestId('run-all').click();
    await expect(page.getByTestId('timings')).toBeVisible({ timeout: 300_000 });
    await expect(page.getByTestId('detections-summary')).not.toContainText('so far', { timeout: 300_000 });
    for (const id of ['proposals', 'features', 'svm', 'nms', 'detections']) {
      await expect(page.locator(`[data-stage=${id}]`)).toHaveAttribute('data-status', 'done');
    }

    // NMS starts at the bundled model's own threshold (model.json detection.nmsThreshold), and says so.
    await page.locator('[data-stage=nms]').click();
    const bundledNms = JSON.parse(readFileSync('public/models/fruit-animals/model.json', 'utf8')).detection.nmsThreshold as number;
    await expect(page.getByTestId('iou-threshold-value')).toHaveText(bundledNms.toFixed(2));
    await expect(page.getByTestId('model-nms')).toHaveText(bundledNms.toFixed(2));
    // NMS: a lower score threshold or a higher IoU threshold keeps at least as many boxes.
    const count = async (score: number, iou: number) => {
      await setRange(page, 'score-threshold', score);
      await setRange(page, 'iou-threshold', iou);
      const shown = Number(await page.getByTestId('nms-kept').innerText());
      await page.waitForTimeout(100); // let the overlay redraw
      const drawn = (await drawnBoxes(page)).length;
      return { shown, drawn };
    };
    // The bundled model scores nothing on apple.jpg above about -1.2 (MODEL_CARD.md), so the loose
    // end is the slider's minimum, -2.
    const loose = await count(-2, 0.3);
    const mid = await count(-1.5, 0.3);
    const strict = await count(3, 0.3);
    expect(strict.shown).toBe(0);
    expect(loose.shown).toBeGreaterThanOrEqual(mid.shown);
    expect(mid.shown).toBeGreaterThanOrEqual(strict.shown);
    expect(loose.shown).toBeGreaterThan(0);
    const overlapTight = await count(-2, 0.1);
    const overlapLoose = await count(-2, 0.9);
    expect(overlapLoose.shown).toBeGreaterThan(overlapTight.shown);
    // The canvas draws the focused class's kept boxes: never more than all kept boxes.
    expect(overlapLoose.drawn).toBeGreaterThan(0);
    expect(overlapLoose.drawn).toBeLessThanOrEqual(overlapLoose.shown);
    await screenshot(page, 'pipeline-7-nms');

    // Before/after box regression: the drawn boxes (the first listed class's kept boxes) move.
    await count(-2, 0.3);
    await page.getByTestId('nms-table').getByRole('button').first().click();
    await expect.poll(async () => (await drawnBoxes(page)).length).toBeGreaterThan(0);
    const after = JSON.stringify(await drawnBoxes(page));
    await page.getByTestId('use-regression').uncheck();
    await expect.poll(async () => JSON.stringify(await drawnBoxes(page))).not.toEqual(after);
    await page.getByTestId('use-regression').check();
    await expect.poll(async () => JSON.stringify(await drawnBoxes(page))).toEqual(after);

    // Detections: export JSON and compare with the CLI on the same image and settings.
    await page.locator('[data-stage=detections]').click();
    await screenshot(page, 'pipeline-8-detections');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
    const app = JSON.parse(readFileSync(await download.path(), 'utf8')) as { detections: Array<{ class: string; score: number; box: number[] }>; image: { width: number } };
    expect(app.image.width).toBe(512);
    const cli = JSON.parse(
      execFileSync('node', ['bin/rcnn.mjs', 'detect', 'public/samples/apple.jpg', '--proposals', String(PROPOSALS), '--score-threshold', '-2', '--nms', '0.3'], { encoding: 'utf8' }),
    ) as typeof app;
    expect(app.detections.length).toBe(cli.detections.length);
    expect(app.detections.length).toBeGreaterThan(0);
    for (const d of cli.detections) {
      const m = app.detections.find((a) => a.class === d.class && a.box.every((v, i) => Math.abs(v - d.box[i]) <= 1));
      expect(m, `app has no ${d.class} box within 1 px of [${d.box.join(', ')}]`).toBeTruthy();
      expect(Math.abs(m!.score - d.score)).toBeLessThan(1e-3);
    }
    expect(errors).toEqual([]);
  });
});
