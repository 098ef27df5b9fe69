import { readFileSync } from 'node:fs';
import type { ApiClient } from './api-client.ts';
import { EXIT, UsageError } from './cli-errors.ts';
import { clientCommand, type Out } from './client-command.ts';

export const SEND_HELP = `Usage: hookyard send --type T [--endpoint ep_…] [--data @file.json | --data JSON] [--wait] [--json]

Sends a message. With --endpoint, to that endpoint only (whatever its filters), with the event
type's registered example payload unless --data gives one; without --endpoint, publishes it to
every endpoint whose filters match (then --data is required). --wait follows the deliveries until
none is pending (at most 60 s), with a progress line, and exits 1 if any failed.

Examples:
  hookyard send --endpoint ep_… --type invoice.paid
  hookyard send --endpoint ep_… --type invoice.paid --data @invoice.json
  hookyard send --type invoice.paid --data '{"id":"in_1"}' --wait`;

export const RESEND_HELP = `Usage: hookyard resend MESSAGE_ID [--endpoint ep_…] [--wait] [--json]

Sends a message again: to every endpoint it went to, or to one. --wait follows the deliveries as
for "hookyard send".

Example:
  hookyard resend msg_… --endpoint ep_…`;

export const REPLAY_HELP = `Usage: hookyard replay EVENT_ID [--endpoint ep_…] [--json]

Forwards a stored inbound event again, as a new message: to every endpoint whose filters take it,
or to one. An event whose routing was set aside after repeated failures is routed again instead.

Example:
  hookyard replay evt_… --endpoint ep_…`;

function readData(raw: string): unknown {
  let text = raw;
  if (raw.startsWith('@')) {
    try {
      text = readFileSync(raw.slice(1), 'utf8');
    } catch (err) {
      throw new UsageError(`--data: cannot read ${raw.slice(1)}: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--data: not JSON (${(err as Error).message}).`);
  }
}

/** Follows a message's deliveries until none is pending; returns the exit status. */
async function waitForDeliveries(
  api: ApiClient,
  projectId: string,
  messageId: string,
  out: Out,
  json: boolean,
): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { items } = await api.request<{
      items: Array<{
        id: string;
        endpointId: string;
        status: string;
        lastStatusCode: number | null;
        attemptCount: number;
      }>;
    }>('GET', `/api/v1/projects/${projectId}/messages/${messageId}/deliveries`);
    const pending = items.filter((d) => d.status === 'pending').length;
    if (pending === 0 || Date.now() > deadline) {
      if (process.stderr.isTTY) process.stderr.write('\n');
      for (const d of items) {
        out.log(
          json
            ? JSON.stringify(d)
            : `${d.id}  ${d.endpointId}  ${d.status}  ${d.lastStatusCode ?? '-'}  (${d.attemptCount} attempt${d.attemptCount === 1 ? '' : 's'})`,
        );
      }
      return items.some((d) => d.status !== 'succeeded') ? EXIT.failed : EXIT.ok;
    }
    const line = `waiting for deliveries: ${items.length - pending}/${items.length} done`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export const sendCommand = clientCommand(
  'send',
  SEND_HELP,
  {
    endpoint: { type: 'string' },
    type: { type: 'string' },
    data: { type: 'string' },
    wait: { type: 'boolean' },
  },
  async ({ values, out, api, json }) => {
    const eventType = values.type as string | undefined;
    if (!eventType) throw new UsageError('--type is required (an event type such as invoice.paid).');
    const endpoint = values.endpoint as string | undefined;
    const data = values.data === undefined ? undefined : readData(values.data as string);
    if (!endpoint && data === undefined) throw new UsageError('--data is required without --endpoint.');
    const client = api();
    const projectId = await client.projectId();
    let messageId: string;
    if (endpoint) {
      const sent = await client.request<{ messageId: string; deliveryId: string }>(
        'POST',
        `/api/v1/projects/${projectId}/endpoints/${encodeURIComponent(endpoint)}/test`,
        { eventType, ...(data === undefined ? {} : { payload: data }) },
      );
      messageId = sent.messageId;
      out.log(
        json ? JSON.stringify(sent) : `sent ${sent.messageId} to ${endpoint} (delivery ${sent.deliveryId})`,
      );
    } else {
      const published = await client.request<{ id: string; deliveries: number }>(
        'POST',
        `/api/v1/projects/${projectId}/messages`,
        { eventType, payload: data },
      );
      messageId = published.id;
      out.log(
        json ? JSON.stringify(published) : `published ${published.id} (${published.deliveries} deliveries)`,
      );
    }
    return values.wait ? waitForDeliveries(client, projectId, messageId, out, json) : EXIT.ok;
  },
);

export const resendCommand = clientCommand(
  'resend',
  RESEND_HELP,
  { endpoint: { type: 'string' }, wait: { type: 'boolean' } },
  async ({ values, positionals, out, api, json }) => {
    const messageId = positionals[0];
    if (!messageId || positionals.length > 1) throw new UsageError('give one MESSAGE_ID (msg_…).');
    const client = api();
    const projectId = await client.projectId();
    const endpoint = values.endpoint as string | undefined;
    const result = await client.request<{ deliveryIds: string[] }>(
      'POST',
      `/api/v1/projects/${projectId}/messages/${encodeURIComponent(messageId)}/resend`,
      endpoint ? { endpointId: endpoint } : {},
    );
    out.log(json ? JSON.stringify(result) : `queued ${result.deliveryIds.length} deliveries of ${messageId}`);
    return values.wait ? waitForDeliveries(client, projectId, messageId, out, json) : EXIT.ok;
  },
);

export const replayCommand = clientCommand(
  'replay',
  REPLAY_HELP,
  { endpoint: { type: 'string' } },
  async ({ values, positionals, out, api, json }) => {
    const eventId = positionals[0];
    if (!eventId || positionals.length > 1) throw new UsageError('give one EVENT_ID (evt_…).');
    const client = api();
    const projectId = await client.projectId();
    const endpoint = values.endpoint as string | undefined;
    const result = await client.request<{
      routingRequeued: boolean;
      messageId: string | null;
      deliveries: number | null;
    }>(
      'POST',
      `/api/v1/projects/${projectId}/events/${encodeURIComponent(eventId)}/replay`,
      endpoint ? { endpointId: endpoint } : {},
    );
    out.log(
      json
        ? JSON.stringify(result)
        : result.routingRequeued
          ? `${eventId}: its routing job was queued again`
          : `${eventId}: forwarded again as ${result.messageId} (${result.deliveries} deliveries)`,
    );
    return EXIT.ok;
  },
);
