import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startReceiver, type TestReceiver } from '../delivery/receiver.ts';
import { launchChromium, type TestBrowser } from '../helpers/chromium.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { GITHUB_SECRET, nav, sendGithubEvent, signIn, snap } from './console-test-kit.ts';

/** The console on the live stream, the stats, the attempts and the test sender. */
describe('web console, live (headless Chromium)', { timeout: 180_000 }, () => {
  let t: TestHookyard;
  let receiver: TestReceiver;
  let chromium: TestBrowser;
  let page: Page;
  let projectId: string;
  let sourceId: string;
  let endpointId: string;

  before(async () => {
    t = await startTestHookyard('sqlite');
    receiver = await startReceiver();
    projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'Live console' } })).body.id;
    const p = `/api/v1/projects/${projectId}`;
    const source = await t.api('POST', `${p}/sources`, {
      body: { name: 'GitHub', provider: 'github', secrets: [GITHUB_SECRET] },
    });
    assert.equal(source.status, 201, JSON.stringify(source.body));
    sourceId = source.body.id;
    const endpoint = await t.api('POST', `${p}/endpoints`, {
      body: { url: `${receiver.url}/live`, name: 'Live receiver' },
    });
    endpointId = endpoint.body.id;
    const type = await t.api('POST', `${p}/event-types`, {
      body: {
        name: 'invoice.paid',
        description: 'An invoice was paid',
        example: { invoice: 'in_1', amount: 4200 },
      },
    });
    assert.ok(type.status < 300, JSON.stringify(type.body));
    chromium = await launchChromium();
    page = await chromium.browser.newPage({ viewport: { width: 1280, height: 800 } });
    // The operator key: a project is chosen in the console.
    await signIn(page, t.url, t.adminKey);
  });

  after(async () => {
    await chromium?.close();
    await receiver?.close();
    await t?.cleanup();
  });

  it('shows events and refused requests as they land, without a refresh', async () => {
    await nav(page, 'Live').click();
    await page.locator('.live-state').getByText('live', { exact: true }).waitFor({ timeout: 15_000 });
    assert.equal(await sendGithubEvent(t.url, sourceId, 'live-delivery-1', 'acme'), 200);
    await page.locator('tbody tr', { hasText: 'live-delivery-1' }).waitFor({ timeout: 15_000 });
    // A request with a wrong signature is refused before storage and shows as refused.
    assert.equal(await sendGithubEvent(t.url, sourceId, 'live-bad-1', 'acme', 'not-the-secret'), 401);
    await page.locator('tbody tr', { hasText: 'refused' }).first().waitFor({ timeout: 15_000 });
    // Once routed, the event can be replayed from its row: a new message to the endpoint.
    const row = page.locator('tbody tr', { hasText: 'live-delivery-1' });
    const eventId = String(await row.getAttribute('data-event-id'));
    const deadline = Date.now() + 10_000;
    while ((await t.api('GET', `/api/v1/projects/${projectId}/events/${eventId}`)).body.status !== 'routed') {
      assert.ok(Date.now() < deadline, 'the event is routed');
      await new Promise((r) => setTimeout(r, 100));
    }
    const received = receiver.received.length;
    await row.getByRole('button', { name: 'Replay' }).click();
    await row.getByText('replayed to 1 endpoint(s)').waitFor();
    await receiver.waitFor(received + 1, 10_000);
    const url = page.url();
    assert.ok(!url.includes(t.adminKey));
    await snap(page, 'console-live');
  });

  it('lists the refused request on its source, without the body', async () => {
    await nav(page, 'Sources').click();
    await page.getByRole('link', { name: 'GitHub' }).click();
    await page.getByRole('heading', { name: 'Refused requests' }).waitFor();
    await page.locator('tbody tr', { hasText: '401' }).first().waitFor();
  });

  it('sends an event type’s example to an endpoint and shows the attempt at the real receiver', async () => {
    const before = receiver.received.length;
    await nav(page, 'Endpoints').click();
    await page.getByRole('link', { name: 'Live receiver' }).click();
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page
      .getByRole('status')
      .getByText('succeeded', { exact: false })
      .first()
      .waitFor({ timeout: 15_000 });
    const got = await receiver.waitFor(before + 1, 10_000);
    assert.match(got.at(-1)?.body ?? '', /in_1/);
    await page.getByRole('status').getByText('#1 succeeded · HTTP 200', { exact: false }).waitFor();
    // The attempts list (with its success rate) reads the new attempt.
    await page.getByText('success of the last', { exact: false }).waitFor({ timeout: 15_000 });
    await snap(page, 'console-endpoint');
    const attempts = await t.api('GET', `/api/v1/projects/${projectId}/endpoints/${endpointId}/attempts`);
    assert.ok(attempts.body.items.length >= 1);
  });

  it('recovers a failed delivery and shows the progress until it is sent', async () => {
    const p = `/api/v1/projects/${projectId}`;
    const settings = await t.api('PATCH', `${p}/delivery-settings`, { body: { retryScheduleMs: [0] } });
    assert.equal(settings.status, 200, JSON.stringify(settings.body));
    receiver.setDefault({ status: 500, body: 'down for a moment' });
    const published = await t.api('POST', `${p}/messages`, {
      body: { eventType: 'invoice.paid', payload: { invoice: 'in_2' } },
    });
    assert.equal(published.status, 202, JSON.stringify(published.body));
    const deadline = Date.now() + 15_000;
    while ((await t.api('GET', `${p}/deliveries?status=failed`)).body.items.length === 0) {
      assert.ok(Date.now() < deadline, 'the delivery failed for good');
      await new Promise((r) => setTimeout(r, 100));
    }
    receiver.setDefault({ status: 200, body: 'ok' });
    await page.reload();
    await page.getByRole('button', { name: 'Recover' }).click();
    await page.getByText('1 deliveries re-queued.').waitFor();
    await page.getByText('All 1 re-queued deliveries were attempted.').waitFor({ timeout: 15_000 });
    assert.equal((await t.api('GET', `${p}/deliveries?status=failed`)).body.items.length, 0);
  });

  it('draws the overview charts from the stats API and saves a screenshot of the overview', async () => {
    await nav(page, 'Overview').click();
    await page.getByRole('img', { name: 'Inbound requests' }).waitFor();
    await page.getByRole('img', { name: 'Deliveries' }).waitFor();
    await page.getByRole('img', { name: /Delivery latency/ }).waitFor();
    await snap(page, 'console-overview');
  });
});
