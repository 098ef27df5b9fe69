import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { HookyardError } from '../../src/domain/errors.ts';
import {
  DefinitionFileError,
  loadDefinitionFile,
  loadShippedDefinitions,
} from '../../src/integrations/definition-loader.ts';
import {
  definitionProblems,
  fieldPath,
  validateDefinition,
} from '../../src/integrations/definition-validation.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const acmeText = readFileSync(path.join(here, 'fixtures', 'acme.json'), 'utf8');
const acme = () => JSON.parse(acmeText);

describe('integration definition validation', () => {
  test('the Acme example (JSON, generic verification scheme) validates as written', () => {
    assert.deepEqual(definitionProblems(acme()), []);
    const def = validateDefinition(acme());
    assert.equal(def.triggers[0]?.verification?.secret, '{{subscription.secret}}');
  });

  test('JSON pointers become field paths', () => {
    assert.equal(fieldPath('/triggers/0/subscribe/request/method'), 'triggers[0].subscribe.request.method');
    assert.equal(fieldPath(''), '');
    assert.equal(fieldPath('/a/odd key'), 'a["odd key"]');
  });

  test('a bad method names its field path and the allowed values', () => {
    const def = acme();
    def.triggers[0].subscribe.request.method = 'FETCH';
    assert.deepEqual(definitionProblems(def), [
      'triggers[0].subscribe.request.method: expected one of GET, POST, PUT, PATCH, DELETE',
    ]);
  });

  test('every problem is listed, each by field path', () => {
    const def = acme();
    delete def.name;
    def.auth.type = 'oauth3';
    def.triggers[0].level = 'team';
    def.triggers[0].surprise = 1;
    delete def.triggers[1].routing;
    def.triggers[0].subscribe.request.url = 'ftp://acme.example';
    const problems = definitionProblems(def);
    for (const expected of [
      'name: is required',
      'auth.type: expected one of oauth2, apiKey, basic, none',
      'triggers[0].level: expected one of user, app',
      'triggers[0].surprise: is not a known field',
      'triggers[1].routing: is required',
      'triggers[0].subscribe.request.url: expected text matching ^https?://',
    ]) {
      assert.ok(
        problems.some((p) => p.startsWith(expected)),
        `missing "${expected}" in:\n${problems.join('\n')}`,
      );
    }
    assert.throws(
      () => validateDefinition(def),
      (err: HookyardError) => err.code === 'validation_failed' && /has \d+ problems: /.test(err.detail),
    );
  });

  test('an api trigger needs subscribe and unsubscribe', () => {
    const def = acme();
    delete def.triggers[0].unsubscribe;
    assert.deepEqual(definitionProblems(def), ['triggers[0].unsubscribe: is required']);
  });

  test('placeholders outside the vocabulary are refused where they are', () => {
    const def = acme();
    def.triggers[0].subscribe.request.body.url = '{{settings.webhookUrl}}';
    def.triggers[0].unsubscribe.request.headers = { 'x-token': '{{credential.refreshToken}}' };
    const problems = definitionProblems(def);
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(
      problems[0] ?? '',
      /^triggers\[0\]\.subscribe\.request\.body\.url: \{\{settings\.webhookUrl\}\} is not a known placeholder/,
    );
    assert.match(
      problems[1] ?? '',
      /^triggers\[0\]\.unsubscribe\.request\.headers\.x-token: \{\{credential\.refreshToken\}\}/,
    );
  });

  test('the verification block goes through the sources’ scheme validation', () => {
    const def = acme();
    def.triggers[0].verification.signature.encoding = 'base32';
    def.triggers[1].verification = {
      provider: 'stripe',
      secret: '{{integration.settings.webhookSecret}}',
      signedContent: '{body}',
    };
    const problems = definitionProblems(def);
    assert.ok(
      problems.includes(
        'triggers[0].verification.signature.encoding must be one of: hex, base64 (got "base32")',
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) =>
        p.startsWith('triggers[1].verification.signedContent: is not a known field with a preset'),
      ),
      problems.join('\n'),
    );
    const unknownPreset = acme();
    unknownPreset.triggers[1].verification = { provider: 'acme-signature' };
    assert.match(
      definitionProblems(unknownPreset)[0] ?? '',
      /^triggers\[1\]\.verification\.provider: expected one of .*stripe/,
    );
  });

  test('JSON paths, handshakes, duplicate trigger types', () => {
    const def = acme();
    def.triggers[0].subscribe.response.id = '$.a[*]';
    def.triggers[1].handshake = { kind: 'smoke-signal' };
    def.triggers[1].type = 'record.created';
    const problems = definitionProblems(def);
    assert.ok(
      problems.some((p) => p.startsWith('triggers[0].subscribe.response.id: ')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) =>
        p.startsWith('triggers[1].handshake.kind: expected one of slack-url-verification'),
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.includes('triggers[1].type: "record.created" is used by another trigger'),
      problems.join('\n'),
    );
  });

  test('verification is a decision: required, { "type": "none" } where a trigger takes unsigned requests', () => {
    const def = acme();
    delete def.triggers[0].verification;
    def.triggers[1].routing = {};
    assert.deepEqual(definitionProblems(def), [
      'triggers[0].verification: is required',
      'triggers[1].routing: expected exactly one of header, jsonPath, jsonPaths, form, bodySha256',
    ]);
    const unsigned = acme();
    unsigned.triggers[0].verification = { type: 'none' };
    assert.deepEqual(definitionProblems(unsigned), []);
  });

  test('app-level triggers share one URL: same verification, only integration values', () => {
    const def = acme();
    def.triggers.push({ ...def.triggers[1], type: 'record.deleted', routing: { jsonPath: '$.org' } });
    def.triggers[1].verification.secret = '{{credential.settings.secret}}';
    const problems = definitionProblems(def);
    assert.ok(
      problems.includes(
        "triggers[1].verification.secret: an app-level trigger can use only {{integration.*}} (the project's settings and client) (got {{credential.settings.secret}})",
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('triggers[2]: app-level triggers share one URL per project')),
      problems.join('\n'),
    );
  });

  test('body and form are exclusive', () => {
    const def = acme();
    def.triggers[0].subscribe.request.form = { url: '{{settings.webhookURL}}' };
    assert.deepEqual(definitionProblems(def), ['triggers[0].subscribe.request: give only one of body, form']);
  });
});

describe('definition files', () => {
  test('a broken file fails naming the file; YAML and JSON are the same document', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hy-defs-'));
    writeFileSync(path.join(dir, 'acme.yaml'), acmeText);
    assert.equal(loadDefinitionFile(path.join(dir, 'acme.yaml')).key, 'acme');
    const broken = acme();
    broken.triggers[0].setup = 'magic';
    writeFileSync(path.join(dir, 'zeta.yaml'), JSON.stringify(broken));
    assert.throws(
      () => loadShippedDefinitions(dir),
      (err: DefinitionFileError) =>
        err instanceof DefinitionFileError &&
        err.file === 'zeta.yaml' &&
        err.message.includes('triggers[0].setup: expected one of api, manual'),
    );
  });

  test('a shipped file is named by its key', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hy-defs-'));
    writeFileSync(path.join(dir, 'other.yaml'), acmeText);
    assert.throws(
      () => loadDefinitionFile(path.join(dir, 'other.yaml')),
      /other\.yaml: key: expected "other"/,
    );
  });

  test('not YAML at all', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hy-defs-'));
    writeFileSync(path.join(dir, 'bad.yaml'), 'key: [unclosed');
    assert.throws(() => loadDefinitionFile(path.join(dir, 'bad.yaml')), /bad\.yaml: not valid YAML/);
  });
});
