import { expect, test, type Page } from '@playwright/test';
import { collectConsoleErrors, waitForImage } from './helpers';
import { writeFixture } from './fixtures';

/**
 * Hostile annotation files (issue 25's audit: a 10,000-object file blocked the page for 163 s, a
 * 200,000-deep one for over 9 minutes, and `&lol9;` became a class name). Each must be answered
 * with one message while the page keeps answering, and the ground truth the user had stays.
 */

/** Starts a probe in the page that records the longest gap between 20 ms timer ticks (a main-thread stall). */
async function startStallProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __maxGap: number; __probe?: number };
    w.__maxGap = 0;
    let last = performance.now();
    w.__probe = window.setInterval(() => {
      const now = performance.now();
      w.__maxGap = Math.max(w.__maxGap, now - last);
      last = now;
    }, 20);
  });
}

async function stopStallProbe(page: Page): Promise<number> {
  return page.evaluate(() => {
    const w = window as unknown as { __maxGap: number; __probe?: number };
    window.clearInterval(w.__probe);
    return w.__maxGap;
  });
}

const enc = (s: string) => new TextEncoder().encode(s);

function manyObjects(n: number): string {
  const objs: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = 1 + (i % 400);
    objs.push(`<object><name>apple</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult><bndbox><xmin>${x}</xmin><ymin>2</ymin><xmax>${x + 50}</xmax><ymax>60</ymax></bndbox></object>`);
  }
  return `<annotation><filename>apple.jpg</filename><size><width>512</width><height>512</height><depth>3</depth></size>\n${objs.join('\n')}\n</annotation>`;
}

test('hostile annotation files are refused with one message, the page keeps answering and the ground truth stays', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForImage(page, 'apple.jpg');
  // The user's own ground truth: one box typed in.
  await page.getByText("Type a box's corners instead").click();
  for (const [k, v] of Object.entries({ xmin: '10', ymin: '20', xmax: '110', ymax: '220' })) await page.getByTestId(`gt-${k}`).fill(v);
  await page.getByTestId('gt-add').click();
  const list = page.getByTestId('gt-list').locator('li');
  await expect(list).toHaveCount(1);
  await expect(list.nth(0)).toContainText('apple: 100 × 200 px');

  const xml = page.getByTestId('gt-xml-input');
  const draw = page.getByTestId('gt-draw');
  const cases: Array<{ name: string; body: string; message: string }> = [
    { name: 'many.xml', body: manyObjects(10_000), message: 'many.xml has 10000 boxes, more than the 1000 one photo takes here; the 1 ground-truth box you had stays.' },
    {
      name: 'deep.xml',
      body: `<annotation>\n${'<a>'.repeat(200_000)}${'</a>'.repeat(200_000)}</annotation>`,
      message: 'deep.xml: not read, because it nests elements more than 256 deep (a PASCAL VOC annotation nests 4 deep) (line 2)',
    },
    {
      name: 'lol.xml',
      body: `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol9 "&lol;&lol;&lol;">\n]>\n<annotation><object><name>&lol9;</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>90</xmax><ymax>90</ymax></bndbox></object></annotation>`,
      message: 'lol.xml: not read, because it declares its own DTD or entities',
    },
    {
      name: 'xxe.xml',
      body: `<annotation><object><name>&xxe;</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>90</xmax><ymax>90</ymax></bndbox></object></annotation>`,
      message: 'xxe.xml: not read, because it uses the entity &xxe;',
    },
  ];
  for (const c of cases) {
    await startStallProbe(page);
    const t0 = Date.now();
    await xml.setInputFiles(writeFixture(c.name, enc(c.body)));
    // While the file is read the page answers: a click toggles draw mode within 1 s, and back.
    const c0 = Date.now();
    await draw.click({ timeout: 1000 });
    await expect(draw).toHaveAttribute('aria-pressed', 'true', { timeout: 1000 });
    await draw.click({ timeout: 1000 });
    await expect(draw).toHaveAttribute('aria-pressed', 'false', { timeout: 1000 });
    const clickMs = Date.now() - c0;
    await expect(page.getByTestId('message-error').filter({ hasText: c.message })).toBeVisible({ timeout: 10_000 });
    const loadMs = Date.now() - t0;
    const stall = await stopStallProbe(page);
    console.log(`${c.name} (${(c.body.length / 1e6).toFixed(2)} MB): refused in ${loadMs} ms, two clicks answered in ${clickMs} ms, longest main-thread stall ${stall.toFixed(0)} ms`);
    expect(stall).toBeLessThan(1000);
    // The user's box stays, as it was.
    await expect(list).toHaveCount(1);
    await expect(list.nth(0)).toContainText('apple: 100 × 200 px');
  }
  expect(errors).toEqual([]);
});
