import type { Logger } from 'pino';
import type { Publisher } from '../delivery/publisher.ts';
import type { Clock } from '../domain/clock.ts';
import { ERROR_CATALOGUE, type ErrorCode, HookyardError } from '../domain/errors.ts';
import { isId, type TriggerSubscriptionId } from '../domain/ids.ts';
import type { Exchange, RawRoute } from '../http/exchange.ts';
import type { RawRequest } from '../ingest/verification/raw-request.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { Store } from '../store/store.ts';
import type { IntegrationService } from './integration-service.ts';
import { renderText, TemplateError } from './template-renderer.ts';
import { compileTriggerEventReader } from './trigger-event.ts';
import { compileTriggerVerifier } from './trigger-verifier.ts';

/** Largest event body a subscription's URL accepts. */
export const MAX_TRIGGER_EVENT_BYTES = 1024 * 1024;
const PREFIX = '/in/sub_';

/**
 * A trigger subscription's URL, `/in/sub_…` (any method): the request is verified with the
 * trigger's `verification`, whose `{{subscription.secret}}` is the secret the provider returned on
 * subscribe, then published as a message of type `{integration}.{trigger type}` with body
 * `{ eventId, userId, integration, triggerType, triggerSubscriptionId, credentialId, projectId,
 * dateReceived, payload }`, carrying the user and credential, and the subscription's
 * `dateLastReceivedEvent` moves. The payload is the JSON body (or the text when it is not JSON);
 * the trigger's filter is applied, its transform is not yet.
 */
export function createTriggerEventRoute(deps: {
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  integrations: Pick<IntegrationService, 'find'>;
  publisher: Pick<Publisher, 'publish'>;
  publicBaseUrl: string;
  logger: Logger;
}): RawRoute {
  const { store, secrets: box, clock, integrations, publisher } = deps;
  const log = deps.logger.child({ scope: 'trigger-events' });
  const json = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
  const fail = (exchange: Exchange, code: ErrorCode, detail: string) =>
    exchange.reply(ERROR_CATALOGUE[code].status, json, JSON.stringify({ code, detail }));

  async function handle(exchange: Exchange): Promise<void> {
    const path = exchange.url.split('?')[0] ?? '';
    const id = path.slice('/in/'.length);
    const sub = isId('triggerSubscription', id)
      ? await store.getTriggerSubscriptionById(id as TriggerSubscriptionId)
      : null;
    if (!sub) return fail(exchange, 'not_found', `No trigger subscription at ${path}.`);
    const body = await exchange.readBody(MAX_TRIGGER_EVENT_BYTES);
    if (body === null) {
      return fail(exchange, 'payload_too_large', `The body is larger than ${MAX_TRIGGER_EVENT_BYTES} bytes.`);
    }
    const { definition } = await integrations.find(sub.projectId, sub.integration);
    const trigger = definition.triggers.find((t) => t.type === sub.triggerType);
    if (!trigger)
      return fail(exchange, 'not_found', `The trigger ${sub.triggerType} of ${sub.integration} is gone.`);
    const req: RawRequest = {
      method: exchange.method,
      url: `${deps.publicBaseUrl}${exchange.url}`,
      headers: exchange.headers as RawRequest['headers'],
      body,
    };
    const nowMs = clock.nowMs();
    let secret: string | undefined;
    try {
      const template = trigger.verification?.secret;
      secret =
        template === undefined
          ? undefined
          : renderText(
              template,
              {
                subscription: sub.secretSealed !== null ? { secret: box.open(sub.secretSealed) } : {},
                parameters: sub.parameters,
              },
              `triggers.${trigger.type}.verification.secret`,
            );
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      log.warn({ triggerSubscriptionId: sub.id, err: err.message }, 'no secret to verify with');
      return fail(
        exchange,
        'signature_invalid',
        'The subscription has no secret to verify this request with.',
      );
    }
    const verify = compileTriggerVerifier(trigger.verification, {
      secrets: secret !== undefined ? [{ value: secret }] : [],
    });
    const result = verify(req, nowMs);
    if (!result.ok) return fail(exchange, 'signature_invalid', result.reason);
    let payload: unknown = body.toString('utf8');
    try {
      payload = JSON.parse(payload as string);
    } catch {
      // Not JSON: the text is the payload.
    }
    const reader = compileTriggerEventReader(trigger);
    if (!reader.matches(req, payload)) {
      exchange.reply(200, json, JSON.stringify({ accepted: false, reason: 'filtered out by the trigger' }));
      return;
    }
    const providerEventId = reader.readEventId?.(req, payload) ?? null;
    const message = await publisher.publish({
      projectId: sub.projectId,
      eventType: `${sub.integration}.${sub.triggerType}`,
      payload: {
        eventId: providerEventId,
        userId: sub.userId,
        integration: sub.integration,
        triggerType: sub.triggerType,
        triggerSubscriptionId: sub.id,
        credentialId: sub.credentialId,
        projectId: sub.projectId,
        dateReceived: new Date(nowMs).toISOString(),
        payload,
      },
      userId: sub.userId,
      credentialId: sub.credentialId,
      // A provider retrying the same event makes one message.
      ...(providerEventId !== null ? { idempotencyKey: `${sub.id}:${providerEventId}` } : {}),
    });
    await store.touchTriggerSubscriptionEvent(sub.id, nowMs);
    exchange.reply(202, json, JSON.stringify({ accepted: true, messageId: message.id }));
  }

  return {
    owns: (url) => url.startsWith(PREFIX),
    handle(exchange) {
      handle(exchange).catch((err: unknown) => {
        if (err instanceof HookyardError) return fail(exchange, err.code, err.detail);
        log.error({ err }, 'trigger event failed');
        fail(exchange, 'internal', 'The event was not stored.');
      });
    },
  };
}
