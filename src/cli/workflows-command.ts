import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { EXIT, UsageError } from './cli-errors.ts';
import { clientCommand } from './client-command.ts';

export const WORKFLOWS_HELP = `Usage: hookyard workflows apply FILE [--json]

Creates the workflow described in FILE (YAML or JSON: the document of
POST /api/v1/projects/{projectId}/workflows), or, when the project has a workflow with the same
name, puts the document as its new version. Prints the workflow id and its version. Deploying
and enabling stay separate steps.

Example:
  hookyard workflows apply onboarding.yaml`;

/** A workflow document larger than the server accepts is refused before it is sent. */
const MAX_FILE_BYTES = 256 * 1024;

function readDocument(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) {
    throw new UsageError(`${file}: at most ${MAX_FILE_BYTES} bytes`);
  }
  let doc: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both.
    doc = parseYaml(text);
  } catch (err) {
    throw new UsageError(`${file}: not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UsageError(`${file}: expected a workflow document (an object with name, trigger and steps)`);
  }
  return doc as Record<string, unknown>;
}

export const workflowsCommand = clientCommand('workflows', WORKFLOWS_HELP, {}, async (ctx) => {
  const [action, file, ...extra] = ctx.positionals;
  if (action !== 'apply') throw new UsageError(`expected "apply FILE", got ${JSON.stringify(action ?? '')}`);
  if (file === undefined) throw new UsageError('apply: FILE is required');
  if (extra.length > 0) throw new UsageError(`apply takes one FILE, got also ${extra.join(' ')}`);
  const doc = readDocument(file);
  const api = ctx.api();
  const base = `/api/v1/projects/${encodeURIComponent(await api.projectId())}/workflows`;
  let existing: string | null = null;
  let after: string | null = null;
  do {
    const page: { items: Array<{ id: string; name: string }>; nextCursor: string | null } = await api.request(
      'GET',
      `${base}?limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`,
    );
    existing = page.items.find((w) => w.name === doc.name)?.id ?? null;
    after = page.nextCursor;
  } while (existing === null && after);
  const saved: { id: string; version: number; name: string } =
    existing === null
      ? await api.request('POST', base, doc)
      : await api.request('PUT', `${base}/${existing}`, doc);
  const created = existing === null;
  if (ctx.json) ctx.out.log(JSON.stringify({ id: saved.id, version: saved.version, created }));
  else
    ctx.out.log(
      `${created ? 'created' : 'updated'} workflow ${saved.id} "${saved.name}" version ${saved.version}`,
    );
  return EXIT.ok;
});
