import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const HOW_TO_INSTALL =
  "The console's browser tests drive Debian's Chromium at /usr/bin/chromium. Install it (as root: " +
  '`apt-get update && apt-get install -y chromium`) and run the tests again. No browser is downloaded by ' +
  'the tests themselves.';

/**
 * Debian's chromium, installed here when missing and the tests run as root; otherwise an error
 * that says how to install it. Playwright never downloads a browser of its own: it is only
 * pointed at this executable.
 */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (process.platform !== 'linux' || process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new Error(HOW_TO_INSTALL);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium']]) {
    const r = spawnSync('apt-get', args, { stdio: 'ignore', env, timeout: 600_000 });
    if (r.status !== 0)
      throw new Error(`apt-get ${args.join(' ')} failed (${r.status ?? r.signal}). ${HOW_TO_INSTALL}`);
  }
  if (!existsSync(CHROMIUM_PATH)) throw new Error(HOW_TO_INSTALL);
  return CHROMIUM_PATH;
}

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Headless Chromium with no background traffic (the machine's network is closed). Playwright gives
 * it a fresh temporary profile of its own.
 */
export async function launchChromium(): Promise<TestBrowser> {
  const executablePath = ensureChromium();
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
    timeout: 60_000,
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
    },
  };
}
