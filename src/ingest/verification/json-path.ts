import { HookyardError } from '../../domain/errors.ts';

/**
 * A tiny JSON-path reader for the few shapes provider presets need: `$`, `$.a.b`, `$[0].x`,
 * `$.a[2]`, `$['odd-name']`. No wildcards or filters: a preset names one value, and keeping the
 * grammar this small keeps it fast and predictable on the ingest hot path.
 */
export type JsonPathSegment = string | number;

export interface CompiledJsonPath {
  readonly source: string;
  readonly segments: readonly JsonPathSegment[];
  read(value: unknown): unknown;
}

export function compileJsonPath(path: string): CompiledJsonPath {
  const segments = parseJsonPath(path);
  return { source: path, segments, read: (value) => readSegments(value, segments) };
}

/** Reads `path` from `value`; undefined when any step is missing. Throws on a malformed path. */
export function readJsonPath(value: unknown, path: string): unknown {
  return readSegments(value, parseJsonPath(path));
}

function readSegments(value: unknown, segments: readonly JsonPathSegment[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current) || segment >= current.length) return undefined;
      current = current[segment];
    } else {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
      // Own properties only, so `$.constructor` or `$.__proto__` never reach the prototype.
      if (!Object.hasOwn(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}

function parseJsonPath(path: string): JsonPathSegment[] {
  const fail = (what: string): never => {
    throw new HookyardError(
      'validation_failed',
      `JSON path "${path}" is invalid: ${what}; allowed: $, .name, [index], ['name'] (e.g. $.data[0].id)`,
    );
  };
  if (!path.startsWith('$')) fail('it must start with $');
  const segments: JsonPathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const ch = path[i];
    if (ch === '.') {
      let end = i + 1;
      while (end < path.length && path[end] !== '.' && path[end] !== '[') end++;
      const name = path.slice(i + 1, end);
      if (name === '') fail(`empty name at position ${i}`);
      segments.push(name);
      i = end;
    } else if (ch === '[') {
      const close = path.indexOf(']', i);
      if (close === -1) fail(`unclosed [ at position ${i}`);
      const inner = path.slice(i + 1, close);
      const quoted = /^'([^']*)'$|^"([^"]*)"$/.exec(inner);
      if (quoted) {
        segments.push(quoted[1] ?? quoted[2] ?? '');
      } else if (/^\d+$/.test(inner)) {
        segments.push(Number(inner));
      } else {
        fail(`"[${inner}]" is neither an index nor a quoted name`);
      }
      i = close + 1;
    } else {
      fail(`unexpected "${ch}" at position ${i}`);
    }
  }
  return segments;
}
