import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const acmeText = readFileSync(path.join(here, '..', 'integrations', 'fixtures', 'acme.json'), 'utf8');
const acme = () => JSON.parse(acmeText);

/** Every value of every integration_settings row, as stored. */
async function storedSettings(t: TestHookyard, kind: string): Promise<string> {
  if (kind === 'postgres') {
    const client = new pg.Client({ connectionString: t.config.databaseUrl });
    await client.connect();
    const { rows } = await client.query('SELECT * FROM integration_settings');
    await client.end();
    return JSON.stringify(rows);
  }
  const db = new Database(path.join(t.config.dataDir, 'hookyard.db'), { readonly: true });
  try {
    return JSON.stringify(db.prepare('SELECT * FROM integration_settings').all());
  } finally {
    db.close();
  }
}

function signAcme(secret: string, body: string, t: number): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

for (const kind of STORE_KINDS) {
  describe(`integrations API (${kind})`, () => {
    let t: TestHookyard;
    let projectId: string;
    let key: string;
    let otherProjectId: string;
    let otherKey: string;
    before(async () => {
      t = await startTestHookyard(kind);
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
      key = (await t.api('POST', `/api/v1/projects/${projectId}/api-keys`, { body: {} })).body.key;
      otherProjectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'B' } })).body.id;
      otherKey = (await t.api('POST', `/api/v1/projects/${otherProjectId}/api-keys`, { body: {} })).body.key;
    });
    after(async () => {
      await t.cleanup();
    });

    const base = (suffix = '') => `/api/v1/projects/${projectId}/integrations${suffix}`;

    it('lists the shipped catalogue with its triggers, parameters and samples', async () => {
      const list = await t.api('GET', base(), { key });
      assert.equal(list.status, 200);
      const keys = list.body.items.map((i: { key: string }) => i.key);
      for (const k of ['stripe', 'github', 'slack', 'outlook', 'twilio']) assert.ok(keys.includes(k), k);
      const stripe = list.body.items.find((i: { key: string }) => i.key === 'stripe');
      assert.equal(stripe.origin, 'shipped');
      assert.deepEqual(stripe.triggers, [
        { type: 'event', title: 'Stripe event', setup: 'api', level: 'user' },
      ]);
      const triggers = await t.api('GET', `/api/v1/projects/${projectId}/triggers`, { key });
      assert.equal(triggers.status, 200);
      const github = triggers.body.items.find((x: { integration: string }) => x.integration === 'github');
      assert.deepEqual(
        github.parameters.map((p: { key: string }) => p.key),
        ['owner', 'repo', 'events'],
      );
      assert.equal(github.sample.action, 'opened');
    });

    it('creates a project definition (the Acme example as JSON) and refuses a malformed one with every problem', async () => {
      const created = await t.api('POST', base(), { key, body: acme() });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.origin, 'project');
      assert.equal(created.body.definition.auth.tokenUrl, 'https://acme.example/oauth/token');
      assert.deepEqual(created.body.settings, {
        clientIdSet: false,
        clientSecretSet: false,
        settings: { webhookSecret: false },
      });
      assert.equal(created.body.appWebhookUrl, null);

      const again = await t.api('POST', base(), { key, body: acme() });
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'conflict');

      const bad = acme();
      bad.key = 'acme-two';
      bad.triggers[0].subscribe.request.method = 'FETCH';
      bad.triggers[1].level = 'org';
      const refused = await t.api('POST', base(), { key, body: bad });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.code, 'validation_failed');
      assert.match(refused.body.detail, /has 2 problems/);
      assert.match(
        refused.body.detail,
        /triggers\[0\]\.subscribe\.request\.method: expected one of GET, POST, PUT, PATCH, DELETE/,
      );
      assert.match(refused.body.detail, /triggers\[1\]\.level: expected one of user, app/);
    });

    it('a project definition may not take a shipped key, nor change or delete a shipped one', async () => {
      const stripe = acme();
      stripe.key = 'stripe';
      const taken = await t.api('POST', base(), { key, body: stripe });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.code, 'integration_key_reserved');
      assert.equal(
        (await t.api('PUT', base('/stripe'), { key, body: stripe })).body.code,
        'integration_key_reserved',
      );
      assert.equal((await t.api('DELETE', base('/stripe'), { key })).status, 409);
    });

    it('settings are sealed, never returned, and give the app-level trigger a verifying source', async () => {
      const put = await t.api('PUT', base('/acme/settings'), {
        key,
        body: {
          clientId: 'acme-client-id-42',
          clientSecret: 'acme-client-secret-42',
          settings: { webhookSecret: 'whsec-acme-42' },
        },
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual(
        { ...put.body, appWebhookUrl: undefined },
        {
          clientIdSet: true,
          clientSecretSet: true,
          settings: { webhookSecret: true },
          appWebhookUrl: undefined,
        },
      );
      assert.match(put.body.appWebhookUrl, /\/in\/src_[0-9a-z]+$/);

      const got = await t.api('GET', base('/acme'), { key });
      assert.equal(got.status, 200);
      assert.equal(got.body.appWebhookUrl, put.body.appWebhookUrl);
      for (const secret of ['acme-client-id-42', 'acme-client-secret-42', 'whsec-acme-42']) {
        assert.equal(JSON.stringify(got.body).includes(secret), false, `${secret} is never returned`);
        assert.equal((await storedSettings(t, kind)).includes(secret), false, `${secret} is sealed at rest`);
      }

      const unknown = await t.api('PUT', base('/acme/settings'), {
        key,
        body: { settings: { colour: 'red' } },
      });
      assert.equal(unknown.status, 400);
      assert.match(
        unknown.body.detail,
        /settings\.colour: is not a setting of acme; expected one of webhookSecret/,
      );

      // The app-level URL is a source: a request signed with the project's webhookSecret is taken,
      // a request signed with anything else is refused.
      const ingest = new URL(put.body.appWebhookUrl);
      const body = JSON.stringify({ type: 'record.updated', account_id: 'acct_9' });
      const now = Math.floor(Date.now() / 1000);
      const send = (secret: string) =>
        fetch(`${t.url}${ingest.pathname}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-acme-event-id': `e-${secret}`,
            'x-acme-signature': signAcme(secret, body, now),
          },
          body,
        });
      const good = await send('whsec-acme-42');
      assert.ok(good.status >= 200 && good.status < 300, `signed with the setting: ${good.status}`);
      const forged = await send('not-the-secret');
      assert.equal(forged.status, 401);
      const sourceId = ingest.pathname.split('/').pop();
      const events = await t.api('GET', `/api/v1/projects/${projectId}/events?sourceId=${sourceId}`, { key });
      assert.equal(events.status, 200, JSON.stringify(events.body));
      assert.equal(events.body.items.length, 1);
      assert.equal(events.body.items[0].providerEventId, 'e-whsec-acme-42');
      const event = await t.api('GET', `/api/v1/projects/${projectId}/events/${events.body.items[0].id}`, {
        key,
      });
      assert.equal(event.body.routing.routingKey, 'acct_9');
    });

    it('every shipped app-level integration gets a source from its settings', async () => {
      const settings: Record<string, object> = {
        slack: { settings: { signingSecret: 'slack-signing' } },
        hubspot: { clientId: 'hs-id', clientSecret: 'hs-secret' },
        zoom: { settings: { secretToken: 'zoom-token' } },
        whatsapp: { clientSecret: 'meta-app-secret', settings: { verifyToken: 'meta-verify' } },
        intercom: { clientSecret: 'ic-secret' },
        dropbox: { clientSecret: 'dbx-secret' },
      };
      const list = await t.api('GET', base(), { key });
      const appLevel = list.body.items
        .filter(
          (i: { origin: string; triggers: Array<{ level: string }> }) =>
            i.origin === 'shipped' && i.triggers.some((tr) => tr.level === 'app'),
        )
        .map((i: { key: string }) => i.key)
        .sort();
      assert.deepEqual(appLevel, Object.keys(settings).sort());
      for (const [integration, body] of Object.entries(settings)) {
        const put = await t.api('PUT', base(`/${integration}/settings`), { key, body });
        assert.equal(put.status, 200, `${integration}: ${JSON.stringify(put.body)}`);
        const sourceId = String(put.body.appWebhookUrl).split('/').pop();
        const source = await t.api('GET', `/api/v1/projects/${projectId}/sources/${sourceId}`, { key });
        assert.equal(source.status, 200, integration);
        assert.equal(source.body.provider, integration === 'whatsapp' ? 'meta' : integration);
        assert.equal(source.body.secrets.length, 1, `${integration}: the secret came from the settings`);
        assert.ok(source.body.routing, `${integration}: routed`);
        if (integration === 'whatsapp') assert.equal(source.body.handshake.verifyTokenSet, true);
      }
      // Unset, the secret goes away: the source then refuses every request.
      const cleared = await t.api('PUT', base('/slack/settings'), { key, body: {} });
      const sourceId = String(cleared.body.appWebhookUrl).split('/').pop();
      const source = await t.api('GET', `/api/v1/projects/${projectId}/sources/${sourceId}`, { key });
      assert.equal(source.body.secrets.length, 0);
    });

    it('another project sees none of it', async () => {
      assert.equal((await t.api('GET', base('/acme'), { key: otherKey })).status, 404);
      const own = `/api/v1/projects/${otherProjectId}/integrations`;
      assert.equal((await t.api('GET', `${own}/acme`, { key: otherKey })).status, 404);
      const list = await t.api('GET', own, { key: otherKey });
      assert.equal(
        list.body.items.some((i: { key: string }) => i.key === 'acme'),
        false,
      );
      const slack = list.body.items.find((i: { key: string }) => i.key === 'slack');
      assert.deepEqual(slack.settings, {
        clientIdSet: false,
        clientSecretSet: false,
        settings: { signingSecret: false },
      });
      assert.equal(slack.appWebhookUrl, null);
      assert.equal((await t.api('PUT', `${own}/acme/settings`, { key: otherKey, body: {} })).status, 404);
    });

    it('replaces and deletes a project definition (with its settings and source)', async () => {
      const changed = acme();
      changed.name = 'Acme CRM 2';
      changed.key = 'other';
      assert.equal((await t.api('PUT', base('/acme'), { key, body: changed })).status, 400);
      changed.key = 'acme';
      const put = await t.api('PUT', base('/acme'), { key, body: changed });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.name, 'Acme CRM 2');
      assert.equal(put.body.settings.settings.webhookSecret, true);
      const url = put.body.appWebhookUrl as string;
      assert.match(url, /\/in\/src_/);
      assert.equal((await t.api('DELETE', base('/acme'), { key })).status, 204);
      assert.equal((await t.api('GET', base('/acme'), { key })).status, 404);
      const sourceId = url.split('/').pop();
      assert.equal(
        (await t.api('GET', `/api/v1/projects/${projectId}/sources/${sourceId}`, { key })).status,
        404,
      );
    });
  });
}
