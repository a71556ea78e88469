#!/usr/bin/env node
// Regenerates docs/screenshot.png (the README's picture): builds the app, serves it, runs the
// whole pipeline on a sample photo in Chromium and captures the Detections stage.
//   node scripts/screenshot.mjs [sample.jpg] [stage]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { chromiumExecutable, CHROMIUM_ARGS } from '../src/cli/chromium.ts';

const sample = process.argv[2] ?? 'fruits.jpg';
const stage = process.argv[3] ?? 'proposals';
const port = 4199;
if (spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' }).status !== 0) process.exit(1);
const server = spawn('node_modules/.bin/vite', ['preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { stdio: 'ignore' });
try {
  await new Promise((r) => setTimeout(r, 2000));
  const browser = await chromium.launch({ executablePath: chromiumExecutable(), args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.locator(`[data-sample="${sample}"]`).click();
  await page.getByTestId('image-facts').filter({ hasText: sample }).waitFor();
  await page.locator('[data-stage=detections]').click();
  await page.getByTestId('run-all').click();
  await page.locator('[data-stage=detections][data-status=done]').waitFor({ timeout: 600_000 });
  await page.locator(`[data-stage=${stage}]`).click();
  await page.waitForTimeout(1000);
  mkdirSync('docs', { recursive: true });
  await page.screenshot({ path: 'docs/screenshot.png' });
  await browser.close();
  console.log('wrote docs/screenshot.png');
} finally {
  server.kill();
}
