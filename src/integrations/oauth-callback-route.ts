import type { Logger } from 'pino';
import { HookyardError } from '../domain/errors.ts';
import type { RawRoute } from '../http/exchange.ts';
import { OAUTH_CALLBACK_PATH, type OAuthConnect } from './oauth-connect.ts';

const MAX_CALLBACK_URL_CHARS = 8192;

/**
 * Where providers send the browser back after the user consented: `GET /oauth/callback`. It has
 * no API key or user token (a provider's redirect carries neither): the one-time state is what
 * ties it to a project, a user and an integration. The answer is a 303 to the redirect the
 * connect started with, carrying `credentialId` or `error`; a callback whose state is unknown,
 * expired or used has nowhere trusted to go back to and gets a 400 `{ code, detail }`.
 */
export function createOAuthCallbackRoute(deps: { connect: OAuthConnect; logger: Logger }): RawRoute {
  const log = deps.logger.child({ scope: 'oauth-callback' });
  const answer = (exchange: Parameters<RawRoute['handle']>[0], error: HookyardError) =>
    exchange.reply(
      error.status,
      { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      JSON.stringify({ code: error.code, detail: error.detail }),
    );
  return {
    owns: (url) => url === OAUTH_CALLBACK_PATH || url.startsWith(`${OAUTH_CALLBACK_PATH}?`),
    handle(exchange) {
      if (exchange.method !== 'GET') {
        answer(
          exchange,
          new HookyardError('route_not_found', `${exchange.method} ${OAUTH_CALLBACK_PATH}: only GET`),
        );
        return;
      }
      if (exchange.url.length > MAX_CALLBACK_URL_CHARS) {
        answer(
          exchange,
          new HookyardError(
            'validation_failed',
            `the callback URL is longer than ${MAX_CALLBACK_URL_CHARS} characters`,
          ),
        );
        return;
      }
      const query = new URL(exchange.url, 'http://callback.invalid').searchParams;
      deps.connect.finish(query).then(
        (outcome) =>
          exchange.reply(
            303,
            { location: outcome.redirectTo, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
            '',
          ),
        (err: unknown) => {
          if (err instanceof HookyardError) {
            answer(exchange, err);
            return;
          }
          log.error({ err }, 'OAuth callback failed');
          answer(exchange, new HookyardError('internal'));
        },
      );
    },
  };
}
