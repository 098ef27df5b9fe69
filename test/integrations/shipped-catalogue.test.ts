import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { lowerCaseHeaders, type RawRequest } from '../../src/ingest/verification/raw-request.ts';
import { credentialAuth } from '../../src/integrations/credential-auth.ts';
import { loadDefinitionFile, SHIPPED_INTEGRATIONS_DIR } from '../../src/integrations/definition-loader.ts';
import type {
  DefinitionFixture,
  IntegrationDefinition,
} from '../../src/integrations/integration-definition.ts';
import { renderRequest, type TemplateContext } from '../../src/integrations/template-renderer.ts';
import { compileTriggerEventReader } from '../../src/integrations/trigger-event.ts';
import { compileTriggerVerifier } from '../../src/integrations/trigger-verifier.ts';

/**
 * Every shipped definition validates (a broken file fails here, named), and every fixture it
 * carries runs: a provider request must produce the event it states (type, id, routing value,
 * whether the trigger's filter takes it, and, where it carries a signature from the provider's
 * docs or an official SDK, whether it verifies with the existing verifier), and a subscribe
 * fixture must render exactly the stated request.
 */

const files = readdirSync(SHIPPED_INTEGRATIONS_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function requestOf(fixture: NonNullable<DefinitionFixture['event']>['request']): RawRequest {
  const body =
    fixture.body !== undefined
      ? Buffer.from(fixture.body, 'utf8')
      : fixture.json !== undefined
        ? Buffer.from(JSON.stringify(fixture.json), 'utf8')
        : Buffer.alloc(0);
  const url = fixture.url ?? '/';
  return {
    method: fixture.method,
    url: /^https?:\/\//.test(url) ? url : `https://hookyard.example${url}`,
    headers: lowerCaseHeaders(fixture.headers),
    body,
  };
}

function runEventFixture(def: IntegrationDefinition, fixture: DefinitionFixture): void {
  const event = fixture.event;
  if (!event) return;
  const trigger = def.triggers.find((t) => t.type === fixture.trigger);
  assert.ok(trigger, `fixture "${fixture.name}" names trigger ${fixture.trigger}`);
  const req = requestOf(event.request);
  const reader = compileTriggerEventReader(trigger);
  const { expect } = event;
  if (expect.type !== undefined) assert.equal(reader.readEventType?.(req) ?? null, expect.type, 'event type');
  if (expect.id !== undefined) assert.equal(reader.readEventId?.(req) ?? null, expect.id, 'event id');
  if (expect.routing !== undefined) {
    assert.equal(reader.readRouting?.(req) ?? null, expect.routing, 'routing value');
  }
  assert.equal(reader.matches(req), expect.matches ?? true, 'whether the trigger takes the event');
  if (event.secret !== undefined || expect.verified !== undefined) {
    assert.ok(
      event.secret !== undefined,
      'a fixture that states `verified` carries the secret it was signed with',
    );
    assert.ok(expect.verified !== undefined, 'a fixture with a secret states whether it verifies');
    const verify = compileTriggerVerifier(trigger.verification, { secrets: [{ value: event.secret }] });
    const checkFreshness = event.now !== undefined;
    const result = verify(req, (event.now ?? 0) * 1000, { checkFreshness });
    assert.equal(result.ok, expect.verified, result.ok ? result.detail : result.reason);
  }
}

function runSubscribeFixture(def: IntegrationDefinition, fixture: DefinitionFixture): void {
  const sub = fixture.subscribe;
  if (!sub) return;
  const trigger = def.triggers.find((t) => t.type === fixture.trigger);
  assert.ok(
    trigger?.subscribe,
    `fixture "${fixture.name}": trigger ${fixture.trigger} has a subscribe request`,
  );
  const context = sub.context as TemplateContext & { credential?: Record<string, string> };
  const auth = credentialAuth(def.auth, context.credential);
  const rendered = renderRequest(trigger.subscribe.request, context, {
    field: `${fixture.trigger}.subscribe.request`,
    ...(auth ? { auth } : {}),
  });
  assert.equal(rendered.method, sub.expect.method);
  assert.equal(rendered.url, sub.expect.url);
  if (sub.expect.headers) assert.deepEqual(rendered.headers, sub.expect.headers);
  if (sub.expect.body !== undefined) {
    const body =
      typeof sub.expect.body === 'string'
        ? rendered.body
        : rendered.body === undefined
          ? undefined
          : JSON.parse(rendered.body);
    assert.deepEqual(body, sub.expect.body);
  } else assert.equal(rendered.body, undefined);
}

describe('shipped integration catalogue', () => {
  test('there is a catalogue', () => {
    assert.ok(files.length >= 12, `expected at least 12 shipped integrations, found ${files.length}`);
  });

  for (const file of files) {
    describe(file, () => {
      const def = (() => {
        try {
          return loadDefinitionFile(path.join(SHIPPED_INTEGRATIONS_DIR, file));
        } catch (err) {
          return err as Error;
        }
      })();

      test('validates against the schema', () => {
        if (def instanceof Error) assert.fail(def.message);
      });
      if (def instanceof Error) return;

      test('cites the provider documentation and carries fixtures for every trigger', () => {
        assert.ok((def.docs ?? []).length > 0, `${file}: docs lists no provider documentation`);
        for (const trigger of def.triggers) {
          const own = (def.fixtures ?? []).filter((f) => f.trigger === trigger.type);
          assert.ok(
            own.some((f) => f.event),
            `${file}: trigger ${trigger.type} has no event fixture`,
          );
          if (trigger.setup === 'api') {
            assert.ok(
              own.some((f) => f.subscribe),
              `${file}: trigger ${trigger.type} has no subscribe fixture`,
            );
          }
        }
      });

      for (const fixture of def.fixtures ?? []) {
        test(`fixture: ${fixture.name}`, () => {
          runEventFixture(def, fixture);
          runSubscribeFixture(def, fixture);
        });
      }
    });
  }
});
