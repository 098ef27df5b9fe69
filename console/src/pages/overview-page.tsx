import { api, type Page, projectPath } from '../api-client.ts';
import { useHas } from '../capabilities.ts';
import { href } from '../router.ts';
import { StatsCharts } from '../stats-charts.tsx';
import type { Endpoint, EventSummary, Source } from '../types.ts';
import { Badge, Loading, Section, Time, useLoad } from '../ui.tsx';

export function OverviewPage() {
  const data = useLoad(async () => {
    const [sources, endpoints, events] = await Promise.all([
      api<Page<Source>>(projectPath('/sources?limit=500')),
      api<Page<Endpoint>>(projectPath('/endpoints?limit=500')),
      api<Page<EventSummary>>(projectPath('/events?limit=10')),
    ]);
    return { sources: sources.items, endpoints: endpoints.items, events: events.items };
  }, []);
  const hasStats = useHas('stats');
  const d = data.data;
  const failing = d?.endpoints.filter((e) => e.status !== 'active') ?? [];
  return (
    <>
      <h1>Overview</h1>
      <Loading loaded={data} />
      {d ? (
        <>
          <div class="stats">
            <a class="stat" href={href('sources')}>
              <span class="stat-value">{d.sources.length}</span> sources
            </a>
            <a class="stat" href={href('endpoints')}>
              <span class="stat-value">{d.endpoints.length}</span> endpoints
            </a>
            <a class="stat" href={href('endpoints')}>
              <span class="stat-value">{failing.length}</span> not active
            </a>
          </div>
          {d.sources.length === 0 ? (
            <Section title="Get started">
              <ol>
                <li>
                  <a href={href('sources')}>Create a source</a> and paste its ingest URL into your provider’s
                  webhook settings.
                </li>
                <li>
                  <a href={href('endpoints')}>Add an endpoint</a>: a URL of yours where Hookyard delivers
                  signed events.
                </li>
              </ol>
            </Section>
          ) : null}
          {hasStats ? <StatsCharts /> : null}
          {failing.length > 0 ? (
            <Section title="Endpoints needing attention">
              <ul>
                {failing.map((e) => (
                  <li key={e.id}>
                    <a href={href('endpoints', e.id)}>{e.name || e.url}</a> <Badge value={e.status} />{' '}
                    {e.health.reason ?? ''}
                  </li>
                ))}
              </ul>
            </Section>
          ) : null}
          <Section title="Latest inbound events">
            {d.events.length === 0 ? (
              <p class="muted">None yet.</p>
            ) : (
              <ul>
                {d.events.map((e) => (
                  <li key={e.id}>
                    <a href={href('events', e.id)}>
                      <Time iso={e.receivedAt} />
                    </a>{' '}
                    {e.eventType ?? e.id} <Badge value={e.status} />
                  </li>
                ))}
              </ul>
            )}
          </Section>
        </>
      ) : null}
    </>
  );
}
