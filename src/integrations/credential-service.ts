import type { Logger } from 'pino';
import type { Publisher } from '../delivery/publisher.ts';
import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { type CredentialId, newId, type ProjectId } from '../domain/ids.ts';
import { compileJsonPath } from '../ingest/verification/json-path.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { CredentialRecord } from '../store/credential-store.ts';
import type { Store } from '../store/store.ts';
import { type CredentialSecrets, credentialAuth } from './credential-auth.ts';
import type { CredentialEvents } from './credential-events.ts';
import type { AuthDefinition, IntegrationDefinition, ParameterDefinition } from './integration-definition.ts';
import type { IntegrationService } from './integration-service.ts';
import type { ProviderFetch } from './provider-http.ts';
import { renderRequest, TemplateError } from './template-renderer.ts';

export const INTEGRATION_ENABLED_EVENT = 'integration.enabled';
export const INTEGRATION_DISABLED_EVENT = 'integration.disabled';

export const MAX_USER_ID_CHARS = 256;
export const MAX_ACCOUNT_ID_CHARS = 256;
export const MAX_TOKEN_CHARS = 8192;
const MAX_SETTING_CHARS = 4096;
const MAX_SETTINGS = 50;

/** What is sealed in credentials.secrets_sealed. */
export interface SealedCredentialSecrets extends CredentialSecrets {
  refreshToken?: string;
}

export type CredentialAuthInput =
  | { accessToken: string; refreshToken?: string; expiresAt?: string }
  | { apiKey: string }
  | { username: string; password: string };

export interface CredentialInput {
  integration: string;
  userId: string;
  providerAccountId?: string;
  auth?: CredentialAuthInput;
  settings?: Record<string, unknown>;
}

function invalid(detail: string): HookyardError {
  return new HookyardError('validation_failed', detail);
}

function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value === '' || value.length > max) {
    throw invalid(`${field}: expected a non-empty string of at most ${max} characters`);
  }
  return value;
}

/** The user id as the project knows it: any text without control characters. */
export function checkUserId(value: unknown, field = 'userId'): string {
  const id = text(value, field, MAX_USER_ID_CHARS);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(id)) throw invalid(`${field}: must not contain control characters`);
  return id;
}

/** Checks the settings a user gives against the definition's credentialSettings. */
export function parseCredentialSettings(def: IntegrationDefinition, given: unknown): Record<string, unknown> {
  return parseDeclaredValues(def.credentialSettings ?? [], given, {
    field: 'settings',
    what: 'credential setting',
    owner: def.key,
  });
}

/**
 * Checks values against the parameters that declare them (credential settings, trigger
 * parameters): known names only, each of its type and enum, required ones present, defaults filled.
 */
export function parseDeclaredValues(
  declaredList: readonly ParameterDefinition[],
  given: unknown,
  names: { field: string; what: string; owner: string },
): Record<string, unknown> {
  const { field, what, owner } = names;
  if (given === undefined || given === null) given = {};
  if (typeof given !== 'object' || Array.isArray(given)) throw invalid(`${field}: expected an object`);
  const declared = new Map(declaredList.map((p) => [p.key, p]));
  const entries = Object.entries(given as Record<string, unknown>);
  if (entries.length > MAX_SETTINGS) throw invalid(`${field}: at most ${MAX_SETTINGS} values`);
  const out: Record<string, unknown> = {};
  for (const [name, value] of entries) {
    const p = declared.get(name);
    if (!p) {
      const known = [...declared.keys()];
      throw invalid(
        `${field}.${name}: is not a ${what} of ${owner}; expected ${known.length ? `one of ${known.join(', ')}` : `none (${owner} has no ${what}s)`}`,
      );
    }
    out[name] = settingValue(p, value, `${field}.${name}`);
  }
  for (const p of declared.values()) {
    if (p.required && out[p.key] === undefined && p.default === undefined) {
      throw invalid(`${field}.${p.key}: is required by ${owner}`);
    }
    if (out[p.key] === undefined && p.default !== undefined) out[p.key] = p.default;
  }
  return out;
}

