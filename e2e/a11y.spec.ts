/**
 * Accessibility of every stage, checked by axe-core (the engine behind Lighthouse's and the
 * browsers' accessibility audits) in real Chromium, after the whole pipeline has run on a sample
 * photo with its ground truth, of the NMS replay and of the Model & backend dialog: WCAG 2.0/2.1 A and AA rules (names of controls,
 * labels, roles, ARIA use, colour contrast of text, keyboard-focusable scroll areas) and axe's best practices
 * (roles allowed on each element, landmarks, heading order).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test, type Page } from '@playwright/test';
import { collectConsoleErrors, computeFewProposals, stageIds, waitForImage } from './helpers';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/**
 * axe-core on the page as it is now, with the rule tags AxeBuilder's withTags sets. axe is put into
 * the page once and run for each stage (AxeBuilder injects its 0.5 MB source again on every
 * analyze(), about a second of each of this test's ten audits on a 2-core machine).
 */
async function audit(page: Page, where: string): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target.map(String) })) }));
  }, TAGS);
  return violations.map((v) => `${where}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}${v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ''}`);
}

test('every stage and the Model & backend dialog pass axe-core\'s WCAG 2.1 A/AA rules and best practices, and reflow at 375 and 1024 px (WCAG 1.4.10)', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForImage(page, 'apple.jpg');
  // With the sample's ground truth, so the training-rule views and TP/FP marks are audited too.
  await page.getByTestId('gt-sample').click();
  await expect(page.getByTestId('gt-list')).toBeVisible();
  await computeFewProposals(page, 40);
  await page.locator('[data-stage=detections]').click();
  await page.getByTestId('run-all').click();
  await expect(page.getByTestId('timings')).toBeVisible({ timeout: 240_000 });

  const violations: string[] = [];
  for (const id of await stageIds(page)) {
    await page.locator(`[data-stage=${id}]`).click();
    await expect(page.locator(`[data-stage=${id}]`)).toHaveAttribute('aria-selected', 'true');
    violations.push(...(await audit(page, id)));
  }
  // The step-by-step NMS replay, mid-way.
  await page.locator('[data-stage=nms]').click();
  await page.getByTestId('score-threshold').fill('-2');
  await page.getByRole('button', { name: 'Start replay' }).click();
  await page.getByTestId('nms-next').click();
  await expect(page.getByTestId('nms-step')).toContainText('Step 1/');
  violations.push(...(await audit(page, 'nms replay')));
  await page.getByRole('button', { name: /Model & backend/ }).click();
  await expect(page.getByRole('dialog')).toBeVisible();
  violations.push(...(await audit(page, 'model dialog')));
  expect(violations, violations.join('\n')).toEqual([]);
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);

  // Reflow (WCAG 1.4.10), on the same results: no sideways scrolling at 1024 px and on a 375 px
  // phone, on every stage; the photo and the panel both on the page (stacked on the phone).
  const overflow: string[] = [];
  for (const width of [375, 1024]) {
    await page.setViewportSize({ width, height: 800 });
    for (const id of await stageIds(page)) {
      await page.locator(`[data-stage=${id}]`).click();
      const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      if (scroll > client) overflow.push(`${width} px, ${id}: the page is ${scroll} px wide`);
    }
    await expect(page.getByTestId('main-canvas')).toBeVisible();
  }
  expect(overflow, overflow.join('\n')).toEqual([]);
  expect(errors).toEqual([]);
});
