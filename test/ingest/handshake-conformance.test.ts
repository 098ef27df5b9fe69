import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { completeHandshake } from '../../src/ingest/handshakes/complete-handshake.ts';
import { detectHandshake } from '../../src/ingest/handshakes/detect-handshake.ts';
import type { HandshakeSettings } from '../../src/ingest/handshakes/handshake-types.ts';
import { compileVerifier } from '../../src/ingest/verification/compile-verifier.ts';
import { getProviderPreset } from '../../src/ingest/verification/provider-presets.ts';
import { lowerCaseHeaders, type RawRequest } from '../../src/ingest/verification/raw-request.ts';
import { CONFORMANCE_DIR } from '../helpers/conformance.ts';

interface ConformanceChallenge {
  provider: string;
  source: string;
  secret_if_needed: string | Record<string, string> | null;
  request: { method: string; path_and_query: string; headers: Record<string, string>; body: string };
  expected_response: {
    status: number;
    content_type: string | null;
    headers?: Record<string, string>;
    body: string | null;
  };
  compare?: string;
}

// Missing shared data fails with a clear message rather than skipping (see the vectors test).
const challengesFile = path.join(CONFORMANCE_DIR, 'challenges.json');
const present = existsSync(challengesFile);
const cases: ConformanceChallenge[] = present ? JSON.parse(readFileSync(challengesFile, 'utf8')) : [];

test('conformance challenges are present (14)', () => {
  assert.ok(present, `conformance data not found at ${challengesFile}`);
  assert.equal(cases.length, 14, 'challenges.json should hold 14 handshakes');
});

function keyMaterial(c: ConformanceChallenge): {
  secrets: string[];
  publicKey?: string;
  settings: HandshakeSettings;
} {
  const given = c.secret_if_needed;
  if (given === null) return { secrets: [], settings: {} };
  if (typeof given === 'string') return { secrets: [given], settings: {} };
  return {
    secrets: [],
    ...(given.public_key ? { publicKey: given.public_key } : {}),
    settings: {
      ...(given.verify_token ? { verifyToken: given.verify_token } : {}),
      ...(given.authorization_header_value ? { authorization: given.authorization_header_value } : {}),
    },
  };
}

for (const [i, c] of cases.entries()) {
  test(`challenge ${i + 1}: ${c.provider} ${c.request.method} ${c.request.path_and_query.slice(0, 60)}`, (t) => {
    t.diagnostic(`source: ${c.source}`);
    const preset = getProviderPreset(c.provider);
    assert.ok(preset, `no preset for ${c.provider}`);
    assert.ok(preset.handshake, `preset ${c.provider} names no handshake`);
    const { secrets, publicKey, settings } = keyMaterial(c);
    const request: RawRequest = {
      method: c.request.method,
      url: `https://hookyard.test${c.request.path_and_query}`,
      headers: lowerCaseHeaders(c.request.headers),
      body: Buffer.from(c.request.body, 'utf8'),
    };
    const secretList = secrets.map((value) => ({ value }));
    const outcome = detectHandshake({
      kind: preset.handshake,
      settings,
      secrets: secretList,
      request,
      nowMs: 0,
    });
    assert.ok(outcome, 'the request should be recognised as a handshake');

    // Verify exactly as ingest would, with the source's compiled verifier. The captured requests are
    // years old, so freshness is off; the signature itself is checked.
    const verification = outcome.verifyFirst
      ? compileVerifier({ provider: c.provider, secrets: secretList, ...(publicKey ? { publicKey } : {}) })(
          request,
          0,
          {
            checkFreshness: false,
          },
        )
      : null;
    const { response } = completeHandshake(outcome, verification);
    const expected = c.expected_response;

    // Meta does not specify the refusal status: the WhatsApp SDK uses 401, most samples 403 (the
    // case's note says to assert "not 2xx and no echo"). Every other status is exact.
    const allowed = c.provider === 'meta' && expected.status >= 400 ? [401, 403] : [expected.status];
    assert.ok(
      allowed.includes(response.status),
      `status ${response.status}, expected ${allowed.join(' or ')}`,
    );

    if (expected.content_type !== null) {
      assert.ok(
        (response.headers['content-type'] ?? '').startsWith(expected.content_type),
        `content-type ${response.headers['content-type']}, expected ${expected.content_type}`,
      );
    }
    for (const [name, value] of Object.entries(expected.headers ?? {})) {
      assert.equal(response.headers[name.toLowerCase()], value, `header ${name}`);
    }
    if (expected.status >= 400) {
      const challenge = new URL(request.url).searchParams.get('hub.challenge');
      if (challenge) assert.ok(!response.body.includes(challenge), 'a refusal must not echo the challenge');
    } else if (expected.body !== null) {
      if (c.compare?.startsWith('json-equal')) {
        assert.deepEqual(JSON.parse(response.body), JSON.parse(expected.body));
      } else {
        assert.equal(response.body, expected.body);
      }
    }
  });
}
