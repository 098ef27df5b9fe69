import type { FastifyReply, FastifyRequest } from 'fastify';
import { HookyardError, notFound } from '../domain/errors.ts';
import { isId, type ProjectId } from '../domain/ids.ts';
import { hashesEqual, hashKey } from '../security/api-key.ts';
import type { Store } from '../store/store.ts';

/** Who is calling: the operator (every project) or a key of one project. */
export type Principal = { kind: 'admin' } | { kind: 'project'; projectId: ProjectId; keyId: string };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /**
     * The route also takes a one-time ticket in `?ticket=` (a browser's EventSource cannot send
     * headers); without an Authorization header the route checks the ticket itself.
     */
    ticketAuth?: boolean;
  }
}

export interface AuthDeps {
  store: Store;
  adminKeyHash: () => Promise<string | null>;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Resolves the bearer key to a principal; 401 when missing or unknown. */
export function createAuthenticate({ store, adminKeyHash }: AuthDeps) {
  return async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    if (header === undefined && request.routeOptions.config?.ticketAuth === true) return;
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    if (!match?.[1]) {
      throw new HookyardError('unauthorized', 'Send the API key as "Authorization: Bearer <key>".');
    }
    const hash = hashKey(match[1]);
    const admin = await adminKeyHash();
    if (admin && hashesEqual(hash, admin)) {
      request.principal = { kind: 'admin' };
      return;
    }
    const key = await store.findApiKeyByHash(hash);
    if (!key) throw new HookyardError('unauthorized', 'The API key is not valid (unknown or revoked).');
    request.principal = { kind: 'project', projectId: key.projectId, keyId: key.id };
  };
}

/**
 * The project a project-scoped route may act on. A key of another project gets 404, the same
 * answer as a project that does not exist, so ids of other tenants cannot be probed.
 */
export async function authorizeProject(
  request: FastifyRequest,
  store: Store,
  projectId: string,
): Promise<ProjectId> {
  const p = request.principal;
  if (!p) throw new HookyardError('unauthorized');
  if (!isId('project', projectId)) throw notFound(`project ${projectId}`);
  if (p.kind === 'project') {
    if (p.projectId !== projectId) throw notFound(`project ${projectId}`);
    return projectId;
  }
  if (!(await store.getProject(projectId))) throw notFound(`project ${projectId}`);
  return projectId;
}

export function requireAdmin(request: FastifyRequest): void {
  if (request.principal?.kind !== 'admin') {
    throw new HookyardError('forbidden', 'Only the operator (admin) key may do this.');
  }
}
