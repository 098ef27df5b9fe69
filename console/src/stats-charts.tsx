import { useState } from 'preact/hooks';
import { api, projectPath, query } from './api-client.ts';
import { LineChart } from './line-chart.tsx';
import { Loading, Section, useLoad } from './ui.tsx';

interface Bucket {
  start: string;
  accepted: number;
  refused: number;
  delivered: number;
  failed: number;
  latencyP50Ms: number | null;
  latencyP90Ms: number | null;
  latencyP99Ms: number | null;
}

const RANGES = {
  '1h': { ms: 3_600_000, bucket: '1m' },
  '24h': { ms: 86_400_000, bucket: '1h' },
  '7d': { ms: 7 * 86_400_000, bucket: '6h' },
} as const;
type Range = keyof typeof RANGES;

/** Throughput, failures and latency over time, from the stats API (one grouped query per figure). */
export function StatsCharts() {
  const [range, setRange] = useState<Range>('24h');
  const stats = useLoad(() => {
    const r = RANGES[range];
    return api<{ buckets: Bucket[] }>(
      projectPath(`/stats${query({ from: new Date(Date.now() - r.ms).toISOString(), bucket: r.bucket })}`),
    );
  }, [range]);
  const buckets = stats.data?.buckets ?? [];
  const labels = buckets.map((b) => {
    const d = new Date(b.start);
    return range === '7d'
      ? d.toLocaleDateString(undefined, { weekday: 'short', hour: '2-digit' })
      : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  });
  return (
    <Section
      title="Activity"
      actions={
        <>
          {(Object.keys(RANGES) as Range[]).map((r) => (
            <button
              key={r}
              type="button"
              class={r === range ? '' : 'secondary'}
              aria-pressed={r === range}
              onClick={() => setRange(r)}
            >
              {r}
            </button>
          ))}
          <button type="button" class="secondary" onClick={stats.reload}>
            Refresh
          </button>
        </>
      }
    >
      <Loading loaded={stats} />
      {buckets.length > 0 ? (
        <div class="charts">
          <LineChart
            title="Inbound requests"
            labels={labels}
            series={[
              { name: 'accepted', tone: 'series-1', values: buckets.map((b) => b.accepted) },
              { name: 'refused', tone: 'series-2', values: buckets.map((b) => b.refused) },
            ]}
          />
          <LineChart
            title="Deliveries"
            labels={labels}
            series={[
              { name: 'delivered', tone: 'series-3', values: buckets.map((b) => b.delivered) },
              { name: 'failed', tone: 'series-2', values: buckets.map((b) => b.failed) },
            ]}
          />
          <LineChart
            title="Delivery latency (publish to success)"
            unit=" ms"
            labels={labels}
            series={[
              { name: 'p50', tone: 'series-1', values: buckets.map((b) => b.latencyP50Ms) },
              { name: 'p90', tone: 'series-4', values: buckets.map((b) => b.latencyP90Ms) },
              { name: 'p99', tone: 'series-2', values: buckets.map((b) => b.latencyP99Ms) },
            ]}
          />
        </div>
      ) : null}
    </Section>
  );
}
