import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/store.ts';

export function registerHealthRoutes(
  app: FastifyInstance,
  deps: { store: Store; isShuttingDown: () => boolean },
): void {
  // Liveness: the process answers. Never touches the store, so a slow database does not get us killed.
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  // Readiness: the store answers and we are not draining; load balancers stop sending otherwise.
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    if (deps.isShuttingDown()) {
      reply.code(503);
      return { status: 'shutting_down' };
    }
    try {
      await deps.store.ping();
      return { status: 'ready', store: deps.store.kind };
    } catch {
      reply.code(503);
      return { status: 'store_unavailable', store: deps.store.kind };
    }
  });
}
