import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Layered configuration: defaults, then an optional JSON config file, then HOOKYARD_* environment
 * variables, then command-line flags. Validated once, then frozen. Every key is documented here,
 * with its default; docs/configuration.md is generated from this table (scripts/write-docs.ts).
 */

export const ROLES = ['api', 'ingest', 'delivery'] as const;
export type Role = (typeof ROLES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface Config {
  /** TCP port the server listens on. */
  readonly port: number;
  /** Interface to bind. Loopback by default: put a reverse proxy in front, or set 0.0.0.0. */
  readonly host: string;
  /** Folder for the SQLite database, the generated master key and other local state. */
  readonly dataDir: string;
  /** `postgres://…` selects PostgreSQL; empty selects the embedded SQLite file in dataDir. */
  readonly databaseUrl: string;
  /** Which parts this process runs. */
  readonly roles: readonly Role[];
  readonly logLevel: LogLevel;
  /** json: one JSON object a line; pretty: readable lines; auto: pretty on a terminal, else json. */
  readonly logFormat: LogFormat;
  /** Base of the URLs handed out (ingest URLs). Defaults to http://{host}:{port}. */
  readonly publicBaseUrl: string;
  /** Base64 32-byte key(s) for secrets at rest, `kid:base64,…`; first is active. Empty = key file. */
  readonly masterKey: string;
  /** Operator key. Empty = one is generated on first start, printed once, stored hashed. */
  readonly adminKey: string;
  /** CIDRs outbound deliveries may reach despite being private/loopback, comma-separated. */
  readonly egressAllow: readonly string[];
  /** How long graceful shutdown waits for in-flight requests and jobs. */
  readonly shutdownTimeoutMs: number;
  readonly workflowResponseWaitMs: number;
  /** How often due trigger subscriptions are renewed. */
  readonly triggerRenewIntervalMs: number;
  readonly workflowLeaseMs: number;
  /** Largest management API request body. */
  readonly apiBodyLimitBytes: number;
  /** Most inbound requests committed in one transaction. */
  readonly ingestMaxBatch: number;
  /** Rows a delivery worker claims at once. */
  readonly deliveryBatchSize: number;
  /** Deliveries in flight per process. */
  readonly deliveryConcurrency: number;
  /** PostgreSQL pool size per process. */
  readonly databasePoolSize: number;
  /** SQLite: the hot paths' write batches go to a second connection on a worker thread. */
  readonly sqliteWriterThread: boolean;
  /** Plain ingest requests are read by Hookyard's own HTTP/1.1 fast path instead of node:http's. */
  readonly fastHttp: boolean;
  /** Live streams a project may have open at once, per process. */
  readonly streamMaxPerProject: number;
  /** How often an open live stream sends a heartbeat comment. */
  readonly streamHeartbeatMs: number;
  /** How long refused inbound requests are kept. */
  readonly refusedRetentionMs: number;
  /** How many refused inbound requests are kept per source (newest first). */
  readonly refusedPerSource: number;
}

interface KeySpec {
  env: string;
  flag: string;
  doc: string;
  parse: (raw: string, key: string) => unknown;
}

class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export { ConfigError };

function int(min: number, max: number) {
  return (raw: string, key: string): number => {
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new ConfigError(`${key}: "${raw}" is not allowed; expected an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

function oneOf<T extends string>(values: readonly T[]) {
  return (raw: string, key: string): T => {
    if (!(values as readonly string[]).includes(raw)) {
      throw new ConfigError(`${key}: "${raw}" is not allowed; expected one of: ${values.join(', ')}.`);
    }
    return raw as T;
  };
}

function bool(raw: string, key: string): boolean {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${key}: "${raw}" is not allowed; expected true or false.`);
}

function text(raw: string): string {
  return raw;
}

function roles(raw: string, key: string): Role[] {
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 1 && parts[0] === 'all') return [...ROLES];
  if (parts.length === 0)
    throw new ConfigError(`${key}: empty; expected "all" or some of: ${ROLES.join(', ')}.`);
  for (const p of parts) {
    if (!(ROLES as readonly string[]).includes(p)) {
      throw new ConfigError(`${key}: "${p}" is not allowed; expected "all" or some of: ${ROLES.join(', ')}.`);
    }
  }
  return [...new Set(parts)] as Role[];
}

function databaseUrl(raw: string, key: string): string {
  if (raw === '' || /^postgres(ql)?:\/\//.test(raw)) return raw;
  throw new ConfigError(`${key}: expected a postgres:// or postgresql:// URL, or empty for SQLite.`);
}

function url(raw: string, key: string): string {
  if (raw === '') return raw;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    return raw.replace(/\/+$/, '');
  } catch {
    throw new ConfigError(`${key}: "${raw}" is not allowed; expected an absolute http(s) URL.`);
  }
}

const CIDR = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+)(\/\d{1,3})?$/;
function cidrs(raw: string, key: string): string[] {
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of parts) {
    if (!CIDR.test(p))
      throw new ConfigError(`${key}: "${p}" is not a CIDR (e.g. 127.0.0.1/32, 10.0.0.0/8, ::1/128).`);
  }
  return parts;
}

