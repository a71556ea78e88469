import { expect, test } from '@playwright/test';
import { collectConsoleErrors, waitForImage } from './helpers';

/**
 * While selective search runs, the page leaves the main thread to its workers (issue 24: on a
 * 2-core machine every millisecond the page spends competes with the two selective-search
 * workers). The photo's canvas used to be redrawn twice per search before any result came: once
 * because the App re-rendered (the stepper shows the stage running) and the overlay's key was a
 * fresh array, once because the progress bar took a row from the viewer. Each redraw is a full
 * draw of the photo and its boxes, a canvas commit and a raster.
 */
test('the photo is not redrawn while selective search runs, and is when the result comes', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForImage(page, 'apple.jpg');
  await page.locator('[data-stage=proposals]').click();
  // Entering the stage runs a search of its own; wait for it to finish.
  await expect(page.getByTestId('proposal-summary')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('progress')).toHaveCount(0);

  // Every draw sets the canvas's size and its data-drawn-count: count them, and those made while
  // the progress bar is shown.
  const sizeBefore = await page.evaluate(() => {
    const c = document.querySelector('[data-testid="main-canvas"]') as HTMLCanvasElement;
    const w = window as unknown as { __draws: { during: number; after: number } };
    w.__draws = { during: 0, after: 0 };
    new MutationObserver((records) => {
      if (!records.some((r) => r.attributeName === 'data-drawn-count')) return;
      if (document.querySelector('[data-testid="progress"]')) w.__draws.during++;
      else w.__draws.after++;
    }).observe(c, { attributes: true });
    return [c.width, c.height];
  });
  await page.getByTestId('ss-max').fill('500');
  await page.getByTestId('compute-proposals').click();
  await expect(page.getByTestId('progress')).toContainText('Selective search');
  const sizeDuring = await page.evaluate(() => {
    const c = document.querySelector('[data-testid="main-canvas"]') as HTMLCanvasElement;
    return [c.width, c.height];
  });
  await expect(page.getByTestId('proposal-summary')).toContainText('500 proposals', { timeout: 120_000 });
  await expect(page.getByTestId('progress')).toHaveCount(0);
  const draws = await page.evaluate(() => (window as unknown as { __draws: { during: number; after: number } }).__draws);
  expect(sizeDuring).toEqual(sizeBefore);
  expect(draws.during).toBe(0);
  // The new boxes are drawn (so the observer sees draws at all), once or twice, not at every update.
  expect(draws.after).toBeGreaterThanOrEqual(1);
  expect(draws.after).toBeLessThanOrEqual(2);
  // Cancel still works and the bar still shows progress: the bar is only moved, not removed.
  await page.getByTestId('ss-max').fill('400');
  await page.getByTestId('compute-proposals').click();
  await expect(page.getByTestId('progress')).toBeVisible();
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('progress')).toHaveCount(0);
  await expect(page.getByTestId('proposal-summary')).toContainText('500 proposals');
  expect(errors).toEqual([]);
});
