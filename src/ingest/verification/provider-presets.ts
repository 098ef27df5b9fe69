import type { HandshakeKind } from '../handshakes/handshake-types.ts';
import { compileBoxVerifier } from './box.ts';
import type { EventFieldSource } from './event-field.ts';
import type { VerifierKeys } from './generic-verifier.ts';
import { compileHubSpotVerifier } from './hubspot.ts';
import { compileMailgunVerifier } from './mailgun.ts';
import { compileMicrosoftGraphVerifier } from './microsoft-graph.ts';
import { compileVariants, type SchemeVariant, withTolerance } from './scheme-variants.ts';
import { compileTwilioVerifier } from './twilio.ts';
import type {
  HmacAlgorithm,
  HmacScheme,
  SignatureEncoding,
  SignatureFormat,
  VerificationScheme,
} from './verification-scheme.ts';
import type { VerifyFn } from './verify-result.ts';

/** The default timestamp tolerance where a provider does not prescribe one. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Everything Hookyard knows about verifying one provider's webhooks, as that provider specifies it
 * (see /shared/providers.md for the sources). `variants` holds the scheme as data where the generic
 * vocabulary can express it; providers that need code (Twilio's URL forms, HubSpot's versions,
 * Box's key roles, Mailgun's body fields, Graph's clientState) are built-ins.
 */
export interface ProviderPreset {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly variants?: readonly SchemeVariant[];
  /** What the source must configure: shared secrets, a public key, or either. */
  readonly keyMaterial: 'secrets' | 'public-key' | 'secrets-or-public-key';
  /** Where secrets have roles rather than being a rotation list, in the order they are given. */
  readonly secretRoles?: readonly string[];
  /** `toleranceSeconds` replaces the preset's tolerance; undefined keeps it. */
  readonly compile: (keys: VerifierKeys, toleranceSeconds?: number) => VerifyFn;
  /** The provider's event id, used as the dedupe key; first source with a value wins. */
  readonly dedupeKey: readonly EventFieldSource[];
  readonly eventType: readonly EventFieldSource[];
  readonly handshake: HandshakeKind | null;
}

const header = (name: string): EventFieldSource => ({ from: 'header', name });
const json = (path: string): EventFieldSource => ({ from: 'json', path });

function signature(
  headerName: string,
  encoding: SignatureEncoding,
  extra: Omit<SignatureFormat, 'header' | 'encoding'> = {},
): SignatureFormat {
  return { header: headerName, encoding, ...extra };
}

/** HMAC over the raw body alone, keyed with the secret's UTF-8 bytes: the most common shape. */
function hmacOverBody(format: SignatureFormat, algorithm: HmacAlgorithm = 'sha256'): HmacScheme {
  return { type: 'hmac', algorithm, secretEncoding: 'utf8', signature: format, signedContent: '{body}' };
}

/** Standard Webhooks under either header brand: v1 HMAC (base64-decoded `whsec_` key) or v1a Ed25519. */
function standardWebhooksSchemes(brand: 'webhook' | 'svix'): VerificationScheme[] {
  const common = {
    signedContent: `{header:${brand}-id}.{timestamp}.{body}`,
    timestamp: {
      header: `${brand}-timestamp`,
      unit: 'seconds',
      toleranceSeconds: DEFAULT_TOLERANCE_SECONDS,
      direction: 'both',
    },
  } as const;
  const format = (key: string) =>
    signature(`${brand}-signature`, 'base64', { separator: ' ', pairs: { keySeparator: ',', key } });
  return [
    { type: 'hmac', algorithm: 'sha256', secretEncoding: 'base64', signature: format('v1'), ...common },
    { type: 'ed25519', signature: format('v1a'), ...common },
  ];
}

