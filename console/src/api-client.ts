/** The API's own words for a refusal: `{ code, detail }` (docs/errors.md). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const KEY_ITEM = 'hookyard.key';
const PROJECT_ITEM = 'hookyard.projectId';

/** The key lives in sessionStorage only: gone when the tab closes, never in a URL or a cookie. */
export const session = {
  key: (): string | null => sessionStorage.getItem(KEY_ITEM),
  projectId: (): string | null => sessionStorage.getItem(PROJECT_ITEM),
  signIn(key: string) {
    sessionStorage.setItem(KEY_ITEM, key);
  },
  selectProject(projectId: string) {
    sessionStorage.setItem(PROJECT_ITEM, projectId);
  },
  signOut() {
    sessionStorage.removeItem(KEY_ITEM);
    sessionStorage.removeItem(PROJECT_ITEM);
  },
};

let onUnauthorized: () => void = () => {};
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; key?: string } = {},
): Promise<T> {
  const key = init.key ?? session.key();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError(0, 'network', `Hookyard did not answer (${(err as Error).message}).`);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  if (!response.ok) {
    const err = json as { code?: string; detail?: string } | null;
    const failure = new ApiError(
      response.status,
      err?.code ?? 'http_error',
      err?.detail ?? `${response.status} ${response.statusText}`,
    );
    if (response.status === 401 && init.key === undefined) onUnauthorized();
    throw failure;
  }
  return json as T;
}

/** A path under the selected project. */
export function projectPath(path: string): string {
  return `/projects/${encodeURIComponent(session.projectId() ?? '')}${path}`;
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
