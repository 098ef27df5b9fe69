import type { FastifyInstance } from 'fastify';
import type { Clock } from '../domain/clock.ts';
import { HookyardError } from '../domain/errors.ts';
import type { Store } from '../store/store.ts';
import { parseTime, timeBound } from './activity-routes.ts';
import { authorizeProject } from './auth.ts';
import { bearerSecurity, errorResponses, projectIdParams } from './schemas.ts';

export const STAT_BUCKETS = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '6h': 21_600_000,
  '1d': 86_400_000,
} as const;
type BucketName = keyof typeof STAT_BUCKETS;
const MAX_BUCKETS = 1000;

/**
 * The overview's counts over time. Each figure is one grouped query over the store (inbound events
 * by time received, refusals, deliveries by time published with nearest-rank latency percentiles);
 * the answer has every bucket of the range, empty ones as zeros, so a chart can draw it as it is.
 */
export function registerStatsRoutes(app: FastifyInstance, deps: { store: Store; clock: Clock }): void {
  const { store, clock } = deps;
  app.get<{ Params: { projectId: string }; Querystring: { from?: string; to?: string; bucket: BucketName } }>(
    '/api/v1/projects/:projectId/stats',
    {
      schema: {
        tags: ['stats'],
        summary:
          'Counts over time: accepted, refused, delivered, failed and delivery latency percentiles per bucket',
        security: bearerSecurity,
        params: projectIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: timeBound('start (default: 24 h before to); rounded down to a bucket boundary'),
            to: timeBound('end, exclusive (default: now)'),
            bucket: { type: 'string', enum: Object.keys(STAT_BUCKETS), default: '1h' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['from', 'to', 'bucket', 'buckets'],
            properties: {
              from: { type: 'string', format: 'date-time' },
              to: { type: 'string', format: 'date-time' },
              bucket: { type: 'string' },
              buckets: {
                type: 'array',
                items: {
                  type: 'object',
                  required: [
                    'start',
                    'accepted',
                    'refused',
                    'delivered',
                    'failed',
                    'latencyP50Ms',
                    'latencyP90Ms',
                    'latencyP99Ms',
                  ],
                  properties: {
                    start: { type: 'string', format: 'date-time' },
                    accepted: { type: 'integer', description: 'inbound events stored' },
                    refused: { type: 'integer', description: 'inbound requests refused before storage' },
                    delivered: {
                      type: 'integer',
                      description: 'deliveries published in the bucket that succeeded',
                    },
                    failed: {
                      type: 'integer',
                      description: 'deliveries published in the bucket that failed for good',
                    },
                    latencyP50Ms: { type: ['integer', 'null'], description: 'publish to success' },
                    latencyP90Ms: { type: ['integer', 'null'] },
                    latencyP99Ms: { type: ['integer', 'null'] },
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const bucketMs = STAT_BUCKETS[request.query.bucket];
      const toMs = parseTime('to', request.query.to) ?? clock.nowMs();
      const rawFrom = parseTime('from', request.query.from) ?? toMs - 86_400_000;
      const fromMs = Math.floor(rawFrom / bucketMs) * bucketMs;
      if (fromMs >= toMs) {
        throw new HookyardError('validation_failed', 'querystring.from: must be before to.');
      }
      const count = Math.ceil((toMs - fromMs) / bucketMs);
      if (count > MAX_BUCKETS) {
        throw new HookyardError(
          'validation_failed',
          `querystring.bucket: ${count} buckets of ${request.query.bucket} between from and to; at most ${MAX_BUCKETS} are allowed (choose a wider bucket or a shorter range).`,
        );
      }
      const range = { fromMs, toMs, bucketMs };
      const [accepted, refused, deliveries] = await Promise.all([
        store.countInboundEvents(projectId, range),
        store.countRefusedRequests(projectId, range),
        store.deliveryStats(projectId, range),
      ]);
      const at = <T extends { startMs: number }>(rows: T[]) => new Map(rows.map((r) => [r.startMs, r]));
      const a = at(accepted);
      const r = at(refused);
      const d = at(deliveries);
      const buckets = [];
      for (let i = 0; i < count; i++) {
        const start = fromMs + i * bucketMs;
        const del = d.get(start);
        buckets.push({
          start: new Date(start).toISOString(),
          accepted: a.get(start)?.count ?? 0,
          refused: r.get(start)?.count ?? 0,
          delivered: del?.delivered ?? 0,
          failed: del?.failed ?? 0,
          latencyP50Ms: del?.latencyP50Ms ?? null,
          latencyP90Ms: del?.latencyP90Ms ?? null,
          latencyP99Ms: del?.latencyP99Ms ?? null,
        });
      }
      return {
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
        bucket: request.query.bucket,
        buckets,
      };
    },
  );
}
