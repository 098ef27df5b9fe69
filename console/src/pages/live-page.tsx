import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Page, projectPath, query, session } from '../api-client.ts';
import { href } from '../router.ts';
import type { EventSummary, Source } from '../types.ts';
import { Badge, Empty, ErrorBox, Field, inputValue, Section, Time, useAction, useLoad } from '../ui.tsx';

interface Refusal {
  id: string;
  sourceId: string;
  reasonCode: string;
  reason: string;
  status: number;
  receivedAt: string;
}

type Row = { kind: 'event'; data: EventSummary } | { kind: 'refusal'; data: Refusal };

const MAX_ROWS = 200;

/**
 * The live stream over Server-Sent Events. EventSource cannot send an Authorization header, so
 * each connection takes a one-time ticket (valid 60 s) from the API: the key never enters a URL.
 */
export function LivePage() {
  const sources = useLoad(() => api<Page<Source>>(projectPath('/sources?limit=500')), []);
  const [sourceId, setSourceId] = useState('');
  const [types, setTypes] = useState('');
  const [applied, setApplied] = useState({ sourceId: '', types: '' });
  const [rows, setRows] = useState<Row[]>([]);
  const [state, setState] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const connect = useAction(async () => {
    const { ticket } = await api<{ ticket: string }>(projectPath('/stream-tickets'), {
      method: 'POST',
      body: {},
    });
    return new EventSource(
      `/api/v1${projectPath(`/stream${query({ ticket, sourceId: applied.sourceId, types: applied.types })}`)}`,
    );
  });

  useEffect(() => {
    let closed = false;
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const add = (row: Row) => {
      if (pausedRef.current) return;
      setRows((r) => [row, ...r.filter((x) => x.data.id !== row.data.id)].slice(0, MAX_ROWS));
    };
    const open = async () => {
      if (closed || !session.key()) return;
      const es = await connect.act();
      if (closed) {
        es?.close();
        return;
      }
      if (!es) {
        setState('reconnecting');
        retry = setTimeout(open, 5000);
        return;
      }
      source = es;
      es.onopen = () => setState('live');
      es.addEventListener('inbound.event', (m) =>
        add({ kind: 'event', data: JSON.parse((m as MessageEvent).data) }),
      );
      es.addEventListener('inbound.refused', (m) =>
        add({ kind: 'refusal', data: JSON.parse((m as MessageEvent).data) }),
      );
      es.onerror = () => {
        // A ticket works once: after a drop the browser's own retry is refused, so take a new one.
        if (es.readyState === EventSource.CLOSED && !closed) {
          setState('reconnecting');
          retry = setTimeout(open, 1000);
        } else if (!closed) setState('reconnecting');
      };
    };
    setState('connecting');
    void open();
    return () => {
      closed = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [applied.sourceId, applied.types]);

  const names = new Map((sources.data?.items ?? []).map((s) => [s.id, s.name]));
  return (
    <>
      <h1>Live</h1>
      <Section
        title="Stream"
        actions={
          <>
            <span class="live-state" role="status">
              <Badge value={state} />
            </span>
            <button type="button" class="secondary" onClick={() => setPaused(!paused)} aria-pressed={paused}>
              {paused ? 'Resume' : 'Pause'}
            </button>
            <button type="button" class="secondary" onClick={() => setRows([])}>
              Clear
            </button>
          </>
        }
      >
        <form
          class="form inline"
          onSubmit={(e) => {
            e.preventDefault();
            setRows([]);
            setApplied({ sourceId, types: types.trim() });
          }}
        >
          <Field label="Source">
            <select
              value={sourceId}
              onChange={(e) => setSourceId((e.currentTarget as HTMLSelectElement).value)}
            >
              <option value="">All sources</option>
              {(sources.data?.items ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Event types" hint="comma-separated, e.g. issues, invoice.*">
            <input value={types} onInput={(e) => setTypes(inputValue(e))} />
          </Field>
          <button type="submit">Watch</button>
        </form>
        <ErrorBox error={connect.error} />
        {rows.length === 0 ? (
          <Empty title="Waiting for events…">
            Each inbound event and each refused request shows here as it lands. Send a test webhook to one of
            your <a href={href('sources')}>sources’ ingest URLs</a>.
          </Empty>
        ) : (
          <div class="table-wrap">
            <table aria-live="polite">
              <thead>
                <tr>
                  <th>Received</th>
                  <th>Source</th>
                  <th>What</th>
                  <th>Status</th>
                  <th>
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) =>
                  r.kind === 'event' ? (
                    <tr key={r.data.id} data-event-id={r.data.id}>
                      <td>
                        <a href={href('events', r.data.id)}>
                          <Time iso={r.data.receivedAt} />
                        </a>
                      </td>
                      <td>{names.get(r.data.sourceId) ?? r.data.sourceId}</td>
                      <td>
                        {r.data.eventType ?? 'event'} <code>{r.data.providerEventId ?? ''}</code>
                      </td>
                      <td>
                        <Badge value={r.data.status} />
                      </td>
                      <td>
                        <ReplayButton eventId={r.data.id} />
                      </td>
                    </tr>
                  ) : (
                    <tr key={r.data.id}>
                      <td>
                        <Time iso={r.data.receivedAt} />
                      </td>
                      <td>{names.get(r.data.sourceId) ?? r.data.sourceId}</td>
                      <td>
                        {r.data.reason} <span class="muted">(HTTP {r.data.status})</span>
                      </td>
                      <td>
                        <Badge value="refused" />
                      </td>
                      <td />
                    </tr>
                  ),
                )}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}

/** Forwards a stored event again to the endpoints (an event still being routed is refused, in the API's words). */
function ReplayButton({ eventId }: { eventId: string }) {
  const [note, setNote] = useState<string | null>(null);
  const replay = useAction(async () => {
    const r = await api<{ routingRequeued: boolean; deliveries: number | null }>(
      projectPath(`/events/${encodeURIComponent(eventId)}/replay`),
      { method: 'POST', body: {} },
    );
    setNote(r.routingRequeued ? 'routing again' : `replayed to ${r.deliveries ?? 0} endpoint(s)`);
  });
  return (
    <>
      <button type="button" class="small" disabled={replay.busy} onClick={() => void replay.act()}>
        Replay
      </button>
      {note ? <span class="ok"> {note}</span> : null}
      <ErrorBox error={replay.error} />
    </>
  );
}
