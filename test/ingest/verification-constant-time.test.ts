import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constantTimeEqual, constantTimeEqualSecret } from '../../src/ingest/verification/constant-time.ts';

test('constantTimeEqual: equal, different, and different-length inputs', () => {
  assert.equal(constantTimeEqual('sha256=abc', 'sha256=abc'), true);
  assert.equal(constantTimeEqual(Buffer.from('abc'), 'abc'), true);
  assert.equal(constantTimeEqual('abc', 'abd'), false);
  assert.equal(constantTimeEqual('abc', 'abcd'), false);
  assert.equal(constantTimeEqual('', ''), true);
  assert.equal(constantTimeEqual('', 'a'), false);
});

test('constantTimeEqual compares bytes, not characters', () => {
  // "é" precomposed vs decomposed: different bytes, so different signatures.
  assert.equal(constantTimeEqual('\u00e9', 'e\u0301'), false);
  assert.equal(constantTimeEqual(Buffer.from([0xff]), Buffer.from([0xfe])), false);
});

test('constantTimeEqualSecret hides the secret length and still decides equality exactly', () => {
  assert.equal(constantTimeEqualSecret('token-123', 'token-123'), true);
  assert.equal(constantTimeEqualSecret('token-123', Buffer.from('token-123')), true);
  assert.equal(constantTimeEqualSecret('token-12', 'token-123'), false);
  assert.equal(constantTimeEqualSecret('token-124', 'token-123'), false);
  assert.equal(constantTimeEqualSecret('', 'x'), false);
});
