import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/**
 * The API routes this server has, read from its OpenAPI document: pages and buttons that need a
 * route the server lacks are left out instead of failing.
 */
export type Capabilities = ReadonlySet<string>;

export async function loadCapabilities(): Promise<Capabilities> {
  try {
    const res = await fetch('/api/v1/openapi.json', { cache: 'no-store' });
    if (!res.ok) return new Set();
    const doc = (await res.json()) as { paths?: Record<string, Record<string, unknown>> };
    const out = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths ?? {})) {
      for (const method of Object.keys(ops)) out.add(`${method.toUpperCase()} ${path}`);
    }
    return out;
  } catch {
    return new Set();
  }
}

export const CapabilitiesContext = createContext<Capabilities>(new Set());

const P = '/api/v1/projects/{projectId}';
export const ROUTES = {
  stream: `GET ${P}/stream`,
  streamTickets: `POST ${P}/stream-tickets`,
  stats: `GET ${P}/stats`,
  refused: `GET ${P}/sources/{sourceId}/refused`,
  attempts: `GET ${P}/endpoints/{endpointId}/attempts`,
  deliveries: `GET ${P}/deliveries`,
  testSend: `POST ${P}/endpoints/{endpointId}/test`,
} as const;

export function useHas(route: keyof typeof ROUTES): boolean {
  return useContext(CapabilitiesContext).has(ROUTES[route]);
}