/** The one table of keys: config-file name → env var, flag, doc, parser. Defaults are below. */
export const CONFIG_KEYS: Record<keyof Config, KeySpec> = {
  port: { env: 'HOOKYARD_PORT', flag: '--port', doc: 'TCP port to listen on.', parse: int(0, 65535) },
  host: { env: 'HOOKYARD_HOST', flag: '--host', doc: 'Interface to bind; 0.0.0.0 for all.', parse: text },
  dataDir: {
    env: 'HOOKYARD_DATA_DIR',
    flag: '--data-dir',
    doc: 'Folder for the SQLite file and the generated master key; created 0700 with its files 0600, and tightened to that on start if looser.',
    parse: text,
  },
  databaseUrl: {
    env: 'HOOKYARD_DATABASE_URL',
    flag: '--database-url',
    doc: 'postgres:// URL selects PostgreSQL; empty selects SQLite in the data folder.',
    parse: databaseUrl,
  },
  roles: {
    env: 'HOOKYARD_ROLES',
    flag: '--roles',
    doc: `Parts this process runs: "all" or a comma list of ${ROLES.join(', ')}.`,
    parse: roles,
  },
  logLevel: {
    env: 'HOOKYARD_LOG_LEVEL',
    flag: '--log-level',
    doc: `One of ${LOG_LEVELS.join(', ')}.`,
    parse: oneOf(LOG_LEVELS),
  },
  logFormat: {
    env: 'HOOKYARD_LOG_FORMAT',
    flag: '--log-format',
    doc: 'How `hookyard start` writes its log to stdout: "json" (one JSON object a line, for log collectors), "pretty" (readable lines), or "auto": pretty when stdout is a terminal, else json.',
    parse: oneOf(LOG_FORMATS),
  },
  publicBaseUrl: {
    env: 'HOOKYARD_PUBLIC_BASE_URL',
    flag: '--public-base-url',
    doc: 'Base of the URLs Hookyard hands out (ingest URLs). Default http://{host}:{port}.',
    parse: url,
  },
  masterKey: {
    env: 'HOOKYARD_MASTER_KEY',
    flag: '--master-key',
    doc: 'Key(s) encrypting secrets at rest: base64 of 32 bytes, or "kid:base64,kid:base64" (first active). Empty = {dataDir}/master.key, generated on first start.',
    parse: text,
  },
  adminKey: {
    env: 'HOOKYARD_ADMIN_KEY',
    flag: '--admin-key',
    doc: 'Operator key acting on every project. Empty = generated on first start, printed once, stored hashed.',
    parse: text,
  },
  egressAllow: {
    env: 'HOOKYARD_EGRESS_ALLOW',
    flag: '--egress-allow',
    doc: 'Comma-separated CIDRs outbound deliveries may reach although private/loopback.',
    parse: cidrs,
  },
  workflowLeaseMs: {
    env: 'HOOKYARD_WORKFLOW_LEASE_MS',
    flag: '--workflow-lease-ms',
    doc: 'How long a process holds a workflow execution it runs; each committed step renews it. When its holder dies, another process resumes the execution once the lease has run out.',
    parse: int(1000, 3_600_000),
  },
  workflowResponseWaitMs: {
    env: 'HOOKYARD_WORKFLOW_RESPONSE_WAIT_MS',
    flag: '--workflow-response-wait-ms',
    doc: 'How long a request trigger waits for its workflow’s respond step before answering 504 (the execution goes on).',
    parse: int(100, 600_000),
  },
  triggerRenewIntervalMs: {
    env: 'HOOKYARD_TRIGGER_RENEW_INTERVAL_MS',
    flag: '--trigger-renew-interval-ms',
    doc: 'How often trigger subscriptions whose expiry falls within their trigger’s renew.beforeExpirySeconds are renewed.',
    parse: int(100, 3_600_000),
  },
  shutdownTimeoutMs: {
    env: 'HOOKYARD_SHUTDOWN_TIMEOUT_MS',
    flag: '--shutdown-timeout-ms',
    doc: 'How long a graceful shutdown waits for in-flight work.',
    parse: int(0, 600_000),
  },
  apiBodyLimitBytes: {
    env: 'HOOKYARD_API_BODY_LIMIT_BYTES',
    flag: '--api-body-limit-bytes',
    doc: 'Largest management API request body.',
    parse: int(1024, 64 * 1024 * 1024),
  },
  ingestMaxBatch: {
    env: 'HOOKYARD_INGEST_MAX_BATCH',
    flag: '--ingest-max-batch',
    doc: 'Most inbound requests committed in one transaction (group commit). PostgreSQL takes at most 16 at a time (one prepared statement) and commits up to two such batches side by side.',
    parse: int(1, 10_000),
  },
  deliveryBatchSize: {
    env: 'HOOKYARD_DELIVERY_BATCH_SIZE',
    flag: '--delivery-batch-size',
    doc: 'Deliveries a worker claims per query.',
    parse: int(1, 10_000),
  },
  deliveryConcurrency: {
    env: 'HOOKYARD_DELIVERY_CONCURRENCY',
    flag: '--delivery-concurrency',
    doc: 'Deliveries in flight per process.',
    parse: int(1, 100_000),
  },
  databasePoolSize: {
    env: 'HOOKYARD_DATABASE_POOL_SIZE',
    flag: '--database-pool-size',
    doc: 'PostgreSQL connections per process in the main pool. A process that delivers also opens up to 4 more for delivery claims and outcomes, and one for LISTEN.',
    parse: int(1, 1000),
  },
  sqliteWriterThread: {
    env: 'HOOKYARD_SQLITE_WRITER_THREAD',
    flag: '--sqlite-writer-thread',
    doc: "SQLite only: write the hot paths' batches (inbound events, published messages, delivery outcomes) on a second connection on a worker thread, beside the event loop (true or false).",
    parse: bool,
  },
  fastHttp: {
    env: 'HOOKYARD_FAST_HTTP',
    flag: '--fast-http',
    doc: "Read plain ingest requests (`/in/…` with a Content-Length body) with Hookyard's own HTTP/1.1 fast path; every other request, and any ingest request it does not take, goes to node:http (true or false).",
    parse: bool,
  },
  streamMaxPerProject: {
    env: 'HOOKYARD_STREAM_MAX_PER_PROJECT',
    flag: '--stream-max-per-project',
    doc: 'Live streams (GET …/stream) a project may have open at once on one process; one more answers 429.',
    parse: int(1, 10_000),
  },
  streamHeartbeatMs: {
    env: 'HOOKYARD_STREAM_HEARTBEAT_MS',
    flag: '--stream-heartbeat-ms',
    doc: 'How often an open live stream sends a heartbeat comment, so proxies and clients see it alive.',
    parse: int(100, 300_000),
  },
  refusedRetentionMs: {
    env: 'HOOKYARD_REFUSED_RETENTION_MS',
    flag: '--refused-retention-ms',
    doc: 'How long inbound requests refused before storage (GET …/sources/{id}/refused) are kept.',
    parse: int(60_000, 366 * 86_400_000),
  },
  refusedPerSource: {
    env: 'HOOKYARD_REFUSED_PER_SOURCE',
    flag: '--refused-per-source',
    doc: 'How many refused inbound requests are kept per source, newest first (and as many for sources that do not exist, together).',
    parse: int(1, 1_000_000),
  },
};

