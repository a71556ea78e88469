import { expect, type Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import type { CaffeNetArch } from '../src/model/architecture';

export const ARTIFACTS = 'e2e-artifacts';

/** Fail the test on any console error or uncaught page error. */
export function collectConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  // Pictures for people, not assertions: only when asked (E2E_SCREENSHOTS=1), as the 30 of them
  // cost npm test about 10 s. Playwright keeps its own screenshot of any failing test.
  if (!process.env.E2E_SCREENSHOTS) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png` });
}

/** Statistics of the main canvas's pixels, read back from the canvas itself. */
export async function canvasStats(page: Page): Promise<{ width: number; height: number; mean: number; std: number; opaque: number }> {
  return page.evaluate(() => {
    const c = document.querySelector('[data-testid="main-canvas"]') as HTMLCanvasElement | null;
    if (!c) return { width: 0, height: 0, mean: 0, std: 0, opaque: 0 };
    const ctx = c.getContext('2d')!;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let s = 0, s2 = 0, n = 0, opaque = 0;
    for (let i = 0; i < d.length; i += 4) {
      const v = (d[i] + d[i + 1] + d[i + 2]) / 3;
      s += v;
      s2 += v * v;
      n++;
      if (d[i + 3] === 255) opaque++;
    }
    const mean = s / n;
    return { width: c.width, height: c.height, mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)), opaque: opaque / n };
  });
}

/** Mean RGB of a region of the main canvas given in fractions of its size. */
export async function canvasRegionMean(page: Page, fx: number, fy: number, fw: number, fh: number): Promise<[number, number, number]> {
  return page.evaluate(
    ([fx, fy, fw, fh]) => {
      const c = document.querySelector('[data-testid="main-canvas"]') as HTMLCanvasElement;
      const ctx = c.getContext('2d')!;
      const x = Math.floor(fx * c.width), y = Math.floor(fy * c.height);
      const w = Math.max(1, Math.floor(fw * c.width)), h = Math.max(1, Math.floor(fh * c.height));
      const d = ctx.getImageData(x, y, w, h).data;
      const m = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) m[k] += d[i + k];
      return m.map((v) => v / (d.length / 4)) as [number, number, number];
    },
    [fx, fy, fw, fh] as const,
  );
}

export async function waitForImage(page: Page, name: string): Promise<void> {
  await expect(page.getByTestId('image-facts')).toContainText(name);
}

/** Selective search with only the top `n` proposals (keeps the CNN stages short on a CPU). */
export async function computeFewProposals(page: Page, n: number): Promise<void> {
  await page.locator('[data-stage=proposals]').click();
  await page.getByTestId('ss-max').fill(String(n));
  await page.getByTestId('compute-proposals').click();
  await expect(page.getByTestId('proposal-summary')).toContainText(`${n} proposals`, { timeout: 120_000 });
}

/** Opens the Model & backend dialog and returns it. */
export async function openModelDialog(page: Page) {
  await page.getByTestId('model-button').click();
  const dialog = page.getByRole('dialog', { name: 'Model & backend' });
  await expect(dialog).toBeVisible();
  return dialog;
}

/** The bundled model's manifest, read from the repository (it is retrained from time to time). */
export function bundledArch(): { arch: CaffeNetArch; name: string } {
  const m = JSON.parse(readFileSync('public/models/fruit-animals/model.json', 'utf8')) as { architecture: CaffeNetArch; name: string };
  return { arch: m.architecture, name: m.name };
}

/** max |a - b| / max |a|: how far two fc7 vectors of the same crop are apart. */
export function relativeDifference(a: number[], b: number[]): number {
  expect(b.length).toBe(a.length);
  const scale = Math.max(...a.map(Math.abs));
  expect(scale).toBeGreaterThan(0);
  let d = 0;
  for (let j = 0; j < a.length; j++) d = Math.max(d, Math.abs(a[j] - b[j]));
  return d / scale;
}

/** The stage ids in the order the stepper shows them (read from the page: the app's stage registry). */
export async function stageIds(page: Page): Promise<string[]> {
  const ids = await page.getByRole('tab').evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-stage') ?? ''));
  expect(ids.length).toBeGreaterThanOrEqual(8);
  return ids;
}
