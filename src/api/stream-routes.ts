import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { validateEventTypeFilters } from '../domain/event-type-filter.ts';
import { isId, type ProjectId, type SourceId } from '../domain/ids.ts';
import {
  type LiveStreams,
  parseCursor,
  type StreamFilter,
  type StreamKind,
  type StreamMessage,
} from '../observe/live-stream.ts';
import { hashKey } from '../security/api-key.ts';
import type { Store } from '../store/store.ts';
import { authorizeProject } from './auth.ts';
import { bearerSecurity, errorResponses, errorSchema, projectIdParams } from './schemas.ts';

export const STREAM_TICKET_TTL_MS = 60_000;
const TICKET_PREFIX = 'hyst_';
/** A client that reads slower than events come is cut off rather than buffered without bound. */
const MAX_UNSENT_BYTES = 1024 * 1024;
const STREAM_KINDS: readonly StreamKind[] = ['event', 'refusal'];

interface StreamQuery {
  sourceId?: string;
  triggerSubscriptionId?: string;
  types?: string;
  kinds?: string;
  ticket?: string;
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function sseFrame(m: StreamMessage): string {
  return `id: ${m.id}\nevent: ${m.event}\ndata: ${JSON.stringify(m.data)}\n\n`;
}

export function registerStreamRoutes(
  app: FastifyInstance,
  deps: { store: Store; clock: Clock; streams: LiveStreams; maxPerProject: number },
): void {
  const { store, clock, streams } = deps;
  const base = '/api/v1/projects/:projectId';
  const responses = new Set<ServerResponse>();

  // Open streams would hold the server open: they end before it closes (clients reconnect elsewhere).
  app.addHook('preClose', (done) => {
    streams.closeAll();
    for (const res of responses) res.end();
    done();
  });

  app.post<{ Params: { projectId: string } }>(
    `${base}/stream-tickets`,
    {
      schema: {
        tags: ['stream'],
        summary: 'Create a one-time ticket for opening the live stream from a browser (expires in 60 s)',
        security: bearerSecurity,
        params: projectIdParams,
        response: {
          201: {
            type: 'object',
            required: ['ticket', 'expiresAt'],
            properties: {
              ticket: { type: 'string', description: 'pass as ?ticket= to the stream; works once' },
              expiresAt: { type: 'string', format: 'date-time' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const ticket = TICKET_PREFIX + randomBytes(24).toString('base64url');
      const expiresAtMs = clock.nowMs() + STREAM_TICKET_TTL_MS;
      await store.insertStreamTicket(hashKey(ticket), projectId, expiresAtMs);
      reply.code(201);
      return { ticket, expiresAt: new Date(expiresAtMs).toISOString() };
    },
  );

  app.get<{ Params: { projectId: string }; Querystring: StreamQuery }>(
    `${base}/stream`,
    {
      config: { ticketAuth: true },
      schema: {
        tags: ['stream'],
        summary: 'The live stream (Server-Sent Events): inbound events and refused requests as they land',
        description:
          'Events `inbound.event` and `inbound.refused`, each with an `id` to resume from (`Last-Event-ID`), and a comment line as heartbeat. Authenticate with `Authorization: Bearer` or, from a browser, with `?ticket=` from POST …/stream-tickets. A project may have a limited number of streams open per process (HOOKYARD_STREAM_MAX_PER_PROJECT); beyond it the answer is 429.',
        security: bearerSecurity,
        params: projectIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            sourceId: { type: 'string', maxLength: 100, description: 'only this source (src_…)' },
            triggerSubscriptionId: {
              type: 'string',
              maxLength: 100,
              description: 'only events of this trigger subscription',
            },
            types: {
              type: 'string',
              maxLength: 4096,
              description:
                'comma-separated event type filters (invoice.paid, invoice.*); refusals are left out',
            },
            kinds: {
              type: 'string',
              maxLength: 64,
              description: 'comma-separated: event, refusal (default both)',
            },
            ticket: {
              type: 'string',
              maxLength: 200,
              description: 'a stream ticket, instead of a bearer key',
            },
          },
        },
        response: {
          200: { type: 'string', description: 'text/event-stream' },
          429: errorSchema,
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      let projectId: ProjectId;
      if (request.principal) {
        projectId = await authorizeProject(request, store, request.params.projectId);
      } else {
        if (!q.ticket) {
          throw new HookyardError(
            'unauthorized',
            'Send the API key as "Authorization: Bearer <key>", or a stream ticket (POST …/stream-tickets) as ?ticket=.',
          );
        }
        const ticketProject = await store.takeStreamTicket(hashKey(q.ticket), clock.nowMs());
        if (ticketProject === null || ticketProject !== request.params.projectId) {
          throw new HookyardError(
            'unauthorized',
            'The stream ticket is not valid: unknown, used already, expired (tickets last 60 s), or for another project.',
          );
        }
        projectId = ticketProject;
      }

      const filter: StreamFilter = { kinds: STREAM_KINDS };
      if (q.sourceId !== undefined) {
        const source = isId('source', q.sourceId) ? await store.getSource(projectId, q.sourceId) : null;
        if (!source) throw notFound(`source ${q.sourceId}`);
        filter.sourceId = source.id as SourceId;
      }
      if (q.triggerSubscriptionId !== undefined) {
        // No trigger subscription exists yet, so none can be found in this project.
        throw notFound(`trigger subscription ${q.triggerSubscriptionId}`);
      }
      if (q.types !== undefined) {
        try {
          filter.types = [...validateEventTypeFilters(list(q.types))];
        } catch (err) {
          if (err instanceof HookyardError)
            throw new HookyardError(err.code, `querystring.types: ${err.detail}`);
          throw err;
        }
        filter.kinds = ['event'];
      }
      if (q.kinds !== undefined) {
        const kinds = list(q.kinds);
        const bad = kinds.find((k) => !(STREAM_KINDS as readonly string[]).includes(k));
        if (bad !== undefined || kinds.length === 0) {
          throw new HookyardError(
            'validation_failed',
            `querystring.kinds: "${bad ?? ''}" is not allowed; expected a comma-separated list of: event, refusal.`,
          );
        }
        filter.kinds = filter.kinds.filter((k) => kinds.includes(k));
      }
      const lastEventId = request.headers['last-event-id'];
      let cursor: ReturnType<typeof parseCursor> = null;
      if (typeof lastEventId === 'string' && lastEventId !== '') {
        cursor = parseCursor(lastEventId);
        if (!cursor) {
          throw new HookyardError(
            'validation_failed',
            `headers.last-event-id: "${lastEventId.slice(0, 100)}" is not a stream cursor; send back the id of the last event received.`,
          );
        }
      }

      const res = reply.raw;
      const handle = streams.open(projectId, filter, cursor, {
        send(m) {
          res.write(sseFrame(m));
          if (res.writableLength > MAX_UNSENT_BYTES) res.end();
        },
        heartbeat() {
          res.write(`: heartbeat ${new Date(clock.nowMs()).toISOString()}\n\n`);
        },
      });
      if (!handle) {
        throw new HookyardError(
          'rate_limited',
          `This project has ${deps.maxPerProject} live streams open on this server already (HOOKYARD_STREAM_MAX_PER_PROJECT); close one and retry.`,
        );
      }
      reply.hijack();
      responses.add(res);
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // Proxies such as nginx would otherwise hold events back in their buffers.
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n: connected\n\n');
      const end = () => {
        handle.close();
        responses.delete(res);
      };
      request.raw.on('close', end);
      res.on('close', end);
    },
  );
}
