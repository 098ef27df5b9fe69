import { HookyardError } from '../domain/errors.ts';

/**
 * How deep a JSON value taken from a client may nest. JSON.parse reads any depth, but
 * JSON.stringify and every recursive walk after it overflow the stack somewhere past a few
 * thousand levels, which would turn one request into a 500 (or a job that can never finish).
 * Real payloads nest a few levels; 64 leaves room and stays far from the stack.
 */
export const MAX_JSON_DEPTH = 64;

/** The nesting depth of a parsed JSON value (a scalar is 0), counted without recursion; stops past `max`. */
export function jsonDepth(value: unknown, max = MAX_JSON_DEPTH): number {
  let deepest = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop() as { value: unknown; depth: number };
    if (v === null || typeof v !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > max) return deepest;
    const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    for (const child of children) {
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth: here });
    }
  }
  return deepest;
}

/** Throws `validation_failed` naming `field` when `value` nests deeper than MAX_JSON_DEPTH. */
export function assertJsonDepth(value: unknown, field: string, max = MAX_JSON_DEPTH): void {
  if (jsonDepth(value, max) > max) {
    throw new HookyardError(
      'validation_failed',
      `${field} is nested more than ${max} levels deep; at most ${max} levels of arrays and objects are allowed.`,
    );
  }
}
