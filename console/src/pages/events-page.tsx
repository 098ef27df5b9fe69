import { useState } from 'preact/hooks';
import { api, type Page, projectPath, query } from '../api-client.ts';
import { href } from '../router.ts';
import type { EventSummary, Source } from '../types.ts';
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

interface Filters {
  sourceId: string;
  status: string;
  tenantId: string;
  providerEventId: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { sourceId: '', status: '', tenantId: '', providerEventId: '', from: '', to: '' };

function filtersFromHash(): Filters {
  const q = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const f = { ...EMPTY };
  for (const k of Object.keys(EMPTY) as (keyof Filters)[]) f[k] = q.get(k) ?? '';
  return f;
}

/** `datetime-local` values are local time; the API wants ISO 8601. */
const isoOf = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function EventsPage() {
  const [draft, setDraft] = useState<Filters>(filtersFromHash);
  const [filters, setFilters] = useState<Filters>(draft);
  const [more, setMore] = useState<EventSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const sources = useLoad(() => api<Page<Source>>(projectPath('/sources?limit=500')), []);
  const listPath = (after?: string) =>
    projectPath(
      `/events${query({
        limit: 50,
        after,
        sourceId: filters.sourceId,
        status: filters.status,
        tenantId: filters.tenantId,
        providerEventId: filters.providerEventId,
        from: isoOf(filters.from),
        to: isoOf(filters.to),
      })}`,
    );
  const events = useLoad(async () => {
    const page = await api<Page<EventSummary>>(listPath());
    setMore([]);
    setCursor(page.nextCursor);
    return page;
  }, [JSON.stringify(filters)]);
  const loadMore = useAction(async () => {
    if (!cursor) return;
    const page = await api<Page<EventSummary>>(listPath(cursor));
    setMore((m) => [...m, ...page.items]);
    setCursor(page.nextCursor);
  });
  const names = new Map((sources.data?.items ?? []).map((s) => [s.id, s.name]));
  const items = [...(events.data?.items ?? []), ...more];
  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: inputValue(e) });
  const filtered = Object.values(filters).some((v) => v !== '');
  return (
    <>
      <h1>Inbound events</h1>
      <Section title="Search">
        <form
          class="form filters"
          onSubmit={(e) => {
            e.preventDefault();
            setFilters({ ...draft });
          }}
        >
          <Field label="Source">
            <select name="sourceId" value={draft.sourceId} onChange={set('sourceId')}>
              <option value="">All sources</option>
              {(sources.data?.items ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Status">
            <select name="status" value={draft.status} onChange={set('status')}>
              <option value="">Any</option>
              <option value="received">received</option>
              <option value="routed">routed</option>
              <option value="unrouted">unrouted</option>
            </select>
          </Field>
          <Field label="Tenant">
            <input name="tenantId" value={draft.tenantId} onInput={set('tenantId')} placeholder="tenant_…" />
          </Field>
          <Field label="Provider event id">
            <input name="providerEventId" value={draft.providerEventId} onInput={set('providerEventId')} />
          </Field>
          <Field label="Received from">
            <input name="from" type="datetime-local" step={1} value={draft.from} onInput={set('from')} />
          </Field>
          <Field label="Received before">
            <input name="to" type="datetime-local" step={1} value={draft.to} onInput={set('to')} />
          </Field>
          <div class="actions">
            <button type="submit">Search</button>
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setDraft(EMPTY);
                setFilters(EMPTY);
              }}
            >
              Clear
            </button>
            <button type="button" class="secondary" onClick={events.reload}>
              Refresh
            </button>
          </div>
        </form>
      </Section>
      <Section title="Events">
        <Loading loaded={events} />
        {events.data && items.length === 0 ? (
          <Empty title={filtered ? 'No event matches these filters.' : 'No inbound events yet.'}>
            {filtered ? (
              'Clear the filters or widen the time range.'
            ) : (
              <>
                Events appear here when a provider posts to a source’s ingest URL. Copy one from{' '}
                <a href={href('sources')}>Sources</a>.
              </>
            )}
          </Empty>
        ) : null}
        {items.length > 0 ? (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Received</th>
                  <th>Source</th>
                  <th>Type</th>
                  <th>Provider event id</th>
                  <th>Status</th>
                  <th>Tenant</th>
                  <th>Verified</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <tr key={e.id} data-event-id={e.id}>
                    <td>
                      <a href={href('events', e.id)}>
                        <Time iso={e.receivedAt} />
                      </a>
                    </td>
                    <td>{names.get(e.sourceId) ?? e.sourceId}</td>
                    <td>{e.eventType ?? <span class="muted">—</span>}</td>
                    <td>
                      <code>{e.providerEventId ?? '—'}</code>
                    </td>
                    <td>
                      <Badge value={e.status} />
                    </td>
                    <td>{e.tenantId ?? <span class="muted">—</span>}</td>
                    <td>{e.verified ? 'yes' : 'no'}</td>
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
