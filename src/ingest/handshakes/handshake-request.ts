import { parseJsonBody } from '../verification/json-body.ts';
import type { RawRequest } from '../verification/raw-request.ts';

/** The body as a JSON object, or undefined when it is not one. */
export function jsonObjectBody(req: RawRequest): Record<string, unknown> | undefined {
  const value = parseJsonBody(req.body);
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function isMethod(req: RawRequest, method: string): boolean {
  return req.method.toUpperCase() === method;
}
