import { useState } from 'preact/hooks';
import { api, projectPath } from '../api-client.ts';
import {
  Badge,
  CopyButton,
  Empty,
  ErrorBox,
  Field,
  inputValue,
  Loading,
  Section,
  useAction,
  useLoad,
} from '../ui.tsx';

interface Integration {
  key: string;
  name: string;
  origin: 'shipped' | 'project';
  authType: string;
  triggers: { type: string; title: string; level: string }[];
  settings: { clientIdSet: boolean; clientSecretSet: boolean; settings: Record<string, boolean> };
  appWebhookUrl: string | null;
}

export function IntegrationsPage() {
  const list = useLoad(() => api<{ items: Integration[] }>(projectPath('/integrations')), []);
  const [open, setOpen] = useState<string | null>(null);
  const items = list.data?.items ?? [];
  return (
    <>
      <h1>Integrations</h1>
      <p class="muted">
        The shipped catalogue and this project’s own integrations, with the settings this project has put.
      </p>
      <Loading loaded={list} />
      {list.data && items.length === 0 ? (
        <Empty title="No integrations.">
          Define one with POST /api/v1/projects/…/integrations (docs/integrations.md).
        </Empty>
      ) : null}
      {items.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Integration</th>
                <th>Auth</th>
                <th>Triggers</th>
                <th>Settings</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => {
                const configured = i.settings.clientIdSet || Object.values(i.settings.settings).some(Boolean);
                return (
                  <tr key={i.key}>
                    <td>
                      <strong>{i.name}</strong> <span class="muted">{i.key}</span>{' '}
                      {i.origin === 'project' ? <Badge value="own" /> : null}
                      {i.appWebhookUrl ? (
                        <div class="url muted">
                          <code>{i.appWebhookUrl}</code>{' '}
                          <CopyButton text={i.appWebhookUrl} label="Copy URL" />
                        </div>
                      ) : null}
                    </td>
                    <td>{i.authType}</td>
                    <td>{i.triggers.length}</td>
                    <td>
                      <Badge value={configured ? 'configured' : 'not_configured'} />
                    </td>
                    <td>
                      <button
                        type="button"
                        class="small"
                        aria-expanded={open === i.key}
                        onClick={() => setOpen(open === i.key ? null : i.key)}
                      >
                        Settings
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {open ? (
        <SettingsForm
          key={open}
          integration={items.find((i) => i.key === open)!}
          onSaved={() => {
            list.reload();
          }}
        />
      ) : null}
    </>
  );
}

function SettingsForm({ integration, onSaved }: { integration: Integration; onSaved: () => void }) {
  const names = Object.keys(integration.settings.settings);
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    const settings: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) if (v !== '') settings[k] = v;
    await api(projectPath(`/integrations/${encodeURIComponent(integration.key)}/settings`), {
      method: 'PUT',
      body: {
        ...(clientId ? { clientId } : {}),
        ...(clientSecret ? { clientSecret } : {}),
        ...(names.length ? { settings } : {}),
      },
    });
    setSaved(true);
    onSaved();
  });
  return (
    <Section title={`${integration.name} settings`}>
      <p class="muted">
        Values are sealed at rest and never shown again; saving replaces what was set. Set now:{' '}
        {integration.settings.clientIdSet ? 'client id, ' : ''}
        {integration.settings.clientSecretSet ? 'client secret, ' : ''}
        {Object.entries(integration.settings.settings)
          .filter(([, set]) => set)
          .map(([k]) => k)
          .join(', ') || 'nothing else'}
        .
      </p>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          void save.act();
        }}
      >
        {integration.authType === 'oauth2' ? (
          <>
            <Field label="OAuth client id">
              <input value={clientId} onInput={(e) => setClientId(inputValue(e))} />
            </Field>
            <Field label="OAuth client secret">
              <input
                type="password"
                autoComplete="off"
                value={clientSecret}
                onInput={(e) => setClientSecret(inputValue(e))}
              />
            </Field>
          </>
        ) : null}
        {names.map((n) => (
          <Field key={n} label={n}>
            <input
              type="password"
              autoComplete="off"
              value={values[n] ?? ''}
              onInput={(e) => setValues({ ...values, [n]: inputValue(e) })}
            />
          </Field>
        ))}
        <ErrorBox error={save.error} />
        {saved ? (
          <p class="ok" role="status">
            Saved.
          </p>
        ) : null}
        <button type="submit" disabled={save.busy}>
          Save settings
        </button>
      </form>
    </Section>
  );
}
