import { useEffect, useState } from 'preact/hooks';
import { api, type Page, projectPath, query } from './api-client.ts';
import { AttemptTimeline } from './attempt-timeline.tsx';
import { useHas } from './capabilities.ts';
import { LineChart } from './line-chart.tsx';
import { href } from './router.ts';
import type { Attempt, Delivery } from './types.ts';
import { Empty, ErrorBox, Field, Loading, Section, useAction, useLoad } from './ui.tsx';

type EndpointAttempt = Attempt & { deliveryId: string; messageId: string };

const RECENT = 100;

/** Success rate and latency of the endpoint's latest attempts, with a latency chart. */
export function EndpointAttempts({ endpointId }: { endpointId: string }) {
  const attempts = useLoad(
    () =>
      api<Page<EndpointAttempt>>(
        projectPath(`/endpoints/${encodeURIComponent(endpointId)}/attempts?limit=${RECENT}`),
      ),
    [endpointId],
  );
  const items = attempts.data?.items ?? [];
  const ok = items.filter((a) => a.outcome === 'succeeded').length;
  const sorted = items.map((a) => a.durationMs).sort((a, b) => a - b);
  const pct = (p: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] : null;
  const chronological = [...items].reverse();
  return (
    <Section
      title="Recent attempts"
      actions={
        <button type="button" class="secondary" onClick={attempts.reload}>
          Refresh
        </button>
      }
    >
      <Loading loaded={attempts} />
      {attempts.data && items.length === 0 ? (
        <Empty title="No attempt yet.">
          Send a test event below, or publish a message of a type this endpoint takes.
        </Empty>
      ) : null}
      {items.length > 0 ? (
        <>
          <div class="stats">
            <div class="stat">
              <span class="stat-value">{Math.round((ok / items.length) * 1000) / 10}%</span> success of the
              last {items.length}
            </div>
            <div class="stat">
              <span class="stat-value">{pct(0.5)} ms</span> median latency
            </div>
            <div class="stat">
              <span class="stat-value">{pct(0.9)} ms</span> p90 latency
            </div>
          </div>
          <LineChart
            title="Latency of each attempt"
            unit=" ms"
            labels={chronological.map((a) => new Date(a.startedAt).toLocaleTimeString())}
            series={[
              {
                name: 'succeeded',
                tone: 'series-3',
                values: chronological.map((a) => (a.outcome === 'succeeded' ? a.durationMs : null)),
              },
              {
                name: 'failed',
                tone: 'series-2',
                values: chronological.map((a) => (a.outcome === 'failed' ? a.durationMs : null)),
              },
            ]}
          />
          <details>
            <summary>The last {Math.min(10, items.length)} attempts</summary>
            <AttemptTimeline attempts={items.slice(0, 10)} />
            <ul>
              {items.slice(0, 10).map((a) => (
                <li key={a.id}>
                  <a href={href('messages', a.messageId)}>{a.messageId}</a> attempt #{a.attemptNumber}
                </li>
              ))}
            </ul>
          </details>
        </>
      ) : null}
    </Section>
  );
}

/** The test sender: an event type's example payload to this endpoint, then its attempt as it happens. */
export function TestSender({ endpointId, onSent }: { endpointId: string; onSent?: () => void }) {
  const types = useLoad(
    () => api<Page<{ name: string; example: unknown }>>(projectPath('/event-types?limit=500')),
    [],
  );
  const withExample = (types.data?.items ?? []).filter((t) => t.example !== null && t.example !== undefined);
  const [eventType, setEventType] = useState('');
  const [sent, setSent] = useState<{ messageId: string; deliveryId: string } | null>(null);
  const [delivery, setDelivery] = useState<Delivery | null>(null);
  const send = useAction(async () => {
    setDelivery(null);
    const r = await api<{ messageId: string; deliveryId: string }>(
      projectPath(`/endpoints/${encodeURIComponent(endpointId)}/test`),
      { method: 'POST', body: { eventType: eventType || withExample[0]?.name } },
    );
    setSent(r);
    onSent?.();
  });
  // Watch the delivery until it is settled (or a minute passes).
  useEffect(() => {
    if (!sent) return;
    let stop = false;
    const started = Date.now();
    const look = async () => {
      if (stop) return;
      try {
        const r = await api<{ items: Delivery[] }>(
          projectPath(`/messages/${encodeURIComponent(sent.messageId)}/deliveries`),
        );
        const d = r.items.find((x) => x.id === sent.deliveryId) ?? r.items[0] ?? null;
        setDelivery(d);
        if (d && d.status !== 'pending' && d.attempts.length > 0) return;
      } catch {}
      if (Date.now() - started < 60_000) setTimeout(look, 700);
    };
    void look();
    return () => {
      stop = true;
    };
  }, [sent]);
  return (
    <Section title="Send a test event">
      <Loading loaded={types} />
      {types.data && withExample.length === 0 ? (
        <Empty title="No event type with an example payload.">
          Register one with <code>POST /api/v1/projects/…/event-types</code> and{' '}
          <code>{'{"name":"invoice.paid","example":{…}}'}</code>; its example is what the test sends.
        </Empty>
      ) : null}
      {withExample.length > 0 ? (
        <form
          class="form inline"
          onSubmit={(e) => {
            e.preventDefault();
            void send.act();
          }}
        >
          <Field label="Event type">
            <select
              name="testEventType"
              value={eventType || withExample[0]?.name}
              onChange={(e) => setEventType((e.currentTarget as HTMLSelectElement).value)}
            >
              {withExample.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.name}
                </option>
              ))}
            </select>
          </Field>
          <button type="submit" disabled={send.busy}>
            Send test event
          </button>
        </form>
      ) : null}
      <ErrorBox error={send.error} />
      {sent ? (
        <div class="delivery" role="status">
          <p>
            Sent as <a href={href('messages', sent.messageId)}>{sent.messageId}</a>:{' '}
            {delivery ? delivery.status : 'waiting for the attempt…'}
          </p>
          {delivery ? <AttemptTimeline attempts={delivery.attempts} /> : null}
        </div>
      ) : null}
    </Section>
  );
}

/** After a recover: how many of the re-queued deliveries are still pending, until none are. */
export function RecoverProgress({ endpointId, queued }: { endpointId: string; queued: number }) {
  const has = useHas('deliveries');
  const [pending, setPending] = useState<number | null>(null);
  useEffect(() => {
    if (!has || queued === 0) return;
    let stop = false;
    const look = async () => {
      if (stop) return;
      try {
        const page = await api<Page<Delivery>>(
          projectPath(`/deliveries${query({ status: 'pending', endpointId, limit: 500 })}`),
        );
        setPending(page.items.length);
        if (page.items.length === 0) return;
      } catch {}
      setTimeout(look, 1000);
    };
    void look();
    return () => {
      stop = true;
    };
  }, [has, endpointId, queued]);
  if (!has || queued === 0 || pending === null) return null;
  const done = Math.max(0, queued - pending);
  return (
    <div class="progress-wrap">
      <progress max={queued} value={done} aria-label="Recovered deliveries sent" />
      <span class="muted">
        {pending === 0
          ? `All ${queued} re-queued deliveries were attempted.`
          : `${pending} still pending of ${queued}.`}
      </span>
    </div>
  );
}
