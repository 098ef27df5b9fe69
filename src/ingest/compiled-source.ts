import { hash } from 'node:crypto';
import type { ProjectId, SourceId } from '../domain/ids.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { SourceRecord } from '../store/inbound-store.ts';
import type { HandshakeKind, HandshakeSettings } from './handshakes/index.ts';
import { storedSettings } from './source-settings.ts';
import { compileVerifier } from './verification/compile-verifier.ts';
import { type CredentialLocations, credentialLocations } from './verification/credential-locations.ts';
import {
  compileEventFieldReader,
  type EventFieldReader,
  type EventFieldSource,
} from './verification/event-field.ts';
import { getProviderPreset } from './verification/provider-presets.ts';
import type { Secret } from './verification/secrets.ts';
import type { VerifyFn } from './verification/verify-result.ts';

/**
 * Everything the ingest path needs for one source, decided once: secrets opened, verifier compiled,
 * field readers compiled. Rebuilt when the source changes (the cache keys on updatedAtMs).
 */
export interface CompiledSource {
  id: SourceId;
  projectId: ProjectId;
  provider: string | null;
  updatedAtMs: number;
  verify: VerifyFn;
  secrets: readonly Secret[];
  handshakeKind: HandshakeKind | null;
  handshakeSettings: HandshakeSettings;
  maxBodyBytes: number;
  requireJson: boolean;
  /** The provider event id, or null when the source has no id rule (then the body hash dedupes). */
  readEventId: EventFieldReader | null;
  readEventType: EventFieldReader | null;
  readRoutingKey: EventFieldReader | null;
  /** Whether any reader needs the parsed body. */
  needsJson: boolean;
  /** The URL the provider signed, without query (see SourceSettings.publicUrl); null = ingest URL. */
  publicUrl: string | null;
  /** Where the source's own credential travels: redacted from the stored request. */
  credentials: CredentialLocations;
}

function toField(locator: { header: string } | { jsonPath: string }): EventFieldSource {
  return 'header' in locator
    ? { from: 'header', name: locator.header }
    : { from: 'json', path: locator.jsonPath };
}

export function openSecrets(record: SourceRecord, box: SecretBox): Secret[] {
  return record.secretsSealed ? (JSON.parse(box.open(record.secretsSealed)) as Secret[]) : [];
}

export function compileSource(record: SourceRecord, box: SecretBox): CompiledSource {
  const settings = storedSettings(record.settings);
  const preset = record.provider ? getProviderPreset(record.provider) : undefined;
  const secrets = openSecrets(record, box);
  const verifierKeys = {
    secrets,
    ...(record.publicKey ? { publicKey: record.publicKey } : {}),
    ...(settings.toleranceSeconds !== undefined ? { toleranceSeconds: settings.toleranceSeconds } : {}),
  };
  const verify = preset
    ? compileVerifier({ provider: preset.name, ...verifierKeys })
    : compileVerifier({ scheme: settings.verification, ...verifierKeys });

  const idFields = settings.dedupe
    ? [toField(settings.dedupe)]
    : (preset?.dedupeKey ?? []).filter((f) => f.from !== 'body-sha256');
  const typeFields = settings.eventType ? [toField(settings.eventType)] : (preset?.eventType ?? []);
  const routingFields = settings.routing ? [toField(settings.routing)] : [];
  const all = [...idFields, ...typeFields, ...routingFields];
  return {
    id: record.id,
    projectId: record.projectId,
    provider: record.provider,
    updatedAtMs: record.updatedAtMs,
    verify,
    secrets,
    handshakeKind: settings.handshake?.kind ?? preset?.handshake ?? null,
    handshakeSettings: settings.handshake ?? {},
    maxBodyBytes: settings.maxBodyBytes,
    requireJson: settings.requireJson,
    readEventId: idFields.length ? compileEventFieldReader(idFields) : null,
    readEventType: typeFields.length ? compileEventFieldReader(typeFields) : null,
    readRoutingKey: routingFields.length ? compileEventFieldReader(routingFields) : null,
    needsJson: all.some((f) => f.from === 'json' || f.from === 'json-composite'),
    publicUrl: settings.publicUrl ?? null,
    credentials: credentialLocations(
      preset
        ? (preset.variants ?? []).flatMap((v) => v.schemes)
        : settings.verification
          ? [settings.verification]
          : [],
    ),
  };
}

export function sha256Hex(body: Buffer): string {
  return hash('sha256', body, 'hex');
}