export const CONFIG_DEFAULTS: Readonly<Record<keyof Config, string>> = {
  port: '7070',
  host: '127.0.0.1',
  dataDir: './.hookyard',
  databaseUrl: '',
  roles: 'all',
  logLevel: 'info',
  logFormat: 'auto',
  publicBaseUrl: '',
  masterKey: '',
  adminKey: '',
  egressAllow: '',
  shutdownTimeoutMs: '10000',
  workflowResponseWaitMs: '55000',
  triggerRenewIntervalMs: '60000',
  workflowLeaseMs: '300000',
  apiBodyLimitBytes: String(1024 * 1024),
  ingestMaxBatch: '512',
  deliveryBatchSize: '100',
  deliveryConcurrency: '256',
  databasePoolSize: '10',
  sqliteWriterThread: 'true',
  fastHttp: 'true',
  streamMaxPerProject: '20',
  streamHeartbeatMs: '15000',
  refusedRetentionMs: String(7 * 86_400_000),
  refusedPerSource: '1000',
};

export interface LoadConfigOptions {
  env?: Record<string, string | undefined>;
  /** Flag values by config key (already split by the CLI). */
  flags?: Partial<Record<keyof Config, string>>;
  /** Path of a JSON config file; also read from HOOKYARD_CONFIG. */
  file?: string;
  cwd?: string;
}

