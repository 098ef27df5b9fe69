import { useState } from 'preact/hooks';
import { api, type Page, projectPath } from '../api-client.ts';
import { href } from '../router.ts';
import type { EventDetail, EventSummary, Source } from '../types.ts';
import { Empty, ErrorBox, Field, inputValue, Loading, Section, Time, useAction, useLoad } from '../ui.tsx';

interface Group {
  sourceId: string;
  accountId: string;
  events: EventSummary[];
}

/** How many unrouted events are read to group by account id. */
const INBOX_LIMIT = 100;

export function UnroutedPage() {
  const inbox = useLoad(async () => {
    const [page, sources] = await Promise.all([
      api<Page<EventSummary>>(projectPath(`/events?status=unrouted&limit=${INBOX_LIMIT}`)),
      api<Page<Source>>(projectPath('/sources?limit=500')),
    ]);
    // The account id an event waits on is its routing key, shown in the event's detail.
    const details = await Promise.all(
      page.items.map((e) => api<EventDetail>(projectPath(`/events/${encodeURIComponent(e.id)}`))),
    );
    const groups = new Map<string, Group>();
    for (const d of details) {
      const accountId = d.routing.routingKey ?? '';
      const k = `${d.sourceId}\n${accountId}`;
      const g = groups.get(k) ?? { sourceId: d.sourceId, accountId, events: [] };
      g.events.push(d);
      groups.set(k, g);
    }
    return {
      groups: [...groups.values()],
      names: new Map(sources.items.map((s) => [s.id, s.name])),
      more: page.nextCursor !== null,
    };
  }, []);
  const data = inbox.data;
  return (
    <>
      <h1>Unrouted inbox</h1>
      <p class="muted">
        Events whose account id (Slack team, HubSpot portal…) is bound to no tenant wait here. Binding the
        account id to a tenant replays them.
      </p>
      <Loading loaded={inbox} />
      {data && data.groups.length === 0 ? (
        <Empty title="Nothing is waiting.">
          Every event with a routing rule found its tenant. Unrouted events show up here when a new account
          installs your app before you bind it.
        </Empty>
      ) : null}
      {data?.groups.map((g) => (
        <BindCard
          key={`${g.sourceId}/${g.accountId}`}
          group={g}
          sourceName={data.names.get(g.sourceId)}
          onBound={inbox.reload}
        />
      ))}
      {data?.more ? <p class="muted">Showing the newest {INBOX_LIMIT} unrouted events.</p> : null}
    </>
  );
}

function BindCard({
  group,
  sourceName,
  onBound,
}: {
  group: Group;
  sourceName: string | undefined;
  onBound: () => void;
}) {
  const [userId, setUserId] = useState('');
  const [result, setResult] = useState<string | null>(null);
  const bind = useAction(async () => {
    const r = await api<{ tenant: { id: string }; replayed: number }>(
      projectPath(`/sources/${encodeURIComponent(group.sourceId)}/tenants`),
      { method: 'POST', body: { providerAccountId: group.accountId, ...(userId ? { userId } : {}) } },
    );
    setResult(`Bound to ${r.tenant.id}; ${r.replayed} event(s) replayed.`);
    setTimeout(onBound, 1500);
  });
  return (
    <Section title={`${sourceName ?? group.sourceId} · account ${group.accountId || '(none)'}`}>
      <p>
        {group.events.length} event(s) waiting, newest <Time iso={group.events[0]?.receivedAt} />:{' '}
        {group.events.slice(0, 5).map((e) => (
          <a key={e.id} class="chip" href={href('events', e.id)}>
            {e.eventType ?? e.id}
          </a>
        ))}
      </p>
      {group.accountId ? (
        <form
          class="form inline"
          onSubmit={(e) => {
            e.preventDefault();
            void bind.act();
          }}
        >
          <Field label="Your user id (optional)">
            <input name="userId" value={userId} onInput={(e) => setUserId(inputValue(e))} />
          </Field>
          <button type="submit" disabled={bind.busy}>
            Bind {group.accountId} and replay
          </button>
        </form>
      ) : (
        <p class="muted">These events carry no account id: check the source’s routing rule.</p>
      )}
      {result ? (
        <p class="ok" role="status">
          {result}
        </p>
      ) : null}
      <ErrorBox error={bind.error} />
    </Section>
  );
}
