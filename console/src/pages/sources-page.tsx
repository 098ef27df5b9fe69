import { useState } from 'preact/hooks';
import { api, type Page, projectPath } from '../api-client.ts';
import { href, navigate } from '../router.ts';
import type { Source } from '../types.ts';
import {
  CopyButton,
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

export function SourcesPage() {
  const sources = useLoad(() => api<Page<Source>>(projectPath('/sources?limit=500')), []);
  const [showForm, setShowForm] = useState(false);
  const items = sources.data?.items ?? [];
  return (
    <>
      <h1>Sources</h1>
      <Section
        title="Sources"
        actions={
          <button type="button" onClick={() => setShowForm(!showForm)} aria-expanded={showForm}>
            New source
          </button>
        }
      >
        {showForm ? <NewSourceForm onCreated={(s) => navigate('sources', s.id)} /> : null}
        <Loading loaded={sources} />
        {sources.data && items.length === 0 ? (
          <Empty title="No sources yet.">
            A source is where a provider sends its webhooks. Press “New source”, give it the provider’s
            signing secret, and paste its ingest URL into the provider’s webhook settings.
          </Empty>
        ) : null}
        {items.length > 0 ? (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Provider</th>
                  <th>Ingest URL</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {items.map((s) => (
                  <tr key={s.id}>
                    <td>
                      <a href={href('sources', s.id)}>{s.name}</a>
                      {s.warnings.length > 0 ? <div class="warn">{s.warnings.join(' ')}</div> : null}
                    </td>
                    <td>{s.provider ?? 'custom'}</td>
                    <td class="url">
                      <code>{s.ingestUrl}</code> <CopyButton text={s.ingestUrl} label="Copy URL" />
                    </td>
                    <td>
                      <Time iso={s.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Section>
    </>
  );
}

function NewSourceForm({ onCreated }: { onCreated: (s: Source) => void }) {
  const [name, setName] = useState('');
  const [provider, setProvider] = useState('');
  const [secret, setSecret] = useState('');
  const [routing, setRouting] = useState('');
  const create = useAction(async () => {
    const body: Record<string, unknown> = { name };
    if (provider.trim()) body.provider = provider.trim();
    if (secret) body.secrets = [secret];
    if (routing.trim()) body.routing = { jsonPath: routing.trim() };
    const created = await api<Source>(projectPath('/sources'), { method: 'POST', body });
    onCreated(created);
  });
  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        void create.act();
      }}
    >
      <Field label="Name">
        <input name="name" required value={name} onInput={(e) => setName(inputValue(e))} />
      </Field>
      <Field
        label="Provider preset"
        hint="stripe, github, slack, shopify, standard-webhooks… (empty: custom)"
      >
        <input name="provider" value={provider} onInput={(e) => setProvider(inputValue(e))} />
      </Field>
      <Field label="Signing secret" hint="the secret the provider signs with; can be added later">
        <input
          name="secret"
          type="password"
          autoComplete="off"
          value={secret}
          onInput={(e) => setSecret(inputValue(e))}
        />
      </Field>
      <Field label="Tenant routing (JSON path)" hint="e.g. $.team_id; events are routed by its value">
        <input name="routing" value={routing} onInput={(e) => setRouting(inputValue(e))} />
      </Field>
      <ErrorBox error={create.error} />
      <button type="submit" disabled={create.busy}>
        Create source
      </button>
    </form>
  );
}
