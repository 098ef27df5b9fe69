/** The API's views, as docs/openapi.json describes them (only the fields the console reads). */
export interface Source {
  id: string;
  name: string;
  provider: string | null;
  ingestUrl: string;
  routing: { header?: string; jsonPath?: string } | null;
  warnings: string[];
  secrets: { position: number; notAfter: string | null }[];
  createdAt: string;
}

export interface EventSummary {
  id: string;
  sourceId: string;
  providerEventId: string | null;
  eventType: string | null;
  method: string;
  status: 'received' | 'routed' | 'unrouted';
  tenantId: string | null;
  verified: boolean;
  bodyBytes: number;
  receivedAt: string;
}

export interface EventDetail extends EventSummary {
  url: string;
  dedupeKey: string | null;
  headers: Record<string, string | string[]>;
  body: string | null;
  bodyBase64: string | null;
  bodySha256: string;
  verification: { ok: boolean; [k: string]: unknown };
  routing: {
    status: string;
    tenantId: string | null;
    routingKey: string | null;
    decided: boolean;
    attempts: number;
  };
}

export interface Endpoint {
  id: string;
  url: string;
  name: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  status: 'active' | 'failing' | 'disabled';
  timeoutMs: number;
  health: {
    state: string;
    reason: string | null;
    consecutiveFailures: number;
    lastSuccessAt: string | null;
    firstFailureAt: string | null;
  };
  createdAt: string;
}

export interface Message {
  id: string;
  eventType: string;
  objectType: string | null;
  credentialId: string | null;
  idempotencyKey: string | null;
  payload: unknown;
  createdAt: string;
}

export interface Attempt {
  id: string;
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  outcome: 'succeeded' | 'failed';
  statusCode: number | null;
  errorKind: string | null;
  errorMessage: string | null;
  responseBody: string;
  nextAttemptAt: string | null;
}

export interface Delivery {
  id: string;
  endpointId: string;
  status: 'pending' | 'succeeded' | 'failed';
  attemptCount: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastFailureKind: string | null;
  createdAt: string;
  attempts: Attempt[];
}
