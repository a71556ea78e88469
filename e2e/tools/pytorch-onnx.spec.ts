/**
 * Opt-in (`npm run test:tools`): needs Python 3 with PyTorch (Debian: python3-torch), which
 * `npm test` must not. A CNN written by torch.onnx.export, as PyTorch users export theirs.
 */
import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledArch, collectConsoleErrors, computeFewProposals, openModelDialog as openDialog, relativeDifference, waitForImage } from '../helpers';
import { writeFixture } from '../fixtures';
import { python } from '../../tools/gpu-finetune/python';

test.describe('ONNX from PyTorch in the app', () => {
  test('a CNN exported to ONNX by PyTorch loads in the dialog and gives the bundled model\'s fc7', async ({ page }) => {
    test.setTimeout(300_000);
    const errors = collectConsoleErrors(page);
    // The bundled CNN through PyTorch (finetune.py's network) and a plain torch.onnx.export, which
    // writes LocalResponseNorm as a subgraph that the importer reads as LRN.
    const tmp = join(mkdtempSync(join(tmpdir(), 'e2e-onnx-')), 'cnn.onnx');
    python(['tools/gpu-finetune/export_onnx.py', 'public/models/fruit-animals', tmp]);
    const onnxPath = writeFixture('bundled-cnn-pytorch.onnx', new Uint8Array(readFileSync(tmp)));

    await page.goto('/');
    await waitForImage(page, 'apple.jpg');
    await computeFewProposals(page, 5);
    await page.locator('[data-stage=features]').click();
    const { name } = bundledArch();
    const fc7Of = async (model: string) => {
      const strip = page.locator(`[data-testid="fc7-strip"][data-proposal="0"][data-model="${model}"]`);
      await expect(strip).toBeVisible({ timeout: 180_000 });
      return (await strip.getAttribute('data-values'))!.split(',').map(Number);
    };
    const bundled = await fc7Of(name);

    const dialog = await openDialog(page);
    await dialog.getByTestId('model-file-input').setInputFiles(onnxPath);
    await expect(dialog.getByTestId('model-load-ok')).toContainText('Loaded', { timeout: 120_000 });
    const onnxName = (await dialog.getByTestId('model-name').textContent())!;
    expect(onnxName).not.toBe(name);
    // fc8 without class names and no SVMs: a features-only model, said so.
    await expect(dialog.getByTestId('model-classes')).toContainText('no SVM head');
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();

    const imported = await fc7Of(onnxName);
    const diff = relativeDifference(bundled, imported);
    console.log(`fc7 PyTorch-exported ONNX vs bundled package: max |difference| / max |fc7| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
    expect(errors).toEqual([]);
  });
});
