import { useState } from 'preact/hooks';
import { api, type Page, projectPath } from '../api-client.ts';
import { useHas } from '../capabilities.ts';
import { href } from '../router.ts';
import type { Source } from '../types.ts';
import {
  CopyButton,
  Empty,
  ErrorBox,
  Field,
  inputValue,
  Json,
  Loading,
  Section,
  Time,
  useAction,
  useLoad,
} from '../ui.tsx';

interface Tenant {
  id: string;
  providerAccountId: string;
  userId: string | null;
  createdAt: string;
}

export function SourceDetailPage({ id }: { id: string }) {
  const source = useLoad(() => api<Source>(projectPath(`/sources/${encodeURIComponent(id)}`)), [id]);
  const tenants = useLoad(
    () => api<{ items: Tenant[] }>(projectPath(`/sources/${encodeURIComponent(id)}/tenants`)),
    [id],
  );
  const [secret, setSecret] = useState('');
  const [rotated, setRotated] = useState(false);
  const rotate = useAction(async () => {
    await api(projectPath(`/sources/${encodeURIComponent(id)}/secrets/rotate`), {
      method: 'POST',
      body: { secret },
    });
    setSecret('');
    setRotated(true);
    source.reload();
  });
  const hasRefused = useHas('refused');
  const s = source.data;
  return (
    <>
      <p>
        <a href={href('sources')}>← Sources</a>
      </p>
      <Loading loaded={source} />
      {s ? (
        <>
          <h1>{s.name}</h1>
          <Section title="Ingest URL">
            <p class="url">
              <code>{s.ingestUrl}</code> <CopyButton text={s.ingestUrl} label="Copy URL" />
            </p>
            {s.warnings.map((w) => (
              <p key={w} class="warn">
                {w}
              </p>
            ))}
            <p>
              <a href={`${href('events')}?sourceId=${encodeURIComponent(s.id)}`}>Its inbound events</a>
            </p>
          </Section>
          {hasRefused ? <RefusedRequests sourceId={s.id} /> : null}
          <Section title="Settings">
            <Json value={s} />
          </Section>
          <Section title="Signing secrets">
            <p class="muted">
              {s.secrets.length} live secret(s). Adding one keeps the current ones valid for 24 hours, so the
              provider can switch over.
            </p>
            <form
              class="form inline"
              onSubmit={(e) => {
                e.preventDefault();
                void rotate.act();
              }}
            >
              <Field label="New secret">
                <input
                  type="password"
                  autoComplete="off"
                  required
                  value={secret}
                  onInput={(e) => setSecret(inputValue(e))}
                />
              </Field>
              <button type="submit" disabled={rotate.busy}>
                Add secret
              </button>
            </form>
            {rotated ? <p class="ok">Secret added.</p> : null}
            <ErrorBox error={rotate.error} />
          </Section>
          <Section title="Tenant bindings">
            <Loading loaded={tenants} />
            {tenants.data && tenants.data.items.length === 0 ? (
              <Empty title="No tenant bindings.">
                {s.routing
                  ? 'Events whose account id is not bound wait in the unrouted inbox, where you can bind them.'
                  : 'This source has no routing rule, so every event is delivered without a tenant.'}
              </Empty>
            ) : null}
            {tenants.data && tenants.data.items.length > 0 ? (
              <ul>
                {tenants.data.items.map((t) => (
                  <li key={t.id}>
                    <code>{t.providerAccountId}</code> → {t.id}
                    {t.userId ? ` (user ${t.userId})` : ''} · <Time iso={t.createdAt} />
                  </li>
                ))}
              </ul>
            ) : null}
          </Section>
        </>
      ) : null}
    </>
  );
}

interface Refused {
  id: string;
  reasonCode: string;
  reason: string;
  status: number;
  method: string;
  metadata: Record<string, string>;
  remoteAddress: string | null;
  bodyBytes: number;
  bodySha256: string | null;
  count: number;
  receivedAt: string;
}

/** Requests refused before storage (bad signature, too large…): reason, metadata and body hash, never the body. */
function RefusedRequests({ sourceId }: { sourceId: string }) {
  const refused = useLoad(
    () => api<Page<Refused>>(projectPath(`/sources/${encodeURIComponent(sourceId)}/refused?limit=50`)),
    [sourceId],
  );
  const items = refused.data?.items ?? [];
  return (
    <Section
      title="Refused requests"
      actions={
        <button type="button" class="secondary" onClick={refused.reload}>
          Refresh
        </button>
      }
    >
      <Loading loaded={refused} />
      {refused.data && items.length === 0 ? (
        <Empty title="No refused request.">
          Requests this source refuses before storing them (a bad signature, a body too large) are listed here
          with their reason, for a limited time.
        </Empty>
      ) : null}
      {items.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Received</th>
                <th>Reason</th>
                <th>Answer</th>
                <th>Body</th>
                <th>From</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Time iso={r.receivedAt} />
                    {r.count > 1 ? <div class="muted">×{r.count}</div> : null}
                  </td>
                  <td>
                    {r.reason} <span class="muted">({r.reasonCode})</span>
                  </td>
                  <td>
                    {r.method} → {r.status}
                  </td>
                  <td>
                    {r.bodyBytes} bytes
                    {r.bodySha256 ? (
                      <div class="muted">
                        sha256 <code>{r.bodySha256.slice(0, 16)}…</code>
                      </div>
                    ) : null}
                  </td>
                  <td>{r.remoteAddress ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Section>
  );
}
