import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';

// Validation does not depend on the store; one real store is enough here.
describe('management API validation answers', () => {
  let t: TestHookyard;
  let projectId: string;
  let endpointId: string;
  let messageId: string;
  before(async () => {
    t = await startTestHookyard('sqlite', { apiBodyLimitBytes: String(1024 * 1024) });
    projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'validation' } })).body.id;
    endpointId = (await t.api('POST', p('/endpoints'), { body: { url: 'https://receiver.example/hook' } }))
      .body.id;
    messageId = (await t.api('POST', p('/messages'), { body: { eventType: 'a.b', payload: 1 } })).body.id;
  });
  after(async () => {
    await t.cleanup();
  });

  const p = (suffix: string) => `/api/v1/projects/${projectId}${suffix}`;

  async function expect400(method: string, path: string, body: unknown, detail: RegExp): Promise<void> {
    const res = await t.api(method, path, { body });
    assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.code, 'validation_failed');
    assert.match(res.body.detail, detail);
  }

  it('refuses values of the wrong type instead of coercing them', async () => {
    await expect400(
      'POST',
      '/api/v1/projects',
      { name: 123 },
      /^body\.name: got a number; expected a string of 1 to 200 characters\.$/,
    );
    await expect400(
      'POST',
      p('/endpoints'),
      { url: 'https://r.example/', timeoutMs: '15000' },
      /^body\.timeoutMs: got a string; expected an integer from 100 to 120000\.$/,
    );
    await expect400(
      'POST',
      p('/messages'),
      { eventType: 42, payload: {} },
      /^body\.eventType: got a number; expected an event type/,
    );
    await expect400(
      'POST',
      p('/endpoints'),
      { url: 'https://r.example/', enabled: 'false' },
      /^body\.enabled: got a string; expected true or false\.$/,
    );
    await expect400(
      'POST',
      p('/endpoints'),
      { url: 'https://r.example/', eventTypes: 'a.b' },
      /^body\.eventTypes: got a string; expected an array of at most 256 items \(each a string of 1 to 256 characters\)\.$/,
    );
    await expect400(
      'POST',
      p('/endpoints'),
      { url: 'https://r.example/', maxConcurrency: '4' },
      /^body\.maxConcurrency: got a string; expected an integer from 1 to 256, or null\.$/,
    );
  });

  it('names an unknown field and lists the allowed ones', async () => {
    await expect400(
      'POST',
      '/api/v1/projects',
      { name: 'x', colour: 'red' },
      /^body: unknown field "colour"; the fields allowed are: name\.$/,
    );
    await expect400(
      'PUT',
      p('/delivery-settings'),
      { retrySchedule: [1] },
      /^body: unknown field "retrySchedule"; the fields allowed are: retryScheduleMs, egressAllow\.$/,
    );
  });

  it('lists the allowed values of an enum and describes a pattern in words', async () => {
    await expect400(
      'POST',
      p('/endpoints'),
      { url: 'https://r.example/', signatureScheme: 'md5' },
      /^body\.signatureScheme: "md5" is not allowed; expected one of: "standard-webhooks", "standard-webhooks\+hmac-sha256-hex"\.$/,
    );
    const res = await t.api('POST', p('/messages'), { body: { eventType: 'a b', payload: {} } });
    assert.equal(res.status, 400);
    assert.doesNotMatch(res.body.detail, /\^|\$|\\/, 'no raw regex in the answer');
    assert.match(
      res.body.detail,
      /^body\.eventType: "a b" is not allowed; expected an event type: .*invoice\.paid/,
    );
    await expect400(
      'GET',
      p('/events?status=lost'),
      undefined,
      /^querystring\.status: "lost" is not allowed; expected one of: "received", "routed", "unrouted"\.$/,
    );
  });

  it('names a missing field and what it takes', async () => {
    await expect400('POST', p('/endpoints'), {}, /^body\.url is required; expected a string of 1 to 2048/);
  });

  it('parses query numbers and refuses what is not one', async () => {
    const ok = await t.api('GET', p('/endpoints?limit=1'));
    assert.equal(ok.status, 200);
    assert.equal(ok.body.items.length, 1);
    await expect400(
      'GET',
      p('/endpoints?limit=ten'),
      undefined,
      /^querystring\.limit: got a string; expected an integer from 1 to 500\.$/,
    );
  });

  it('refuses a cursor that is not one, instead of answering some other page', async () => {
    for (const [path, prefix] of [
      ['/api/v1/projects?after=zzz', 'prj'],
      [p('/endpoints?after=zzz'), 'ep'],
      [p('/sources?after=prj_0000000000'), 'src'],
      [p('/messages?after=zzz'), 'msg'],
      [p('/events?after=zzz'), 'evt'],
    ] as const) {
      await expect400(
        'GET',
        path,
        undefined,
        new RegExp(
          `^querystring\\.after: ".*" is not allowed; expected the nextCursor of the previous page \\(an id starting ${prefix}_\\)\\.$`,
        ),
      );
    }
    const first = await t.api('GET', '/api/v1/projects?limit=1');
    const next = await t.api('GET', `/api/v1/projects?limit=1&after=${first.body.items[0].id}`);
    assert.equal(next.status, 200);
  });

  it('says the body limit and the setting that sets it', async () => {
    const res = await t.api('POST', p('/messages'), {
      body: { eventType: 'a.b', payload: 'x'.repeat(2 * 1024 * 1024) },
    });
    assert.equal(res.status, 413);
    assert.equal(res.body.code, 'payload_too_large');
    assert.match(res.body.detail, /1048576 bytes \(1 MiB\)/);
    assert.match(res.body.detail, /HOOKYARD_API_BODY_LIMIT_BYTES/);
  });

  it('reads an empty body sent as application/json as {} on action routes', async () => {
    const empty = { rawBody: '', headers: { 'content-type': 'application/json' } };
    const enable = await t.api('POST', p(`/endpoints/${endpointId}/enable`), empty);
    assert.equal(enable.status, 200, JSON.stringify(enable.body));
    const rotate = await t.api('POST', p(`/endpoints/${endpointId}/secret/rotate`), empty);
    assert.equal(rotate.status, 200, JSON.stringify(rotate.body));
    assert.match(rotate.body.secret, /^whsec_/);
    const resend = await t.api('POST', p(`/messages/${messageId}/resend`), empty);
    assert.equal(resend.status, 202, JSON.stringify(resend.body));
    const key = await t.api('POST', p('/api-keys'), empty);
    assert.equal(key.status, 201, JSON.stringify(key.body));
    // A route that needs a field says which, not that the JSON was empty.
    const recover = await t.api('POST', p(`/endpoints/${endpointId}/recover`), empty);
    assert.equal(recover.status, 400);
    assert.match(recover.body.detail, /^body\.since is required; expected an RFC 3339 date-time/);
    // Without any content type, the same.
    const bare = await t.api('POST', p(`/endpoints/${endpointId}/secret/rotate`));
    assert.equal(bare.status, 200);
    // Broken JSON is still an error.
    const broken = await t.api('POST', p(`/endpoints/${endpointId}/enable`), {
      rawBody: '{',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.code, 'invalid_json');
  });
});
