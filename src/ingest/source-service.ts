import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { newId, type ProjectId, type SourceId } from '../domain/ids.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { SourceRecord } from '../store/inbound-store.ts';
import type { Store } from '../store/store.ts';
import { type CompiledSource, compileSource, openSecrets } from './compiled-source.ts';
import type { HandshakeEffect } from './handshakes/index.ts';
import {
  parseSourceSettings,
  type SourceInput,
  type SourceSettings,
  storedSettings,
} from './source-settings.ts';
import { getProviderPreset } from './verification/provider-presets.ts';
import type { Secret } from './verification/secrets.ts';

export interface SourceBody extends SourceInput {
  name?: string;
  secrets?: Array<string | { value: string; notAfter?: string }>;
  publicKey?: string | null;
}

interface HandshakeState {
  verificationToken?: string;
  receivedAt?: string;
}

function parseSecrets(input: SourceBody['secrets']): Secret[] {
  if (input === undefined) return [];
  if (!Array.isArray(input) || input.length > 10) {
    throw new HookyardError(
      'validation_failed',
      'secrets: expected an array of at most 10 strings or { value, notAfter }',
    );
  }
  return input.map((s, i) => {
    if (typeof s === 'string') {
      if (s === '' || s.length > 4096)
        throw new HookyardError('validation_failed', `secrets[${i}]: expected a non-empty string`);
      return { value: s };
    }
    if (!s || typeof s.value !== 'string' || s.value === '') {
      throw new HookyardError('validation_failed', `secrets[${i}].value: expected a non-empty string`);
    }
    if (s.notAfter === undefined) return { value: s.value };
    const t = Date.parse(s.notAfter);
    if (!Number.isFinite(t))
      throw new HookyardError('validation_failed', `secrets[${i}].notAfter: expected an ISO 8601 date-time`);
    return { value: s.value, notAfterMs: t };
  });
}

/** Handshakes that hand the signing secret over, so a source may start without one. */
const SECRET_HANDING_HANDSHAKES = new Set(['asana-hook-secret', 'notion-verification-token']);

/**
 * What keeps a source from accepting requests that it may still be given later, so creation does
 * not refuse it: the provider usually shows its signing secret only once the ingest URL is
 * registered there, which needs the source to exist first.
 */
export function sourceWarnings(
  s: SourceRecord,
  settings: SourceSettings,
  secrets: readonly Secret[],
  nowMs: number,
): string[] {
  const preset = s.provider ? getProviderPreset(s.provider) : undefined;
  const scheme = preset ? undefined : (settings.verification as { type?: string } | undefined)?.type;
  const needs = preset
    ? preset.keyMaterial
    : scheme === 'ed25519' || scheme === 'ecdsa-p256'
      ? 'public-key'
      : scheme === undefined || scheme === 'none'
        ? null
        : 'secrets';
  const handshake = settings.handshake?.kind ?? preset?.handshake ?? null;
  if (handshake !== null && SECRET_HANDING_HANDSHAKES.has(handshake)) return [];
  const live = secrets.filter((x) => x.notAfterMs === undefined || x.notAfterMs > nowMs);
  const who = preset ? preset.name : `the ${scheme} scheme`;
  const fix = 'PATCH /api/v1/projects/{projectId}/sources/{sourceId}';
  if (needs === 'secrets' && live.length === 0) {
    return [
      secrets.length === 0
        ? `secrets: none set; ${who} signs every request, so each is refused (401) until you add the signing secret (${fix} with "secrets").`
        : `secrets: every secret has expired; requests are refused (401) until you add a current one (${fix} with "secrets").`,
    ];
  }
  if (needs === 'public-key' && !s.publicKey) {
    return [
      `publicKey: none set; ${who} signs with a key pair, so every request is refused (401) until you add the verification key (${fix} with "publicKey").`,
    ];
  }
  if (needs === 'secrets-or-public-key' && live.length === 0 && !s.publicKey) {
    return [
      `secrets: neither a secret nor a public key is set; every request is refused (401) until you add one (${fix}).`,
    ];
  }
  return [];
}

