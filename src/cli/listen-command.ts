import { generateEndpointSecret } from '../delivery/endpoint-secret.ts';
import { EXIT, UsageError } from './cli-errors.ts';
import { clientCommand, time } from './client-command.ts';
import { readClientConfig, writeClientConfig } from './client-config.ts';
import { openEventStream } from './event-stream.ts';
import { createLocalForwarder } from './local-forwarder.ts';

export const LISTEN_HELP = `Usage: hookyard listen [--source src_… | --all] [--forward-to URL] [--json]

Streams the project's inbound events as they land. With --forward-to, posts each one to a local
URL (its stored body and headers, re-signed with Standard Webhooks headers under a local secret,
printed at start and kept in the config file) and prints the status and time per event. While the
local receiver is down, the event is retried with backoff and the next ones wait; when it is back,
forwarding goes on where it stopped. A dropped connection to the server resumes where it left off.
Runs until interrupted (Ctrl-C).

Options:
  --source src_…      only this source's events
  --all               every source of the project (the default)
  --forward-to URL    forward each event to this URL (http or https)
  --json              one JSON object a line per event

Example:
  hookyard listen --source src_… --forward-to http://localhost:3000/webhooks`;

function localSecret(): string {
  const saved = readClientConfig().listenSecret;
  if (saved) return saved;
  const secret = generateEndpointSecret();
  try {
    writeClientConfig({ ...readClientConfig(), listenSecret: secret });
  } catch {
    // Not kept: a new one is made next time.
  }
  return secret;
}

export const listenCommand = clientCommand(
  'listen',
  LISTEN_HELP,
  { source: { type: 'string' }, all: { type: 'boolean' }, 'forward-to': { type: 'string' } },
  async ({ values, out, api, json }) => {
    const source = values.source as string | undefined;
    if (source !== undefined && values.all) throw new UsageError('give --source or --all, not both.');
    const forwardTo = values['forward-to'] as string | undefined;
    if (forwardTo !== undefined) {
      try {
        const u = new URL(forwardTo);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      } catch {
        throw new UsageError(
          `--forward-to "${forwardTo}" is not an http(s) URL, e.g. http://localhost:3000/webhooks.`,
        );
      }
    }
    const client = api();
    const projectId = await client.projectId();
    const secret = forwardTo ? localSecret() : '';
    const forwarder = forwardTo
      ? createLocalForwarder({
          api: client,
          projectId,
          forwardTo,
          secret,
          onResult: (r) =>
            out.log(
              json
                ? JSON.stringify({ ...r, forwardedAt: new Date().toISOString() })
                : `${time(new Date().toISOString())}  ${r.eventId}  ${r.eventType ?? '-'}  -> ${r.status} (${r.durationMs} ms${r.retries ? `, after ${r.retries} retries` : ''})`,
            ),
          onWaiting: (id, message, retryInMs) =>
            out.error(`${id}: ${forwardTo} cannot be reached (${message}); retrying in ${retryInMs} ms…`),
          onError: (id, message) => out.error(`${id}: not forwarded: ${message}`),
        })
      : null;

    const stream = openEventStream(
      client.target,
      projectId,
      { kinds: 'event', ...(source ? { sourceId: source } : {}) },
      {
        onOpen: () =>
          out.error(
            forwardTo
              ? `Ready. Forwarding events of ${projectId} (${source ?? 'all sources'}) to ${forwardTo}. Signing secret: ${secret}`
              : `Ready. Listening for events of ${projectId} (${source ?? 'all sources'}).`,
          ),
        onEvent: (e) => {
          if (e.kind !== 'inbound.event') return;
          const data = e.data;
          if (forwarder) {
            forwarder.enqueue(data);
            return;
          }
          out.log(
            json
              ? JSON.stringify(data)
              : `${time(data.receivedAt)}  ${data.id}  ${data.sourceId}  ${data.eventType ?? '-'}  ${data.bodyBytes} B`,
          );
        },
        onDisconnect: (message) =>
          out.error(`connection to ${client.target.url} lost (${message}); reconnecting…`),
      },
    );
    const interrupted = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await Promise.race([stream.done, interrupted]);
    stream.close();
    forwarder?.stop();
    return EXIT.ok;
  },
);
