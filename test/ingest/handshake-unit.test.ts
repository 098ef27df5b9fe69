import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { completeHandshake } from '../../src/ingest/handshakes/complete-handshake.ts';
import { type DetectHandshakeInput, detectHandshake } from '../../src/ingest/handshakes/detect-handshake.ts';
import type { CustomHandshake, HandshakeKind } from '../../src/ingest/handshakes/handshake-types.ts';
import type { RawRequest } from '../../src/ingest/verification/raw-request.ts';

function req(
  method: string,
  pathAndQuery: string,
  headers: Record<string, string> = {},
  body = '',
): RawRequest {
  return { method, url: `https://hooks.example.com${pathAndQuery}`, headers, body: Buffer.from(body) };
}

function detect(kind: HandshakeKind | null, request: RawRequest, extra: Partial<DetectHandshakeInput> = {}) {
  return detectHandshake({ kind, settings: {}, secrets: [], request, nowMs: 1_000, ...extra });
}

describe('ordinary events are not handshakes', () => {
  const cases: [HandshakeKind, RawRequest][] = [
    ['slack-url-verification', req('POST', '/s', {}, '{"type":"event_callback","event_id":"E1"}')],
    ['meta-hub-challenge', req('POST', '/m', {}, '{"object":"page"}')],
    ['zoom-url-validation', req('POST', '/z', {}, '{"event":"meeting.started"}')],
    ['dropbox-challenge', req('POST', '/d', {}, '{"list_folder":{}}')],
    ['twitter-crc', req('POST', '/t', {}, '{}')],
    ['asana-hook-secret', req('POST', '/a', {}, '{"events":[]}')],
    ['discord-ping', req('POST', '/i', {}, '{"type":2}')],
    ['okta-verification', req('POST', '/o', {}, '{"eventType":"x"}')],
    ['trello-head', req('POST', '/t', {}, '{}')],
    ['notion-verification-token', req('POST', '/n', {}, '{"type":"page.created","id":"1"}')],
    ['microsoft-graph-validation', req('POST', '/g', {}, '{"value":[]}')],
  ];
  for (const [kind, request] of cases) test(kind, () => assert.equal(detect(kind, request), null));
  test('no kind, no custom', () => assert.equal(detect(null, req('HEAD', '/x')), null));
});

describe('slack url_verification', () => {
  const body = '{"type":"url_verification","challenge":"abc"}';
  test('answers text/plain and verifies first when a signing secret is configured', () => {
    const outcome = detect('slack-url-verification', req('POST', '/s', {}, body), {
      secrets: [{ value: 'sig' }],
    });
    assert.equal(outcome?.response.body, 'abc');
    assert.equal(outcome?.verifyFirst, true);
  });
  test('an expired secret does not count as configured', () => {
    const outcome = detect('slack-url-verification', req('POST', '/s', {}, body), {
      secrets: [{ value: 'sig', notAfterMs: 1_000 }],
    });
    assert.equal(outcome?.verifyFirst, false);
  });
});

describe('meta hub.challenge', () => {
  const path = '/m?hub.mode=subscribe&hub.challenge=42&hub.verify_token=tok';
  test('no verify token configured: refused without echo', () => {
    const outcome = detect('meta-hub-challenge', req('GET', path));
    assert.equal(outcome?.response.status, 403);
    assert.ok(!outcome?.response.body.includes('42'));
  });
  test('mode other than subscribe: refused', () => {
    const outcome = detect(
      'meta-hub-challenge',
      req('GET', '/m?hub.mode=unsubscribe&hub.challenge=42&hub.verify_token=tok'),
      {
        settings: { verifyToken: 'tok' },
      },
    );
    assert.equal(outcome?.response.status, 403);
  });
  test('match: echoed as text/plain with nosniff', () => {
    const outcome = detect('meta-hub-challenge', req('GET', path), { settings: { verifyToken: 'tok' } });
    assert.deepEqual(outcome?.response, {
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
      body: '42',
    });
  });
});

