import { useState } from 'preact/hooks';
import { api, type Page, projectPath, query } from '../api-client.ts';
import { href } from '../router.ts';
import type { Delivery, EventDetail, Message, Source } from '../types.ts';
import { Badge, Empty, ErrorBox, Json, Loading, Section, Time, useAction, useLoad } from '../ui.tsx';

/** The messages a routed event became: type `{provider}.{event type}`, payload naming the event. */
async function messagesCausedBy(event: EventDetail, source: Source | null): Promise<Message[]> {
  const eventType = `${source?.provider ?? 'custom'}.${event.eventType ?? 'event'}`.replace(
    /[^A-Za-z0-9_\-:/.]/g,
    '_',
  );
  const page = await api<Page<Message>>(
    projectPath(`/messages${query({ limit: 500, eventType, credentialId: event.tenantId })}`),
  );
  // A replay publishes a new message for the same event: its payload names the event too.
  return page.items.filter(
    (m) =>
      m.idempotencyKey === `inbound:${event.id}` ||
      (m.payload as { eventId?: unknown } | null)?.eventId === event.id,
  );
}

export function EventDetailPage({ id }: { id: string }) {
  const loaded = useLoad(async () => {
    const event = await api<EventDetail>(projectPath(`/events/${encodeURIComponent(id)}`));
    const source = await api<Source>(projectPath(`/sources/${encodeURIComponent(event.sourceId)}`)).catch(
      () => null,
    );
    const messages = event.status === 'routed' ? await messagesCausedBy(event, source) : [];
    const deliveries = await Promise.all(
      messages.map((m) =>
        api<{ items: Delivery[] }>(projectPath(`/messages/${encodeURIComponent(m.id)}/deliveries`)).then(
          (d) => ({ message: m, deliveries: d.items }),
        ),
      ),
    );
    return { event, source, caused: deliveries };
  }, [id]);
  const [replayed, setReplayed] = useState<string | null>(null);
  const replay = useAction(async () => {
    const r = await api<{ routingRequeued: boolean; messageId: string | null; deliveries: number | null }>(
      projectPath(`/events/${encodeURIComponent(id)}/replay`),
      { method: 'POST', body: {} },
    );
    setReplayed(
      r.routingRequeued
        ? 'Routing queued again.'
        : `Forwarded again as ${r.messageId ?? 'a new message'} (${r.deliveries ?? 0} deliveries).`,
    );
    setTimeout(loaded.reload, 800);
  });
  const data = loaded.data;
  const e = data?.event;
  return (
    <>
      <p>
        <a href={href('events')}>← Inbound events</a>
      </p>
      <Loading loaded={loaded} />
      {e && data ? (
        <>
          <h1>
            Event <code>{e.id}</code>
          </h1>
          <Section
            title="Summary"
            actions={
              <button type="button" class="secondary" onClick={loaded.reload}>
                Refresh
              </button>
            }
          >
            <dl class="facts">
              <dt>Source</dt>
              <dd>
                <a href={href('sources', e.sourceId)}>{data.source?.name ?? e.sourceId}</a>
              </dd>
              <dt>Received</dt>
              <dd>
                <Time iso={e.receivedAt} />
              </dd>
              <dt>Type</dt>
              <dd>{e.eventType ?? '—'}</dd>
              <dt>Provider event id</dt>
              <dd>
                <code>{e.providerEventId ?? '—'}</code>
              </dd>
              <dt>Status</dt>
              <dd>
                <Badge value={e.status} />
              </dd>
              <dt>Request</dt>
              <dd>
                {e.method} <code>{e.url}</code>
              </dd>
              <dt>Body</dt>
              <dd>
                {e.bodyBytes} bytes, sha256 <code>{e.bodySha256}</code>
              </dd>
            </dl>
          </Section>
          <Section title="Verification">
            <p>
              <Badge value={e.verification.ok ? 'verified' : 'not_verified'} />
            </p>
            <Json value={e.verification} />
          </Section>
          <Section title="Routing decision">
            <dl class="facts">
              <dt>Decided</dt>
              <dd>{e.routing.decided ? 'yes' : `not yet (${e.routing.attempts} attempts)`}</dd>
              <dt>Routing key</dt>
              <dd>
                <code>{e.routing.routingKey ?? '—'}</code>
              </dd>
              <dt>Tenant</dt>
              <dd>{e.routing.tenantId ?? '—'}</dd>
            </dl>
            {e.status === 'unrouted' ? (
              <p>
                No tenant is bound to this account id.{' '}
                <a href={href('unrouted')}>Bind it in the unrouted inbox</a>.
              </p>
            ) : null}
          </Section>
          <Section
            title="What it caused"
            actions={
              e.status === 'routed' ? (
                <button
                  type="button"
                  class="secondary"
                  disabled={replay.busy}
                  onClick={() => void replay.act()}
                >
                  Replay
                </button>
              ) : null
            }
          >
            {replayed ? (
              <p class="ok" role="status">
                {replayed}
              </p>
            ) : null}
            <ErrorBox error={replay.error} />
            {data.caused.length === 0 ? (
              <Empty title="No message.">
                {e.status === 'routed'
                  ? 'The project had no endpoint when it was routed, so nothing was sent on.'
                  : 'Messages are sent once the event is routed.'}
              </Empty>
            ) : (
              data.caused.map(({ message, deliveries }) => (
                <div key={message.id}>
                  <p>
                    Message <a href={href('messages', message.id)}>{message.id}</a> ({message.eventType}),{' '}
                    {deliveries.length} deliveries:
                  </p>
                  <ul>
                    {deliveries.map((d) => (
                      <li key={d.id}>
                        <a href={href('endpoints', d.endpointId)}>{d.endpointId}</a>{' '}
                        <Badge value={d.status} /> {d.attemptCount} attempt(s)
                        {d.lastStatusCode !== null ? `, last HTTP ${d.lastStatusCode}` : ''}
                      </li>
                    ))}
                  </ul>
                </div>
              ))
            )}
          </Section>
          <Section title="Headers">
            <div class="table-wrap">
              <table>
                <tbody>
                  {Object.entries(e.headers).map(([k, v]) => (
                    <tr key={k}>
                      <th scope="row">{k}</th>
                      <td>
                        <code>{Array.isArray(v) ? v.join(', ') : v}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Section>
          <Section title="Raw body">
            {e.body !== null ? <Json value={e.body} /> : <Json value={`base64: ${e.bodyBase64}`} />}
          </Section>
        </>
      ) : null}
    </>
  );
}
