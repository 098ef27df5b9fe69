import assert from 'node:assert/strict';
import { createHash, createHmac, generateKeyPairSync, sign as signWithKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { Paddle } from '@paddle/paddle-node-sdk';
import { EventWebhook } from '@sendgrid/eventwebhook';
import { verifyKey as discordVerifyKey } from 'discord-interactions';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { Webhook as SvixWebhook } from 'svix';
import twilio from 'twilio';
import { compileVerifier, type VerifierConfig } from '../../src/ingest/verification/compile-verifier.ts';
import { listProviderPresets } from '../../src/ingest/verification/provider-presets.ts';
import { lowerCaseHeaders, type RawRequest } from '../../src/ingest/verification/raw-request.ts';
import { QUOTED_EXAMPLES } from './preset-quoted-examples.ts';

/**
 * Every verification preset against requests made here, at test time: signed by the provider's
 * own npm SDK where it exports a signer (Stripe, Svix, Standard Webhooks, Octokit, Twilio), or
 * signed with node:crypto by the formula the provider documents (the `source` of each case) and,
 * where the provider's SDK exports a verifier (Paddle, SendGrid, Discord), checked by that
 * verifier too. Each preset gets a valid request, a tampered one, one signed with another key and,
 * where its scheme has a timestamp, stale ones. The provider's own reference requests, quoted in
 * preset-quoted-examples.ts, are checked at the end.
 */

const URL_SIGNED = 'https://hooks.example.com/in/src_1?x=1';
/** A fixed clock (2023-11-14T22:13:20Z) for the schemes whose SDK lets the time be chosen. */
const NOW_S = 1_700_000_000;

interface Signed {
  request: RawRequest;
  /** The source's verifier settings (provider aside) that should accept `request`. */
  config: Omit<VerifierConfig, 'provider'>;
}

interface PresetCase {
  provider: string;
  /** Where the signing rule comes from: the SDK function or the provider's documentation. */
  source: string;
  body: string;
  /** Signs `body` at `nowSeconds`; `otherKey` signs with a key the source does not hold. */
  sign: (body: string, nowSeconds: number, otherKey: boolean) => Signed | Promise<Signed>;
  /** The clock the case runs at (Paddle's SDK reads the real one). */
  nowSeconds?: number;
  /** How the request is altered after signing; null where the scheme signs no part of the body. */
  tamper?: ((req: RawRequest) => RawRequest) | null;
  /** For schemes with a timestamp: the tolerance, and whether a timestamp ahead is refused too. */
  freshness?: { toleranceSeconds: number; future: 'refused' | 'accepted' };
  /** The provider SDK's own verifier, which must agree on the valid and the tampered request. */
  sdkVerifier?: { name: string; verify: (req: RawRequest, config: Signed['config']) => Promise<boolean> };
}

const SECRET = 'preset-test-secret';
const OTHER_SECRET = 'not-the-source-secret';
const secretFor = (otherKey: boolean) => (otherKey ? OTHER_SECRET : SECRET);
const hmac = (alg: string, key: string | Buffer, data: string, encoding: 'hex' | 'base64') =>
  createHmac(alg, key).update(data).digest(encoding);
const post = (headers: Record<string, string>, body: string, url = URL_SIGNED): RawRequest => ({
  method: 'POST',
  url,
  headers: lowerCaseHeaders(headers),
  body: Buffer.from(body),
});
const withSecret = (request: RawRequest): Signed => ({ request, config: { secrets: [{ value: SECRET }] } });
const tamperBody = (req: RawRequest): RawRequest => ({
  ...req,
  body: Buffer.from(req.body.toString('utf8').replace('"', '"x')),
});
const header = (req: RawRequest, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
};

/** A whsec_ key for the Standard Webhooks family: base64 of random-looking bytes. */
const whsec = (otherKey: boolean) =>
  `whsec_${createHash('sha256')
    .update(otherKey ? 'other' : 'source')
    .digest('base64')}`;

function standardWebhooksCase(provider: 'standard-webhooks' | 'svix', brand: 'webhook' | 'svix'): PresetCase {
  const Signer = provider === 'svix' ? SvixWebhook : StandardWebhook;
  return {
    provider,
    source:
      provider === 'svix'
        ? 'svix npm: new Webhook(secret).sign(msgId, timestamp, payload) (svix-* headers)'
        : 'standardwebhooks npm: new Webhook(secret).sign(msgId, timestamp, payload)',
    body: '{"type":"invoice.paid","data":{"id":"in_1"}}',
    nowSeconds: REAL_NOW_S,
    sign: (body, nowSeconds, otherKey) => {
      const key = whsec(otherKey);
      const signature = new Signer(key).sign('msg_2Lh9', new Date(nowSeconds * 1000), body);
      const headers = {
        [`${brand}-id`]: 'msg_2Lh9',
        [`${brand}-timestamp`]: String(nowSeconds),
        [`${brand}-signature`]: signature,
      };
      return { request: post(headers, body), config: { secrets: [{ value: whsec(false) }] } };
    },
    freshness: { toleranceSeconds: 300, future: 'refused' },
    sdkVerifier: {
      name: `${provider} Webhook.verify`,
      verify: async (req, config) => {
        try {
          new Signer(config.secrets?.[0]?.value ?? '').verify(req.body.toString('utf8'), {
            [`${brand}-id`]: header(req, `${brand}-id`),
            [`${brand}-timestamp`]: header(req, `${brand}-timestamp`),
            [`${brand}-signature`]: header(req, `${brand}-signature`),
          });
          return true;
        } catch {
          return false;
        }
      },
    },
  };
}

/** Ed25519 keys made per run: Discord hands out the public key as 64 hex characters. */
const ed25519 = { source: generateKeyPairSync('ed25519'), other: generateKeyPairSync('ed25519') };
const ed25519Hex = (pair: { publicKey: import('node:crypto').KeyObject }) =>
  (pair.publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32).toString('hex');
const p256 = {
  source: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }),
  other: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }),
};
const p256Base64 = (pair: { publicKey: import('node:crypto').KeyObject }) =>
  (pair.publicKey.export({ format: 'der', type: 'spki' }) as Buffer).toString('base64');

