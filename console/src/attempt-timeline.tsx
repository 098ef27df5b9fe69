import type { Attempt } from './types.ts';
import { Time } from './ui.tsx';

export function AttemptTimeline({ attempts }: { attempts: Attempt[] }) {
  if (attempts.length === 0) return <p class="muted">No attempt yet.</p>;
  return (
    <ol class="timeline">
      {attempts.map((a) => (
        <li key={a.id} class={a.outcome === 'succeeded' ? 'attempt ok' : 'attempt failed'}>
          <span class="attempt-title">
            #{a.attemptNumber} {a.outcome === 'succeeded' ? 'succeeded' : 'failed'}
            {a.statusCode !== null ? ` · HTTP ${a.statusCode}` : ''}
            {a.errorKind ? ` · ${a.errorKind}` : ''} · {a.durationMs} ms · <Time iso={a.startedAt} />
          </span>
          {a.errorMessage ? <div class="muted">{a.errorMessage}</div> : null}
          {a.responseBody ? (
            <details>
              <summary>Response body</summary>
              <pre class="code">{a.responseBody}</pre>
            </details>
          ) : null}
          {a.nextAttemptAt ? (
            <div class="muted">
              retry scheduled <Time iso={a.nextAttemptAt} />
            </div>
          ) : null}
        </li>
      ))}
    </ol>
  );
}
