import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import type { ProjectId, SourceId } from '../domain/ids.ts';
import type { SourceBody, SourceService } from '../ingest/source-service.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { IntegrationSettingsRecord } from '../store/integration-store.ts';
import type { Store } from '../store/store.ts';
import { validateDefinition } from './definition-validation.ts';
import type { IntegrationDefinition, TriggerDefinition } from './integration-definition.ts';
import { placeholderPath, placeholdersIn, renderText, TemplateError } from './template-renderer.ts';

/** Project-defined integrations per project: a catalogue, not a data set. */
export const MAX_PROJECT_INTEGRATIONS = 200;
const MAX_DEFINITION_BYTES = 256 * 1024;
const MAX_SETTING_CHARS = 4096;
const MAX_SETTINGS = 50;

export type IntegrationOrigin = 'shipped' | 'project';

export interface IntegrationSettingsInput {
  clientId?: string | null;
  clientSecret?: string | null;
  settings?: Record<string, unknown> | null;
}

/** What is sealed in integration_settings.settings_sealed. */
interface SealedSettings {
  clientId?: string;
  clientSecret?: string;
  settings: Record<string, string | number | boolean>;
}

function invalid(detail: string): HookyardError {
  return new HookyardError('validation_failed', detail);
}

/** The setting names a definition may use: those it declares and those its templates read. */
export function settingNames(def: IntegrationDefinition): string[] {
  const names = new Set((def.settings ?? []).map((s) => s.key));
  const prefix = 'integration.settings.';
  for (const expression of placeholdersIn(JSON.stringify({ auth: def.auth, triggers: def.triggers }))) {
    const path = placeholderPath(expression);
    if (path.startsWith(prefix)) names.add(path.slice(prefix.length).split('.')[0] ?? '');
  }
  names.delete('');
  return [...names].sort();
}

function parseSettingsInput(def: IntegrationDefinition, input: IntegrationSettingsInput): SealedSettings {
  const out: SealedSettings = { settings: {} };
  for (const key of ['clientId', 'clientSecret'] as const) {
    const v = input[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v === '' || v.length > MAX_SETTING_CHARS) {
      throw invalid(`${key}: expected a non-empty string of at most ${MAX_SETTING_CHARS} characters`);
    }
    out[key] = v;
  }
  const given = input.settings ?? {};
  if (typeof given !== 'object' || Array.isArray(given)) throw invalid('settings: expected an object');
  const allowed = settingNames(def);
  const declared = new Map((def.settings ?? []).map((p) => [p.key, p]));
  const entries = Object.entries(given);
  if (entries.length > MAX_SETTINGS) throw invalid(`settings: at most ${MAX_SETTINGS} values`);
  for (const [name, value] of entries) {
    if (!allowed.includes(name)) {
      throw invalid(
        `settings.${name}: is not a setting of ${def.key}; expected ${allowed.length ? `one of ${allowed.join(', ')}` : 'none (this integration has no settings)'}`,
      );
    }
    const type = declared.get(name)?.type ?? 'string';
    const ok =
      (type === 'string' && typeof value === 'string' && value !== '' && value.length <= MAX_SETTING_CHARS) ||
      (type === 'boolean' && typeof value === 'boolean') ||
      ((type === 'number' || type === 'integer') &&
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (type === 'number' || Number.isInteger(value)));
    if (!ok) {
      const expected =
        type === 'string'
          ? `a non-empty string of at most ${MAX_SETTING_CHARS} characters`
          : type === 'integer'
            ? 'an integer'
            : type === 'number' || type === 'boolean'
              ? `a ${type}`
              : 'a string, number or boolean (settings hold no lists or objects)';
      throw invalid(`settings.${name}: expected ${expected}`);
    }
    out.settings[name] = value as string | number | boolean;
  }
  return out;
}

