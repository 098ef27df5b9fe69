import { useState } from 'preact/hooks';
import { api, projectPath } from '../api-client.ts';
import { AttemptTimeline } from '../attempt-timeline.tsx';
import { href } from '../router.ts';
import type { Delivery, Message } from '../types.ts';
import { Badge, ErrorBox, Json, Loading, Section, Time, useAction, useLoad } from '../ui.tsx';

export function MessageDetailPage({ id }: { id: string }) {
  const path = projectPath(`/messages/${encodeURIComponent(id)}`);
  const message = useLoad(() => api<Message>(path), [id]);
  const deliveries = useLoad(() => api<{ items: Delivery[] }>(`${path}/deliveries`), [id]);
  const [queued, setQueued] = useState<string | null>(null);
  const resend = useAction(async (endpointId?: string) => {
    const r = await api<{ deliveryIds: string[] }>(`${path}/resend`, {
      method: 'POST',
      body: endpointId ? { endpointId } : {},
    });
    setQueued(
      r.deliveryIds.length
        ? `Queued ${r.deliveryIds.length} delivery(ies).`
        : 'Nothing queued: still pending.',
    );
    // The new attempts land within moments; read them again.
    setTimeout(deliveries.reload, 1000);
  });
  const m = message.data;
  return (
    <>
      <p>
        <a href={href('messages')}>← Messages</a>
      </p>
      <Loading loaded={message} />
      {m ? (
        <>
          <h1>
            Message <code>{m.id}</code>
          </h1>
          <Section title="Message">
            <dl class="facts">
              <dt>Event type</dt>
              <dd>{m.eventType}</dd>
              <dt>Created</dt>
              <dd>
                <Time iso={m.createdAt} />
              </dd>
              <dt>Tenant</dt>
              <dd>{m.credentialId ?? '—'}</dd>
            </dl>
            <Json value={m.payload} />
          </Section>
          <Section
            title="Deliveries"
            actions={
              <>
                <button type="button" class="secondary" onClick={deliveries.reload}>
                  Refresh
                </button>
                <button type="button" disabled={resend.busy} onClick={() => void resend.act()}>
                  Resend to all
                </button>
              </>
            }
          >
            {queued ? (
              <p class="ok" role="status">
                {queued}
              </p>
            ) : null}
            <ErrorBox error={resend.error} />
            <Loading loaded={deliveries} />
            {deliveries.data?.items.length === 0 ? (
              <p class="muted">No endpoint matched this message’s event type when it was published.</p>
            ) : null}
            {deliveries.data?.items.map((d) => (
              <div class="delivery" key={d.id} data-delivery-id={d.id}>
                <div class="delivery-head">
                  <span>
                    <a href={href('endpoints', d.endpointId)}>{d.endpointId}</a> <Badge value={d.status} />{' '}
                    <span class="muted">
                      {d.attemptCount} attempt(s)
                      {d.nextAttemptAt ? (
                        <>
                          , next <Time iso={d.nextAttemptAt} />
                        </>
                      ) : null}
                    </span>
                  </span>
                  <button
                    type="button"
                    class="small"
                    disabled={resend.busy}
                    onClick={() => void resend.act(d.endpointId)}
                  >
                    Resend
                  </button>
                </div>
                <AttemptTimeline attempts={d.attempts} />
              </div>
            ))}
          </Section>
        </>
      ) : null}
    </>
  );
}
