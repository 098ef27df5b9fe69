import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileVerifier } from '../../src/ingest/verification/compile-verifier.ts';
import { verifyCapturedRequest } from '../../src/ingest/verification/offline-verify.ts';
import { lowerCaseHeaders, type RawRequest } from '../../src/ingest/verification/raw-request.ts';
import { bodyOf, loadVectors, secretsOf, VECTORS_FILE, vectorsPresent } from '../helpers/conformance.ts';

// Vectors that do not sign a URL still need one in a RawRequest.
const PLACEHOLDER_URL = 'https://hookyard.invalid/webhook';
const vectors = loadVectors();

test('conformance vectors are present (148)', () => {
  assert.ok(vectorsPresent, `conformance data not found at ${VECTORS_FILE}`);
  assert.equal(vectors.length, 148, 'vectors.json should hold 148 vectors');
});

for (const v of vectors) {
  test(`${v.id} [${v.provider}, expect ${v.expect}]`, (t) => {
    t.diagnostic(`source: ${v.source}`);
    const secrets = secretsOf(v);
    const publicKey = v.public_key ?? undefined;
    const verify = compileVerifier({
      provider: v.provider,
      secrets: secrets.map((value) => ({ value })),
      ...(publicKey ? { publicKey } : {}),
    });
    const headers = lowerCaseHeaders(v.headers ?? {});
    const body = bodyOf(v);
    const req: RawRequest = {
      method: v.method ?? 'POST',
      url: v.url ?? PLACEHOLDER_URL,
      headers,
      body: Buffer.from(body, 'utf8'),
    };
    // now = null: no freshness rule applies to this case, so the tolerance check is switched off.
    const result = v.now === null ? verify(req, 0, { checkFreshness: false }) : verify(req, v.now * 1000);
    t.diagnostic(result.ok ? `detail: ${result.detail}` : `reason: ${result.reason}`);
    assert.equal(result.ok, v.expect === 'valid', result.ok ? result.detail : result.reason);

    // `hookyard verify` must reach the same verdict with the same compiled verifier.
    const offline = verifyCapturedRequest({
      provider: v.provider,
      secrets,
      ...(publicKey ? { publicKey } : {}),
      request: { method: req.method, url: req.url, headers: v.headers ?? {}, body },
      ...(v.now === null ? {} : { nowSeconds: v.now }),
    });
    assert.equal(offline.valid, result.ok);
  });
}
