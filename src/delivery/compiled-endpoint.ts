import type { EndpointId, ProjectId } from '../domain/ids.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { EndpointRecord } from '../store/delivery-store.ts';
import { openEndpointHeader } from './sealed-endpoint-headers.ts';
import { openEndpointSecrets } from './sealed-endpoint-secrets.ts';
import { createSigningKey, type SigningKey } from './signer.ts';

/**
 * An endpoint ready to send to: secrets opened and decoded into HMAC keys once, headers
 * normalised. Compiling costs an AES-GCM open and key imports, so the worker caches compiled
 * endpoints by (id, updatedAtMs): a configuration change or rotation bumps updatedAtMs and the
 * next claim of that endpoint recompiles it; nothing is decrypted per delivery.
 */
export interface CompiledEndpoint {
  readonly id: EndpointId;
  readonly projectId: ProjectId;
  readonly updatedAtMs: number;
  readonly url: string;
  readonly timeoutMs: number;
  readonly rateLimitPerSecond: number | null;
  readonly maxConcurrency: number | null;
  /** The endpoint's own headers, lower-cased names, values opened. */
  readonly headers: Readonly<Record<string, string>>;
  /** Current key first; each with the end of its grace period (null: current). */
  readonly keys: ReadonlyArray<{ readonly key: SigningKey; readonly notAfterMs: number | null }>;
  readonly plainHmacHeader: string | undefined;
}

export function compileEndpoint(record: EndpointRecord, box: SecretBox): CompiledEndpoint {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.headers)) {
    headers[name.toLowerCase()] = openEndpointHeader(box, value);
  }
  return Object.freeze({
    id: record.id,
    projectId: record.projectId,
    updatedAtMs: record.updatedAtMs,
    url: record.url,
    timeoutMs: record.timeoutMs,
    rateLimitPerSecond: record.rateLimitPerSecond,
    maxConcurrency: record.maxConcurrency,
    headers,
    keys: openEndpointSecrets(box, record.secretsSealed).map((e) => ({
      key: createSigningKey(e.secret),
      notAfterMs: e.notAfterMs,
    })),
    plainHmacHeader:
      record.signatureScheme === 'standard-webhooks+hmac-sha256-hex'
        ? (record.signatureHeader ?? undefined)
        : undefined,
  });
}

/** The keys that sign at `nowMs`, current first (the current key never expires). */
export function liveSigningKeys(endpoint: CompiledEndpoint, nowMs: number): SigningKey[] {
  const out: SigningKey[] = [];
  for (const k of endpoint.keys) if (k.notAfterMs === null || k.notAfterMs > nowMs) out.push(k.key);
  return out;
}

/** Compiled endpoints by id, recompiled when updatedAtMs moves; least recently used dropped past maxEntries. */
export class CompiledEndpointCache {
  private readonly entries = new Map<EndpointId, CompiledEndpoint>();

  constructor(
    private readonly load: (id: EndpointId) => Promise<EndpointRecord | null>,
    private readonly box: SecretBox,
    private readonly maxEntries = 10_000,
  ) {}

  /** The compiled endpoint at least as new as `updatedAtMs` if it is cached; no load. */
  peek(id: EndpointId, updatedAtMs: number): CompiledEndpoint | undefined {
    const hit = this.entries.get(id);
    if (!hit || hit.updatedAtMs < updatedAtMs) return undefined;
    this.entries.delete(id);
    this.entries.set(id, hit);
    return hit;
  }

  /** The compiled endpoint at least as new as `updatedAtMs`; null when it no longer exists. */
  async get(id: EndpointId, updatedAtMs: number): Promise<CompiledEndpoint | null> {
    const hit = this.entries.get(id);
    if (hit && hit.updatedAtMs >= updatedAtMs) {
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit;
    }
    const record = await this.load(id);
    if (!record) {
      this.entries.delete(id);
      return null;
    }
    const compiled = compileEndpoint(record, this.box);
    this.entries.delete(id);
    this.entries.set(id, compiled);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    return compiled;
  }

  get size(): number {
    return this.entries.size;
  }
}
