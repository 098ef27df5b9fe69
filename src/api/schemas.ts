/** JSON schemas shared by routes; the OpenAPI document is generated from these. */
export const errorSchema = {
  type: 'object',
  description: 'Every error: a stable code from the catalogue (docs/errors.md) and a human detail.',
  required: ['code', 'detail'],
  properties: { code: { type: 'string' }, detail: { type: 'string' } },
} as const;

export const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
} as const;

export const projectIdParams = {
  type: 'object',
  required: ['projectId'],
  properties: { projectId: { type: 'string', description: 'prj_… id' } },
} as const;

/**
 * `?limit`. The inner `allOf` checks the type again after coercion: Ajv coerces the text
 * "Infinity" (or "1e309") to Infinity and then skips its range checks for a non-finite number.
 */
export const pageLimit = {
  type: 'integer',
  minimum: 1,
  maximum: 500,
  default: 50,
  allOf: [{ type: 'integer' }],
  description: 'an integer from 1 to 500',
} as const;

export const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: pageLimit,
    after: { type: 'string', description: 'nextCursor of the previous page' },
  },
} as const;

/** A page of a list: `{ items, nextCursor }` (nextCursor null on the last page). */
export function pageSchema<T extends object>(item: T) {
  return {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items: item }, nextCursor: { type: ['string', 'null'] } },
  } as const;
}

/** A whole list: `{ items }`. */
export function listSchema<T extends object>(item: T) {
  return {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: item } },
  } as const;
}

export const bearerSecurity = [{ bearerAuth: [] }];
