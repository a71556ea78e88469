import { expect, test } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumExecutable } from '../src/cli/chromium';
import { collectConsoleErrors, computeFewProposals, openModelDialog, screenshot, waitForImage } from './helpers';

// A browser with WebGPU off: navigator.gpu.requestAdapter() resolves null, as on machines without
// a usable GPU. (Launch options need a browser of their own, so this lives in its own file.)
test.use({ launchOptions: { executablePath: chromiumExecutable(), args: [...CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'), '--disable-features=WebGPU'] } });

test('choosing WebGPU without an adapter says so, falls back to wasm, and the CNN still runs', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForImage(page, 'apple.jpg');
  await computeFewProposals(page, 10);
  const dialog = await openModelDialog(page);
  await dialog.getByTestId('backend-webgpu').check();
  await dialog.getByTestId('apply-backend').click();
  await expect(dialog.getByTestId('backend-name')).toHaveText('wasm', { timeout: 120_000 });
  await expect(dialog.getByTestId('backend-fallback')).toContainText('webgpu is not available');
  await expect(dialog.getByTestId('backend-fallback')).toContainText('no WebGPU adapter');
  await screenshot(page, 'model-dialog-no-webgpu');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('message-warning').filter({ hasText: 'The webgpu backend is not available here; the CNN runs on wasm instead' })).toBeVisible();
  await page.locator('[data-stage=features]').click();
  await page.getByTestId('compute-features').click();
  await expect(page.getByTestId('features-summary')).toContainText('10 of 10', { timeout: 120_000 });
  await expect(page.getByTestId('features-summary')).toContainText('wasm');
  expect(errors).toEqual([]);
});
