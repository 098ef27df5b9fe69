import { useState } from 'preact/hooks';
import { api, type Page, projectPath } from '../api-client.ts';
import { href, navigate } from '../router.ts';
import type { Endpoint } from '../types.ts';
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

export function EndpointsPage() {
  const endpoints = useLoad(() => api<Page<Endpoint>>(projectPath('/endpoints?limit=500')), []);
  const [showForm, setShowForm] = useState(false);
  const items = endpoints.data?.items ?? [];
  return (
    <>
      <h1>Endpoints</h1>
      <Section
        title="Endpoints"
        actions={
          <button type="button" onClick={() => setShowForm(!showForm)} aria-expanded={showForm}>
            New endpoint
          </button>
        }
      >
        {showForm ? <NewEndpointForm /> : null}
        <Loading loaded={endpoints} />
        {endpoints.data && items.length === 0 ? (
          <Empty title="No endpoints yet.">
            An endpoint is a URL of yours that receives signed messages. Press “New endpoint” and give it a
            URL; routed inbound events and published messages are delivered to it.
          </Empty>
        ) : null}
        {items.length > 0 ? (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Endpoint</th>
                  <th>Status</th>
                  <th>Event types</th>
                  <th>Last success</th>
                  <th>Failures in a row</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <tr key={e.id}>
                    <td>
                      <a href={href('endpoints', e.id)}>{e.name || e.id}</a>
                      <div class="muted url">{e.url}</div>
                    </td>
                    <td>
                      <Badge value={e.status} />
                    </td>
                    <td>{e.eventTypes.length ? e.eventTypes.join(', ') : 'all'}</td>
                    <td>
                      <Time iso={e.health.lastSuccessAt} />
                    </td>
                    <td>{e.health.consecutiveFailures}</td>
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

function NewEndpointForm() {
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [types, setTypes] = useState('');
  const [secret, setSecret] = useState<{ id: string; secret: string } | null>(null);
  const create = useAction(async () => {
    const eventTypes = types
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const r = await api<Endpoint & { secret: string }>(projectPath('/endpoints'), {
      method: 'POST',
      body: { url, ...(name ? { name } : {}), ...(eventTypes.length ? { eventTypes } : {}) },
    });
    setSecret({ id: r.id, secret: r.secret });
  });
  if (secret) {
    return (
      <div class="notice" role="status">
        <p>
          Endpoint created. Its signing secret is shown once: <code>{secret.secret}</code>
        </p>
        <button type="button" onClick={() => navigate('endpoints', secret.id)}>
          Open the endpoint
        </button>
      </div>
    );
  }
  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        void create.act();
      }}
    >
      <Field label="URL">
        <input name="url" type="url" required value={url} onInput={(e) => setUrl(inputValue(e))} />
      </Field>
      <Field label="Name">
        <input name="name" value={name} onInput={(e) => setName(inputValue(e))} />
      </Field>
      <Field label="Event types" hint="comma-separated: exact, * or a prefix like invoice.*; empty: all">
        <input name="eventTypes" value={types} onInput={(e) => setTypes(inputValue(e))} />
      </Field>
      <ErrorBox error={create.error} />
      <button type="submit" disabled={create.busy}>
        Create endpoint
      </button>
    </form>
  );
}
