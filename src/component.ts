/**
 * What an area hands the composition root: its raw routes, its lifecycle, and the routed-event
 * subscribers it registers. Areas build components from a ComponentContext; only `main.ts` wires
 * areas to each other and to their API routes, so an area never imports `api/`, `app.ts` or
 * `main.ts`.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Clock } from './domain/clock.ts';
import type { RawRoute } from './http/exchange.ts';
import type { RoutedEventSubscriber } from './routing/routed-event-subscriber.ts';
import type { SecretBox } from './security/secret-box.ts';
import type { Store } from './store/store.ts';
import type { UserTokens } from './users/user-tokens.ts';

/** Registers API routes; runs inside the authenticated scope. */
export type ApiModule = (api: FastifyInstance) => void;

/** Registers SDK routes; runs inside the scope that authenticates user tokens. */
export type SdkModule = (sdk: FastifyInstance) => void;

/** A part of the process with a lifecycle (ingest committer, delivery workers…). */
export interface Component {
  /** Routes tried before Fastify, on the real socket (the ingest path). */
  rawRoutes?: RawRoute[];
  /** Served when the process has the `api` role. */
  apiModules?: ApiModule[];
  /** Routes under /projects/{projectId}/sdk/…, for one user (request.sdkUser) by user token. */
  sdkModules?: SdkModule[];
  /** Handed every routed inbound event from the start of the process. */
  routedEventSubscribers?: RoutedEventSubscriber[];
  start?(): Promise<void>;
  /** Stop taking new work, finish what is in flight. */
  stop?(): Promise<void>;
}

export interface ComponentContext {
  config: Config;
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  logger: Logger;
  /** Verifies and mints user tokens (the SDK routes' authentication). */
  userTokens: UserTokens;
}
