import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { credentialAuth } from '../../src/integrations/credential-auth.ts';
import {
  referenceProblem,
  renderRequest,
  type TemplateContext,
  TemplateError,
} from '../../src/integrations/template-renderer.ts';

const context: TemplateContext = {
  settings: { webhookURL: 'https://hooks.example/in/src_1?sub=sub_1' },
  credential: {
    accessToken: 'tok_123',
    providerAccountId: 'acct 42',
    settings: { shop: 'acme-store', region: 'eu' },
  },
  parameters: { formId: 'a/b?c', limit: 25, labels: ['x', 'y'], nested: { on: true } },
  subscription: { providerId: 'we_1/2', secret: 's3cret', expiresAt: '2026-12-14T00:00:00.000Z' },
  integration: { settings: { webhookSecret: 'whsec_abc' } },
};

const bearer = credentialAuth(
  { type: 'oauth2', authorizationUrl: 'https://a.example', tokenUrl: 'https://a.example' },
  { accessToken: 'tok_123' },
);

describe('renderRequest', () => {
  test('the Acme subscribe request: JSON body, target URL, bearer auth', () => {
    const out = renderRequest(
      {
        method: 'POST',
        url: 'https://acme.example/v1/webhooks',
        body: { url: '{{settings.webhookURL}}', events: ['record.created'] },
      },
      context,
      bearer ? { auth: bearer } : {},
    );
    assert.deepEqual(out, {
      method: 'POST',
      url: 'https://acme.example/v1/webhooks',
      headers: { 'content-type': 'application/json', authorization: 'Bearer tok_123' },
      body: '{"url":"https://hooks.example/in/src_1?sub=sub_1","events":["record.created"]}',
    });
  });

  test('path segments and query values are URL-encoded; the host takes a host name only', () => {
    const out = renderRequest(
      {
        method: 'DELETE',
        url: 'https://{{credential.settings.shop}}.myshopify.example/hooks/{{subscription.providerId}}?form={{parameters.formId}}',
        query: { account: '{{credential.providerAccountId}}' },
      },
      context,
    );
    assert.equal(
      out.url,
      'https://acme-store.myshopify.example/hooks/we_1%2F2?form=a%2Fb%3Fc&account=acct+42',
    );
    assert.equal(out.body, undefined);
    assert.throws(
      () =>
        renderRequest({ method: 'GET', url: 'https://{{parameters.formId}}.example/' }, context, {
          field: 'subscribe.request',
        }),
      (err: TemplateError) =>
        err instanceof TemplateError &&
        err.message.startsWith('subscribe.request.url: "a/b?c" cannot be part of a host name'),
    );
  });

  test('a whole-string placeholder in JSON keeps its type; inside text it is text', () => {
    const out = renderRequest(
      {
        method: 'PUT',
        url: 'https://api.example/x',
        body: {
          limit: '{{parameters.limit}}',
          labels: '{{ parameters.labels }}',
          nested: '{{parameters.nested}}',
          text: 'limit={{parameters.limit}}',
          literal: 7,
          list: ['{{subscription.secret}}', null],
        },
      },
      context,
    );
    assert.deepEqual(JSON.parse(out.body ?? ''), {
      limit: 25,
      labels: ['x', 'y'],
      nested: { on: true },
      text: 'limit=25',
      literal: 7,
      list: ['s3cret', null],
    });
  });

  test('form bodies, repeated fields and explicit headers', () => {
    const out = renderRequest(
      {
        method: 'POST',
        url: 'https://api.example/v1/webhook_endpoints',
        headers: {
          'Stripe-Version': '2024-06-20',
          Authorization: 'Basic {{integration.settings.webhookSecret}}',
        },
        form: {
          url: '{{settings.webhookURL}}',
          'enabled_events[]': ['charge.succeeded', '{{parameters.labels}}'],
        },
      },
      context,
      bearer ? { auth: bearer } : {},
    );
    assert.equal(out.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(out.headers['stripe-version'], '2024-06-20');
    // The definition set Authorization itself, so the credential's is not added.
    assert.equal(out.headers.authorization, 'Basic whsec_abc');
    assert.equal(
      out.body,
      'url=https%3A%2F%2Fhooks.example%2Fin%2Fsrc_1%3Fsub%3Dsub_1&enabled_events%5B%5D=charge.succeeded&enabled_events%5B%5D=x&enabled_events%5B%5D=y',
    );
  });

  test('auth: none sends no credential; api keys in a header or the query', () => {
    const none = renderRequest(
      { method: 'GET', url: 'https://a.example/', auth: 'none' },
      context,
      bearer ? { auth: bearer } : {},
    );
    assert.deepEqual(none.headers, {});
    const headerKey = credentialAuth({ type: 'apiKey', header: 'X-Api-Key', prefix: '' }, { apiKey: 'k1' });
    assert.deepEqual(headerKey, { header: 'x-api-key', value: 'k1' });
    const queryKey = credentialAuth({ type: 'apiKey', query: 'api_key' }, { apiKey: 'k 2' });
    const out = renderRequest(
      { method: 'GET', url: 'https://a.example/x' },
      context,
      queryKey ? { auth: queryKey } : {},
    );
    assert.equal(out.url, 'https://a.example/x?api_key=k+2');
    assert.deepEqual(credentialAuth({ type: 'basic' }, { username: 'AC1', password: 'pw' }), {
      header: 'authorization',
      value: `Basic ${Buffer.from('AC1:pw').toString('base64')}`,
    });
  });

  test('a missing value is an error naming it and where it was', () => {
    assert.throws(
      () =>
        renderRequest(
          { method: 'POST', url: 'https://a.example/', body: { form: '{{parameters.missing}}' } },
          context,
          { field: 'triggers[0].subscribe.request' },
        ),
      {
        name: 'TemplateError',
        message: 'triggers[0].subscribe.request.body.form: {{parameters.missing}} has no value',
      },
    );
    assert.throws(
      () => renderRequest({ method: 'GET', url: 'https://a.example/{{subscription.providerId}}' }, {}),
      /request\.url: \{\{subscription\.providerId\}\} has no value/,
    );
  });

  test('objects cannot be pasted into text; headers cannot carry line breaks', () => {
    assert.throws(
      () => renderRequest({ method: 'GET', url: 'https://a.example/{{parameters.nested}}' }, context),
      /is an object; only a JSON body value that is exactly one placeholder can take it/,
    );
    assert.throws(
      () =>
        renderRequest(
          { method: 'GET', url: 'https://a.example/', headers: { 'x-a': '{{parameters.evil}}' } },
          { parameters: { evil: 'a\r\nx-b: c' } },
        ),
      /request\.headers\.x-a: a header value cannot contain CR or LF/,
    );
  });

  test('lastSegment takes the id at the end of a URI', () => {
    const out = renderRequest(
      {
        method: 'DELETE',
        url: 'https://api.example/webhook_subscriptions/{{subscription.providerId | lastSegment}}',
      },
      { subscription: { providerId: 'https://api.example/webhook_subscriptions/AAAA-1' } },
    );
    assert.equal(out.url, 'https://api.example/webhook_subscriptions/AAAA-1');
    assert.match(
      referenceProblem('subscription.providerId | upper') ?? '',
      /"upper" is not a filter; expected one of lastSegment/,
    );
    assert.throws(
      () =>
        renderRequest(
          { method: 'DELETE', url: 'https://api.example/{{subscription.providerId | lastSegment}}' },
          { subscription: { providerId: 'https://api.example/' } },
        ),
      /\{\{subscription\.providerId \| lastSegment\}\} has no value/,
    );
  });

  test('the vocabulary', () => {
    assert.equal(referenceProblem('settings.webhookURL'), null);
    assert.equal(referenceProblem('credential.settings.cloud_id'), null);
    assert.equal(referenceProblem('subscription.saved.previousSmsUrl'), null);
    assert.match(referenceProblem('credential.settings') ?? '', /not a known placeholder/);
    assert.match(referenceProblem('process.env.HOME') ?? '', /not a known placeholder/);
    assert.match(referenceProblem('parameters.__proto__ x') ?? '', /not a dotted path/);
    // Prototype members are not values.
    assert.throws(
      () => renderRequest({ method: 'GET', url: 'https://a.example/{{parameters.constructor}}' }, context),
      /has no value/,
    );
  });
});