function settingValue(p: ParameterDefinition, value: unknown, field: string): unknown {
  const size = JSON.stringify(value ?? null).length;
  if (size > MAX_SETTING_CHARS) throw invalid(`${field}: at most ${MAX_SETTING_CHARS} characters of JSON`);
  const ok =
    (p.type === 'string' && typeof value === 'string' && value !== '') ||
    (p.type === 'boolean' && typeof value === 'boolean') ||
    (p.type === 'number' && typeof value === 'number' && Number.isFinite(value)) ||
    (p.type === 'integer' && Number.isInteger(value)) ||
    (p.type === 'array' && Array.isArray(value)) ||
    (p.type === 'object' && typeof value === 'object' && value !== null && !Array.isArray(value));
  if (!ok) throw invalid(`${field}: expected ${p.type === 'integer' ? 'an integer' : `a ${p.type}`}`);
  if (p.enum && !p.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    throw invalid(`${field}: expected one of ${p.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  return value;
}

function parseAuth(
  auth: AuthDefinition,
  input: unknown,
): { secrets: SealedCredentialSecrets; expiresAtMs: number | null } {
  const given = (input ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object' || Array.isArray(given)) throw invalid('auth: expected an object');
  const only = (allowed: string[], shape: string) => {
    for (const k of Object.keys(given)) {
      if (!allowed.includes(k))
        throw invalid(`auth.${k}: not a field of ${auth.type} auth; expected ${shape}`);
    }
  };
  switch (auth.type) {
    case 'oauth2': {
      only(['accessToken', 'refreshToken', 'expiresAt'], '{ accessToken, refreshToken?, expiresAt? }');
      const secrets: SealedCredentialSecrets = {
        accessToken: text(given.accessToken, 'auth.accessToken', MAX_TOKEN_CHARS),
      };
      if (given.refreshToken !== undefined) {
        secrets.refreshToken = text(given.refreshToken, 'auth.refreshToken', MAX_TOKEN_CHARS);
      }
      let expiresAtMs: number | null = null;
      if (given.expiresAt !== undefined) {
        const ms = typeof given.expiresAt === 'string' ? Date.parse(given.expiresAt) : Number.NaN;
        if (!Number.isFinite(ms)) throw invalid('auth.expiresAt: expected an ISO 8601 date-time');
        expiresAtMs = ms;
      }
      return { secrets, expiresAtMs };
    }
    case 'apiKey':
      only(['apiKey'], '{ apiKey }');
      return { secrets: { apiKey: text(given.apiKey, 'auth.apiKey', MAX_TOKEN_CHARS) }, expiresAtMs: null };
    case 'basic':
      only(['username', 'password'], '{ username, password }');
      return {
        secrets: {
          username: text(given.username, 'auth.username', MAX_TOKEN_CHARS),
          password: text(given.password, 'auth.password', MAX_TOKEN_CHARS),
        },
        expiresAtMs: null,
      };
    case 'none':
      only([], 'nothing (this integration has no auth)');
      return { secrets: {}, expiresAtMs: null };
  }
}

/**
 * Credentials: one user's connection to one integration. Tokens and settings are sealed with the
 * master key and never leave the process in an answer; views say what is there, not what it is.
 * Creating one publishes `integration.enabled`, deleting one tears down what hangs off it (trigger
 * subscriptions, through CredentialEvents) and publishes `integration.disabled`.
 */
export function createCredentialService(deps: {
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  integrations: Pick<IntegrationService, 'find'>;
  publisher: Pick<Publisher, 'publish'>;
  events: CredentialEvents;
  providerFetch: ProviderFetch;
  logger: Logger;
}) {
  const { store, secrets: box, clock, integrations, publisher, events, providerFetch } = deps;
  const log = deps.logger.child({ scope: 'credentials' });

  function openSecrets(record: CredentialRecord): SealedCredentialSecrets {
    return JSON.parse(box.open(record.secretsSealed)) as SealedCredentialSecrets;
  }
  function openSettings(record: CredentialRecord): Record<string, unknown> {
    return JSON.parse(box.open(record.settingsSealed)) as Record<string, unknown>;
  }

  async function view(record: CredentialRecord) {
    let settings: Record<string, unknown> = {};
    try {
      const { definition } = await integrations.find(record.projectId, record.integration);
      const secret = new Set((definition.credentialSettings ?? []).filter((p) => p.secret).map((p) => p.key));
      settings = Object.fromEntries(Object.entries(openSettings(record)).filter(([k]) => !secret.has(k)));
    } catch {
      // The integration's definition was deleted: its settings are not shown, the credential is.
    }
    const opened = openSecrets(record);
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      id: record.id,
      integration: record.integration,
      userId: record.userId,
      providerAccountId: record.providerAccountId,
      authType: record.authType,
      status: record.status,
      statusReason: record.statusReason,
      hasRefreshToken: opened.refreshToken !== undefined,
      accessTokenExpiresAt: iso(record.accessTokenExpiresAtMs),
      settings,
      createdAt: iso(record.createdAtMs),
      updatedAt: iso(record.updatedAtMs),
      lastRefreshedAt: iso(record.lastRefreshedAtMs),
    };
  }

  /** Where the definition says the account id is: the token response, or a follow-up request. */
  async function findProviderAccountId(
    def: IntegrationDefinition,
    secrets: SealedCredentialSecrets,
    settings: Record<string, unknown>,
    tokenResponse?: Record<string, unknown>,
  ): Promise<string | null> {
    const rule = def.auth.type === 'none' ? undefined : def.auth.providerAccountId;
    if (!rule) return null;
    let document: unknown = tokenResponse;
    if (rule.request) {
      let request: ReturnType<typeof renderRequest>;
      try {
        request = renderRequest(
          rule.request,
          { credential: { ...(secrets.accessToken ? { accessToken: secrets.accessToken } : {}), settings } },
          { field: 'auth.providerAccountId.request', auth: credentialAuth(def.auth, secrets) },
        );
      } catch (err) {
        if (err instanceof TemplateError) throw invalid(err.message);
        throw err;
      }
      const response = await providerFetch(request.url, {
        method: request.method,
        headers: { accept: 'application/json', ...request.headers },
        ...(request.body !== undefined ? { body: request.body } : {}),
      }).catch((err: unknown) => {
        throw new HookyardError(
          'provider_error',
          `the account lookup at ${new URL(request.url).origin} failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      });
      if (!response.ok) {
        throw new HookyardError(
          'provider_error',
          `the account lookup at ${new URL(request.url).origin} answered ${response.status}`,
        );
      }
      document = await response.json().catch(() => {
        throw new HookyardError('provider_error', 'the account lookup did not answer JSON');
      });
    }
    if (document === undefined) return null;
    const value = compileJsonPath(rule.jsonPath).read(document);
    if (typeof value === 'string' && value !== '') return value.slice(0, MAX_ACCOUNT_ID_CHARS);
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    throw new HookyardError(
      'provider_error',
      `the provider's answer has no account id at ${rule.jsonPath} (auth.providerAccountId)`,
    );
  }

  async function publishChange(type: string, record: CredentialRecord): Promise<void> {
    await publisher.publish({
      projectId: record.projectId,
      eventType: type,
      payload: { credentialId: record.id, userId: record.userId, integration: record.integration },
      credentialId: record.id,
      userId: record.userId,
    });
  }

  /**
   * Stores a newly connected account, or, when the user connected this account before, replaces
   * that credential's tokens and settings and makes it active again.
   */
  async function store_(input: {
    projectId: ProjectId;
    userId: string;
    definition: IntegrationDefinition;
    providerAccountId: string | null;
    secrets: SealedCredentialSecrets;
    accessTokenExpiresAtMs: number | null;
    settings: Record<string, unknown>;
    reconnect: boolean;
  }): Promise<{ record: CredentialRecord; created: boolean }> {
    const nowMs = clock.nowMs();
    const record: CredentialRecord = {
      id: newId('credential', nowMs),
      projectId: input.projectId,
      userId: input.userId,
      integration: input.definition.key,
      providerAccountId: input.providerAccountId,
      authType: input.definition.auth.type,
      secretsSealed: box.seal(JSON.stringify(input.secrets)),
      accessTokenExpiresAtMs: input.accessTokenExpiresAtMs,
      settingsSealed: box.seal(JSON.stringify(input.settings)),
      status: 'active',
      statusReason: null,
      version: 1,
      refreshLeaseOwner: null,
      refreshLeaseUntilMs: null,
      lastRefreshedAtMs: null,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    };
    if (await store.insertCredential(record)) {
      log.info(
        { projectId: record.projectId, credentialId: record.id, integration: record.integration },
        'credential created',
      );
      await events.emit({ type: 'connected', credential: record });
      await publishChange(INTEGRATION_ENABLED_EVENT, record);
      return { record, created: true };
    }
    const existing = await store.findCredentialByAccount(
      input.projectId,
      input.userId,
      input.definition.key,
      input.providerAccountId ?? '',
    );
    if (!existing) throw new HookyardError('conflict', 'the credential changed meanwhile; try again');
    if (!input.reconnect) {
      throw new HookyardError(
        'conflict',
        `credential ${existing.id} already connects account ${input.providerAccountId} of ${input.definition.key} for this user; delete it first or connect again`,
      );
    }
    const updated = await store.reconnectCredential(existing.id, {
      secretsSealed: record.secretsSealed,
      settingsSealed: record.settingsSealed,
      providerAccountId: input.providerAccountId,
      accessTokenExpiresAtMs: input.accessTokenExpiresAtMs,
      nowMs,
    });
    if (!updated) throw new HookyardError('conflict', 'the credential was deleted meanwhile; try again');
    log.info(
      { projectId: updated.projectId, credentialId: updated.id, integration: updated.integration },
      'credential reconnected',
    );
    await events.emit({ type: 'reconnected', credential: updated });
    return { record: updated, created: false };
  }

  return {
    view,
    openSecrets,
    openSettings,
    findProviderAccountId,
    store: store_,

    async create(projectId: ProjectId, body: CredentialInput) {
      const input = (body ?? {}) as Partial<CredentialInput>;
      const userId = checkUserId(input.userId);
      const key = text(input.integration, 'integration', 63);
      const { definition } = await integrations.find(projectId, key);
      const settings = parseCredentialSettings(definition, input.settings);
      const { secrets, expiresAtMs } = parseAuth(definition.auth, input.auth);
      let providerAccountId =
        input.providerAccountId === undefined
          ? null
          : text(input.providerAccountId, 'providerAccountId', MAX_ACCOUNT_ID_CHARS);
      if (
        providerAccountId === null &&
        definition.auth.type !== 'none' &&
        definition.auth.providerAccountId?.request
      ) {
        providerAccountId = await findProviderAccountId(definition, secrets, settings);
      }
      const { record } = await store_({
        projectId,
        userId,
        definition,
        providerAccountId,
        secrets,
        accessTokenExpiresAtMs: expiresAtMs,
        settings,
        reconnect: false,
      });
      return view(record);
    },

    async get(projectId: ProjectId, id: CredentialId) {
      const record = await store.getCredential(projectId, id);
      if (!record) throw notFound(`credential ${id}`);
      return view(record);
    },

    async list(
      projectId: ProjectId,
      options: { userId?: string; integration?: string; limit: number; after?: string },
    ) {
      const page = await store.listCredentials(projectId, options);
      return { items: await Promise.all(page.items.map(view)), nextCursor: page.nextCursor };
    },

    /** Tears down what hangs off the credential (failures are warnings), deletes it, publishes. */
    async remove(projectId: ProjectId, id: CredentialId): Promise<{ warnings: string[] }> {
      const record = await store.getCredential(projectId, id);
      if (!record) throw notFound(`credential ${id}`);
      const warnings = await events.teardown(record);
      if (!(await store.deleteCredential(projectId, id))) throw notFound(`credential ${id}`);
      log.info(
        { projectId, credentialId: id, integration: record.integration, warnings },
        'credential deleted',
      );
      await events.emit({ type: 'deleted', credential: record });
      await publishChange(INTEGRATION_DISABLED_EVENT, record);
      return { warnings };
    },
  };
}

export type CredentialService = ReturnType<typeof createCredentialService>;