const stripe = new Stripe('sk_test_unused_key_for_signing_only');
// The client sets up the crypto runtime its webhook verifier uses; no request is made.
const paddle = new Paddle('pdl_sdbx_apikey_unused_key_for_verifying_only');
/** The SDKs whose verifiers read the real clock are signed at the real time. */
const REAL_NOW_S = Math.floor(Date.now() / 1000);

const CASES: PresetCase[] = [
  standardWebhooksCase('standard-webhooks', 'webhook'),
  standardWebhooksCase('svix', 'svix'),
  {
    provider: 'stripe',
    source: 'stripe npm: stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp })',
    body: '{"id":"evt_1","object":"event","type":"customer.created"}',
    sign: (body, nowSeconds, otherKey) => {
      const signature = stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: `whsec_${secretFor(otherKey)}`,
        timestamp: nowSeconds,
      });
      return {
        request: post({ 'Stripe-Signature': signature }, body),
        config: { secrets: [{ value: `whsec_${SECRET}` }] },
      };
    },
    freshness: { toleranceSeconds: 300, future: 'accepted' },
    sdkVerifier: {
      name: 'stripe.webhooks.constructEvent',
      verify: async (req, config) => {
        try {
          stripe.webhooks.constructEvent(
            req.body,
            header(req, 'stripe-signature'),
            config.secrets?.[0]?.value ?? '',
            Number.MAX_SAFE_INTEGER,
          );
          return true;
        } catch {
          return false;
        }
      },
    },
  },
  {
    provider: 'github',
    source: '@octokit/webhooks-methods npm: sign(secret, payload) (sha256=… in X-Hub-Signature-256)',
    body: '{"action":"opened","number":1}',
    sign: async (body, _now, otherKey) =>
      withSecret(post({ 'X-Hub-Signature-256': await octokitSign(secretFor(otherKey), body) }, body)),
  },
  {
    provider: 'slack',
    source:
      'https://docs.slack.dev/authentication/verifying-requests-from-slack/ (v0= hex HMAC-SHA256 of v0:{timestamp}:{body})',
    body: 'token=xyz&team_id=T1&command=%2Fdeploy&text=now',
    sign: (body, nowSeconds, otherKey) =>
      withSecret(
        post(
          {
            'X-Slack-Request-Timestamp': String(nowSeconds),
            'X-Slack-Signature': `v0=${hmac('sha256', secretFor(otherKey), `v0:${nowSeconds}:${body}`, 'hex')}`,
          },
          body,
        ),
      ),
    tamper: (req) => ({ ...req, body: Buffer.from(`${req.body.toString()}x`) }),
    freshness: { toleranceSeconds: 300, future: 'refused' },
  },
  {
    provider: 'shopify',
    source:
      'https://shopify.dev/docs/apps/build/webhooks/subscribe/https (base64 HMAC-SHA256 of the raw body in X-Shopify-Hmac-SHA256)',
    body: '{"id":820982911946154508,"email":"jon@example.com"}',
    sign: (body, _now, otherKey) =>
      withSecret(
        post(
          {
            'X-Shopify-Hmac-SHA256': hmac('sha256', secretFor(otherKey), body, 'base64'),
            'X-Shopify-Topic': 'orders/create',
          },
          body,
        ),
      ),
  },
  {
    provider: 'twilio',
    source: 'twilio npm: getExpectedTwilioSignature(authToken, url, params) (X-Twilio-Signature)',
    body: new URLSearchParams({
      CallSid: 'CA1234567890ABCDE',
      Caller: '+12349013030',
      Digits: '1234',
      From: '+12349013030',
      To: '+18005551212',
    }).toString(),
    sign: (body, _now, otherKey) => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const signature = twilio.getExpectedTwilioSignature(secretFor(otherKey), URL_SIGNED, params);
      return withSecret(
        post({ 'X-Twilio-Signature': signature, 'content-type': 'application/x-www-form-urlencoded' }, body),
      );
    },
    tamper: (req) => ({
      ...req,
      body: Buffer.from(req.body.toString().replace('Digits=1234', 'Digits=9999')),
    }),
    sdkVerifier: {
      name: 'twilio.validateRequest',
      verify: async (req, config) =>
        twilio.validateRequest(
          config.secrets?.[0]?.value ?? '',
          header(req, 'x-twilio-signature'),
          req.url,
          Object.fromEntries(new URLSearchParams(req.body.toString())),
        ),
    },
  },
  {
    provider: 'paddle',
    source:
      'https://developer.paddle.com/webhooks/signature-verification (Paddle-Signature ts=…;h1=hex HMAC-SHA256 of {ts}:{body})',
    body: '{"event_id":"evt_01","event_type":"transaction.completed"}',
    nowSeconds: REAL_NOW_S,
    sign: (body, nowSeconds, otherKey) =>
      withSecret(
        post(
          {
            'Paddle-Signature': `ts=${nowSeconds};h1=${hmac('sha256', secretFor(otherKey), `${nowSeconds}:${body}`, 'hex')}`,
          },
          body,
        ),
      ),
    freshness: { toleranceSeconds: 5, future: 'accepted' },
    sdkVerifier: {
      name: '@paddle/paddle-node-sdk Webhooks.isSignatureValid',
      verify: (req, config) =>
        paddle.webhooks.isSignatureValid(
          req.body.toString(),
          config.secrets?.[0]?.value ?? '',
          header(req, 'paddle-signature'),
        ),
    },
  },
  {
    provider: 'hubspot',
    source:
      'https://developers.hubspot.com/docs/api/webhooks/validating-requests (v3: base64 HMAC-SHA256 of method + URI + body + timestamp)',
    body: '[{"eventId":1,"subscriptionType":"contact.creation"}]',
    sign: (body, nowSeconds, otherKey) => {
      const ts = String(nowSeconds * 1000);
      return withSecret(
        post(
          {
            'X-HubSpot-Signature-v3': hmac(
              'sha256',
              secretFor(otherKey),
              `POST${URL_SIGNED}${body}${ts}`,
              'base64',
            ),
            'X-HubSpot-Request-Timestamp': ts,
          },
          body,
        ),
      );
    },
    freshness: { toleranceSeconds: 300, future: 'accepted' },
  },
  {
    provider: 'square',
    source:
      'https://developer.squareup.com/docs/webhooks/step3validate (base64 HMAC-SHA256 of notification URL + body)',
    body: '{"merchant_id":"M1","type":"payment.created","event_id":"e1"}',
    sign: (body, _now, otherKey) =>
      withSecret(
        post(
          {
            'x-square-hmacsha256-signature': hmac('sha256', secretFor(otherKey), URL_SIGNED + body, 'base64'),
          },
          body,
        ),
      ),
  },
  {
    provider: 'sendgrid',
    source:
      'https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features (ECDSA P-256 over timestamp + body)',
    body: '[{"email":"a@example.com","event":"delivered","sg_event_id":"e1"}]',
    sign: (body, nowSeconds, otherKey) => {
      const ts = String(nowSeconds);
      const signature = signWithKey(
        'sha256',
        Buffer.from(ts + body),
        (otherKey ? p256.other : p256.source).privateKey,
      );
      return {
        request: post(
          {
            'X-Twilio-Email-Event-Webhook-Signature': signature.toString('base64'),
            'X-Twilio-Email-Event-Webhook-Timestamp': ts,
          },
          body,
        ),
        config: { publicKey: p256Base64(p256.source) },
      };
    },
    freshness: { toleranceSeconds: 300, future: 'refused' },
    sdkVerifier: {
      name: '@sendgrid/eventwebhook EventWebhook.verifySignature',
      verify: async (req, config) => {
        const ew = new EventWebhook();
        return ew.verifySignature(
          ew.convertPublicKeyToECDSA(config.publicKey ?? ''),
          req.body.toString(),
          header(req, 'x-twilio-email-event-webhook-signature'),
          header(req, 'x-twilio-email-event-webhook-timestamp'),
        );
      },
    },
  },
  {
    provider: 'box',
    source:
      'https://developer.box.com/guides/webhooks/v2/signatures-v2/ (base64 HMAC-SHA256 of body + box-delivery-timestamp, primary and secondary keys)',
    body: '{"type":"webhook_event","id":"e1","trigger":"FILE.UPLOADED"}',
    sign: (body, nowSeconds, otherKey) => {
      const ts = new Date(nowSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, '+00:00');
      return withSecret(
        post(
          {
            'box-delivery-id': 'd1',
            'box-delivery-timestamp': ts,
            'box-signature-algorithm': 'HmacSHA256',
            'box-signature-version': '1',
            'box-signature-primary': hmac('sha256', secretFor(otherKey), body + ts, 'base64'),
          },
          body,
        ),
      );
    },
    freshness: { toleranceSeconds: 600, future: 'accepted' },
  },
  {
    provider: 'mailgun',
    source:
      'https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks (hex HMAC-SHA256 of timestamp + token, in the body)',
    body: '',
    sign: (_body, nowSeconds, otherKey) => {
      const timestamp = String(nowSeconds);
      const token = 'a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0';
      const signature = hmac('sha256', secretFor(otherKey), timestamp + token, 'hex');
      const body = JSON.stringify({
        signature: { timestamp, token, signature },
        'event-data': { id: 'ev1', event: 'delivered' },
      });
      return withSecret(post({ 'content-type': 'application/json' }, body));
    },
    // The signature covers timestamp and token, not the event: tampering means a changed token.
    tamper: (req) => ({
      ...req,
      body: Buffer.from(req.body.toString().replace('"token":"a8', '"token":"b8')),
    }),
    freshness: { toleranceSeconds: 300, future: 'refused' },
  },
  {
    provider: 'pagerduty',
    source:
      'https://developer.pagerduty.com/docs/webhooks/webhook-signatures (v1= hex HMAC-SHA256 of the body, comma-separated)',
    body: '{"event":{"id":"01","event_type":"incident.triggered"}}',
    sign: (body, _now, otherKey) =>
      withSecret(
        post(
          {
            'X-PagerDuty-Signature': `v1=${hmac('sha256', 'rotated-old-secret', body, 'hex')},v1=${hmac('sha256', secretFor(otherKey), body, 'hex')}`,
          },
          body,
        ),
      ),
  },
  ...(
    [
      [
        'meta',
        'https://developers.facebook.com/docs/graph-api/webhooks/getting-started (X-Hub-Signature-256)',
      ],
      ['notion', 'https://developers.notion.com/reference/webhooks (X-Notion-Signature sha256=…)'],
    ] as const
  ).map(
    ([provider, source]): PresetCase => ({
      provider,
      source,
      body: '{"object":"page","entry":[{"id":"1"}]}',
      sign: (body, _now, otherKey) =>
        withSecret(
          post(
            {
              [provider === 'meta' ? 'X-Hub-Signature-256' : 'X-Notion-Signature']:
                `sha256=${hmac('sha256', secretFor(otherKey), body, 'hex')}`,
            },
            body,
          ),
        ),
    }),
  ),
  {
    provider: 'twitter',
    source:
      'https://developer.x.com/en/docs/x-api/enterprise/account-activity-api/guides/securing-webhooks (sha256= base64 HMAC-SHA256 with the consumer secret)',
    body: '{"for_user_id":"2244994945","tweet_create_events":[]}',
    sign: (body, _now, otherKey) =>
      withSecret(
        post(
          { 'x-twitter-webhooks-signature': `sha256=${hmac('sha256', secretFor(otherKey), body, 'base64')}` },
          body,
        ),
      ),
  },
  {
    provider: 'discord',
    source:
      'https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers (Ed25519 over timestamp + body)',
    body: '{"id":"1","type":1}',
    sign: (body, nowSeconds, otherKey) => {
      const ts = String(nowSeconds);
      const signature = signWithKey(
        null,
        Buffer.from(ts + body),
        (otherKey ? ed25519.other : ed25519.source).privateKey,
      );
      return {
        request: post(
          { 'X-Signature-Ed25519': signature.toString('hex'), 'X-Signature-Timestamp': ts },
          body,
        ),
        config: { publicKey: ed25519Hex(ed25519.source) },
      };
    },
    freshness: { toleranceSeconds: 300, future: 'refused' },
    sdkVerifier: {
      name: 'discord-interactions verifyKey',
      verify: (req, config) =>
        discordVerifyKey(
          req.body,
          header(req, 'x-signature-ed25519'),
          header(req, 'x-signature-timestamp'),
          config.publicKey ?? '',
        ),
    },
  },
  {
    provider: 'dropbox',
    source:
      'https://www.dropbox.com/developers/reference/webhooks#notifications (X-Dropbox-Signature: hex HMAC-SHA256 with the app secret)',
    body: '{"list_folder":{"accounts":["dbid:AAH4f99"]},"delta":{"users":[12345]}}',
    sign: (body, _now, otherKey) =>
      withSecret(post({ 'X-Dropbox-Signature': hmac('sha256', secretFor(otherKey), body, 'hex') }, body)),
  },
  {
    provider: 'zendesk',
    source:
      'https://developer.zendesk.com/documentation/webhooks/verifying/ (base64 HMAC-SHA256 of timestamp + body; the secret used as given)',
    body: '{"type":"zen:event-type:ticket.created","id":"e1"}',
    sign: (body, nowSeconds, otherKey) => {
      const ts = new Date(nowSeconds * 1000).toISOString().replace('.000', '');
      return withSecret(
        post(
          {
            'X-Zendesk-Webhook-Signature': hmac('sha256', secretFor(otherKey), ts + body, 'base64'),
            'X-Zendesk-Webhook-Signature-Timestamp': ts,
          },
          body,
        ),
      );
    },
    freshness: { toleranceSeconds: 300, future: 'refused' },
  },
  {
    provider: 'zoom',
    source:
      'https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events (v0= hex HMAC-SHA256 of v0:{timestamp}:{body})',
    body: '{"event":"meeting.started","event_ts":1700000000000}',
    sign: (body, nowSeconds, otherKey) =>
      withSecret(
        post(
          {
            'x-zm-request-timestamp': String(nowSeconds),
            'x-zm-signature': `v0=${hmac('sha256', secretFor(otherKey), `v0:${nowSeconds}:${body}`, 'hex')}`,
          },
          body,
        ),
      ),
    freshness: { toleranceSeconds: 300, future: 'refused' },
  },
  {
    provider: 'microsoft-graph',
    source:
      'https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks (clientState in each notification equals the subscription value)',
    body: '',
    sign: (_body, _now, otherKey) =>
      withSecret(
        post(
          {},
          JSON.stringify({
            value: [{ subscriptionId: 's1', changeType: 'created', clientState: secretFor(otherKey) }],
          }),
        ),
      ),
    tamper: null,
  },
  {
    provider: 'linear',
    source:
      'https://linear.app/developers/webhooks#securing-webhooks (Linear-Signature: hex HMAC-SHA256 of the body; webhookTimestamp within 60 s)',
    body: '',
    sign: (_body, nowSeconds, otherKey) => {
      const body = JSON.stringify({ type: 'Issue', action: 'create', webhookTimestamp: nowSeconds * 1000 });
      return withSecret(post({ 'Linear-Signature': hmac('sha256', secretFor(otherKey), body, 'hex') }, body));
    },
    freshness: { toleranceSeconds: 60, future: 'refused' },
  },
  {
    provider: 'intercom',
    source:
      'https://developers.intercom.com/docs/references/webhooks/webhook-models#signed-notifications (X-Hub-Signature: sha1= hex HMAC-SHA1 with the client secret)',
    body: '{"type":"notification_event","id":"notif_1","topic":"conversation.user.created"}',
    sign: (body, _now, otherKey) =>
      withSecret(post({ 'X-Hub-Signature': `sha1=${hmac('sha1', secretFor(otherKey), body, 'hex')}` }, body)),
  },
  {
    provider: 'gitlab',
    source:
      'https://docs.gitlab.com/user/project/integrations/webhooks/#validate-payloads-by-using-a-secret-token (X-Gitlab-Token echoes the secret token)',
    body: '{"object_kind":"push"}',
    sign: (body, _now, otherKey) => withSecret(post({ 'X-Gitlab-Token': secretFor(otherKey) }, body)),
    tamper: null,
  },
  {
    provider: 'asana',
    source:
      'https://developers.asana.com/docs/webhooks-guide#security (X-Hook-Signature: hex HMAC-SHA256 with the X-Hook-Secret from the handshake)',
    body: '{"events":[{"action":"changed","resource":{"gid":"1"}}]}',
    sign: (body, _now, otherKey) =>
      withSecret(post({ 'X-Hook-Signature': hmac('sha256', secretFor(otherKey), body, 'hex') }, body)),
  },
  {
    provider: 'okta',
    source:
      'https://developer.okta.com/docs/concepts/event-hooks/ (the Authorization header carries the value configured on the hook)',
    body: '{"eventType":"com.okta.event_hook","eventId":"e1"}',
    sign: (body, _now, otherKey) => withSecret(post({ Authorization: secretFor(otherKey) }, body)),
    tamper: null,
  },
  {
    provider: 'trello',
    source:
      'https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/ (X-Trello-Webhook: base64 HMAC-SHA1 of body + callback URL)',
    body: '{"action":{"id":"a1","type":"updateCard"}}',
    sign: (body, _now, otherKey) =>
      withSecret(
        post({ 'X-Trello-Webhook': hmac('sha1', secretFor(otherKey), body + URL_SIGNED, 'base64') }, body),
      ),
  },
];

