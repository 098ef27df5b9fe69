import { ApiError, UnreachableError, UsageError } from './cli-errors.ts';
import type { ClientTarget } from './client-config.ts';

/** The management API as the client commands call it: JSON in and out, errors as ApiError. */
export interface ApiClient {
  readonly target: ClientTarget;
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** The project the commands act on: --project, the saved one, or the only one the key sees. */
  projectId(): Promise<string>;
}

export function createApiClient(target: ClientTarget): ApiClient {
  let project = target.projectId;
  const client: ApiClient = {
    target,
    async request(method, path, body) {
      let res: Response;
      try {
        res = await fetch(`${target.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${target.key}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new UnreachableError(
          `cannot reach ${target.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        );
      }
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = { code: 'invalid_answer', detail: text.slice(0, 200) };
      }
      if (!res.ok) {
        const e = (parsed ?? {}) as { code?: string; detail?: string };
        throw new ApiError(res.status, e.code ?? String(res.status), e.detail ?? res.statusText);
      }
      return parsed as never;
    },
    async projectId() {
      if (project) return project;
      const page = await client.request<{ items: Array<{ id: string }> }>('GET', '/api/v1/projects?limit=2');
      if (page.items.length !== 1) {
        throw new UsageError(
          'this key sees several projects (the operator key?); pass --project prj_… or use a project key.',
        );
      }
      project = page.items[0]?.id as string;
      return project;
    },
  };
  return client;
}