/** Sources: validation, sealing of secrets, rotation, and what handshakes hand over. */
export function createSourceService(deps: {
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  publicBaseUrl: string;
  onChange?: (id: SourceId) => void;
}) {
  const { store, secrets: box, clock } = deps;

  function sealSecrets(list: Secret[]): string | null {
    return list.length ? box.seal(JSON.stringify(list)) : null;
  }

  /** Compiling is the full validation: keys parse, the scheme compiles, readers compile. */
  function validate(record: SourceRecord): void {
    compileSource(record, box);
  }

  async function get(projectId: ProjectId, id: string): Promise<SourceRecord> {
    const s = await store.getSource(projectId, id as SourceId);
    if (!s) throw notFound(`source ${id}`);
    return s;
  }

  async function save(record: SourceRecord): Promise<SourceRecord> {
    validate(record);
    if (!(await store.updateSource(record))) throw notFound(`source ${record.id}`);
    deps.onChange?.(record.id);
    return record;
  }

  return {
    get,
    async create(projectId: ProjectId, body: SourceBody): Promise<SourceRecord> {
      const { provider, settings } = parseSourceSettings(body);
      const now = clock.nowMs();
      const record: SourceRecord = {
        id: newId('source', now),
        projectId,
        name: body.name ?? provider ?? 'source',
        provider,
        settings: settings as unknown as Record<string, unknown>,
        secretsSealed: sealSecrets(parseSecrets(body.secrets)),
        publicKey: body.publicKey ?? null,
        handshakeStateSealed: null,
        createdAtMs: now,
        updatedAtMs: now,
      };
      validate(record);
      await store.insertSource(record);
      return record;
    },

    /** Fields present in the body replace the stored ones; `secrets` replaces the whole list. */
    async update(projectId: ProjectId, id: string, body: SourceBody): Promise<SourceRecord> {
      const current = await get(projectId, id);
      const settings = storedSettings(current.settings);
      const merged = {
        provider: body.provider !== undefined ? body.provider : current.provider,
        verification: body.verification !== undefined ? body.verification : settings.verification,
        handshake: body.handshake !== undefined ? body.handshake : settings.handshake,
        dedupe: body.dedupe !== undefined ? body.dedupe : settings.dedupe,
        eventType: body.eventType !== undefined ? body.eventType : settings.eventType,
        routing: body.routing !== undefined ? body.routing : settings.routing,
        toleranceSeconds:
          body.toleranceSeconds !== undefined ? body.toleranceSeconds : settings.toleranceSeconds,
        maxBodyBytes: body.maxBodyBytes !== undefined ? body.maxBodyBytes : settings.maxBodyBytes,
        requireJson: body.requireJson !== undefined ? body.requireJson : settings.requireJson,
        publicUrl: body.publicUrl !== undefined ? body.publicUrl : settings.publicUrl,
      };
      // Switching from a custom scheme to a preset drops the scheme, and the other way round.
      if (body.provider && body.verification === undefined) merged.verification = undefined;
      if (body.verification && body.provider === undefined) merged.provider = null;
      const parsed = parseSourceSettings(merged);
      return save({
        ...current,
        name: body.name ?? current.name,
        provider: parsed.provider,
        settings: parsed.settings as unknown as Record<string, unknown>,
        secretsSealed:
          body.secrets !== undefined ? sealSecrets(parseSecrets(body.secrets)) : current.secretsSealed,
        publicKey: body.publicKey !== undefined ? body.publicKey : current.publicKey,
        updatedAtMs: clock.nowMs(),
      });
    },

    /**
     * Rotation: the new secret goes first and every secret live now stays live until
     * `keepExistingUntil` (default 24 h from now), so deliveries signed with either verify meanwhile.
     */
    async rotateSecret(
      projectId: ProjectId,
      id: string,
      input: { secret: string; keepExistingUntil?: string },
    ) {
      const current = await get(projectId, id);
      const now = clock.nowMs();
      let until = now + 24 * 3600_000;
      if (input.keepExistingUntil !== undefined) {
        until = Date.parse(input.keepExistingUntil);
        if (!Number.isFinite(until))
          throw new HookyardError('validation_failed', 'keepExistingUntil: expected an ISO 8601 date-time');
      }
      const live = openSecrets(current, box).filter((s) => s.notAfterMs === undefined || s.notAfterMs > now);
      const kept = live.map((s) => ({ value: s.value, notAfterMs: Math.min(s.notAfterMs ?? until, until) }));
      return save({
        ...current,
        secretsSealed: sealSecrets([{ value: input.secret }, ...kept]),
        updatedAtMs: now,
      });
    },

    async remove(projectId: ProjectId, id: string): Promise<void> {
      if (!(await store.deleteSource(projectId, id as SourceId))) throw notFound(`source ${id}`);
      deps.onChange?.(id as SourceId);
    },

    /** Commits what a handshake handed over; the handshake is answered only after this resolves. */
    async applyHandshakeEffect(source: CompiledSource, effect: HandshakeEffect): Promise<void> {
      const current = await store.getSource(source.projectId, source.id);
      if (!current) throw notFound(`source ${source.id}`);
      const now = clock.nowMs();
      const value = effect.kind === 'store-secret' ? effect.secret : effect.token;
      const settings = storedSettings(current.settings);
      const next: SourceRecord = {
        ...current,
        // The handed-over value signs what follows; it replaces the list (the old secret is void).
        secretsSealed: sealSecrets([{ value }]),
        settings: {
          ...settings,
          handshake: { ...settings.handshake, awaitingSecret: false },
        } as unknown as Record<string, unknown>,
        updatedAtMs: now,
      };
      if (effect.kind === 'store-verification-token') {
        const state: HandshakeState = {
          verificationToken: effect.token,
          receivedAt: new Date(now).toISOString(),
        };
        next.handshakeStateSealed = box.seal(JSON.stringify(state));
      }
      await store.updateSource(next);
      deps.onChange?.(source.id);
    },

    /** The API's view of a source: never secret values (but the operator sees what a handshake left). */
    view(s: SourceRecord) {
      const settings = storedSettings(s.settings);
      const secretList = openSecrets(s, box);
      const handshakeState = s.handshakeStateSealed
        ? (JSON.parse(box.open(s.handshakeStateSealed)) as HandshakeState)
        : null;
      const { verifyToken, authorization, ...handshake } = settings.handshake ?? {};
      return {
        id: s.id,
        name: s.name,
        provider: s.provider,
        ingestUrl: `${deps.publicBaseUrl}/in/${s.id}`,
        verification: settings.verification ?? null,
        handshake: {
          ...handshake,
          verifyTokenSet: verifyToken !== undefined,
          authorizationSet: authorization !== undefined,
        },
        dedupe: settings.dedupe ?? null,
        eventType: settings.eventType ?? null,
        routing: settings.routing ?? null,
        toleranceSeconds: settings.toleranceSeconds ?? null,
        maxBodyBytes: settings.maxBodyBytes,
        requireJson: settings.requireJson,
        publicUrl: settings.publicUrl ?? null,
        secrets: secretList.map((x, i) => ({
          position: i + 1,
          notAfter: x.notAfterMs === undefined ? null : new Date(x.notAfterMs).toISOString(),
        })),
        publicKey: s.publicKey,
        handshakeState,
        warnings: sourceWarnings(s, settings, secretList, clock.nowMs()),
        createdAt: new Date(s.createdAtMs).toISOString(),
        updatedAt: new Date(s.updatedAtMs).toISOString(),
      };
    },
  };
}

export type SourceService = ReturnType<typeof createSourceService>;
