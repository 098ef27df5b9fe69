/**
 * Signed requests quoted verbatim from providers' documentation and their official SDKs' test
 * files (each `source` says where), for the presets whose npm SDK exports no signer. A preset
 * that reproduces these reproduces the provider's own reference.
 */
export interface QuotedExample {
  provider: string;
  source: string;
  secrets: string[];
  publicKey?: string;
  method: string;
  /** The URL the provider signed where the scheme signs one; otherwise any URL. */
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The clock the source's test runs at; null where its test checks no freshness. */
  nowSeconds: number | null;
}

export const QUOTED_EXAMPLES: readonly QuotedExample[] = [
  {
    provider: 'github',
    source:
      'https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries (github/docs content/webhooks/using-webhooks/validating-webhook-deliveries.md "Testing the webhook payload validation")',
    secrets: ["It's a Secret to Everybody"],
    method: 'POST',
    url: 'https://hooks.example.com/in/src_1',
    headers: {
      'X-Hub-Signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    },
    body: 'Hello, World!',
    nowSeconds: null,
  },
  {
    provider: 'slack',
    source:
      'github.com/slackapi/python-slack-sdk tests/slack_sdk/signature/test_signature_verifier.py (values from https://docs.slack.dev/authentication/verifying-requests-from-slack/) (test_is_valid_request, MockClock 1531420618)',
    secrets: ['8f742231b10e8888abcd99yyyzzz85a5'],
    method: 'POST',
    url: 'https://hooks.example.com/in/src_1',
    headers: {
      'X-Slack-Request-Timestamp': '1531420618',
      'X-Slack-Signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    },
    body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
    nowSeconds: 1531420618,
  },
  {
    provider: 'shopify',
    source:
      'github.com/Shopify/shopify-app-js packages/apps/shopify-api/lib/webhooks/__tests__/validate.test.ts ("returns true for valid request"; apiSecretKey test_secret_key from lib/__tests__/test-config.ts)',
    secrets: ['test_secret_key'],
    method: 'POST',
    url: 'https://hooks.example.com/in/src_1',
    headers: {
      'X-Shopify-Hmac-Sha256': 'B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=',
      'X-Shopify-Topic': 'products/create',
      'X-Shopify-Shop-Domain': 'shop1.myshopify.io',
      'X-Shopify-API-Version': '2023-01',
      'X-Shopify-Webhook-Id': '123456789',
    },
    body: '{"foo": "bar"}',
    nowSeconds: null,
  },
  {
    provider: 'paddle',
    source:
      'github.com/PaddleHQ/paddle-node-sdk src/__tests__/notifications/webhooks-validator.node.test.ts (system time 2023-11-01T00:00:00Z = 1698796800) ("Valid signature")',
    secrets: ['VALID_SECRET'],
    method: 'POST',
    url: 'https://hooks.example.com/in/src_1',
    headers: {
      'Paddle-Signature': 'ts=1698796800;h1=a300428748dce5c70e4da19bffd60769591ea969c99dea3105d0ec9612cf43f9',
    },
    body: '{"data": ["1", "2"]}',
    nowSeconds: 1698796800,
  },
  {
    provider: 'hubspot',
    source:
      'github.com/HubSpot/hubspot-api-python tests/spec/utils/test_signature.py (test_get_signature__v3)',
    secrets: ['yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy'],
    method: 'POST',
    url: 'https://www.example.com/webhook_uri',
    headers: {
      'X-HubSpot-Signature-v3': 'HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=',
      'X-HubSpot-Request-Timestamp': '15000000',
    },
    body: "{'example_field':'example_value'}",
    nowSeconds: null,
  },
  {
    provider: 'square',
    source:
      'github.com/square/square-nodejs-sdk tests/integration/webhooks.test.ts ("test signature validation pass")',
    secrets: ['Ibxx_5AKakO-3qeNVR61Dw'],
    method: 'POST',
    url: 'https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9',
    headers: {
      'x-square-hmacsha256-signature': 'GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=',
    },
    body: '{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}',
    nowSeconds: null,
  },
  {
    provider: 'mailgun',
    source: 'github.com/mailgun/mailgun-php tests/Api/WebhookTest.php (testVerifyWebhookGood)',
    secrets: ['key-3ax6xnjp29jd6fds4gc373sgvjxteol0'],
    method: 'POST',
    url: 'https://hooks.example.com/in/src_1',
    headers: {
      'Content-Type': 'application/json',
    },
    body: '{"signature":{"timestamp":"1403645220","token":"5egbgr1vjgqxtrnp65xfznchgdccwh5d6i09vijqi3whgowmn6","signature":"9cfc5c41582e51246e73c88d34db3af0a3a2692a76fbab81492842f000256d33"},"event-data":{}}',
    nowSeconds: null,
  },
  {
    provider: 'box',
    source:
      'github.com/box/box-node-sdk tests/lib/managers/webhooks-test.js (validateMessage()) ("good primary key")',
    secrets: ['SamplePrimaryKey', 'IncorrectKey'],
    method: 'POST',
    url: 'https://hooks.example.com/in/src_1',
    headers: {
      'box-delivery-id': 'f96bb54b-ee16-4fc5-aa65-8c2d9e5b546f',
      'box-delivery-timestamp': '2020-01-01T00:00:00-07:00',
      'box-signature-algorithm': 'HmacSHA256',
      'box-signature-primary': '6TfeAW3A1PASkgboxxA5yqHNKOwFyMWuEXny/FPD5hI=',
      'box-signature-secondary': 'v+1CD1Jdo3muIcbpv5lxxgPglOqMfsNHPV899xWYydo=',
      'box-signature-version': '1',
    },
    body: '{"type":"webhook_event","webhook":{"id":"1234567890"},"trigger":"FILE.UPLOADED","source":{"id":"1234567890","type":"file","name":"Test.txt"}}',
    nowSeconds: 1262329200,
  },
  {
    provider: 'sendgrid',
    source:
      'github.com/sendgrid/sendgrid-nodejs packages/eventwebhook/src/eventwebhook.spec.js ("should verify a valid single event signature")',
    secrets: [],
    publicKey:
      'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==',
    method: 'POST',
    url: 'https://hooks.example.com/in/src_1',
    headers: {
      'X-Twilio-Email-Event-Webhook-Signature':
        'MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=',
      'X-Twilio-Email-Event-Webhook-Timestamp': '1600112502',
    },
    body: '[{"email":"hello@world.com","event":"dropped","reason":"Bounced Address","sg_event_id":"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA","sg_message_id":"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0","smtp-id":"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>","timestamp":1600112492}]\r\n',
    nowSeconds: null,
  },
  {
    provider: 'pagerduty',
    source: 'github.com/PagerDuty/go-pagerduty webhookv3/webhookv3_test.go (TestVerifySignature) ("valid")',
    secrets: ['lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK'],
    method: 'POST',
    url: 'https://hooks.example.com/in/src_1',
    headers: {
      'X-PagerDuty-Signature': 'v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd',
    },
    body: '{"event":{"id":"01BWDWL3NYY7LUFPZCC28QUCMK","event_type":"incident.priority_updated","resource_type":"incident","occurred_at":"2021-04-26T17:36:27.458Z","agent":{"html_url":"https://acme.pagerduty.com/users/PLH1HKV","id":"PLH1HKV","self":"https://api.pagerduty.com/users/PLH1HKV","summary":"Tenex Engineer","type":"user_reference"},"client":null,"data":{"id":"PGR0VU2","type":"incident","self":"https://api.pagerduty.com/incidents/PGR0VU2","html_url":"https://acme.pagerduty.com/incidents/PGR0VU2","number":2,"status":"triggered","title":"A little bump in the road","service":{"html_url":"https://acme.pagerduty.com/services/PF9KMXH","id":"PF9KMXH","self":"https://api.pagerduty.com/services/PF9KMXH","summary":"API Service","type":"service_reference"},"assignees":[{"html_url":"https://acme.pagerduty.com/users/PTUXL6G","id":"PTUXL6G","self":"https://api.pagerduty.com/users/PTUXL6G","summary":"User 123","type":"user_reference"}],"escalation_policy":{"html_url":"https://acme.pagerduty.com/escalation_policies/PUS0KTE","id":"PUS0KTE","self":"https://api.pagerduty.com/escalation_policies/PUS0KTE","summary":"Default","type":"escalation_policy_reference"},"teams":[{"html_url":"https://acme.pagerduty.com/teams/PFCVPS0","id":"PFCVPS0","self":"https://api.pagerduty.com/teams/PFCVPS0","summary":"Engineering","type":"team_reference"}],"priority":{"html_url":"https://acme.pagerduty.com/account/incident_priorities","id":"PSO75BM","self":"https://api.pagerduty.com/priorities/PSO75BM","summary":"P1","type":"priority_reference"},"urgency":"high","conference_bridge":{"conference_number":1000,"conference_url":"https://example.com"},"resolve_reason":null}}}',
    nowSeconds: null,
  },
  {
    provider: 'meta',
    source:
      'github.com/WhatsApp/WhatsApp-Nodejs-SDK src/__tests__/utils.test.ts ("signature match"; M4D_APP_SECRET from jest.config.ts)',
    secrets: ['TEST_APP_SECRET'],
    method: 'POST',
    url: 'https://hooks.example.com/in/src_1',
    headers: {
      'X-Hub-Signature-256': 'sha256=0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221',
    },
    body: 'test',
    nowSeconds: null,
  },
  {
    provider: 'twitter',
    source: 'github.com/xdevplatform/autohook test/signature.js (consumer_secret "test")',
    secrets: ['test'],
    method: 'POST',
    url: 'https://hooks.example.com/in/src_1',
    headers: {
      'x-twitter-webhooks-signature': 'sha256=25Cu3iwbbiqBTwQRzcKJZwisjf736V2Q8UaTlkfLSoc=',
    },
    body: 'test=1&other_test=2',
    nowSeconds: null,
  },
];
