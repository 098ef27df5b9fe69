import { useState } from 'preact/hooks';
import { api, type Page, projectPath, query } from '../api-client.ts';
import { Badge, Empty, Json, Loading, Section, Time, useLoad } from '../ui.tsx';

interface Workflow {
  id: string;
  name: string;
  version: number;
  deployed: boolean;
  trigger: { type?: string };
  steps: unknown[];
  updatedAt: string;
}

interface Step {
  stepKey: string;
  type: string;
  status: string;
  input?: unknown;
  output?: unknown;
  error?: unknown;
  attempts: number;
  startedAt: string;
  finishedAt?: string | null;
}

interface Execution {
  id: string;
  workflowId: string;
  version: number;
  userId: string | null;
  status: string;
  trigger: unknown;
  error?: unknown;
  createdAt: string;
  finishedAt?: string | null;
  steps?: Step[];
}

export function WorkflowsPage() {
  const workflows = useLoad(() => api<Page<Workflow>>(projectPath('/workflows?limit=500')), []);
  const [status, setStatus] = useState('');
  const executions = useLoad(
    () => api<Page<Execution>>(projectPath(`/executions${query({ status, limit: 100 })}`)),
    [status],
  );
  const names = new Map((workflows.data?.items ?? []).map((w) => [w.id, w.name]));
  const items = workflows.data?.items ?? [];
  const runs = [...(executions.data?.items ?? [])].reverse();
  return (
    <>
      <h1>Workflows</h1>
      <Section title="Workflows">
        <Loading loaded={workflows} />
        {workflows.data && items.length === 0 ? (
          <Empty title="No workflows yet.">
            Create one with <code>POST /api/v1/projects/…/workflows</code> (docs/workflows.md), then deploy
            it.
          </Empty>
        ) : null}
        {items.length > 0 ? (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Workflow</th>
                  <th>Trigger</th>
                  <th>Steps</th>
                  <th>Version</th>
                  <th>Deployed</th>
                </tr>
              </thead>
              <tbody>
                {items.map((w) => (
                  <tr key={w.id}>
                    <td>
                      {w.name} <div class="muted">{w.id}</div>
                    </td>
                    <td>{w.trigger.type ?? '—'}</td>
                    <td>{w.steps.length}</td>
                    <td>{w.version}</td>
                    <td>
                      <Badge value={w.deployed ? 'active' : 'not_deployed'} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Section>
      <Section
        title="Executions"
        actions={
          <>
            <label class="field">
              <span>Status</span>
              <select
                value={status}
                onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}
              >
                <option value="">Any</option>
                {['running', 'waiting', 'completed', 'failed', 'canceled'].map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" class="secondary" onClick={executions.reload}>
              Refresh
            </button>
          </>
        }
      >
        <Loading loaded={executions} />
        {executions.data && runs.length === 0 ? (
          <Empty title="No executions.">
            A deployed workflow runs when its trigger fires; each run shows here.
          </Empty>
        ) : null}
        {runs.map((x) => (
          <details key={x.id} class="delivery">
            <summary>
              <Time iso={x.createdAt} /> {names.get(x.workflowId) ?? x.workflowId} v{x.version}{' '}
              <Badge value={x.status} /> <code>{x.id}</code>
            </summary>
            <ExecutionSteps execution={x} />
          </details>
        ))}
      </Section>
    </>
  );
}

/** Each step in order, with its input, output, attempts and error. */
function ExecutionSteps({ execution }: { execution: Execution }) {
  return (
    <>
      <p class="muted">
        {execution.userId ? `For user ${execution.userId}. ` : ''}
        {execution.finishedAt ? (
          <>
            Finished <Time iso={execution.finishedAt} />.
          </>
        ) : null}
      </p>
      <details>
        <summary>Trigger input</summary>
        <Json value={execution.trigger} />
      </details>
      {execution.error ? <Json value={execution.error} /> : null}
      <ol class="timeline">
        {(execution.steps ?? []).map((s) => (
          <li key={s.stepKey} class={s.status === 'succeeded' ? 'attempt ok' : 'attempt failed'}>
            <span class="attempt-title">
              {s.stepKey} ({s.type}) · {s.status} · {s.attempts} attempt(s) · <Time iso={s.startedAt} />
            </span>
            <details>
              <summary>Input and output</summary>
              <Json value={{ input: s.input, output: s.output, ...(s.error ? { error: s.error } : {}) }} />
            </details>
          </li>
        ))}
      </ol>
    </>
  );
}
