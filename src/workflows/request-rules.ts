import type { FieldRule, RequestValidation } from './workflow-document.ts';

/**
 * A request trigger's validation rules over one request: every failure, each naming its field
 * (`body.email: is required`). Pure. Header names compare without case; a field path may be dotted
 * into the body (`customer.email`).
 */
export function requestRuleFailures(
  rules: RequestValidation | undefined,
  request: { query: Record<string, unknown>; headers: Record<string, unknown>; body: unknown },
): string[] {
  const out: string[] = [];
  if (!rules) return out;
  const check = (part: 'query' | 'headers' | 'body', field: string, rule: FieldRule, value: unknown) => {
    const at = `${part}.${field}`;
    if (value === undefined || value === null) {
      if (rule.required) out.push(`${at}: is required`);
      return;
    }
    if (rule.type !== undefined && !hasType(value, rule.type))
      out.push(`${at}: expected ${article(rule.type)}`);
    if (
      rule.equals !== undefined &&
      JSON.stringify(value) !== JSON.stringify(rule.equals) &&
      String(value) !== String(rule.equals)
    ) {
      out.push(`${at}: expected ${JSON.stringify(rule.equals)}`);
    }
  };
  for (const [field, rule] of Object.entries(rules.query ?? {}))
    check('query', field, rule, request.query[field]);
  for (const [field, rule] of Object.entries(rules.headers ?? {})) {
    check('headers', field, rule, request.headers[field.toLowerCase()]);
  }
  for (const [field, rule] of Object.entries(rules.body ?? {}))
    check('body', field, rule, readPath(request.body, field));
  return out;
}

function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function hasType(value: unknown, type: NonNullable<FieldRule['type']>): boolean {
  switch (type) {
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'email':
      return typeof value === 'string' && EMAIL.test(value);
    case 'number':
      // Query and header values are text: numeric text is a number there.
      return (
        typeof value === 'number' ||
        (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
      );
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false';
    default:
      return typeof value === type;
  }
}

function article(type: string): string {
  return type === 'object' || type === 'array' || type === 'email' ? `an ${type}` : `a ${type}`;
}
