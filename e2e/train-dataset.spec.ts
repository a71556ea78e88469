/**
 * The Train view's dataset in real Chromium: a VOC zip imported (built at run time from the shared
 * fruit-animals photos), boxes drawn with the mouse and edited with the keyboard, everything kept
 * in IndexedDB across a reload, a VOC zip exported that reads back the same, the refusals (a broken
 * zip, a huge photo, a 1 px box, a class with one box, photos without boxes), and axe-core's audit.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { collectConsoleErrors, screenshot } from './helpers';
import { jpegBytes, pngBytes, halves, writeFixture } from './fixtures';
import { datasetRoot, idsWithPrefix, vocZipOf } from './vocZip';

async function openTrain(page: Page): Promise<void> {
  await page.goto('/');
  await page.getByTestId('train-button').click();
  await expect(page.getByTestId('train-view')).toBeVisible();
}

/** The boxes the editor holds, as [x1, y1, x2, y2, label]. */
async function editorBoxes(page: Page): Promise<Array<[number, number, number, number, string]>> {
  return JSON.parse((await page.getByTestId('box-editor').getAttribute('data-boxes')) ?? '[]');
}

test('a VOC zip goes in, boxes are drawn and edited, a reload keeps it all, and the export reads back the same', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = collectConsoleErrors(page);
  const root = datasetRoot();
  const ids = [...idsWithPrefix(root, 'fruit_apple_').slice(0, 3), ...idsWithPrefix(root, 'raccoon_').slice(0, 3)];
  const zip = writeFixture('six.zip', vocZipOf(root, ids));
  await openTrain(page);
  await expect(page).toHaveURL(/#train$/);
  await page.getByTestId('train-file-input').setInputFiles(zip);
  await expect(page.getByTestId('add-report')).toContainText('6 photos added (6 with boxes)');
  const counts = page.getByTestId('class-counts');
  const boxesOf = (c: string) => counts.locator(`tr[data-class="${c}"] td`).nth(1);
  // The XML files hold these boxes (counted here from the files themselves).
  const countIn = (prefix: string, name: string) => ids.filter((i) => i.startsWith(prefix)).reduce((n, i) => n + (readFileSync(`${root}/Annotations/${i}.xml`, 'utf8').match(new RegExp(`<name>${name}</name>`, 'g'))?.length ?? 0), 0);
  await expect(boxesOf('apple')).toHaveText(String(countIn('fruit_apple_', 'apple')));
  await expect(boxesOf('raccoon')).toHaveText(String(countIn('raccoon_', 'raccoon')));

  // Draw a new box with the mouse on the first photo, class "core".
  await page.locator('[data-photo]').first().click();
  const editor = page.getByTestId('box-editor');
  const before = await editorBoxes(page);
  await page.getByTestId('box-class').fill('core');
  const r = (await editor.boundingBox())!;
  await page.mouse.move(r.x + r.width * 0.05, r.y + r.height * 0.05);
  await page.mouse.down();
  await page.mouse.move(r.x + r.width * 0.2, r.y + r.height * 0.25, { steps: 4 });
  await page.mouse.up();
  const drawn = await editorBoxes(page);
  expect(drawn.length).toBe(before.length + 1);
  const added = drawn[drawn.length - 1];
  expect(added[4]).toBe('core');
  expect(added.slice(0, 4).every((v) => Number.isInteger(v))).toBe(true);
  // A click-sized drag (1 px of the photo) adds nothing (it selects the box under it).
  await page.mouse.move(r.x + r.width * 0.6, r.y + r.height * 0.9);
  await page.mouse.down();
  await page.mouse.move(r.x + r.width * 0.6 + 0.5, r.y + r.height * 0.9 + 0.5);
  await page.mouse.up();
  expect((await editorBoxes(page)).length).toBe(drawn.length);

  // Keyboard: select the new box in the list; in the editor, arrows move it, Shift+arrows resize
  // it, Delete removes it.
  await page.getByTestId('box-list').getByRole('button', { name: /^2\. core/ }).click();
  await editor.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  await expect.poll(async () => (await editorBoxes(page))[drawn.length - 1][0]).toBeGreaterThan(added[0]);
  let now = (await editorBoxes(page))[drawn.length - 1];
  const photoW = Number((await page.getByTestId('selected-photo').locator('h3').textContent())!.match(/(\d+) ×/)![1]);
  const step = Math.max(1, Math.round(photoW / 100));
  expect(now[0] - added[0]).toBeGreaterThan(0);
  expect(now[2] - now[0]).toBe(added[2] - added[0]);
  await page.keyboard.press('Shift+ArrowRight');
  await expect.poll(async () => (await editorBoxes(page))[drawn.length - 1][2] - now[2]).toBe(step);
  now = (await editorBoxes(page))[drawn.length - 1];
  expect(now[2] - now[0]).toBe(added[2] - added[0] + step);
  // The editor keeps its arrows: the app's stage (which Left/Right step elsewhere) did not move.
  expect(await page.evaluate(() => (window as any).__rcnnStore.getState().stage)).toBe('image');
  await page.keyboard.press('[');
  await page.keyboard.press(']');
  await page.keyboard.press('Delete');
  await expect.poll(() => editorBoxes(page)).toEqual(before);
  await page.keyboard.press('Insert');
  await expect.poll(async () => (await editorBoxes(page)).length).toBe(before.length + 1);
  const kept = await editorBoxes(page);

  // A reload brings back the view, the photos and the boxes (IndexedDB).
  await page.reload();
  await expect(page.getByTestId('train-view')).toBeVisible();
  await expect(boxesOf('core')).toHaveText('1');
  await page.locator('[data-photo]').first().click();
  expect(await editorBoxes(page)).toEqual(kept);

  // The export is a VOC zip; importing it into an emptied dataset gives the same photos and boxes.
  const dl = page.waitForEvent('download');
  await page.getByTestId('export-voc').click();
  const file = await (await dl).path();
  const exported = readFileSync(file!);
  expect(exported.subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
  const all = await page.evaluate(() => (window as any).__rcnnStore.getState().train.photos.map((p: any) => [p.name, p.boxes]));
  await page.getByRole('button', { name: 'Delete the dataset…' }).click();
  await page.getByTestId('confirm-clear').click();
  await expect(page.getByTestId('train-empty')).toBeVisible();
  await page.getByTestId('train-file-input').setInputFiles({ name: 'exported.zip', mimeType: 'application/zip', buffer: exported });
  await expect(page.getByTestId('add-report')).toContainText('6 photos added');
  const back = await page.evaluate(() => (window as any).__rcnnStore.getState().train.photos.map((p: any) => [p.name, p.boxes]));
  const sort = (x: any[]) => [...x].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  expect(sort(back)).toEqual(sort(all));
  await screenshot(page, 'train-dataset');
  expect(errors).toEqual([]);
});

test('refusals: a broken zip, a huge photo, a class with one box, photos without boxes; and axe-core finds nothing', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = collectConsoleErrors(page);
  await openTrain(page);
  // A broken zip: one message, nothing else lost.
  const zip = vocZipOf(datasetRoot(), idsWithPrefix(datasetRoot(), 'kangaroo_').slice(0, 2));
  const broken = writeFixture('broken.zip', zip.subarray(0, zip.length - 40));
  // A PNG whose header says 20000 x 20000 (400 MP): refused from the header, before decoding.
  const png = pngBytes(40, 30, halves(40, 30), 4);
  const huge = png.slice();
  new DataView(huge.buffer).setUint32(16, 20000);
  new DataView(huge.buffer).setUint32(20, 20000);
  await page.getByTestId('train-file-input').setInputFiles([broken, writeFixture('huge.png', huge), writeFixture('plain.jpg', jpegBytes(64, 48, halves(64, 48)))]);
  const refusals = page.getByTestId('refusals');
  await expect(refusals).toContainText('broken.zip is not a readable .zip file');
  await expect(refusals).toContainText('truncated');
  await expect(refusals).toContainText('huge.png is 20000 x 20000 pixels (400 MP), more than the 150 MP');
  await expect(page.getByTestId('add-report')).toContainText('1 photo added');
  // One box of a class: training is refused with what to do.
  await page.getByTestId('box-class').fill('lonely');
  await page.getByTestId('add-box').click();
  await expect(page.getByTestId('train-refusals')).toContainText('Class “lonely” has only 1 box; a class needs at least 2.');
  // A photo without boxes: left out, and told so.
  await page.getByTestId('train-file-input').setInputFiles(writeFixture('unboxed.jpg', jpegBytes(80, 60, halves(80, 60), 70)));
  await expect(page.getByTestId('train-notice')).toContainText('1 photo has no boxes and is left out (unboxed)');
  await page.getByTestId('no-objects').check();
  await expect(page.getByTestId('train-notice')).toHaveCount(0);
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  const violations = result.violations.map((v) => `${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  expect(violations, violations.join('\n')).toEqual([]);
  expect(errors).toEqual([]);
});
