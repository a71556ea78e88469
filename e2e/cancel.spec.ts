import { expect, test } from '@playwright/test';
import { collectConsoleErrors, computeFewProposals, waitForImage } from './helpers';

test.describe('long work can be cancelled, and a new image cancels the old run', () => {
  test('cancel button and new image stop the CNN; the app keeps working', async ({ page }) => {
    test.setTimeout(300_000);
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForImage(page, 'apple.jpg');

    // Start the whole pipeline (all proposals) and cancel while the CNN runs.
    await page.locator('[data-stage=detections]').click();
    await page.getByTestId('run-all').click();
    const progress = page.getByTestId('progress');
    await expect(progress).toContainText('CNN features', { timeout: 120_000 });
    await page.getByTestId('cancel').click();
    await expect(progress).toHaveCount(0);
    await expect(page.locator('[data-stage=features]')).toHaveAttribute('data-status', 'pending');
    // Proposals were computed before the CNN started and stay.
    await expect(page.locator('[data-stage=proposals]')).toHaveAttribute('data-status', 'done');

    // The panels say the results are partial and offer to finish; finishing resumes where it stopped.
    await expect(page.getByTestId('incomplete-notice')).toContainText('The CNN stopped after');
    await page.getByTestId('run-all').click();
    await expect(progress).toContainText('CNN features', { timeout: 120_000 });
    await page.locator('[data-stage=image]').click();
    await page.locator('[data-sample="orange.jpg"]').click();
    await waitForImage(page, 'orange.jpg');
    await expect(progress).toHaveCount(0);
    for (const id of ['proposals', 'features', 'detections']) await expect(page.locator(`[data-stage=${id}]`)).toHaveAttribute('data-status', 'pending');

    // The new image runs normally afterwards.
    await computeFewProposals(page, 30);
    await page.locator('[data-stage=detections]').click();
    await page.getByTestId('run-all').click();
    await expect(page.getByTestId('timings')).toBeVisible({ timeout: 120_000 });
    await expect(page.locator('[data-stage=detections]')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
    expect(errors).toEqual([]);
  });
  test('from the keyboard: Run all keeps focus, Escape cancels, and a screen reader hears start and end', async ({ page }) => {
    test.setTimeout(300_000);
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForImage(page, 'apple.jpg');
    const runAll = page.getByTestId('run-all-header');
    const announcer = page.getByTestId('progress-announcer');
    await runAll.focus();
    await page.keyboard.press('Enter');
    const progress = page.getByTestId('progress');
    await expect(progress).toBeVisible();
    await expect(announcer).toHaveText(/started\. Press Escape to cancel\./);
    await expect(runAll).toBeFocused();
    await expect(runAll).toHaveAttribute('aria-disabled', 'true');
    await expect(progress).toContainText('CNN features', { timeout: 120_000 });
    await page.keyboard.press('Enter'); // ignored while it runs
    await page.keyboard.press('Escape');
    await expect(progress).toHaveCount(0);
    await expect(announcer).toHaveText(/cancelled\.$/);
    await expect(page.locator('[data-stage=features]')).toHaveAttribute('data-status', 'pending');
    await expect(runAll).toBeFocused();
    await expect(runAll).toHaveAttribute('aria-disabled', 'false');
    expect(errors).toEqual([]);
  });
  test('a second and third run (another photo, then the first again) leave the CNN workers holding the same tensors', { tag: '@slow' }, async ({ page }) => {
    test.setTimeout(300_000);
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForImage(page, 'apple.jpg');
    const held: number[] = [];
    for (const sample of ['apple.jpg', 'orange.jpg', 'apple.jpg']) {
      if (sample !== 'apple.jpg' || held.length > 0) {
        await page.locator('[data-stage=image]').click();
        await page.locator(`[data-sample="${sample}"]`).click();
        await waitForImage(page, sample);
      }
      await computeFewProposals(page, 40);
      await page.getByTestId('run-all-header').click();
      await expect(page.locator('[data-stage=detections]')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
      await page.locator('[data-stage=features]').click();
      const mem = page.getByTestId('tf-memory');
      await expect(mem).toContainText('tensors');
      held.push(Number(await mem.getAttribute('data-tensors')));
    }
    console.log(`tensors held by the CNN workers after each run: ${held.join(', ')}`);
    expect(held[0]).toBeGreaterThan(0);
    expect(held).toEqual([held[0], held[0], held[0]]);
    expect(errors).toEqual([]);
  });
});
