import { expect, test } from '@playwright/test';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectConsoleErrors, computeFewProposals, openModelDialog, waitForImage } from './helpers';
import { FIXTURE_DIR } from './fixtures';

/**
 * A model without an SVM head (features only, e.g. an imported plain AlexNet): issue 25 found it
 * ran to "0 detections" with the SVM stage marked done and no word why. The stages it cannot run
 * are marked unavailable and say why, as the CLI's "has no SVM head" does.
 */
test('a features-only model marks the SVM, regression, NMS and detections stages unavailable and says why', async ({ page }) => {
  test.setTimeout(240_000);
  const errors = collectConsoleErrors(page);
  // The bundled CNN without its heads: model.json without svm/boxRegressor, and cnn.bin alone.
  const dir = join(FIXTURE_DIR, 'features-only');
  mkdirSync(dir, { recursive: true });
  const m = JSON.parse(readFileSync('public/models/fruit-animals/model.json', 'utf8'));
  delete m.svm;
  delete m.boxRegressor;
  m.name = 'features-only';
  m.files = m.files.filter((f: { path: string }) => f.path === 'cnn.bin');
  m.tensors = m.tensors.filter((t: { file: string }) => t.file === 'cnn.bin');
  writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
  copyFileSync('public/models/fruit-animals/cnn.bin', join(dir, 'cnn.bin'));

  await page.goto('/');
  await waitForImage(page, 'apple.jpg');
  const dialog = await openModelDialog(page);
  await dialog.getByTestId('model-file-input').setInputFiles([join(dir, 'model.json'), join(dir, 'cnn.bin')]);
  await expect(dialog.getByTestId('model-load-ok')).toContainText('Loaded features-only', { timeout: 120_000 });
  await page.keyboard.press('Escape');

  for (const id of ['svm', 'regression', 'nms', 'detections']) {
    await expect(page.locator(`[data-stage=${id}]`)).toHaveAttribute('data-status', 'unavailable');
  }
  await expect(page.locator('[data-stage=features]')).toHaveAttribute('data-status', 'pending');

  // The run stops being useful at the features: they are computed, the later stages stay unavailable.
  await computeFewProposals(page, 10);
  await page.getByTestId('run-all-header').click();
  await expect(page.locator('[data-stage=features]')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  for (const id of ['svm', 'regression', 'nms', 'detections']) {
    await expect(page.locator(`[data-stage=${id}]`)).toHaveAttribute('data-status', 'unavailable');
    await page.locator(`[data-stage=${id}]`).click();
    await expect(page.getByTestId('no-svm-head')).toContainText('This model has no SVM head: it can extract features but not detect.');
    await expect(page.getByTestId('stage-panel')).not.toContainText('0 detections');
  }
  expect(errors).toEqual([]);
});
