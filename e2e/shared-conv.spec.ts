import { expect, test, type Page } from '@playwright/test';
import { collectConsoleErrors, computeFewProposals, openModelDialog, screenshot, waitForImage } from './helpers';

type Run = { mode: string; ms: number; complete: boolean; imageKey: string };
type StoreWindow = { __rcnnStore: { getState: () => { features: Run | null; otherFeatures: Run | null; featureMode: string } } };

async function runs(page: Page): Promise<{ features: Run | null; other: Run | null; mode: string }> {
  return page.evaluate(() => {
    const s = (window as unknown as StoreWindow).__rcnnStore.getState();
    const pick = (f: Run | null) => (f ? { mode: f.mode, ms: f.ms, complete: f.complete, imageKey: f.imageKey } : null);
    return { features: pick(s.features), other: pick(s.otherFeatures), mode: s.featureMode };
  });
}

async function drawnBoxes(page: Page): Promise<number[][]> {
  const raw = await page.getByTestId('main-canvas').getAttribute('data-drawn-boxes');
  return raw ? (JSON.parse(raw) as number[][]) : [];
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s` : `${ms.toFixed(0)} ms`;
}

test.describe('R-CNN vs shared convolution (wasm backend)', () => {
  test('switches paths from the keyboard, draws both detection sets, and shows the measured times', async ({ page }) => {
    test.setTimeout(400_000);
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForImage(page, 'apple.jpg');
    await computeFewProposals(page, 40);

    // R-CNN first.
    await page.locator('[data-stage=detections]').click();
    await expect(page.getByTestId('mode-warp')).toBeChecked();
    await page.getByTestId('run-all').click();
    await expect(page.getByTestId('detections-summary')).toBeVisible({ timeout: 300_000 });
    await expect(page.getByTestId('detections-summary')).not.toContainText('so far', { timeout: 300_000 });
    // The bundled model scores nothing on apple.jpg above about -1.2 (MODEL_CARD.md): draw from -2.
    await page.locator('[data-stage=nms]').click();
    await page.getByTestId('score-threshold').fill('-2');
    await expect(page.getByTestId('score-threshold-value')).toHaveText('-2.00');
    await page.locator('[data-stage=detections]').click();
    await expect(page.getByTestId('path-time-warp')).not.toHaveAttribute('data-ms', '');
    await expect(page.getByTestId('detection-sets')).toHaveAttribute('data-other', '');

    // Arrow keys move between the radio buttons: the shared path is chosen and runs by itself.
    await page.getByTestId('mode-warp').focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.getByTestId('mode-roi')).toBeChecked();
    await expect(page.getByTestId('mode-roi')).toBeFocused();
    await expect(page.getByTestId('path-time-roi')).not.toHaveAttribute('data-ms', '', { timeout: 120_000 });
    await expect(page.getByTestId('detections-summary')).not.toContainText('so far');

    // The store holds both runs; the table shows exactly their measured times.
    const r = await runs(page);
    expect(r.mode).toBe('roi');
    expect(r.features).toMatchObject({ mode: 'roi', complete: true });
    expect(r.other).toMatchObject({ mode: 'warp', complete: true });
    for (const [m, run] of [['roi', r.features!], ['warp', r.other!]] as const) {
      expect(Number(await page.getByTestId(`path-time-${m}`).getAttribute('data-ms'))).toBe(run.ms);
      await expect(page.getByTestId(`path-time-${m}`)).toContainText(formatMs(run.ms));
    }
    await expect(page.getByTestId('path-ratio')).toContainText(`${(r.other!.ms / r.features!.ms).toFixed(1)}x`);

    // Both detection sets are drawn: the current path's boxes and the other's, dotted.
    const sets = page.getByTestId('detection-sets');
    const current = Number(await sets.getAttribute('data-current'));
    const other = Number(await sets.getAttribute('data-other'));
    expect(current).toBeGreaterThan(0);
    expect(other).toBeGreaterThan(0);
    await expect.poll(async () => (await drawnBoxes(page)).length).toBe(current + other);
    await screenshot(page, 'shared-conv-detections');

    // Back to R-CNN: its run comes back at once (nothing recomputed), the shared one is kept.
    await page.getByTestId('mode-warp').click();
    const back = await runs(page);
    expect(back.features).toMatchObject({ mode: 'warp', ms: r.other!.ms });
    expect(back.other).toMatchObject({ mode: 'roi', ms: r.features!.ms });
    await expect(page.getByTestId('detection-sets')).toHaveAttribute('data-other', String(current));

    // The CNN-features stage: the same switch, the per-layer multiply-adds, and the RoI on conv5 next to its warped crop.
    await page.locator('[data-stage=features]').click();
    await expect(page.getByTestId('mode-warp')).toBeChecked();
    await expect(page.getByTestId('path-time-roi')).toHaveAttribute('data-ms', String(r.features!.ms));
    await expect(page.getByTestId('roi-grid')).toHaveAttribute('aria-label', /on the conv5 grid: cells \d+ to \d+ across/);
    await expect(page.getByTestId('roi-warped-crop')).toBeVisible();
    await page.getByText('Multiply-adds per layer').click();
    await expect(page.getByTestId('macs-table')).toContainText('once, whole photo');
    await screenshot(page, 'shared-conv-features');

    // The bundled Fast R-CNN model (the network fine-tuned through RoI pooling, heads on its RoI
    // features) one click away: it loads, the switch moves to its path, the other model's runs are
    // dropped, and the shared path runs again on it by itself; then the R-CNN model is offered back.
    await expect(page.getByTestId('other-bundled-model')).toContainText('fine-tuned on warped crops only');
    await page.getByTestId('use-other-bundled').click();
    await expect(page.getByTestId('use-other-bundled')).toHaveText('Use the R-CNN model', { timeout: 60_000 });
    type FastState = { model: { name: string; headFeatures: unknown } | null; modelSource: string; featureMode: string; features: { modelName: string; mode: string; complete: boolean } | null; otherFeatures: unknown };
    const fastState = () =>
      page.evaluate(() => {
        const s = (window as unknown as { __rcnnStore: { getState: () => FastState } }).__rcnnStore.getState();
        return { name: s.model?.name, headFeatures: s.model?.headFeatures, source: s.modelSource, mode: s.featureMode, run: s.features && { model: s.features.modelName, mode: s.features.mode, complete: s.features.complete }, other: s.otherFeatures };
      });
    await expect.poll(async () => (await fastState()).run?.complete, { timeout: 120_000 }).toBe(true);
    expect(await fastState()).toEqual({
      name: 'Fast R-CNN apple/banana/kangaroo/orange/raccoon',
      headFeatures: { mode: 'roi', roiScale: 'fast-rcnn' },
      source: 'bundled fruit-animals Fast R-CNN model',
      mode: 'roi',
      run: { model: 'Fast R-CNN apple/banana/kangaroo/orange/raccoon', mode: 'roi', complete: true },
      other: null,
    });
    await expect(page.getByTestId('mode-roi')).toBeChecked();
    await page.locator('[data-stage=detections]').click();
    await expect(page.getByTestId('path-time-roi')).not.toHaveAttribute('data-ms', '');
    await expect(page.getByTestId('path-time-warp')).toHaveAttribute('data-ms', '');
    await expect(page.getByTestId('other-bundled-model')).toContainText('fine-tuned through RoI pooling');
    await screenshot(page, 'shared-conv-fast-rcnn');
    // The Model dialog lists both bundled models and marks the loaded one; the R-CNN one loads back from there.
    const dialog = await openModelDialog(page);
    await expect(dialog.getByTestId('bundled-fruit-animals-fast-rcnn')).toBeDisabled();
    await expect(dialog.getByTestId('bundled-fruit-animals-fast-rcnn')).toHaveText('Fast R-CNN fine-tuned (loaded)');
    await dialog.getByTestId('bundled-fruit-animals').click();
    await expect(dialog.getByTestId('model-load-ok')).toContainText('Loaded R-CNN apple/banana/kangaroo/orange/raccoon from bundled fruit-animals model.', { timeout: 60_000 });
    await expect(dialog.getByTestId('bundled-fruit-animals')).toHaveText('R-CNN (loaded)');
    await expect(page.getByTestId('mode-warp')).toBeChecked();
    expect(errors).toEqual([]);
  });
});
