import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';

const root = path.resolve(import.meta.dirname, '..', '..');
/** Screenshots every run leaves for a person to look at (git-ignored). */
const ARTIFACTS = path.join(root, 'test-artifacts');
/** With HOOKYARD_CONSOLE_DOCS_IMAGES=1 (npm run docs:console-images) the screenshots of docs/console.md too. */
const DOCS_IMAGES =
  process.env.HOOKYARD_CONSOLE_DOCS_IMAGES === '1' ? path.join(root, 'docs', 'images') : null;

export const GITHUB_SECRET = 'console-test-secret';

export function nav(page: Page, name: string) {
  return page.getByRole('navigation').getByRole('link', { name, exact: true });
}

export async function snap(page: Page, name: string, options: { docs?: boolean } = {}): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  if (DOCS_IMAGES && options.docs !== false) {
    mkdirSync(DOCS_IMAGES, { recursive: true });
    await page.screenshot({ path: path.join(DOCS_IMAGES, `${name}.png`) });
  }
}

/** Until a condition holds in the page, pressing a Refresh button between looks (no live stream needed). */
export async function refreshUntil(
  page: Page,
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      await snap(page, 'failure', { docs: false });
      throw new Error(
        `the console never showed what was expected (test-artifacts/failure.png, at ${page.url()})`,
      );
    }
    await page.getByRole('button', { name: 'Refresh' }).first().click();
    await page.waitForTimeout(300);
  }
}

/** Signs in on the console's page with `key` and waits for the overview. */
export async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/console/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}

/** A GitHub-style signed webhook to `/in/{sourceId}` (X-Hub-Signature-256 over the raw body). */
export async function sendGithubEvent(
  baseUrl: string,
  sourceId: string,
  deliveryId: string,
  team: string,
  secret = GITHUB_SECRET,
): Promise<number> {
  const body = JSON.stringify({ action: 'opened', team, issue: { number: 7, title: 'Console test' } });
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const res = await fetch(`${baseUrl}/in/${sourceId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': signature,
    },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}