/** Builds the frozen config; throws ConfigError naming the key and what is allowed. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const raw: Record<string, string> = { ...CONFIG_DEFAULTS };
  const origin: Record<string, string> = {};
  for (const k of Object.keys(raw)) origin[k] = k;

  const filePath = options.file ?? env.HOOKYARD_CONFIG;
  if (filePath) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path.resolve(cwd, filePath), 'utf8'));
    } catch (err) {
      throw new ConfigError(`config file ${filePath}: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError(`config file ${filePath}: expected a JSON object of config keys.`);
    }
    for (const [k, v] of Object.entries(parsed)) {
      if (!(k in CONFIG_KEYS)) {
        throw new ConfigError(
          `config file ${filePath}: unknown key "${k}"; expected one of: ${Object.keys(CONFIG_KEYS).join(', ')}.`,
        );
      }
      raw[k] = Array.isArray(v) ? v.join(',') : String(v);
      origin[k] = `${k} (config file)`;
    }
  }
  for (const [k, spec] of Object.entries(CONFIG_KEYS)) {
    const v = env[spec.env];
    if (v !== undefined) {
      raw[k] = v;
      origin[k] = spec.env;
    }
  }
  for (const [k, v] of Object.entries(options.flags ?? {})) {
    if (v !== undefined) {
      raw[k] = v;
      origin[k] = CONFIG_KEYS[k as keyof Config].flag;
    }
  }

  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(CONFIG_KEYS)) {
    out[k] = spec.parse(raw[k] ?? '', origin[k] ?? k);
  }
  out.dataDir = path.resolve(cwd, out.dataDir as string);
  if (out.publicBaseUrl === '') {
    const host = out.host === '0.0.0.0' || out.host === '::' ? 'localhost' : (out.host as string);
    out.publicBaseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${out.port}`;
  }
  return Object.freeze({
    ...out,
    roles: Object.freeze(out.roles),
    egressAllow: Object.freeze(out.egressAllow),
  }) as Config;
}
