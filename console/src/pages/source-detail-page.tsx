import { useState } from 'preact/hooks';
import { api, projectPath } from '../api-client.ts';
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
