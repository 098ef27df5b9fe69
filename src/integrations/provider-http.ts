import { Agent, fetch as undiciFetch } from 'undici';
import { createEgressConnector } from '../delivery/egress-guard.ts';
import type { Cidr } from '../delivery/ip-address.ts';

/**
 * Requests to providers (token endpoints, account lookups, webhook set-up) on Hookyard's behalf.
 * They go through the egress guard like deliveries do: a definition's URL, or a URL a project
 * wrote, cannot reach the operator's private network unless the operator allow-lists it. Each
 * request is bounded in time and its response in bytes; redirects are not followed.
 */
export type ProviderFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface ProviderHttp {
  fetch: ProviderFetch;
  close(): Promise<void>;
}

export const PROVIDER_TIMEOUT_MS = 10_000;
export const PROVIDER_MAX_RESPONSE_BYTES = 1024 * 1024;

export class ProviderResponseTooLargeError extends Error {
  constructor(url: string, limit: number) {
    super(`the response of ${new URL(url).origin} is larger than ${limit} bytes`);
    this.name = 'ProviderResponseTooLargeError';
  }
}

export function createProviderHttp(options: {
  egressAllow: readonly Cidr[];
  timeoutMs?: number;
  maxResponseBytes?: number;
}): ProviderHttp {
  const timeoutMs = options.timeoutMs ?? PROVIDER_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? PROVIDER_MAX_RESPONSE_BYTES;
  const agent = new Agent({
    connect: createEgressConnector({ allow: options.egressAllow, connectTimeoutMs: timeoutMs }),
  });
  return {
    async fetch(url, init = {}) {
      const signal = init.signal
        ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)])
        : AbortSignal.timeout(timeoutMs);
      const response = await undiciFetch(String(url), {
        ...(init as Record<string, unknown>),
        signal,
        redirect: 'manual',
        dispatcher: agent,
      });
      // Read here, bounded, so a provider cannot stream an endless body into memory.
      const chunks: Uint8Array[] = [];
      let total = 0;
      if (response.body) {
        for await (const chunk of response.body) {
          total += chunk.byteLength;
          if (total > maxBytes) {
            await response.body.cancel().catch(() => {});
            throw new ProviderResponseTooLargeError(String(url), maxBytes);
          }
          chunks.push(chunk);
        }
      }
      const nullBody = response.status === 204 || response.status === 304 || response.status < 200;
      return new Response(nullBody ? null : Buffer.concat(chunks), {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers as unknown as Headers,
      });
    },
    close: () => agent.close(),
  };
}
