// The publishing client of bench/publish-latency-bench.ts, run as a child process so it shares no
// event loop with the server it measures or with the receiver. Open loop: request i is due at
// t0 + i / rate whatever happened to the requests before it, and its latency is counted from that
// due time (a stalled server makes the requests behind it late, and that lateness is measured,
// not hidden). Keep-alive connections through one undici Agent. Each request's payload carries
// its index and run tag, so the receiver's arrival can be paired with the request's due and answer
// times, which go back to the parent on its clock. Talks to the parent over IPC.
import { Agent } from 'undici';

const now = () => performance.timeOrigin + performance.now();

interface RunRequest {
  type: 'run';
  url: string;
  authorization: string | null;
  rate: number;
  count: number;
  /** This process's clock minus the parent's (see startClient in the bench). */
  offsetMs: number;
  /** Tags the payloads so runs cannot be mixed up at the receiver. */
  run: string;
}

/** Keep-alive connections at most; an open-loop client opens more when answers fall behind. */
const CONNECTIONS = 64;
const agent = new Agent({ connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 60_000 });

async function run(r: RunRequest): Promise<void> {
  const target = new URL(r.url);
  const due: number[] = new Array(r.count);
  const answered: Array<number | null> = new Array(r.count).fill(null);
  const lags: number[] = [];
  const failures: Record<string, number> = {};
  const fail = (key: string) => {
    failures[key] = (failures[key] ?? 0) + 1;
  };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (r.authorization) headers.authorization = r.authorization;
  const inflight = new Set<Promise<void>>();
  const intervalMs = 1000 / r.rate;
  // The first request is due a little after the start, so the first timer wake-up is not late.
  const t0 = now() + 5;
  const send = (i: number, dueAt: number): void => {
    const sentAt = now();
    lags.push(sentAt - dueAt);
    due[i] = dueAt - r.offsetMs;
    const body = JSON.stringify({
      eventType: 'order.created',
      payload: {
        i,
        run: r.run,
        order: { id: `ord_${i}`, total: 4200, currency: 'EUR', items: [{ sku: 'A-1', qty: 2 }] },
      },
    });
    const p = agent
      .request({ origin: target.origin, path: target.pathname, method: 'POST', headers, body })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode === 202) answered[i] = now() - r.offsetMs;
        else fail(String(res.statusCode));
      })
      .catch((err: unknown) => fail((err as { code?: string }).code ?? 'error'))
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  let next = 0;
  while (next < r.count) {
    const t = now();
    for (; next < r.count && t0 + next * intervalMs <= t; next++) send(next, t0 + next * intervalMs);
    if (next >= r.count) break;
    // Timers fire on whole milliseconds at best: each send is up to ~1 ms late, which `lags`
    // reports and the latencies include (for the bare server and Hookyard alike).
    const waitMs = t0 + next * intervalMs - now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.floor(waitMs))));
  }
  while (inflight.size > 0) await Promise.all([...inflight]);
  process.send?.({ type: 'done', due, answered, lags, failures });
}

process.on('message', (msg: { type: string }) => {
  switch (msg.type) {
    case 'clock':
      process.send?.({ type: 'clock', childNow: now() });
      break;
    case 'run':
      void run(msg as unknown as RunRequest);
      break;
    case 'exit':
      void agent.close().finally(() => process.exit(0));
      break;
  }
});
process.send?.({ type: 'ready' });
