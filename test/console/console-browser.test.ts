import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startReceiver, type TestReceiver } from '../delivery/receiver.ts';
import { launchChromium, type TestBrowser } from '../helpers/chromium.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { GITHUB_SECRET, nav, refreshUntil, sendGithubEvent as sendEvent, snap } from './console-test-kit.ts';

describe('web console in headless Chromium', { timeout: 180_000 }, () => {
  let t: TestHookyard;
  let receiver: TestReceiver;
  let chromium: TestBrowser;
  let page: Page;
  let projectId: string;
  let projectKey: string;
  let endpointId: string;
  let sourceId: string;
  const consoleErrors: string[] = [];

  const sendGithubEvent = (deliveryId: string, team: string) => sendEvent(t.url, sourceId, deliveryId, team);

  before(async () => {
    t = await startTestHookyard('sqlite');
    receiver = await startReceiver();
    projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'Acme console' } })).body.id;
    projectKey = (
      await t.api('POST', `/api/v1/projects/${projectId}/api-keys`, { body: { name: 'console' } })
    ).body.key;
    assert.ok(projectKey, 'the project key');
    const endpoint = await t.api('POST', `/api/v1/projects/${projectId}/endpoints`, {
      body: { url: `${receiver.url}/hooks`, name: 'Acme receiver', eventTypes: ['github.*'] },
    });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    endpointId = endpoint.body.id;
    chromium = await launchChromium();
    page = await chromium.browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
  });

  after(async () => {
    await chromium?.close();
    await receiver?.close();
    await t?.cleanup();
  });

  it('serves the console with a strict Content-Security-Policy and long-cached hashed assets', async () => {
    const bare = await fetch(`${t.url}/console`, { redirect: 'manual' });
    assert.equal(bare.status, 302);
    const html = await fetch(`${t.url}/console/`);
    assert.equal(html.status, 200);
    const csp = html.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(html.headers.get('cache-control'), 'no-cache');
    const text = await html.text();
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(text)?.[1];
    assert.ok(asset, 'index.html loads a hashed script');
    const js = await fetch(`${t.url}${asset}`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    await js.arrayBuffer();
    const missing = await fetch(`${t.url}/console/assets/nothing-here.js`);
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
  });

  it('refuses a wrong key with the API’s own words and keeps nothing', async () => {
    await page.goto(`${t.url}/console/`);
    await page.getByLabel('API key').fill('hyk_not_a_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('The API key is not valid (unknown or revoked).').waitFor();
    assert.equal(await page.evaluate('sessionStorage.length'), 0);
  });

  it('signs in with a project key kept in sessionStorage only', async () => {
    await page.getByLabel('API key').fill(projectKey);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('Get started').waitFor();
    const stored = (await page.evaluate(
      '({ session: sessionStorage.getItem("hookyard.key"), local: localStorage.length, cookie: document.cookie, url: location.href })',
    )) as { session: string | null; local: number; cookie: string; url: string };
    assert.equal(stored.session, projectKey);
    assert.equal(stored.local, 0);
    assert.equal(stored.cookie, '');
    assert.ok(!stored.url.includes(projectKey));
  });

  it('shows a refused source in the API’s words, then creates one with its ingest URL to copy', async () => {
    await nav(page, 'Sources').click();
    await page.getByText('No sources yet.').waitFor();
    await page.getByRole('button', { name: 'New source' }).click();
    await page.getByLabel('Name').fill('GitHub issues');
    await page.getByLabel('Provider preset').fill('no-such-provider');
    await page.getByRole('button', { name: 'Create source' }).click();
    const refused = await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
      key: projectKey,
      body: { name: 'x', provider: 'no-such-provider' },
    });
    assert.equal(refused.status, 400);
    await page.getByRole('alert').getByText(refused.body.detail, { exact: false }).waitFor();

    await page.getByLabel('Provider preset').fill('github');
    await page.getByLabel('Signing secret').fill(GITHUB_SECRET);
    await page.getByLabel('Tenant routing (JSON path)').fill('$.team');
    await page.getByRole('button', { name: 'Create source' }).click();
    await page.getByRole('heading', { name: 'GitHub issues' }).waitFor();
    sourceId = decodeURIComponent(new URL(page.url()).hash.split('/')[2] ?? '');
    assert.match(sourceId, /^src_/);
    await page.getByText(`/in/${sourceId}`).first().waitFor();
    await page.getByRole('button', { name: 'Copy URL' }).waitFor();
  });

  it('shows a signed event sent from outside, with headers, body, verification and routing', async () => {
    assert.equal(await sendGithubEvent('delivery-unrouted-1', 'acme'), 200);
    await nav(page, 'Inbound events').click();
    const row = page.locator('tbody tr', { hasText: 'delivery-unrouted-1' });
    await refreshUntil(page, async () => (await row.count()) > 0);
    await row.getByText('unrouted', { exact: true }).waitFor();
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: /^Event evt_/ }).waitFor();
    await page.getByText('x-hub-signature-256').waitFor();
    await page.getByText('Console test', { exact: false }).first().waitFor();
    await page.locator('.badge', { hasText: 'verified' }).first().waitFor();
    await page.getByRole('link', { name: 'Bind it in the unrouted inbox' }).waitFor();
    await snap(page, 'console-event');
  });

  it('filters events by status and provider event id', async () => {
    await nav(page, 'Inbound events').click();
    await page.getByLabel('Status').selectOption('routed');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No event matches these filters.').waitFor();
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Provider event id').fill('delivery-unrouted-1');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('tbody tr', { hasText: 'delivery-unrouted-1' }).waitFor();
  });

  it('binds the unrouted account to a tenant, which replays the event to the real receiver', async () => {
    await nav(page, 'Unrouted inbox').click();
    await page.getByText('account acme').waitFor();
    await snap(page, 'console-unrouted');
    await page.getByRole('button', { name: 'Bind acme and replay' }).click();
    await page.getByRole('status').getByText('1 event(s) replayed').waitFor();
    const [got] = await receiver.waitFor(1, 15_000);
    assert.equal(got?.path, '/hooks');
    assert.match(got?.body ?? '', /delivery-unrouted-1/);
    await page.getByText('Nothing is waiting.').waitFor({ timeout: 10_000 });
  });

  it('shows what the event caused and the delivery attempts, and resends one', async () => {
    await nav(page, 'Inbound events').click();
    const row = page.locator('tbody tr', { hasText: 'delivery-unrouted-1' });
    await refreshUntil(page, async () => (await row.getByText('routed', { exact: true }).count()) > 0);
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'What it caused' }).waitFor();
    const messageLink = page.locator('a[href^="#/messages/msg_"]');
    await refreshUntil(page, async () => (await messageLink.count()) > 0);
    await messageLink.first().click();
    await page.getByRole('heading', { name: /^Message msg_/ }).waitFor();
    const timeline = page.locator('.attempt');
    await refreshUntil(page, async () => (await timeline.count()) > 0);
    await page.getByText('#1 succeeded · HTTP 200', { exact: false }).first().waitFor();
    await snap(page, 'console-message');
    await page.locator('.delivery').first().getByRole('button', { name: 'Resend' }).click();
    await page.getByRole('status').getByText('Queued 1 delivery(ies).').waitFor();
    await receiver.waitFor(2, 15_000);
    // Resending to the same endpoint runs its delivery again: a second attempt on its timeline.
    await refreshUntil(page, async () => (await page.getByText('#2 succeeded · HTTP 200').count()) > 0);
    await nav(page, 'Messages').click();
    await page.getByText('No failed delivery.').waitFor();
    await page.getByLabel('Status').selectOption('succeeded');
    await page.locator('tbody tr', { hasText: endpointId }).first().waitFor();
  });

  it('shows endpoint health and takes the endpoint offline and back', async () => {
    await nav(page, 'Endpoints').click();
    await page.getByRole('link', { name: 'Acme receiver' }).click();
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    const disabled = await t.api('GET', `/api/v1/projects/${projectId}/endpoints/${endpointId}`);
    assert.equal(disabled.body.enabled, false);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
    await page.getByRole('button', { name: 'Recover' }).click();
    await page.getByRole('status').getByText('deliveries re-queued').waitFor();
  });

  it('lists the integration catalogue with the project’s settings state', async () => {
    const catalogue = await t.api('GET', `/api/v1/projects/${projectId}/integrations`, { key: projectKey });
    const first = catalogue.body.items[0];
    assert.ok(first, 'a shipped integration');
    await nav(page, 'Integrations').click();
    const row = page.locator('tbody tr', { hasText: first.key });
    await row.getByText('not_configured').waitFor();
    await row.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: `${first.name} settings` }).waitFor();
  });

  it('shows the workflows page with what to do when there is none', async () => {
    await nav(page, 'Workflows').click();
    await page.getByText('No workflows yet.').waitFor();
    await page.getByText('No executions.').waitFor();
  });

  it('opens an execution’s steps with their input and output', async () => {
    const p = `/api/v1/projects/${projectId}`;
    const created = await t.api('POST', `${p}/workflows`, {
      body: {
        name: 'Tick',
        trigger: { type: 'schedule', every: { seconds: 1 } },
        steps: [{ id: 'shape', type: 'code', code: 'function handler(input) { return { shaped: 42 } }' }],
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const workflowId = created.body.id;
    assert.equal((await t.api('POST', `${p}/workflows/${workflowId}/deploy`)).status, 200);
    // A schedule runs for every user who enabled the workflow.
    assert.equal((await t.api('POST', `${p}/workflows/${workflowId}/users/u1/enable`)).status, 204);
    const deadline = Date.now() + 20_000;
    while (
      (await t.api('GET', `${p}/executions?workflowId=${workflowId}&status=completed`)).body.items.length ===
      0
    ) {
      assert.ok(Date.now() < deadline, 'the scheduled workflow completed an execution');
      await new Promise((r) => setTimeout(r, 200));
    }
    await t.api('POST', `${p}/workflows/${workflowId}/undeploy`);
    await page.reload();
    await page.getByRole('cell', { name: /Tick/ }).waitFor();
    const run = page.locator('details.delivery', { hasText: 'completed' }).first();
    await run.locator('summary').first().click();
    await run.getByText('shape (code) · succeeded', { exact: false }).waitFor();
    await run.getByText('Input and output').click();
    await run.getByText('"shaped": 42', { exact: false }).waitFor();
  });

  it('is reachable by keyboard', async () => {
    // From the top of a freshly loaded page, as a keyboard user arrives.
    await page.goto(`${t.url}/console/#/overview`);
    await page.reload();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.keyboard.press('Tab');
    const focused: string[] = [];
    for (let i = 0; i < 14; i++) {
      focused.push(String(await page.evaluate('document.activeElement?.textContent?.trim() ?? ""')));
      await page.keyboard.press('Tab');
    }
    for (const name of ['Skip to content', 'Sign out', 'Sources', 'Inbound events', 'Endpoints']) {
      assert.ok(focused.includes(name), `Tab reaches ${name} (got ${focused.join(' | ')})`);
    }
    // The skip link moves focus to the page's content and keeps the route.
    await page.reload();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement?.id'), 'main');
    assert.match(page.url(), /#\/overview$/);
  });

  it('saves a screenshot of the overview', async () => {
    await page.goto(`${t.url}/console/#/overview`);
    await page.getByRole('heading', { name: 'Latest inbound events' }).waitFor();
    await snap(page, 'console-overview-events', { docs: false });
  });

  it('is usable at phone width, the menu behind a button', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${t.url}/console/#/overview`);
    await page.reload();
    const sourcesLink = nav(page, 'Sources');
    assert.equal(await sourcesLink.isVisible(), false);
    await page.getByRole('button', { name: 'Menu' }).click();
    await sourcesLink.click();
    await page.getByRole('heading', { name: 'Sources' }).first().waitFor();
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    assert.ok(overflow <= 1, `no sideways scrolling at phone width (overflow ${overflow}px)`);
    await snap(page, 'console-phone');
  });

  it('signing out forgets the key', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    assert.equal(await page.evaluate('sessionStorage.length'), 0);
    assert.deepEqual(
      consoleErrors.filter((e) => !/Failed to load resource/.test(e)),
      [],
      'no script errors or CSP violations in the page',
    );
  });
});
