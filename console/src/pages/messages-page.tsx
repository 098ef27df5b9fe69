import { useState } from 'preact/hooks';
import { api, type Page, projectPath, query } from '../api-client.ts';
import { useHas } from '../capabilities.ts';
import { href } from '../router.ts';
import type { Delivery, Message } from '../types.ts';
import {
  Badge,
  Empty,
  ErrorBox,
  Field,
  inputValue,
  Loading,
  Section,
  Time,
  useAction,
  useLoad,
} from '../ui.tsx';

export function MessagesPage() {
  const [draft, setDraft] = useState('');
  const [eventType, setEventType] = useState('');
  const [more, setMore] = useState<Message[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const list = (after?: string) =>
    api<Page<Message>>(projectPath(`/messages${query({ limit: 50, after, eventType })}`));
  const messages = useLoad(async () => {
    const page = await list();
    setMore([]);
    setCursor(page.nextCursor);
    return page;
  }, [eventType]);
  const loadMore = useAction(async () => {
    if (!cursor) return;
    const page = await list(cursor);
    setMore((m) => [...m, ...page.items]);
    setCursor(page.nextCursor);
  });
  const items = [...(messages.data?.items ?? []), ...more];
  const hasDeliveries = useHas('deliveries');
  return (
    <>
      <h1>Messages</h1>
      {hasDeliveries ? <DeliveriesByStatus /> : null}
      <Section
        title="Messages"
        actions={
          <button type="button" class="secondary" onClick={messages.reload}>
            Refresh
          </button>
        }
      >
        <form
          class="form inline"
          onSubmit={(e) => {
            e.preventDefault();
            setEventType(draft.trim());
          }}
        >
          <Field label="Event type">
            <input name="eventType" value={draft} onInput={(e) => setDraft(inputValue(e))} />
          </Field>
          <button type="submit">Filter</button>
        </form>
        <Loading loaded={messages} />
        {messages.data && items.length === 0 ? (
          <Empty title={eventType ? `No message of type ${eventType}.` : 'No messages yet.'}>
            Messages are what Hookyard delivers to endpoints: routed inbound events, and what your app
            publishes with <code>POST /api/v1/projects/…/messages</code>.
          </Empty>
        ) : null}
        {items.length > 0 ? (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Created</th>
                  <th>Event type</th>
                  <th>Id</th>
                  <th>Tenant</th>
                </tr>
              </thead>
              <tbody>
                {items.map((m) => (
                  <tr key={m.id}>
                    <td>
                      <a href={href('messages', m.id)}>
                        <Time iso={m.createdAt} />
                      </a>
                    </td>
                    <td>{m.eventType}</td>
                    <td>
                      <code>{m.id}</code>
                    </td>
                    <td>{m.credentialId ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {cursor ? (
          <button
            type="button"
            class="secondary"
            disabled={loadMore.busy}
            onClick={() => void loadMore.act()}
          >
            Load more
          </button>
        ) : null}
        <ErrorBox error={loadMore.error} />
      </Section>
    </>
  );
}

/** The project's deliveries with one status (failed by default): what needs a look across all messages. */
function DeliveriesByStatus() {
  const [status, setStatus] = useState<'failed' | 'pending' | 'succeeded'>('failed');
  const deliveries = useLoad(
    () => api<Page<Delivery>>(projectPath(`/deliveries${query({ status, limit: 50 })}`)),
    [status],
  );
  const items = deliveries.data?.items ?? [];
  return (
    <Section
      title="Deliveries by status"
      actions={
        <>
          <Field label="Status">
            <select
              name="deliveryStatus"
              value={status}
              onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value as typeof status)}
            >
              <option value="failed">failed</option>
              <option value="pending">pending</option>
              <option value="succeeded">succeeded</option>
            </select>
          </Field>
          <button type="button" class="secondary" onClick={deliveries.reload}>
            Refresh
          </button>
        </>
      }
    >
      <Loading loaded={deliveries} />
      {deliveries.data && items.length === 0 ? (
        <Empty title={`No ${status} delivery.`}>
          {status === 'failed'
            ? 'Nothing has failed for good. Failed deliveries can be sent again from their message, or all at once from the endpoint (Recover).'
            : 'Choose another status.'}
        </Empty>
      ) : null}
      {items.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Created</th>
                <th>Endpoint</th>
                <th>Status</th>
                <th>Attempts</th>
                <th>Last answer</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Time iso={d.createdAt} />
                  </td>
                  <td>
                    <a href={href('endpoints', d.endpointId)}>{d.endpointId}</a>
                  </td>
                  <td>
                    <Badge value={d.status} />
                  </td>
                  <td>{d.attemptCount}</td>
                  <td>
                    {d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : ''} {d.lastFailureKind ?? ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Section>
  );
}
