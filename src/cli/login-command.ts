import { createApiClient } from './api-client.ts';
import { EXIT, UsageError } from './cli-errors.ts';
import { clientCommand } from './client-command.ts';
import { normaliseUrl, readClientConfig, writeClientConfig } from './client-config.ts';

export const LOGIN_HELP = `Usage: hookyard login --url URL --key KEY [--project prj_…]

Checks the key against the server and saves the URL and key (and the key's project) to
$XDG_CONFIG_HOME/hookyard/config.json, else ~/.config/hookyard/config.json, readable by you only
(mode 0600). The other client commands use them when --url/--key and HOOKYARD_URL/HOOKYARD_KEY
are not given.

Example:
  hookyard login --url http://localhost:7070 --key hyk_…`;

export const loginCommand = clientCommand('login', LOGIN_HELP, {}, async ({ values, out }) => {
  const rawUrl = (values.url as string | undefined) ?? process.env.HOOKYARD_URL;
  const key = (values.key as string | undefined) ?? process.env.HOOKYARD_KEY;
  if (!rawUrl || !key) throw new UsageError('--url and --key are required.');
  const url = normaliseUrl(rawUrl, '--url');
  const client = createApiClient({ url, key, projectId: values.project as string | undefined });
  // Checks the key, and finds its project when it has exactly one.
  const page = await client.request<{ items: Array<{ id: string; name: string }> }>(
    'GET',
    '/api/v1/projects?limit=2',
  );
  const projectId =
    (values.project as string | undefined) ?? (page.items.length === 1 ? page.items[0]?.id : undefined);
  const previous = readClientConfig();
  const file = writeClientConfig({
    ...(previous.listenSecret ? { listenSecret: previous.listenSecret } : {}),
    url,
    key,
    ...(projectId ? { projectId } : {}),
  });
  out.log(`Logged in to ${url}${projectId ? ` (project ${projectId})` : ''}; saved to ${file}`);
  return EXIT.ok;
});
