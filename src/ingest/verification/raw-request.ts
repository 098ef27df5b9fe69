/**
 * One inbound HTTP request as the verifier sees it: the exact body bytes (signatures cover bytes,
 * never a re-serialised parse) and the full public URL the provider called (some providers sign it).
 */
export interface RawRequest {
  method: string;
  /** The full public URL the provider called, with the query string. */
  url: string;
  /** Header names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** The first value of a header, or undefined. Names are looked up in lower case. */
export function headerValue(req: RawRequest, name: string): string | undefined {
  const value = req.headers[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return value[0];
}

/** Every value of a header (a repeated header arrives as an array). */
export function headerValues(req: RawRequest, name: string): readonly string[] {
  const value = req.headers[name];
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  return value;
}

/** Lower-cases header names, for requests that come from files or tests rather than Node's HTTP parser. */
export function lowerCaseHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    const existing = out[key];
    if (existing === undefined || value === undefined) {
      out[key] = value ?? existing;
    } else {
      out[key] = [
        ...(typeof existing === 'string' ? [existing] : existing),
        ...(typeof value === 'string' ? [value] : value),
      ];
    }
  }
  return out;
}

/** The query parameters of the request URL; empty when the URL does not parse. */
export function queryParams(req: RawRequest): URLSearchParams {
  const q = req.url.indexOf('?');
  if (q === -1) return new URLSearchParams();
  const hash = req.url.indexOf('#', q);
  return new URLSearchParams(req.url.slice(q + 1, hash === -1 ? undefined : hash));
}
