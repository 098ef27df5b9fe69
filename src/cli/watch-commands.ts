import { EXIT } from './cli-errors.ts';
import { clientCommand, row, time } from './client-command.ts';
import { openEventStream } from './event-stream.ts';

export const TAIL_HELP = `Usage: hookyard tail [--source src_…] [--json]

Shows the project's inbound events, and requests refused before storage, as a live table until
interrupted (Ctrl-C). --json prints one JSON object a line instead.

Example:
  hookyard tail --source src_…`;

export const STATUS_HELP = `Usage: hookyard status [--json]

Shows the health of the project's endpoints: state (active, failing, disabled), consecutive
failures and the last success.

Example:
  hookyard status --json`;

const TAIL_WIDTHS = [8, 8, 30, 30, 24];

export const tailCommand = clientCommand(
  'tail',
  TAIL_HELP,
  { source: { type: 'string' } },
  async ({ values, out, api, json }) => {
    const client = api();
    const projectId = await client.projectId();
    const source = values.source as string | undefined;
    const stream = openEventStream(client.target, projectId, source ? { sourceId: source } : {}, {
      onOpen: () => {
        out.error(`Ready. Showing events of ${projectId} (${source ?? 'all sources'}) as they land.`);
        if (!json) out.log(row(['TIME', 'KIND', 'ID', 'SOURCE', 'TYPE', 'DETAIL'], TAIL_WIDTHS));
      },
      onEvent: (e) => {
        if (json) {
          out.log(JSON.stringify({ kind: e.kind, ...e.data }));
          return;
        }
        if (e.kind === 'inbound.event') {
          const d = e.data;
          out.log(
            row(
              [
                time(d.receivedAt),
                'event',
                d.id,
                d.sourceId,
                d.eventType ?? '-',
                `${d.status} ${d.bodyBytes} B`,
              ],
              TAIL_WIDTHS,
            ),
          );
          return;
        }
        const r = e.data;
        out.log(
          row(
            [time(r.receivedAt), 'refused', r.id, r.sourceId, r.reasonCode, `${r.status} ${r.reason}`],
            TAIL_WIDTHS,
          ),
        );
      },
      onDisconnect: (message) => out.error(`connection lost (${message}); reconnecting…`),
    });
    const interrupted = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await Promise.race([stream.done, interrupted]);
    stream.close();
    return EXIT.ok;
  },
);

interface EndpointView {
  id: string;
  url: string;
  name: string;
  status: string;
  health: { consecutiveFailures: number; lastSuccessAt: string | null; reason: string | null };
}

export const statusCommand = clientCommand('status', STATUS_HELP, {}, async ({ out, api, json }) => {
  const client = api();
  const projectId = await client.projectId();
  const endpoints: EndpointView[] = [];
  let after: string | null = null;
  do {
    const page: { items: EndpointView[]; nextCursor: string | null } = await client.request(
      'GET',
      `/api/v1/projects/${projectId}/endpoints?limit=200${after ? `&after=${after}` : ''}`,
    );
    endpoints.push(...page.items);
    after = page.nextCursor;
    if (process.stderr.isTTY) process.stderr.write(`\rreading endpoints: ${endpoints.length}`);
  } while (after);
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  if (json) {
    out.log(JSON.stringify({ items: endpoints }));
    return EXIT.ok;
  }
  if (endpoints.length === 0) {
    out.log('No endpoints yet: create one with POST /api/v1/projects/{projectId}/endpoints.');
    return EXIT.ok;
  }
  const widths = [30, 9, 8, 20];
  out.log(row(['ENDPOINT', 'STATUS', 'FAILURES', 'LAST SUCCESS', 'URL'], widths));
  for (const e of endpoints) {
    out.log(
      row(
        [
          e.id,
          e.status,
          String(e.health.consecutiveFailures),
          e.health.lastSuccessAt?.slice(0, 19) ?? '-',
          e.url,
        ],
        widths,
      ),
    );
  }
  return EXIT.ok;
});
