import { useState } from 'preact/hooks';
import { api, projectPath } from '../api-client.ts';
import { useHas } from '../capabilities.ts';
import { EndpointAttempts, RecoverProgress, TestSender } from '../endpoint-activity.tsx';
import { href } from '../router.ts';
import type { Endpoint } from '../types.ts';
import { Badge, ErrorBox, Field, inputValue, Loading, Section, Time, useAction, useLoad } from '../ui.tsx';

const DAY_MS = 86_400_000;
/** `datetime-local` wants local time without a zone. */
const localInput = (ms: number) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};

export function EndpointDetailPage({ id }: { id: string }) {
  const path = projectPath(`/endpoints/${encodeURIComponent(id)}`);
  const endpoint = useLoad(() => api<Endpoint>(path), [id]);
  const [secret, setSecret] = useState<string | null>(null);
  const [since, setSince] = useState(() => localInput(Date.now() - DAY_MS));
  const [recovered, setRecovered] = useState<number | null>(null);
  const toggle = useAction(async (enable: boolean) => {
    if (enable) await api(`${path}/enable`, { method: 'POST' });
    else await api(path, { method: 'PATCH', body: { enabled: false } });
    endpoint.reload();
  });
  const rotate = useAction(async () => {
    const r = await api<{ secret: string }>(`${path}/secret/rotate`, { method: 'POST', body: {} });
    setSecret(r.secret);
  });
  const recover = useAction(async () => {
    const r = await api<{ queued: number }>(`${path}/recover`, {
      method: 'POST',
      body: { since: new Date(since).toISOString() },
    });
    setRecovered(r.queued);
  });
  const hasAttempts = useHas('attempts');
  const hasTest = useHas('testSend');
  const [sentTests, setSentTests] = useState(0);
  const e = endpoint.data;
  return (
    <>
      <p>
        <a href={href('endpoints')}>← Endpoints</a>
      </p>
      <Loading loaded={endpoint} />
      {e ? (
        <>
          <h1>{e.name || e.id}</h1>
          <Section
            title="Health"
            actions={
              <button type="button" class="secondary" onClick={endpoint.reload}>
                Refresh
              </button>
            }
          >
            <dl class="facts">
              <dt>URL</dt>
              <dd>
                <code>{e.url}</code>
              </dd>
              <dt>Status</dt>
              <dd>
                <Badge value={e.status} />{' '}
                {e.health.reason ? <span class="muted">({e.health.reason})</span> : null}
              </dd>
              <dt>Failures in a row</dt>
              <dd>{e.health.consecutiveFailures}</dd>
              <dt>Failing since</dt>
              <dd>
                <Time iso={e.health.firstFailureAt} />
              </dd>
              <dt>Last success</dt>
              <dd>
                <Time iso={e.health.lastSuccessAt} />
              </dd>
              <dt>Event types</dt>
              <dd>{e.eventTypes.length ? e.eventTypes.join(', ') : 'all'}</dd>
            </dl>
            <div class="actions">
              {e.enabled && e.status !== 'disabled' ? (
                <button
                  type="button"
                  class="secondary"
                  disabled={toggle.busy}
                  onClick={() => void toggle.act(false)}
                >
                  Disable
                </button>
              ) : (
                <button type="button" disabled={toggle.busy} onClick={() => void toggle.act(true)}>
                  Enable
                </button>
              )}
            </div>
            <ErrorBox error={toggle.error} />
          </Section>
          {hasAttempts ? <EndpointAttempts key={sentTests} endpointId={e.id} /> : null}
          {hasTest ? (
            <TestSender endpointId={e.id} onSent={() => setTimeout(() => setSentTests((n) => n + 1), 2000)} />
          ) : null}
          <Section title="Signing secret">
            <p class="muted">
              Rotating makes a new secret; the previous one keeps signing for 24 hours so your receiver can
              switch.
            </p>
            <button type="button" class="secondary" disabled={rotate.busy} onClick={() => void rotate.act()}>
              Rotate secret
            </button>
            {secret ? (
              <p class="notice" role="status">
                New secret (shown once): <code>{secret}</code>
              </p>
            ) : null}
            <ErrorBox error={rotate.error} />
          </Section>
          <Section title="Recover failed deliveries">
            <form
              class="form inline"
              onSubmit={(ev) => {
                ev.preventDefault();
                void recover.act();
              }}
            >
              <Field label="Failed since">
                <input
                  type="datetime-local"
                  required
                  value={since}
                  onInput={(ev) => setSince(inputValue(ev))}
                />
              </Field>
              <button type="submit" disabled={recover.busy}>
                {recover.busy ? 'Recovering…' : 'Recover'}
              </button>
            </form>
            {recovered !== null ? (
              <>
                <p class="ok" role="status">
                  {recovered} deliveries re-queued.
                </p>
                <RecoverProgress endpointId={e.id} queued={recovered} />
              </>
            ) : null}
            <ErrorBox error={recover.error} />
          </Section>
        </>
      ) : null}
    </>
  );
}
