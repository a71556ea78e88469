import { existsSync } from 'node:fs';

/**
 * Which Chromium the e2e tests drive: $CHROMIUM_PATH if set, else Debian's /usr/bin/chromium
 * (this project's CI installs it with apt), else undefined so Playwright uses its own browser
 * (after `npx playwright install chromium` on machines that can download it).
 */
export function chromiumExecutable(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Flags measured to work headless here (see docs/platform-notes.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];
