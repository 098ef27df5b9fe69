import { HookyardError } from './errors.ts';

/**
 * Which messages an endpoint wants. An endpoint lists event types and object types; a message
 * goes to it when both lists accept it.
 *
 * Event type filters:
 * - no list, an empty list, or a list containing `*` accepts every type;
 * - `workflowExecution.completed` accepts exactly that type (case-sensitive);
 * - `workflowExecution.*` accepts every type under that prefix at any depth
 *   (`workflowExecution.completed`, `workflowExecution.step.failed`) but not
 *   `workflowExecution` itself nor `workflowExecutionX.completed`: the wildcard stands for whole
 *   segments, never for part of one.
 * Object type filters: no list, empty, or `*` accepts all; otherwise exact names only. A message
 * without an object type only passes an accept-all object filter.
 */

export const MAX_FILTER_LENGTH = 256;
export const MAX_FILTERS = 256;

/** Segment characters: letters, digits and the separators providers use inside names. */
const SEGMENT = '[A-Za-z0-9_\\-:/]+';
const EXACT_TYPE = new RegExp(`^${SEGMENT}(\\.${SEGMENT})*$`);
const PREFIX_WILDCARD = new RegExp(`^${SEGMENT}(\\.${SEGMENT})*\\.\\*$`);
const OBJECT_TYPE = /^[A-Za-z0-9_\-:/.]+$/;

function invalid(detail: string): HookyardError {
  return new HookyardError('validation_failed', detail);
}

/** Throws `validation_failed` unless `filter` is `*`, an exact event type, or `prefix.*`. */
export function validateEventTypeFilter(filter: string): string {
  if (typeof filter !== 'string' || filter.length === 0) {
    throw invalid(
      'event type filter is empty; expected "*", an event type like "a.b", or a prefix like "a.*".',
    );
  }
  if (filter.length > MAX_FILTER_LENGTH) {
    throw invalid(`event type filter is ${filter.length} characters; expected at most ${MAX_FILTER_LENGTH}.`);
  }
  if (filter === '*' || EXACT_TYPE.test(filter) || PREFIX_WILDCARD.test(filter)) return filter;
  if (filter.includes('*')) {
    throw invalid(
      `event type filter "${filter}" has a misplaced "*"; a wildcard may only be the whole filter ("*") or a final ".*" segment ("workflowExecution.*").`,
    );
  }
  throw invalid(
    `event type filter "${filter}" is not valid; expected dot-separated segments of letters, digits, "_", "-", ":" or "/".`,
  );
}

export function validateEventTypeFilters(filters: readonly string[]): readonly string[] {
  if (filters.length > MAX_FILTERS) {
    throw invalid(`${filters.length} event type filters given; expected at most ${MAX_FILTERS}.`);
  }
  return filters.map(validateEventTypeFilter);
}

/** Throws `validation_failed` unless `filter` is `*` or an object type name. */
export function validateObjectTypeFilter(filter: string): string {
  if (typeof filter !== 'string' || filter.length === 0 || filter.length > MAX_FILTER_LENGTH) {
    throw invalid(`object type filter must be 1 to ${MAX_FILTER_LENGTH} characters.`);
  }
  if (filter === '*' || OBJECT_TYPE.test(filter)) return filter;
  throw invalid(
    `object type filter "${filter}" is not valid; expected "*" or a name of letters, digits, "_", "-", ":", "/" or ".".`,
  );
}

export function validateObjectTypeFilters(filters: readonly string[]): readonly string[] {
  if (filters.length > MAX_FILTERS) {
    throw invalid(`${filters.length} object type filters given; expected at most ${MAX_FILTERS}.`);
  }
  return filters.map(validateObjectTypeFilter);
}

function acceptsAll(filters: readonly string[] | undefined): boolean {
  return filters === undefined || filters.length === 0 || filters.includes('*');
}

export function matchesEventType(filters: readonly string[] | undefined, type: string): boolean {
  if (acceptsAll(filters)) return true;
  for (const filter of filters ?? []) {
    if (filter.endsWith('.*')) {
      // Keep the dot: "a.*" becomes "a.", so "aX.b" and bare "a" do not match.
      const prefix = filter.slice(0, -1);
      if (type.length > prefix.length && type.startsWith(prefix)) return true;
    } else if (filter === type) {
      return true;
    }
  }
  return false;
}

export function matchesObjectType(
  filters: readonly string[] | undefined,
  objectType: string | undefined,
): boolean {
  if (acceptsAll(filters)) return true;
  return objectType !== undefined && (filters ?? []).includes(objectType);
}

export interface EndpointFilters {
  readonly eventTypes?: readonly string[];
  readonly objectTypes?: readonly string[];
}

/** True when a message of `type` (and `objectType`) should go to an endpoint with `filters`. */
export function matchesEndpointFilters(
  filters: EndpointFilters,
  message: { readonly type: string; readonly objectType?: string },
): boolean {
  return (
    matchesEventType(filters.eventTypes, message.type) &&
    matchesObjectType(filters.objectTypes, message.objectType)
  );
}
