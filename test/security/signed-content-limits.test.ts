import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { HookyardError } from '../../src/domain/errors.ts';
import { compileScheme } from '../../src/ingest/verification/generic-verifier.ts';
import { parseVerificationScheme } from '../../src/ingest/verification/scheme-validation.ts';
import {
  compileSignedContent,
  MAX_SIGNED_CONTENT_PLACEHOLDERS,
  MAX_SIGNED_HEAD_BYTES,
} from '../../src/ingest/verification/signed-content.ts';

// A signed-content template is chosen by whoever configures a source, and every unauthenticated
// request to that source pays for expanding it once per live secret: the expansion is bounded.

function hmacScheme(signedContent: string) {
  return {
    type: 'hmac',
    algorithm: 'sha256',
    signature: { header: 'x-sig', encoding: 'hex' },
    signedContent,
  };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HookyardError, `expected a HookyardError, got ${String(err)}`);
    assert.equal(err.code, 'validation_failed');
    return err.detail;
  }
  assert.fail('expected the template to be refused');
}

describe('signedContent limits', () => {
  test('{body} may appear once', () => {
    const detail = refusal(() => parseVerificationScheme(hmacScheme('{body}.{body}'), 'verification'));
    assert.match(detail, /verification\.signedContent/);
    assert.match(detail, /\{body\} at most once/);
  });

  test('a template with thousands of copies of the body is refused, naming the limit', () => {
    const detail = refusal(() => parseVerificationScheme(hmacScheme('{body}'.repeat(2000)), 'verification'));
    assert.match(detail, /at most/);
  });

  test('placeholders are capped', () => {
    const many = Array.from({ length: MAX_SIGNED_CONTENT_PLACEHOLDERS + 1 }, () => '{header:x-a}').join('.');
    const detail = refusal(() => parseVerificationScheme(hmacScheme(many), 'verification'));
    assert.match(detail, new RegExp(`at most ${MAX_SIGNED_CONTENT_PLACEHOLDERS} placeholders`));
    const enough = Array.from({ length: MAX_SIGNED_CONTENT_PLACEHOLDERS }, () => '{header:x-a}').join('.');
    assert.equal(
      compileSignedContent(enough).parts.filter((p) => p.kind === 'header').length,
      MAX_SIGNED_CONTENT_PLACEHOLDERS,
    );
  });

  test('a long template is refused', () => {
    const detail = refusal(() => compileSignedContent('x'.repeat(5000), 'signedContent'));
    assert.match(detail, /signedContent is 5000 characters; at most/);
  });

  test('the bytes signed besides the body are capped per request, before any HMAC', () => {
    const template =
      Array.from({ length: MAX_SIGNED_CONTENT_PLACEHOLDERS - 1 }, () => '{header:x-big}').join('') + '{body}';
    const verify = compileScheme(parseVerificationScheme(hmacScheme(template)) as never, {
      secrets: Array.from({ length: 10 }, (_, i) => ({ value: `secret-${i}` })),
    });
    const big = 'a'.repeat(Math.ceil(MAX_SIGNED_HEAD_BYTES / (MAX_SIGNED_CONTENT_PLACEHOLDERS - 2)));
    const body = Buffer.from('{"a":1}');
    const signed = Buffer.concat([Buffer.from(big.repeat(MAX_SIGNED_CONTENT_PLACEHOLDERS - 1)), body]);
    const sig = createHmac('sha256', 'secret-0').update(signed).digest('hex');
    const result = verify(
      { method: 'POST', url: 'https://h.invalid/in/x', headers: { 'x-sig': sig, 'x-big': big }, body },
      0,
    );
    assert.deepEqual(result, {
      ok: false,
      reason: `signed content besides the body is larger than ${MAX_SIGNED_HEAD_BYTES} bytes`,
    });

    // Within the cap the same template verifies.
    const small = 'b'.repeat(100);
    const ok = createHmac('sha256', 'secret-3')
      .update(Buffer.concat([Buffer.from(small.repeat(MAX_SIGNED_CONTENT_PLACEHOLDERS - 1)), body]))
      .digest('hex');
    assert.equal(
      verify(
        { method: 'POST', url: 'https://h.invalid/in/x', headers: { 'x-sig': ok, 'x-big': small }, body },
        0,
      ).ok,
      true,
    );
  });
});
