import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { caffeNetArch, describeArch } from '../src/model/architecture';
import { bundledArch, collectConsoleErrors, computeFewProposals, openModelDialog as openDialog, relativeDifference, screenshot, waitForImage } from './helpers';
import { writeFixture } from './fixtures';


/** Pixel statistics of a canvas element (read back from the canvas, not the DOM). */
async function canvasPixels(page: Page, selector: string, nth = 0): Promise<{ w: number; h: number; distinct: number; std: number; data: number[] }> {
  return page.evaluate(
    ([sel, i]) => {
      const c = document.querySelectorAll(sel)[i] as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      let s = 0, s2 = 0;
      for (let k = 0; k < d.length; k += 4) {
        seen.add((d[k] << 16) | (d[k + 1] << 8) | d[k + 2]);
        const v = (d[k] + d[k + 1] + d[k + 2]) / 3;
        s += v;
        s2 += v * v;
      }
      const n = d.length / 4;
      return { w: c.width, h: c.height, distinct: seen.size, std: Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2)), data: c.width * c.height <= 4096 ? Array.from(d) : [] };
    },
    [selector, nth] as const,
  );
}


/** fc7 of the proposal shown in the inspector, as the panel shows it. */
async function shownFc7(page: Page, proposal: number, backend: string): Promise<number[]> {
  const strip = page.locator(`[data-testid="fc7-strip"][data-proposal="${proposal}"][data-backend="${backend}"]`);
  await expect(strip).toBeVisible({ timeout: 180_000 });
  return (await strip.getAttribute('data-values'))!.split(',').map(Number);
}