/** GitLab with a signing token sends Standard Webhooks headers: signed by the standardwebhooks SDK. */
const GITLAB_SIGNING_TOKEN: PresetCase = {
  ...standardWebhooksCase('standard-webhooks', 'webhook'),
  provider: 'gitlab',
  source:
    'standardwebhooks npm: Webhook.sign (https://docs.gitlab.com/user/project/integrations/webhooks/#signing-tokens)',
};

function verify(provider: string, signed: Signed, nowSeconds: number, request = signed.request) {
  return compileVerifier({ provider, ...signed.config })(request, nowSeconds * 1000);
}

for (const c of [...CASES, GITLAB_SIGNING_TOKEN]) {
  const now = c.nowSeconds ?? NOW_S;
  const label = c === GITLAB_SIGNING_TOKEN ? 'gitlab (signing token)' : c.provider;
  describe(`${label} preset`, () => {
    test('a request signed with the source key is accepted', async (t) => {
      t.diagnostic(`source: ${c.source}`);
      const signed = await c.sign(c.body, now, false);
      const result = verify(c.provider, signed, now);
      assert.equal(result.ok, true, result.ok ? '' : result.reason);
    });

    test('a request signed with another key is refused', async () => {
      const signed = await c.sign(c.body, now, true);
      const valid = await c.sign(c.body, now, false);
      const result = verify(c.provider, { request: signed.request, config: valid.config }, now);
      assert.equal(result.ok, false);
    });

    if (c.tamper !== null) {
      test('a tampered request is refused', async () => {
        const signed = await c.sign(c.body, now, false);
        const tampered = (c.tamper ?? tamperBody)(signed.request);
        assert.notDeepEqual(tampered.body, signed.request.body, 'the tamper changed nothing');
        assert.equal(verify(c.provider, signed, now, tampered).ok, false);
      });
    }

    const freshness = c.freshness;
    if (freshness) {
      test(`a request older than ${freshness.toleranceSeconds} s is refused, one just inside accepted`, async () => {
        const signed = await c.sign(c.body, now, false);
        assert.equal(verify(c.provider, signed, now + freshness.toleranceSeconds).ok, true);
        const stale = verify(c.provider, signed, now + freshness.toleranceSeconds + 1);
        assert.deepEqual(stale, {
          ok: false,
          reason: `timestamp outside tolerance (${freshness.toleranceSeconds} s)`,
        });
      });
      test(`a timestamp ahead of the clock is ${freshness.future}`, async () => {
        const signed = await c.sign(c.body, now, false);
        const ahead = verify(c.provider, signed, now - freshness.toleranceSeconds - 1);
        assert.equal(ahead.ok, freshness.future === 'accepted');
      });
    }

    const sdk = c.sdkVerifier;
    if (sdk) {
      test(`the provider's own verifier (${sdk.name}) agrees`, async () => {
        const signed = await c.sign(c.body, now, false);
        assert.equal(await sdk.verify(signed.request, signed.config), true, 'SDK refused the valid request');
        const tampered = (c.tamper ?? tamperBody)(signed.request);
        assert.equal(await sdk.verify(tampered, signed.config), false, 'SDK accepted the tampered request');
        const other = await c.sign(c.body, now, true);
        assert.equal(await sdk.verify(other.request, signed.config), false, 'SDK accepted another key');
      });
    }
  });
}