/**
 * Integrations as a project sees them: the shipped catalogue plus its own definitions, its settings
 * for each (sealed; only which are set is shown), and the source that receives each integration's
 * app-level events. An app-level trigger is a source: its URL is the source's ingest URL, its
 * verification, handshake, routing and readers are the source's settings, and its secret comes
 * from the project's settings for the integration.
 */
export function createIntegrationService(deps: {
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  sources: SourceService;
  shipped: ReadonlyMap<string, IntegrationDefinition>;
}) {
  const { store, secrets: box, clock, sources, shipped } = deps;

  function openSettings(record: IntegrationSettingsRecord | null): SealedSettings | null {
    return record ? (JSON.parse(box.open(record.settingsSealed)) as SealedSettings) : null;
  }

  async function find(
    projectId: ProjectId,
    key: string,
  ): Promise<{ definition: IntegrationDefinition; origin: IntegrationOrigin }> {
    const builtIn = shipped.get(key);
    if (builtIn) return { definition: builtIn, origin: 'shipped' };
    const own = await store.getIntegrationDefinition(projectId, key);
    if (!own) throw notFound(`integration ${key}`);
    return { definition: own.definition as unknown as IntegrationDefinition, origin: 'project' };
  }

  function parseDefinition(body: unknown): IntegrationDefinition {
    if (JSON.stringify(body ?? null).length > MAX_DEFINITION_BYTES) {
      throw new HookyardError(
        'payload_too_large',
        `a definition is at most ${MAX_DEFINITION_BYTES} bytes of JSON`,
      );
    }
    const def = validateDefinition(body);
    if (def.fixtures !== undefined) {
      throw invalid('fixtures: only shipped definitions carry fixtures (they run in the test suite)');
    }
    return def;
  }

  /** The source body for an integration's app-level triggers (they share it; validation ensures so). */
  function appSourceBody(
    def: IntegrationDefinition,
    trigger: TriggerDefinition,
    settings: SealedSettings,
  ): SourceBody {
    const context = {
      integration: {
        settings: settings.settings,
        ...(settings.clientId !== undefined ? { clientId: settings.clientId } : {}),
        ...(settings.clientSecret !== undefined ? { clientSecret: settings.clientSecret } : {}),
      },
    };
    const resolve = (template: string | undefined, field: string): string | undefined => {
      if (template === undefined) return undefined;
      try {
        return renderText(template, context, field);
      } catch (err) {
        // Not set yet: the source refuses every request until the project sets it.
        if (err instanceof TemplateError) return undefined;
        throw err;
      }
    };
    const v = trigger.verification;
    const { provider, secret, publicKey, toleranceSeconds, ...scheme } = v ?? {};
    const secretValue = resolve(secret, 'verification.secret');
    const publicKeyValue = resolve(publicKey, 'verification.publicKey');
    const verifyToken = resolve(trigger.handshake?.verifyToken, 'handshake.verifyToken');
    const locator = (l: TriggerDefinition['routing']) =>
      l && ('header' in l || 'jsonPath' in l) ? (l as { header: string } | { jsonPath: string }) : null;
    return {
      name: `integration ${def.key} (app-level)`,
      provider: provider ?? null,
      verification: provider ? null : v ? scheme : { type: 'none' },
      secrets: secretValue ? [secretValue] : [],
      publicKey: publicKeyValue ?? null,
      handshake: trigger.handshake?.kind
        ? { kind: trigger.handshake.kind, ...(verifyToken ? { verifyToken } : {}) }
        : null,
      routing: locator(trigger.routing),
      dedupe: locator(trigger.eventId),
      eventType: locator(trigger.eventType),
      toleranceSeconds: toleranceSeconds ?? null,
      maxBodyBytes: null,
      requireJson: null,
      publicUrl: null,
    };
  }

  /** Creates, updates or removes the app-level source so it matches the definition and settings. */
  async function syncAppSource(
    projectId: ProjectId,
    def: IntegrationDefinition,
    settings: SealedSettings,
    current: SourceId | null,
  ): Promise<SourceId | null> {
    const trigger = def.triggers.find((t) => t.level === 'app');
    const existing = current ? await store.getSource(projectId, current) : null;
    if (!trigger) {
      if (existing) await sources.remove(projectId, existing.id);
      return null;
    }
    const body = appSourceBody(def, trigger, settings);
    if (existing) return (await sources.update(projectId, existing.id, body)).id;
    return (await sources.create(projectId, body)).id;
  }

  async function appWebhookUrl(projectId: ProjectId, record: IntegrationSettingsRecord | null) {
    if (!record?.appSourceId) return null;
    const source = await store.getSource(projectId, record.appSourceId);
    return source ? sources.view(source).ingestUrl : null;
  }

  function settingsView(def: IntegrationDefinition, opened: SealedSettings | null) {
    const names = settingNames(def);
    return {
      clientIdSet: opened?.clientId !== undefined,
      clientSecretSet: opened?.clientSecret !== undefined,
      settings: Object.fromEntries(names.map((n) => [n, opened ? opened.settings[n] !== undefined : false])),
    };
  }

  function triggerSummary(t: TriggerDefinition) {
    return { type: t.type, title: t.title, setup: t.setup, level: t.level };
  }

  async function view(projectId: ProjectId, definition: IntegrationDefinition, origin: IntegrationOrigin) {
    const record = await store.getIntegrationSettings(projectId, definition.key);
    const hasApp = definition.triggers.some((t) => t.level === 'app');
    const { fixtures: _fixtures, ...published } = definition;
    return {
      key: definition.key,
      name: definition.name,
      origin,
      authType: definition.auth.type,
      triggers: definition.triggers.map(triggerSummary),
      settings: settingsView(definition, openSettings(record)),
      appWebhookUrl: hasApp ? await appWebhookUrl(projectId, record) : null,
      definition: published,
    };
  }

  async function listAll(projectId: ProjectId) {
    const own = await store.listIntegrationDefinitions(projectId, MAX_PROJECT_INTEGRATIONS);
    const out: Array<{ definition: IntegrationDefinition; origin: IntegrationOrigin }> = [];
    for (const d of shipped.values()) out.push({ definition: d, origin: 'shipped' });
    for (const d of own)
      out.push({ definition: d.definition as unknown as IntegrationDefinition, origin: 'project' });
    return out.sort((a, b) => a.definition.key.localeCompare(b.definition.key));
  }

  /** After a definition changes, its app-level source follows (when the project has settings). */
  async function resync(projectId: ProjectId, def: IntegrationDefinition): Promise<void> {
    const record = await store.getIntegrationSettings(projectId, def.key);
    if (!record) return;
    const settings = openSettings(record) as SealedSettings;
    // Settings the new definition no longer reads are dropped rather than kept unseen.
    const names = settingNames(def);
    settings.settings = Object.fromEntries(
      Object.entries(settings.settings).filter(([k]) => names.includes(k)),
    );
    const appSourceId = await syncAppSource(projectId, def, settings, record.appSourceId);
    await store.putIntegrationSettings({
      ...record,
      settingsSealed: box.seal(JSON.stringify(settings)),
      appSourceId,
      updatedAtMs: clock.nowMs(),
    });
  }

  return {
    find,
    view,
    /** The project's OAuth client for the integration (sealed settings opened); null values when unset. */
    async oauthClient(projectId: ProjectId, key: string) {
      const opened = openSettings(await store.getIntegrationSettings(projectId, key));
      return { clientId: opened?.clientId ?? null, clientSecret: opened?.clientSecret ?? null };
    },
    async list(projectId: ProjectId) {
      const all = await listAll(projectId);
      const records = new Map((await store.listIntegrationSettings(projectId)).map((r) => [r.key, r]));
      return Promise.all(
        all.map(async ({ definition, origin }) => {
          const record = records.get(definition.key) ?? null;
          return {
            key: definition.key,
            name: definition.name,
            origin,
            authType: definition.auth.type,
            triggers: definition.triggers.map(triggerSummary),
            settings: settingsView(definition, openSettings(record)),
            appWebhookUrl: definition.triggers.some((t) => t.level === 'app')
              ? await appWebhookUrl(projectId, record)
              : null,
          };
        }),
      );
    },

    async triggers(projectId: ProjectId) {
      const all = await listAll(projectId);
      return all.flatMap(({ definition, origin }) =>
        definition.triggers.map((t) => ({
          integration: definition.key,
          origin,
          type: t.type,
          title: t.title,
          description: t.description ?? null,
          setup: t.setup,
          level: t.level,
          parameters: t.parameters ?? [],
          sample: t.sample ?? null,
        })),
      );
    },

    async create(projectId: ProjectId, body: unknown) {
      const def = parseDefinition(body);
      if (shipped.has(def.key)) {
        throw new HookyardError(
          'integration_key_reserved',
          `key: "${def.key}" is a shipped integration; give your definition another key`,
        );
      }
      const own = await store.listIntegrationDefinitions(projectId, MAX_PROJECT_INTEGRATIONS);
      if (own.length >= MAX_PROJECT_INTEGRATIONS) {
        throw new HookyardError(
          'conflict',
          `a project has at most ${MAX_PROJECT_INTEGRATIONS} integrations of its own`,
        );
      }
      const now = clock.nowMs();
      const inserted = await store.insertIntegrationDefinition({
        projectId,
        key: def.key,
        definition: def as unknown as Record<string, unknown>,
        createdAtMs: now,
        updatedAtMs: now,
      });
      if (!inserted) throw new HookyardError('conflict', `integration ${def.key} exists; PUT replaces it`);
      // Settings may have been stored for this key before the definition existed.
      await resync(projectId, def);
      return view(projectId, def, 'project');
    },

    async replace(projectId: ProjectId, key: string, body: unknown) {
      if (shipped.has(key)) {
        throw new HookyardError(
          'integration_key_reserved',
          `${key} is a shipped integration; it cannot be replaced`,
        );
      }
      const def = parseDefinition(body);
      if (def.key !== key) throw invalid(`key: expected "${key}" (the key in the URL); a key cannot change`);
      const current = await store.getIntegrationDefinition(projectId, key);
      if (!current) throw notFound(`integration ${key}`);
      await store.updateIntegrationDefinition({
        ...current,
        definition: def as unknown as Record<string, unknown>,
        updatedAtMs: clock.nowMs(),
      });
      await resync(projectId, def);
      return view(projectId, def, 'project');
    },

    async remove(projectId: ProjectId, key: string) {
      if (shipped.has(key)) {
        throw new HookyardError(
          'integration_key_reserved',
          `${key} is a shipped integration; it cannot be deleted`,
        );
      }
      const record = await store.getIntegrationSettings(projectId, key);
      if (!(await store.deleteIntegrationDefinition(projectId, key))) throw notFound(`integration ${key}`);
      if (record?.appSourceId && (await store.getSource(projectId, record.appSourceId))) {
        await sources.remove(projectId, record.appSourceId);
      }
    },

    /** Replaces the project's settings for the integration; fields left out are unset. */
    async putSettings(projectId: ProjectId, key: string, input: IntegrationSettingsInput) {
      const { definition } = await find(projectId, key);
      const settings = parseSettingsInput(definition, input);
      const record = await store.getIntegrationSettings(projectId, key);
      const appSourceId = await syncAppSource(projectId, definition, settings, record?.appSourceId ?? null);
      const next: IntegrationSettingsRecord = {
        projectId,
        key,
        settingsSealed: box.seal(JSON.stringify(settings)),
        appSourceId,
        updatedAtMs: clock.nowMs(),
      };
      await store.putIntegrationSettings(next);
      return {
        ...settingsView(definition, settings),
        appWebhookUrl: await appWebhookUrl(projectId, next),
      };
    },
  };
}

export type IntegrationService = ReturnType<typeof createIntegrationService>;