describe('zoom and X refuse to act as signing oracles', () => {
  test('zoom: a plainToken shaped like signed content is refused', () => {
    const body = JSON.stringify({
      event: 'endpoint.url_validation',
      payload: { plainToken: 'v0:1700000000:{"a":1}' },
    });
    const outcome = detect('zoom-url-validation', req('POST', '/z', {}, body), { secrets: [{ value: 's' }] });
    assert.equal(outcome?.response.status, 400);
    assert.ok(
      !outcome?.response.body.includes(
        createHmac('sha256', 's').update('v0:1700000000:{"a":1}').digest('hex'),
      ),
    );
  });
  test('zoom: answered with the first live secret; signed requests verify first', () => {
    const body = JSON.stringify({ event: 'endpoint.url_validation', payload: { plainToken: 'abc' } });
    const secrets = [{ value: 'old', notAfterMs: 500 }, { value: 'current' }];
    const outcome = detect('zoom-url-validation', req('POST', '/z', { 'x-zm-signature': 'v0=00' }, body), {
      secrets,
    });
    assert.deepEqual(JSON.parse(outcome?.response.body ?? ''), {
      plainToken: 'abc',
      encryptedToken: createHmac('sha256', 'current').update('abc').digest('hex'),
    });
    assert.equal(outcome?.verifyFirst, true);
  });
  test('zoom without a secret cannot answer', () => {
    const body = JSON.stringify({ event: 'endpoint.url_validation', payload: { plainToken: 'abc' } });
    assert.equal(detect('zoom-url-validation', req('POST', '/z', {}, body))?.response.status, 403);
  });
  test('X: a crc_token that could be a JSON body is refused', () => {
    const outcome = detect('twitter-crc', req('GET', `/t?crc_token=${encodeURIComponent('{"tweet":1}')}`), {
      secrets: [{ value: 's' }],
    });
    assert.equal(outcome?.response.status, 400);
  });
});

describe('asana and notion hand over secrets only when the source expects one', () => {
  const asana = req('POST', '/a', { 'x-hook-secret': 'new-secret' });
  const notion = req('POST', '/n', {}, '{"verification_token":"secret_abc"}');
  test('no live secret: accepted with a store effect', () => {
    assert.deepEqual(detect('asana-hook-secret', asana)?.effect, {
      kind: 'store-secret',
      secret: 'new-secret',
    });
    assert.deepEqual(detect('notion-verification-token', notion)?.effect, {
      kind: 'store-verification-token',
      token: 'secret_abc',
    });
  });
  test('a live secret and not awaiting: refused, no effect', () => {
    const outcome = detect('asana-hook-secret', asana, { secrets: [{ value: 'existing' }] });
    assert.equal(outcome?.response.status, 403);
    assert.equal(outcome?.effect, undefined);
    assert.equal(
      detect('notion-verification-token', notion, { secrets: [{ value: 'existing' }] })?.response.status,
      403,
    );
  });
  test('awaiting a secret: accepted even with one configured (re-creation)', () => {
    const outcome = detect('asana-hook-secret', asana, {
      secrets: [{ value: 'existing' }],
      settings: { awaitingSecret: true },
    });
    assert.equal(outcome?.response.headers['x-hook-secret'], 'new-secret');
  });
});

test('okta: a wrong authorization header is refused with 401', () => {
  const request = req('GET', '/o', { 'x-okta-verification-challenge': 'v', authorization: 'wrong' });
  assert.equal(
    detect('okta-verification', request, { settings: { authorization: 'right' } })?.response.status,
    401,
  );
  assert.equal(detect('okta-verification', request)?.response.body, '{"verification":"v"}');
});

describe('completeHandshake', () => {
  const outcome = {
    response: { status: 200, headers: {}, body: 'ok' },
    verifyFirst: true,
    effect: { kind: 'store-secret', secret: 's' } as const,
  };
  test('verifyFirst and verified: the response and the effect', () => {
    assert.deepEqual(completeHandshake(outcome, { ok: true, detail: 'd' }), {
      response: outcome.response,
      effect: outcome.effect,
    });
  });
  test('verifyFirst and not verified (or not checked): 401 and no effect', () => {
    const failed = completeHandshake(outcome, { ok: false, reason: 'no signature matched' });
    assert.equal(failed.response.status, 401);
    assert.equal(failed.effect, undefined);
    assert.equal(completeHandshake(outcome, null).response.status, 401);
  });
  test('no verification needed: answered as is', () => {
    assert.equal(completeHandshake({ ...outcome, verifyFirst: false }, null).response.status, 200);
  });
});

describe('custom handshake seam', () => {
  const custom: CustomHandshake = {
    name: 'acme-ping',
    answer: (request, context) =>
      request.headers['x-acme-ping'] === undefined
        ? null
        : {
            response: { status: 200, headers: {}, body: `pong ${context.liveSecrets.length}` },
            verifyFirst: false,
          },
  };
  test('is asked first and sees only live secrets', () => {
    const outcome = detect('trello-head', req('HEAD', '/x', { 'x-acme-ping': '1' }), {
      custom,
      secrets: [{ value: 'a' }, { value: 'b', notAfterMs: 0 }],
    });
    assert.equal(outcome?.response.body, 'pong 1');
  });
  test('returning null falls through to the built-in kind', () => {
    assert.equal(detect('trello-head', req('HEAD', '/x'), { custom })?.response.status, 200);
  });
});