test('every preset has a case here', () => {
  const covered = new Set(CASES.map((c) => c.provider));
  const missing = listProviderPresets()
    .map((p) => p.name)
    .filter((name) => !covered.has(name));
  assert.deepEqual(missing, [], 'add a signed case for each new preset');
});

describe("providers' own reference requests", () => {
  for (const example of QUOTED_EXAMPLES) {
    test(`${example.provider}: the quoted request verifies, and not after one byte changes`, (t) => {
      t.diagnostic(`source: ${example.source}`);
      const verifyExample = compileVerifier({
        provider: example.provider,
        secrets: example.secrets.map((value) => ({ value })),
        ...(example.publicKey ? { publicKey: example.publicKey } : {}),
      });
      const request: RawRequest = {
        method: example.method,
        url: example.url,
        headers: lowerCaseHeaders(example.headers),
        body: Buffer.from(example.body),
      };
      const run = (req: RawRequest) =>
        example.nowSeconds === null
          ? verifyExample(req, 0, { checkFreshness: false })
          : verifyExample(req, example.nowSeconds * 1000);
      const result = run(request);
      assert.equal(result.ok, true, result.ok ? '' : result.reason);
      // Mailgun signs timestamp + token, so the byte changed is in the token.
      const changed =
        example.provider === 'mailgun'
          ? example.body.replace('"token":"5', '"token":"6')
          : example.body.replace(/[a-z]/, (ch) => (ch === 'a' ? 'b' : 'a'));
      assert.notEqual(changed, example.body);
      assert.equal(run({ ...request, body: Buffer.from(changed) }).ok, false);
    });
  }
});