test.describe('CNN features stage', () => {
  test('activation maps, fc7 strip, conv1 filters, fc7 map and architecture of the bundled model', async ({ page }) => {
    test.setTimeout(400_000);
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForImage(page, 'apple.jpg');
    await computeFewProposals(page, 40);
    await page.locator('[data-stage=features]').click();

    // The selected proposal (default #1) goes through the network with every layer kept.
    const grid = page.getByTestId('activation-grid');
    await expect(grid).toBeVisible({ timeout: 180_000 });
    const { arch, name } = bundledArch();
    const layers = describeArch(arch);
    await expect(grid).toHaveAttribute('data-channels', String(arch.conv.conv1.filters));
    const maps = page.getByTestId('activation-map');
    expect(await maps.count()).toBe(Math.min(32, arch.conv.conv1.filters));
    // The strongest channel's map is drawn: a 55 x 55 canvas with varied viridis pixels.
    const first = await canvasPixels(page, '[data-testid="activation-map"]');
    expect([first.w, first.h]).toEqual([55, 55]);
    expect(first.distinct).toBeGreaterThan(20);
    expect(first.std).toBeGreaterThan(5);

    // Another layer: conv5's maps have conv5's shape.
    await page.getByTestId('layer-select').selectOption('conv5');
    await expect(grid).toHaveAttribute('data-channels', String(arch.conv.conv5.filters));
    const c5 = await canvasPixels(page, '[data-testid="activation-map"]');
    expect([c5.w, c5.h]).toEqual([13, 13]);
    expect(c5.distinct).toBeGreaterThan(3);

    // fc7 strip: one pixel per unit, coloured by value.
    const strip = page.getByTestId('fc7-strip');
    await expect(strip).toHaveAttribute('data-dim', String(arch.fc7));
    const fc7 = (await strip.getAttribute('data-values'))!.split(',').map(Number);
    expect(fc7.length).toBe(arch.fc7);
    expect(fc7.every((v) => v >= 0)).toBe(true); // after the ReLU
    const active = fc7.filter((v) => v > 0).length;
    expect(active).toBeGreaterThan(0);
    expect(Number(await strip.getAttribute('data-active'))).toBe(active);
    const fc7px = await canvasPixels(page, '[data-testid="fc7-canvas"]');
    expect([fc7px.w, fc7px.h]).toEqual([arch.fc7, 1]);
    expect(fc7px.distinct).toBeGreaterThan(5);
    // The brightest pixel is the largest unit (viridis top is yellow: high red and green).
    const argmax = fc7.indexOf(Math.max(...fc7));
    expect(fc7px.data[4 * argmax]).toBeGreaterThan(200);
    expect(fc7px.data[4 * argmax + 1]).toBeGreaterThan(200);

    // conv1 filters of the model, as RGB tiles.
    const filters = page.getByTestId('conv1-filter');
    await expect(filters).toHaveCount(arch.conv.conv1.filters);
    const tile = await canvasPixels(page, '[data-testid="conv1-filter"]', 3);
    expect([tile.w, tile.h]).toEqual([11, 11]);
    expect(tile.distinct).toBeGreaterThan(10);
    // Clicking a filter shows its response to this crop (conv1 channel of the same index).
    await filters.nth(3).click();
    await expect(page.getByTestId('channel-focus')).toContainText('conv1 channel 3');

    // Architecture table: every layer of the loaded model, and the right totals.
    const table = page.getByTestId('arch-table');
    await expect(table.locator('tr[data-layer]')).toHaveCount(layers.length);
    const totalParams = layers.reduce((s, l) => s + l.params, 0);
    await expect(table).toHaveAttribute('data-total-params', String(totalParams));
    await expect(table).toContainText(name);
    await expect(table.locator('tr.arch-note')).toHaveCount(6); // augmentation, ReLU, pooling, LRN, groups, dropout
    const full = describeArch(caffeNetArch()).reduce((s, l) => s + l.params, 0);
    expect(full).toBeGreaterThan(60e6); // the comparison row quotes full CaffeNet (about 61 M)

    // Prev/next and thumbnails pick another proposal; its box is drawn on the photo.
    await page.getByTestId('next-proposal').click();
    await expect(page.getByTestId('proposal-number')).toHaveValue('2');
    await expect(page.locator('[data-testid="fc7-strip"][data-proposal="1"]')).toBeVisible({ timeout: 60_000 });
    await page.getByTestId('feature-thumb').nth(0).click();
    await expect(page.getByTestId('proposal-number')).toHaveValue('1');
    await expect(page.getByTestId('main-canvas')).toHaveAttribute('data-drawn-count', '1');
    await screenshot(page, 'features-inspector');

    // Run the CNN on all 40: live progress, then the PCA map of every proposal.
    await page.getByTestId('compute-features').click();
    const prog = page.getByTestId('features-progress');
    await expect(prog).toHaveAttribute('data-complete', 'true', { timeout: 300_000 });
    await expect(prog).toHaveAttribute('data-done', '40');
    await expect(page.getByTestId('features-summary')).toContainText('crops/s');
    const scored = await canvasPixels(page, '[data-testid="scored-strip"]');
    expect([scored.w, scored.h]).toEqual([40, 1]);
    const map = page.getByTestId('feature-map');
    await expect(map).toHaveAttribute('data-points', '40', { timeout: 60_000 });
    await expect(page.getByTestId('pca-info')).toContainText('PC1 explains');
    const pcaMs = Number(await map.getAttribute('data-pca-ms'));
    console.log(`PCA of 40 x ${arch.fc7} fc7 in the worker: ${pcaMs} ms`);

    // Hover a point: the panel names it and the main image draws its box next to the selected one.
    const canvas = page.getByTestId('feature-map-canvas');
    await canvas.scrollIntoViewIfNeeded();
    const spot = await page.evaluate(() => {
      const c = document.querySelector('[data-testid="feature-map-canvas"]') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const dpr = c.width / c.getBoundingClientRect().width;
      // A point's fill: background grey, unscored blue or an Okabe-Ito class colour.
      const fills = ['#9aa3ad', '#0072b2', '#E69F00', '#56B4E9', '#009E73', '#F0E442', '#D55E00', '#CC79A7'].map((h) => [1, 3, 5].map((o) => parseInt(h.slice(o, o + 2), 16)));
      // A 2 x 2 block of one fill: a dot's core, not an anti-aliased pixel of the axis labels' text.
      const is = (x: number, y: number, f: number[]) => {
        const k = 4 * (y * c.width + x);
        return Math.abs(d[k] - f[0]) + Math.abs(d[k + 1] - f[1]) + Math.abs(d[k + 2] - f[2]) < 6;
      };
      for (let y = 0; y < c.height - 1; y++)
        for (let x = 0; x < c.width - 1; x++) {
          if (fills.some((f) => is(x, y, f) && is(x + 1, y, f) && is(x, y + 1, f) && is(x + 1, y + 1, f))) return [(x + 1) / dpr, (y + 1) / dpr] as [number, number];
        }
      return null;
    });
    expect(spot).not.toBeNull();
    // The first matching pixel may be the top of the selected point's ring (drawn in a class colour,
    // up to 9 px out): step down towards its centre until the map reports a point under the pointer.
    let at = spot!;
    for (let dy = 0; dy <= 18; dy += 3) {
      at = [spot![0], spot![1] + dy];
      await canvas.hover({ position: { x: at[0], y: at[1] } });
      if (/^#\d+/.test((await page.locator('.fmap-hover').textContent()) ?? '')) break;
    }
    await expect(page.locator('.fmap-hover')).toContainText(/^#\d+/);
    const hovered = Number((await page.locator('.fmap-hover').textContent())!.match(/^#(\d+)/)![1]);
    await expect(page.getByTestId('main-canvas')).toHaveAttribute('data-drawn-count', hovered === 1 ? '1' : '2');
    await screenshot(page, 'features-map-hover');
    await canvas.click({ position: { x: at[0], y: at[1] } });
    await expect(page.getByTestId('proposal-number')).toHaveValue(String(hovered));
    await page.locator('.features-stage .section').last().scrollIntoViewIfNeeded();
    await screenshot(page, 'features-architecture');
    expect(errors).toEqual([]);
  });

  test('WebGPU (SwiftShader) gives the same fc7 as wasm, switched in the Model & backend dialog', { tag: '@slow' }, async ({ page }) => {
    test.setTimeout(400_000);
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForImage(page, 'apple.jpg');
    await computeFewProposals(page, 10);
    await page.locator('[data-stage=features]').click();
    const picks = [0, 4, 9];
    const wasm: number[][] = [];
    for (const i of picks) {
      await page.getByTestId('proposal-number').fill(String(i + 1));
      wasm.push(await shownFc7(page, i, 'wasm'));
    }
    await expect(page.getByTestId('backend-badge')).toHaveText('wasm');

    const dialog = await openDialog(page);
    await expect(dialog.getByTestId('backend-name')).toHaveText('wasm');
    await dialog.getByTestId('backend-webgpu').check();
    await dialog.getByTestId('apply-backend').click();
    await expect(dialog.getByTestId('backend-name')).toHaveText('webgpu', { timeout: 120_000 });
    // Headless Chromium's adapter is SwiftShader: the dialog says it is software, the badge warns.
    await expect(dialog.getByTestId('backend-software')).toContainText('software adapter');
    await expect(dialog.getByTestId('backend-info')).toContainText(/swiftshader/i);
    await screenshot(page, 'model-dialog-webgpu');
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId('backend-badge')).toContainText('webgpu ⚠');

    let worst = 0;
    for (let k = 0; k < picks.length; k++) {
      await page.getByTestId('proposal-number').fill(String(picks[k] + 1));
      const gpu = await shownFc7(page, picks[k], 'webgpu');
      worst = Math.max(worst, relativeDifference(wasm[k], gpu));
    }
    console.log(`fc7 webgpu vs wasm: max |difference| / max |fc7| = ${worst.toExponential(2)} over ${picks.length} crops`);
    expect(worst).toBeLessThan(1e-4);
    expect(errors).toEqual([]);
  });

  test('a broken model file gets a clear message and the loaded model stays; download and reload a bundle', async ({ page }) => {
    test.setTimeout(300_000);
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForImage(page, 'apple.jpg');
    const { name } = bundledArch();
    const dialog = await openDialog(page);
    await expect(dialog).toContainText('has not started yet');
    // Nothing runs until asked; start the CNN with the automatic choice.
    await dialog.getByTestId('apply-backend').click();
    await expect(dialog.getByTestId('model-name')).toHaveText(name, { timeout: 120_000 });
    await expect(dialog.getByTestId('backend-name')).toHaveText('wasm');

    // Download this model: a .rcnn bundle.
    const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByTestId('download-model').click()]);
    const bundlePath = join('test-results', 'fixtures', download.suggestedFilename());
    await download.saveAs(bundlePath);
    const bundle = readFileSync(bundlePath);
    expect(bundle.subarray(0, 8).toString('latin1')).toBe('RCNNPKG1');
    expect(download.suggestedFilename()).toMatch(/\.rcnn$/);

    // Not a model at all.
    const junk = writeFixture('broken.onnx', new TextEncoder().encode('this is not an onnx model'));
    await dialog.getByTestId('model-file-input').setInputFiles(junk);
    const err = dialog.getByTestId('model-load-error');
    await expect(err).toContainText('Could not load the model broken.onnx');
    await expect(err).toContainText('previous model stays loaded');
    await expect(dialog.getByTestId('model-name')).toHaveText(name);

    // A truncated bundle: named in the message.
    const cut = writeFixture('cut.rcnn', new Uint8Array(bundle.subarray(0, Math.floor(bundle.length / 2))));
    await dialog.getByTestId('model-file-input').setInputFiles(cut);
    await expect(err).toContainText('truncated');
    await expect(dialog.getByTestId('model-name')).toHaveText(name);

    // Dropped on the dialog (not taken for a photo): same message, image unchanged.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array([1, 2, 3, 4])], 'dropped.rcnn'));
      const target = document.querySelector('[data-testid="model-drop-zone"]')!;
      for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await expect(err).toContainText('dropped.rcnn');
    await expect(page.getByTestId('image-facts')).toContainText('apple.jpg');
    await screenshot(page, 'model-dialog-error');

    // A typed URL that does not exist: a message, nothing else changes.
    await dialog.getByTestId('model-url').fill('/models/none/missing.onnx');
    await dialog.getByTestId('load-model-url').click();
    await expect(err).toContainText('Could not load the model missing.onnx');
    await expect(dialog.getByTestId('model-name')).toHaveText(name);

    // A typed folder URL holding model.json and its .bin files loads (here the bundled one again).
    await dialog.getByTestId('model-url').fill('models/fruit-animals/');
    await dialog.getByTestId('load-model-url').click();
    await expect(dialog.getByTestId('model-load-ok')).toContainText(`Loaded ${name} from fruit-animals`);

    // The downloaded bundle loads back.
    await dialog.getByTestId('model-file-input').setInputFiles(bundlePath);
    await expect(dialog.getByTestId('model-load-ok')).toContainText(`Loaded ${name}`);
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();

    // The model still works: the features panel runs a crop through it.
    await computeFewProposals(page, 5);
    await page.locator('[data-stage=features]').click();
    await expect(page.getByTestId('activation-grid')).toBeVisible({ timeout: 120_000 });
    // Only the intended errors were shown (no console errors).
    expect(errors.filter((e) => !/404/.test(e))).toEqual([]);
  });
});