function fromVariants(
  preset: Omit<ProviderPreset, 'compile' | 'variants'>,
  variants: readonly SchemeVariant[],
): ProviderPreset {
  return {
    ...preset,
    variants,
    compile: (keys, toleranceSeconds) =>
      compileVariants(
        variants.map((v) => ({ ...v, schemes: v.schemes.map((s) => withTolerance(s, toleranceSeconds)) })),
        keys,
      ),
  };
}

const PRESETS: readonly ProviderPreset[] = [
  fromVariants(
    {
      name: 'standard-webhooks',
      aliases: ['standardwebhooks'],
      keyMaterial: 'secrets-or-public-key',
      dedupeKey: [header('webhook-id')],
      eventType: [json('$.type')],
      handshake: null,
    },
    [{ schemes: standardWebhooksSchemes('webhook') }],
  ),
  fromVariants(
    {
      name: 'svix',
      aliases: [],
      keyMaterial: 'secrets-or-public-key',
      dedupeKey: [header('svix-id'), header('webhook-id')],
      eventType: [json('$.type')],
      handshake: null,
    },
    // Svix libraries read the svix-branded headers when present, else the unbranded ones.
    [
      { whenHeader: 'svix-signature', schemes: standardWebhooksSchemes('svix') },
      { schemes: standardWebhooksSchemes('webhook') },
    ],
  ),
  fromVariants(
    {
      name: 'stripe',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [json('$.id')],
      eventType: [json('$.type')],
      handshake: null,
    },
    [
      {
        schemes: [
          {
            type: 'hmac',
            algorithm: 'sha256',
            // The whsec_ secret is the key as-is; Stripe does not base64-decode it.
            secretEncoding: 'utf8',
            signature: signature('stripe-signature', 'hex', {
              separator: ',',
              pairs: { keySeparator: '=', key: 'v1' },
            }),
            signedContent: '{timestamp}.{body}',
            // stripe-node rejects only when now - t > tolerance: old, never "too new".
            timestamp: { signatureKey: 't', unit: 'seconds', toleranceSeconds: 300, direction: 'past' },
          },
        ],
      },
    ],
  ),
  fromVariants(
    {
      name: 'github',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [header('x-github-delivery')],
      eventType: [header('x-github-event')],
      handshake: null,
    },
    [{ schemes: [hmacOverBody(signature('x-hub-signature-256', 'hex', { prefix: 'sha256=' }))] }],
  ),
  fromVariants(
    {
      name: 'slack',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [json('$.event_id')],
      eventType: [json('$.event.type'), json('$.type')],
      handshake: 'slack-url-verification',
    },
    [
      {
        schemes: [
          {
            type: 'hmac',
            algorithm: 'sha256',
            secretEncoding: 'utf8',
            signature: signature('x-slack-signature', 'hex', { prefix: 'v0=' }),
            signedContent: 'v0:{timestamp}:{body}',
            timestamp: {
              header: 'x-slack-request-timestamp',
              unit: 'seconds',
              toleranceSeconds: 300,
              direction: 'both',
            },
          },
        ],
      },
    ],
  ),
  fromVariants(
    {
      name: 'shopify',
      aliases: [],
      keyMaterial: 'secrets',
      // X-Shopify-Event-Id is the same across the webhooks of one event ("indicates a duplicate");
      // X-Shopify-Webhook-Id names one delivery, kept as a fallback for deliveries without the former.
      dedupeKey: [
        header('x-shopify-event-id'),
        header('shopify-event-id'),
        header('x-shopify-webhook-id'),
        header('shopify-webhook-id'),
      ],
      eventType: [header('x-shopify-topic'), header('shopify-topic')],
      handshake: null,
    },
    [
      {
        whenHeader: 'shopify-hmac-sha256',
        schemes: [hmacOverBody(signature('shopify-hmac-sha256', 'base64'))],
      },
      { schemes: [hmacOverBody(signature('x-shopify-hmac-sha256', 'base64'))] },
    ],
  ),
  {
    name: 'twilio',
    aliases: [],
    keyMaterial: 'secrets',
    compile: (keys) => compileTwilioVerifier(keys),
    dedupeKey: [
      header('i-twilio-idempotency-token'),
      { from: 'form', name: 'MessageSid' },
      { from: 'form', name: 'CallSid' },
    ],
    eventType: [
      { from: 'form', name: 'SmsStatus' },
      { from: 'form', name: 'CallStatus' },
      { from: 'form', name: 'MessageStatus' },
    ],
    handshake: null,
  },
  fromVariants(
    {
      name: 'paddle',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [json('$.event_id')],
      eventType: [json('$.event_type')],
      handshake: null,
    },
    [
      {
        schemes: [
          {
            type: 'hmac',
            algorithm: 'sha256',
            secretEncoding: 'utf8',
            signature: signature('paddle-signature', 'hex', {
              separator: ';',
              pairs: { keySeparator: '=', key: 'h1' },
            }),
            signedContent: '{timestamp}:{body}',
            // paddle-node-sdk: reject when now > ts + 5 s (MAX_VALID_TIME_DIFFERENCE), one-sided.
            timestamp: { signatureKey: 'ts', unit: 'seconds', toleranceSeconds: 5, direction: 'past' },
          },
        ],
      },
    ],
  ),
  {
    name: 'hubspot',
    aliases: [],
    keyMaterial: 'secrets',
    compile: (keys, toleranceSeconds) => compileHubSpotVerifier(keys, toleranceSeconds),
    dedupeKey: [json('$[0].eventId')],
    eventType: [json('$[0].subscriptionType')],
    handshake: null,
  },
  fromVariants(
    {
      name: 'square',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [json('$.event_id')],
      eventType: [json('$.type')],
      handshake: null,
    },
    [
      {
        schemes: [
          {
            type: 'hmac',
            algorithm: 'sha256',
            secretEncoding: 'utf8',
            signature: signature('x-square-hmacsha256-signature', 'base64'),
            // The notification URL exactly as registered in the Square dashboard.
            signedContent: '{url}{body}',
          },
        ],
      },
    ],
  ),
  fromVariants(
    {
      name: 'sendgrid',
      aliases: [],
      keyMaterial: 'public-key',
      dedupeKey: [json('$[0].sg_event_id')],
      eventType: [json('$[0].event')],
      handshake: null,
    },
    [
      {
        schemes: [
          {
            type: 'ecdsa-p256',
            signature: signature('x-twilio-email-event-webhook-signature', 'base64'),
            signedContent: '{timestamp}{body}',
            timestamp: {
              header: 'x-twilio-email-event-webhook-timestamp',
              unit: 'seconds',
              toleranceSeconds: DEFAULT_TOLERANCE_SECONDS,
              direction: 'both',
            },
          },
        ],
      },
    ],
  ),
  {
    name: 'box',
    aliases: [],
    keyMaterial: 'secrets',
    secretRoles: ['primary', 'secondary'],
    compile: (keys, toleranceSeconds) => compileBoxVerifier(keys, toleranceSeconds),
    // Box: the body `id` "will not change" on retries, while box-delivery-id does.
    dedupeKey: [json('$.id')],
    eventType: [json('$.trigger')],
    handshake: null,
  },
  {
    name: 'mailgun',
    aliases: [],
    keyMaterial: 'secrets',
    compile: (keys, toleranceSeconds) => compileMailgunVerifier(keys, toleranceSeconds),
    dedupeKey: [json("$['event-data'].id"), { from: 'form', name: 'token' }],
    eventType: [json("$['event-data'].event"), { from: 'form', name: 'event' }],
    handshake: null,
  },
  fromVariants(
    {
      name: 'pagerduty',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [json('$.event.id')],
      eventType: [json('$.event.event_type')],
      handshake: null,
    },
    [
      {
        schemes: [hmacOverBody(signature('x-pagerduty-signature', 'hex', { separator: ',', prefix: 'v1=' }))],
      },
    ],
  ),
  fromVariants(
    {
      name: 'meta',
      aliases: ['facebook', 'instagram', 'whatsapp'],
      keyMaterial: 'secrets',
      // A delivery batches entries and has no id of its own; hash the bytes.
      dedupeKey: [{ from: 'body-sha256' }],
      eventType: [json('$.entry[0].changes[0].field'), json('$.object')],
      handshake: 'meta-hub-challenge',
    },
    [{ schemes: [hmacOverBody(signature('x-hub-signature-256', 'hex', { prefix: 'sha256=' }))] }],
  ),
  fromVariants(
    {
      name: 'twitter',
      aliases: ['x'],
      keyMaterial: 'secrets',
      dedupeKey: [{ from: 'body-sha256' }],
      eventType: [],
      handshake: 'twitter-crc',
    },
    [{ schemes: [hmacOverBody(signature('x-twitter-webhooks-signature', 'base64', { prefix: 'sha256=' }))] }],
  ),
  fromVariants(
    {
      name: 'discord',
      aliases: [],
      keyMaterial: 'public-key',
      dedupeKey: [json('$.id')],
      eventType: [json('$.type')],
      handshake: 'discord-ping',
    },
    [
      {
        schemes: [
          {
            type: 'ed25519',
            signature: signature('x-signature-ed25519', 'hex'),
            signedContent: '{timestamp}{body}',
            timestamp: {
              header: 'x-signature-timestamp',
              unit: 'seconds',
              toleranceSeconds: DEFAULT_TOLERANCE_SECONDS,
              direction: 'both',
            },
          },
        ],
      },
    ],
  ),
  fromVariants(
    {
      name: 'dropbox',
      aliases: [],
      keyMaterial: 'secrets',
      // Dropbox notifications only say "something changed"; the list_folder cursor is the real dedupe.
      dedupeKey: [{ from: 'body-sha256' }],
      eventType: [],
      handshake: 'dropbox-challenge',
    },
    [{ schemes: [hmacOverBody(signature('x-dropbox-signature', 'hex'))] }],
  ),
  fromVariants(
    {
      name: 'zendesk',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [json('$.id'), header('x-zendesk-webhook-invocation-id')],
      eventType: [json('$.type')],
      handshake: null,
    },
    [
      {
        schemes: [
          {
            type: 'hmac',
            algorithm: 'sha256',
            // The secret looks like base64 but is used verbatim (vector zendesk-148 shows the bug).
            secretEncoding: 'utf8',
            signature: signature('x-zendesk-webhook-signature', 'base64'),
            signedContent: '{timestamp}{body}',
            timestamp: {
              header: 'x-zendesk-webhook-signature-timestamp',
              unit: 'rfc3339',
              toleranceSeconds: DEFAULT_TOLERANCE_SECONDS,
              direction: 'both',
            },
          },
        ],
      },
    ],
  ),
  fromVariants(
    {
      name: 'zoom',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [{ from: 'json-composite', paths: ['$.event', '$.event_ts', '$.payload.object.id'] }],
      eventType: [json('$.event')],
      handshake: 'zoom-url-validation',
    },
    [
      {
        schemes: [
          {
            type: 'hmac',
            algorithm: 'sha256',
            secretEncoding: 'utf8',
            signature: signature('x-zm-signature', 'hex', { prefix: 'v0=' }),
            signedContent: 'v0:{timestamp}:{body}',
            timestamp: {
              header: 'x-zm-request-timestamp',
              unit: 'seconds',
              toleranceSeconds: DEFAULT_TOLERANCE_SECONDS,
              direction: 'both',
            },
          },
        ],
      },
    ],
  ),
  {
    name: 'microsoft-graph',
    aliases: ['msgraph'],
    keyMaterial: 'secrets',
    compile: (keys) => compileMicrosoftGraphVerifier(keys),
    dedupeKey: [
      {
        from: 'json-composite',
        paths: ['$.value[0].subscriptionId', '$.value[0].resourceData.id', '$.value[0].changeType'],
      },
      { from: 'body-sha256' },
    ],
    eventType: [json('$.value[0].changeType'), json('$.value[0].lifecycleEvent')],
    handshake: 'microsoft-graph-validation',
  },
  fromVariants(
    {
      name: 'linear',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [header('linear-delivery')],
      eventType: [header('linear-event'), json('$.type')],
      handshake: null,
    },
    [
      {
        schemes: [
          {
            ...hmacOverBody(signature('linear-signature', 'hex')),
            // @linear/sdk: |now - webhookTimestamp| > 60 s is rejected; the body field is signed.
            timestamp: {
              jsonPath: '$.webhookTimestamp',
              header: 'linear-timestamp',
              unit: 'milliseconds',
              toleranceSeconds: 60,
              direction: 'both',
            },
          },
        ],
      },
    ],
  ),
  fromVariants(
    {
      name: 'intercom',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [json('$.id')],
      eventType: [json('$.topic')],
      handshake: null,
    },
    [{ schemes: [hmacOverBody(signature('x-hub-signature', 'hex', { prefix: 'sha1=' }), 'sha1')] }],
  ),
  fromVariants(
    {
      name: 'gitlab',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [header('idempotency-key'), header('x-gitlab-event-uuid'), header('webhook-id')],
      eventType: [header('x-gitlab-event')],
      handshake: null,
    },
    // A signing token sends Standard Webhooks headers; otherwise the secret token is echoed verbatim.
    [
      { whenHeader: 'webhook-signature', schemes: standardWebhooksSchemes('webhook') },
      { schemes: [{ type: 'api-key', header: 'x-gitlab-token' }] },
    ],
  ),
  fromVariants(
    {
      name: 'asana',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [{ from: 'body-sha256' }],
      eventType: [json('$.events[0].action')],
      handshake: 'asana-hook-secret',
    },
    [{ schemes: [hmacOverBody(signature('x-hook-signature', 'hex'))] }],
  ),
  fromVariants(
    {
      name: 'okta',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [json('$.eventId')],
      eventType: [json('$.eventType')],
      handshake: 'okta-verification',
    },
    [{ schemes: [{ type: 'api-key', header: 'authorization' }] }],
  ),
  fromVariants(
    {
      name: 'trello',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [json('$.action.id')],
      eventType: [json('$.action.type')],
      handshake: 'trello-head',
    },
    [
      {
        schemes: [
          {
            type: 'hmac',
            algorithm: 'sha1',
            secretEncoding: 'utf8',
            signature: signature('x-trello-webhook', 'base64'),
            // The callback URL exactly as registered with Trello, after the body.
            signedContent: '{body}{url}',
          },
        ],
      },
    ],
  ),
  fromVariants(
    {
      name: 'notion',
      aliases: [],
      keyMaterial: 'secrets',
      dedupeKey: [json('$.id')],
      eventType: [json('$.type')],
      handshake: 'notion-verification-token',
    },
    [{ schemes: [hmacOverBody(signature('x-notion-signature', 'hex', { prefix: 'sha256=' }))] }],
  ),
];

const BY_NAME = new Map<string, ProviderPreset>();
for (const preset of PRESETS) {
  for (const name of [preset.name, ...preset.aliases]) BY_NAME.set(name, preset);
}

/** Preset names (without aliases), for validation messages and the catalogue. */
export const PROVIDER_NAMES: readonly string[] = PRESETS.map((p) => p.name);

/** The preset for a provider name or alias (case-insensitive), or undefined. */
export function getProviderPreset(name: string): ProviderPreset | undefined {
  return BY_NAME.get(name.toLowerCase());
}

export function listProviderPresets(): readonly ProviderPreset[] {
  return PRESETS;
}
