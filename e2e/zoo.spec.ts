import { expect, test, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ILSVRC13_DET_CLASSES } from '../src/model/onnx/ilsvrc13';
import { buildZooReplica } from '../src/model/onnx/zooReplicaNode';
import { collectConsoleErrors, computeFewProposals, openModelDialog, screenshot, waitForImage } from './helpers';
import { FIXTURE_DIR } from './fixtures';

/**
 * The original R-CNN in one click (issue 20), against a real HTTP server started here that serves
 * an exact-layout replica of the zoo's rcnn-ilsvrc13-9.tar.gz (model/onnx/zooReplica.ts: the zoo's
 * names, ops, opset and declared 224 input, at width 1/16; its test outputs computed by
 * onnxruntime-node), built when the test runs. The page is told the replica's address, size and
 * SHA-256 through its query string, which it honours only for a loopback address
 * (runner/zooSource.ts): the checks themselves are the real ones.
 *
 * The server throttles the body (so progress, speed and Cancel can be seen), honours Range
 * requests with 206 and Content-Range, and can cut the connection part-way.
 */

const FILE = 'rcnn-ilsvrc13-9.tar.gz';

interface Replica {
  bytes: Uint8Array;
  sha256: string;
}

interface Served {
  server: Server;
  base: string;
  /** Each request: its method and Range header; whether the client closed it before the end, and when. */
  log: Array<{ method: string; range: string | undefined; closedEarly: boolean; closedAt?: number; written: number }>;
  /** Per request number (1-based): cut the connection after this many body bytes, and the pace. */
  plan: (n: number) => { dropAfter?: number; chunk: number; delayMs: number };
}

function startServer(file: Uint8Array): Promise<Served> {
  const s: Partial<Served> = { log: [], plan: () => ({ chunk: 64 * 1024, delayMs: 20 }) };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // The page is on another port: CORS, with Content-Range exposed so the app can check it.
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length');
    const entry = { method: req.method ?? '', range: req.headers.range, closedEarly: false, closedAt: undefined as number | undefined, written: 0 };
    s.log!.push(entry);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Headers': 'Range', 'Access-Control-Allow-Methods': 'GET' });
      return void res.end();
    }
    if (!req.url?.startsWith(`/${FILE}`)) return void res.writeHead(404).end('not here');
    const plan = s.plan!(s.log!.filter((e) => e.method === 'GET').length);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (m) res.writeHead(206, { 'Content-Type': 'application/gzip', 'Content-Range': `bytes ${start}-${file.length - 1}/${file.length}`, 'Content-Length': String(file.length - start) });
    else res.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Length': String(file.length), 'Accept-Ranges': 'bytes' });
    res.on('close', () => {
      if (!res.writableFinished) {
        entry.closedEarly = true;
        entry.closedAt = Date.now();
      }
    });
    let at = start;
    const step = () => {
      if (res.destroyed) return;
      if (plan.dropAfter !== undefined && entry.written >= plan.dropAfter) return void res.destroy();
      const n = Math.min(plan.chunk, file.length - at, plan.dropAfter !== undefined ? plan.dropAfter - entry.written : Infinity);
      if (n <= 0) return void res.end();
      res.write(Buffer.from(file.subarray(at, at + n)));
      at += n;
      entry.written += n;
      setTimeout(step, plan.delayMs);
    };
    step();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(Object.assign(s, { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }) as Served)),
  );
}

async function stop(s: Served) {
  s.server.closeAllConnections();
  await new Promise((r) => s.server.close(r));
}

let replica: Replica;
test.beforeAll(async () => {
  const r = await buildZooReplica({ width: 0.0625, seed: 20, testSets: 2 });
  replica = { bytes: r.tarGz, sha256: createHash('sha256').update(r.tarGz).digest('hex') };
});

function pageUrl(base: string): string {
  return `/?zoo-url=${encodeURIComponent(`${base}/${FILE}`)}&zoo-bytes=${replica.bytes.length}&zoo-sha256=${replica.sha256}`;
}

/** The files in the app's OPFS store, read by the page itself. */
function opfsEntries(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const out: string[] = [];
    try {
      const dir = await root.getDirectoryHandle('rcnn-models');
      for await (const [name, h] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
        if (h.kind !== 'directory') continue;
        for await (const [f, fh] of (h as unknown as { entries(): AsyncIterable<[string, FileSystemFileHandle]> }).entries()) out.push(`${name}/${f}:${(await fh.getFile()).size}`);
      }
    } catch {
      // no store yet
    }
    return out.sort();
  });
}

