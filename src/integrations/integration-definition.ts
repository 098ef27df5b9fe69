/**
 * An integration definition as TypeScript sees it. docs/integration.schema.json is the source of
 * truth: these types follow it field for field, and validateDefinition checks a document against
 * that schema before anything reads it as one of these.
 */

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export const PARAMETER_TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

export const TRIGGER_SETUPS = ['api', 'manual'] as const;
export type TriggerSetup = (typeof TRIGGER_SETUPS)[number];

export const TRIGGER_LEVELS = ['user', 'app'] as const;
export type TriggerLevel = (typeof TRIGGER_LEVELS)[number];

export const AUTH_TYPES = ['oauth2', 'apiKey', 'basic', 'none'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/** Where a value is in an incoming request (exactly one member). */
export type Locator =
  | { header: string }
  | { jsonPath: string }
  | { jsonPaths: string[] }
  | { form: string }
  | { bodySha256: true };

export interface ParameterDefinition {
  key: string;
  title?: string;
  description?: string;
  type: ParameterType;
  required?: boolean;
  secret?: boolean;
  enum?: unknown[];
  default?: unknown;
}

export interface RequestTemplate {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  /** JSON body; exclusive with `form`. */
  body?: unknown;
  form?: Record<string, string | string[]>;
  /** `credential` (default) adds the connected account's auth unless headers set Authorization. */
  auth?: 'credential' | 'none';
}

export interface ResponsePaths {
  id?: string;
  secret?: string;
  expiresAt?: string;
  save?: Record<string, string>;
}

export interface CallTemplate {
  request: RequestTemplate;
  response?: ResponsePaths;
}

export interface SubscribeTemplate {
  before?: CallTemplate;
  after?: CallTemplate;
  request: RequestTemplate;
  response?: ResponsePaths;
  expiresInSeconds?: number;
}

export interface RenewTemplate {
  request: RequestTemplate;
  response?: ResponsePaths;
  beforeExpirySeconds: number;
}

export interface CheckTemplate {
  request: RequestTemplate;
  everySeconds: number;
}

/**
 * A provider preset (`provider`) or a generic scheme (`type` and the scheme's fields, as sources
 * accept them), plus where the key material comes from.
 */
export interface TriggerVerification {
  provider?: string;
  type?: string;
  secret?: string;
  publicKey?: string;
  toleranceSeconds?: number;
  [schemeField: string]: unknown;
}

export interface HandshakeDefinition {
  kind?: string;
  code?: string;
  verifyToken?: string;
}

export interface TriggerFilter {
  eventType?: string[];
  field?: ({ header: string } | { jsonPath: string }) & { in: Array<string | number | boolean> };
}

export interface TriggerDefinition {
  type: string;
  title: string;
  description?: string;
  parameters?: ParameterDefinition[];
  sample?: unknown;
  setup: TriggerSetup;
  level: TriggerLevel;
  subscribe?: SubscribeTemplate;
  unsubscribe?: CallTemplate;
  renew?: RenewTemplate;
  check?: CheckTemplate;
  routing?: Locator;
  routingCode?: string;
  verification?: TriggerVerification;
  handshake?: HandshakeDefinition;
  eventId?: Locator;
  eventType?: Locator;
  filter?: TriggerFilter;
  transform?: string;
}

export interface ProviderAccountIdRule {
  jsonPath: string;
  /** A follow-up request whose response holds the id; without it, the token response does. */
  request?: RequestTemplate;
}

export type AuthDefinition =
  | {
      type: 'oauth2';
      authorizationUrl: string;
      tokenUrl: string;
      revokeUrl?: string;
      scopes?: string[];
      scopeSeparator?: string;
      pkce?: boolean;
      authorizationParams?: Record<string, string>;
      tokenAuthMethod?: 'client_secret_post' | 'client_secret_basic';
      providerAccountId?: ProviderAccountIdRule;
    }
  | {
      type: 'apiKey';
      header?: string;
      prefix?: string;
      query?: string;
      providerAccountId?: ProviderAccountIdRule;
    }
  | { type: 'basic'; providerAccountId?: ProviderAccountIdRule }
  | { type: 'none' };

export interface FixtureRequest {
  method: string;
  url?: string;
  headers: Record<string, string>;
  body?: string;
  json?: unknown;
}

export interface DefinitionFixture {
  name: string;
  source?: string;
  trigger: string;
  event?: {
    request: FixtureRequest;
    secret?: string;
    now?: number;
    expect: {
      type?: string | null;
      id?: string | null;
      routing?: string | null;
      matches?: boolean;
      verified?: boolean;
    };
  };
  subscribe?: {
    context: Record<string, unknown>;
    expect: { method: string; url: string; headers?: Record<string, string>; body?: unknown };
  };
}

export interface IntegrationDefinition {
  $schema?: string;
  key: string;
  name: string;
  description?: string;
  docs?: string[];
  auth: AuthDefinition;
  credentialSettings?: ParameterDefinition[];
  settings?: ParameterDefinition[];
  triggers: TriggerDefinition[];
  fixtures?: DefinitionFixture[];
}
