import { expect, test } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { collectConsoleErrors, waitForImage } from './helpers';

/**
 * Ground truth is never dropped without the user's say (issue 25: clicking the current sample again
 * silently discarded the boxes the user drew). Re-clicking the same photo keeps everything; another
 * photo asks first, in an accessible dialog, and keeping is the safe default.
 */
test('re-clicking the current sample keeps the ground truth; another photo asks before discarding it', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForImage(page, 'apple.jpg');
  await page.getByText("Type a box's corners instead").click();
  for (const [k, v] of Object.entries({ xmin: '10', ymin: '20', xmax: '110', ymax: '220' })) await page.getByTestId(`gt-${k}`).fill(v);
  await page.getByTestId('gt-add').click();
  const list = page.getByTestId('gt-list').locator('li');
  await expect(list).toHaveCount(1);
  const dialog = page.getByRole('dialog', { name: 'Replace apple.jpg?' });

  // The same sample again: no reload at all (the very same image object stays), no question.
  await page.evaluate(() => {
    const w = window as unknown as { __rcnnStore: { getState(): { image: unknown } }; __before: unknown };
    w.__before = w.__rcnnStore.getState().image;
  });
  await page.locator('[data-sample="apple.jpg"]').click();
  await page.waitForTimeout(500);
  expect(await page.evaluate(() => {
    const w = window as unknown as { __rcnnStore: { getState(): { image: unknown; imageLoading: boolean } }; __before: unknown };
    return w.__rcnnStore.getState().image === w.__before && !w.__rcnnStore.getState().imageLoading;
  })).toBe(true);
  await expect(dialog).toBeHidden();
  await expect(list).toHaveCount(1);

  // The same photo picked as a file: decoded, found identical, kept with its boxes.
  await page.getByTestId('file-input').setInputFiles('public/samples/apple.jpg');
  await page.waitForFunction(() => !(window as unknown as { __rcnnStore: { getState(): { imageLoading: boolean } } }).__rcnnStore.getState().imageLoading);
  await expect(dialog).toBeHidden();
  await expect(list).toHaveCount(1);

  // Another sample: asked, with the safe choice focused; Escape keeps the photo and its box.
  await page.locator('[data-sample="orange.jpg"]').click();
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('orange.jpg would replace apple.jpg, and the 1 ground-truth box you drew for it would be discarded.');
  await expect(dialog.getByRole('button', { name: 'Keep apple.jpg' })).toBeFocused();
  const axe = await new AxeBuilder({ page }).include('[data-testid="replace-photo-dialog"]').withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('message-info').filter({ hasText: 'Kept apple.jpg and its 1 ground-truth box; orange.jpg was not loaded.' })).toBeVisible();
  await expect(page.getByTestId('image-facts')).toContainText('apple.jpg');
  await expect(list).toHaveCount(1);

  // Asked again; this time the user says replace.
  await page.locator('[data-sample="orange.jpg"]').click();
  await dialog.getByRole('button', { name: 'Load orange.jpg, discard the boxes' }).click();
  await waitForImage(page, 'orange.jpg');
  await expect(page.getByTestId('gt-list')).toHaveCount(0);

  // A sample's own boxes, as loaded, come back with one click: no question for them.
  await page.getByTestId('gt-sample').click();
  await expect(list).toHaveCount(1);
  await page.locator('[data-sample="apple.jpg"]').click();
  await waitForImage(page, 'apple.jpg');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  expect(errors).toEqual([]);
});