test('the original R-CNN: one click, progress, Cancel, resume after a dropped connection, checksum and test-data parity, detections with ILSVRC13 names, a reload offline from the store, Remove', async ({ page }) => {
  test.setTimeout(240_000);
  const errors = collectConsoleErrors(page);
  const served = await startServer(replica.bytes);
  try {
    await page.goto(pageUrl(served.base));
    await waitForImage(page, 'apple.jpg');
    const sizeText = `about ${(replica.bytes.length / 1e6).toFixed(1)} MB`;
    const offer = page.getByTestId('zoo-offer');
    await expect(offer).toContainText(`Get the original R-CNN (ILSVRC13, 200 classes, ${sizeText} from ${served.base.replace('http://', '')} (a local test server))`);
    await screenshot(page, 'zoo-offer');
    // Nothing is fetched until the click.
    await page.waitForTimeout(500);
    expect(served.log).toEqual([]);

    // 1. A slow download, cancelled part-way: the connection closes at once and what arrived is kept.
    served.plan = () => ({ chunk: 8 * 1024, delayMs: 100 });
    const dialog = await openModelDialog(page);
    await expect(dialog.getByTestId('zoo-stored-empty')).toBeVisible();
    await dialog.getByTestId('zoo-get').click();
    const progress = dialog.getByTestId('zoo-progress');
    await expect(progress).toContainText(new RegExp(`${FILE} from ${served.base.replace('http://', '')}: downloading, [\\d.]+ MB of ${(replica.bytes.length / 1e6).toFixed(1)} MB, [\\d.]+ MB/s, \\d+ s left`), { timeout: 30_000 });
    await expect.poll(() => served.log[0]?.written ?? 0).toBeGreaterThan(160_000);
    // When the page got the click (Playwright's click itself took seconds on the loaded test machine).
    await page.evaluate(() =>
      document.addEventListener('click', (e) => {
        if ((e.target as Element).closest('[data-testid=zoo-cancel]')) (window as unknown as { __cancelAt: number }).__cancelAt = Date.now();
      }, { capture: true, once: true }),
    );
    await progress.getByTestId('zoo-cancel').click();
    const clickedAt = await page.evaluate(() => (window as unknown as { __cancelAt: number }).__cancelAt);
    await expect(dialog.getByTestId('zoo-error')).toContainText(/^Cancelled; the previous model stays loaded\. The [\d.]+ MB downloaded so far are kept: "Get" continues from there/, { timeout: 3_000 });
    await expect.poll(() => served.log[0].closedEarly, { timeout: 2_000 }).toBe(true);
    const closedAfter = served.log[0].closedAt! - clickedAt;
    const partEntry = dialog.getByTestId('zoo-stored-entry');
    await expect(partEntry).toHaveAttribute('data-status', 'partial');
    const kept = Number(await partEntry.getAttribute('data-size'));
    // What the browser had received and written when the connection closed (the server had sent
    // more than 160 kB; the rest was in flight): kept, and the next "Get" starts there (below).
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(served.log[0].written);
    console.log(`cancel: the connection closed ${closedAfter} ms after the page got the click; ${kept} bytes kept of the ${served.log[0].written} sent`);
    // Measured 1.9 s with the test machine's 2 cores at load average 17-20 (the worker's event loop
    // went seconds without running); the download worker path alone, in Node, closes in 0.3 s.
    expect(closedAfter).toBeLessThan(3000);
    expect(kept).toBeLessThan(0.6 * replica.bytes.length);

    // 2. Get again: it continues from the kept part (Range), the server cuts that connection
    // part-way, and the download continues again with another Range request.
    served.plan = (n) => (n === 2 ? { dropAfter: 600_000, chunk: 64 * 1024, delayMs: 15 } : { chunk: 64 * 1024, delayMs: 15 });
    const t0 = Date.now();
    await dialog.getByTestId('zoo-get').click();
    const ok = dialog.getByTestId('zoo-ok');
    await expect(ok).toContainText(/^Loaded rcnn-ilsvrc13-9: downloaded in [\d.]+ s, resumed 1× after a dropped connection; size and SHA-256 match the published rcnn-ilsvrc13-9\.tar\.gz \(a local test file's stand-in facts\); its 2 test sets reproduced on \w+ with max relative error \d\.\d\de-\d+ \(pass at 0\.001\)\.$/, { timeout: 60_000 });
    const loadMs = Date.now() - t0;
    const gets = served.log.filter((e) => e.method === 'GET');
    expect(gets.map((e) => e.range).slice(0, 2)).toEqual([undefined, `bytes=${kept}-`]);
    // The third request continues from what the browser had received and stored when the server cut
    // the connection after sending 600,000 bytes (some of them were still in flight): somewhere after
    // the second request's start and not past what was sent. The SHA-256 check above proves the joins.
    expect(gets).toHaveLength(3);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(gets[2].range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(kept);
    expect(resumedAt).toBeLessThanOrEqual(kept + 600_000);
    const parity = await page.evaluate(() => (window as unknown as { __rcnnStore: { getState(): { model: { verification: { parity: { maxRelativeError: number; backend: string } } } } } }).__rcnnStore.getState().model.verification.parity);
    expect(parity.maxRelativeError).toBeLessThan(1e-3);
    console.log(`download + verify + import of the ${replica.bytes.length}-byte replica: ${loadMs} ms; test data max relative error ${parity.maxRelativeError.toExponential(2)} on ${parity.backend}; ${served.log.filter((e) => e.method === 'OPTIONS').length} CORS preflights`);
    await expect(dialog.getByTestId('model-name')).toHaveText('rcnn-ilsvrc13-9');
    await expect(dialog.getByTestId('model-classes')).toContainText('accordion, airplane, ant, antelope, apple');
    await expect(dialog.getByTestId('zoo-licence')).toHaveText('BSD-3-Clause (BSD-3)');
    await expect(dialog.getByTestId('zoo-map')).toContainText('31.4 % mAP on ILSVRC2013 detection, as the zoo states it; reported by the paper with bounding-box regression; the published file has no box regressors');
    await expect(dialog.getByTestId('zoo-card')).toContainText('folded into the last layer fc-rcnn');
    await expect(dialog.getByTestId('zoo-parity')).toContainText(`2 test sets of 1×3×224×224 through the network on ${parity.backend}: max relative error`);
    const stored = dialog.getByTestId('zoo-stored-entry');
    await expect(stored).toHaveAttribute('data-status', 'verified');
    await expect(stored).toHaveAttribute('data-size', String(replica.bytes.length));
    await expect(dialog.getByTestId('zoo-estimate')).toContainText('This site uses');
    await dialog.getByTestId('zoo-section').scrollIntoViewIfNeeded();
    await screenshot(page, 'zoo-dialog-loaded');
    await page.keyboard.press('Escape');

    // The offer is taken; the gallery marks what the 200 classes cover.
    await expect(page.getByTestId('zoo-offer')).toHaveCount(0);
    await expect(page.locator('[data-sample="dog.jpg"] [data-testid=sample-mark]')).toHaveAttribute('data-known', 'dog,bicycle');
    await expect(page.locator('[data-sample="giraffe.jpg"] [data-testid=sample-mark]')).toHaveAttribute('data-known', 'zebra');
    await expect(page.getByTestId('gallery-legend')).toContainText('rcnn-ilsvrc13-9 knows (8 of 8)');

    // 3. A detection run on a sample: ILSVRC13 names in the NMS table and the detections (the
    // replica's weights are random, so which classes win says nothing; the names are what is checked).
    // apple.jpg (loaded at start, the smallest sample): selective search is most of this step's time.
    await computeFewProposals(page, 12);
    await page.getByTestId('run-all-header').click();
    await expect(page.locator('[data-stage=detections]')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    const classes = await page.evaluate(() => (window as unknown as { __rcnnStore: { getState(): { features: { classes: string[] } } } }).__rcnnStore.getState().features.classes);
    expect(classes).toEqual([...ILSVRC13_DET_CLASSES]);
    await screenshot(page, 'zoo-detections');
    await page.locator('[data-stage=regression]').click();
    await expect(page.getByTestId('reg-unavailable')).toContainText('The published file has no box regressors.');
    await expect(page.getByTestId('reg-unchanged')).toBeVisible();
    await page.locator('[data-stage=nms]').click();
    await expect(page.getByTestId('nms-summary')).toContainText('over 200 classes');
    const nmsNames = await page.getByTestId('nms-table').locator('tbody tr td:first-child').allTextContents();
    expect(nmsNames.length).toBeGreaterThan(0);
    for (const n of nmsNames.slice(0, 5)) expect(ILSVRC13_DET_CLASSES).toContain(n.trim());
    await page.locator('[data-stage=detections]').click();
    const dets = await page.getByTestId('detections-list').locator('li').allTextContents();
    expect(dets.length).toBeGreaterThan(0);
    expect(dets.every((d) => ILSVRC13_DET_CLASSES.some((c) => d.includes(c)))).toBe(true);

    // 4. The server goes away; a reload loads the model from the browser's store, checked again.
    await stop(served);
    await page.reload();
    await waitForImage(page, 'apple.jpg');
    const d2 = await openModelDialog(page);
    const t1 = Date.now();
    await d2.getByTestId('apply-backend').click();
    await expect(d2.getByTestId('model-name')).toHaveText('rcnn-ilsvrc13-9', { timeout: 60_000 });
    const reloadMs = Date.now() - t1;
    await expect(d2.getByTestId('model-info')).toContainText('rcnn-ilsvrc13-9.tar.gz (stored in this browser)');
    await expect(d2.getByTestId('zoo-file-check')).toContainText(`${replica.bytes.length.toLocaleString('en-US')} bytes, SHA-256 ${replica.sha256.slice(0, 16)}… matches the published rcnn-ilsvrc13-9.tar.gz`);
    await expect(d2.getByTestId('zoo-parity')).toContainText('pass at 0.001');
    console.log(`reload, server stopped: the stored model loaded (read, SHA-256, unpack, import, test data, upload) in ${reloadMs} ms`);

    // 5. Remove frees it.
    expect(await opfsEntries(page)).toEqual([expect.stringMatching(new RegExp(`^sha256-[0-9a-f]{16}/data:${replica.bytes.length}$`)), expect.stringMatching(/^sha256-[0-9a-f]{16}\/meta\.json:\d+$/)]);
    await d2.getByTestId('zoo-remove').click();
    await expect(d2.getByTestId('zoo-stored-empty')).toBeVisible();
    expect(await opfsEntries(page)).toEqual([]);
    expect(errors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED/.test(e))).toEqual([]);
  } finally {
    if (served.server.listening) await stop(served);
  }
});

test('where the browser cannot fetch: one line, the address to download by hand, and the dropped file goes through the same checks', async ({ page }) => {
  test.setTimeout(90_000);
  // A port nothing listens on: the fetch fails as offline, a CORS refusal or a proxy would.
  const closed = await startServer(replica.bytes);
  const base = closed.base;
  await stop(closed);
  await page.goto(pageUrl(base));
  await waitForImage(page, 'apple.jpg');
  await page.getByTestId('zoo-offer-get').click();
  const dialog = await openModelDialog(page);
  const line = dialog.getByTestId('zoo-cannot-fetch');
  await expect(line).toContainText('This browser cannot fetch the file (could not fetch). Download it by hand from', { timeout: 30_000 });
  await expect(dialog.getByTestId('zoo-manual-url')).toHaveAttribute('href', `${base}/${FILE}`);
  await expect(dialog.getByTestId('zoo-error')).toContainText('This browser could not fetch the file: it may be offline, behind a proxy that blocks it, or the server may not allow cross-origin requests.');
  mkdirSync(FIXTURE_DIR, { recursive: true });
  const path = join(FIXTURE_DIR, FILE);
  writeFileSync(path, replica.bytes);
  await dialog.getByTestId('zoo-file-input').setInputFiles(path);
  await expect(dialog.getByTestId('zoo-ok')).toContainText(/^Loaded rcnn-ilsvrc13-9: read from your file in [\d.]+ s; size and SHA-256 match the published rcnn-ilsvrc13-9\.tar\.gz .*; its 2 test sets reproduced on \w+ with max relative error/, { timeout: 60_000 });
  await expect(dialog.getByTestId('zoo-stored-entry')).toHaveAttribute('data-status', 'verified');
  // The offer line dismissed stays dismissed (localStorage), the taken one too.
  expect(await page.evaluate(() => localStorage.getItem('rcnn-explorer.zooOffer'))).toBe('taken');
});
