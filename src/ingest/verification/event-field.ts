import { createHash } from 'node:crypto';
import { parseJsonBody } from './json-body.ts';
import { type CompiledJsonPath, compileJsonPath } from './json-path.ts';
import { headerValue, type RawRequest } from './raw-request.ts';

/**
 * Where a preset finds a value in a request: the provider's event id (the dedupe key) or the event
 * type. A preset lists several; the first that yields a value wins (Shopify's event id, then its
 * webhook id for older deliveries).
 */
export type EventFieldSource =
  | { from: 'header'; name: string }
  | { from: 'json'; path: string }
  /** Providers without an id (Zoom, Graph): several fields joined with `:`; all must be present. */
  | { from: 'json-composite'; paths: readonly string[] }
  | { from: 'form'; name: string }
  /** No id at all (Asana, X): the body's SHA-256, so byte-identical redeliveries still dedupe. */
  | { from: 'body-sha256' };

export type EventFieldReader = (req: RawRequest, parsedJson?: unknown) => string | null;

/** Compiles the sources once; the reader parses the body at most once and only if a JSON source needs it. */
export function compileEventFieldReader(sources: readonly EventFieldSource[]): EventFieldReader {
  const steps = sources.map((source) => compileSource(source));
  const needsJson = sources.some((s) => s.from === 'json' || s.from === 'json-composite');
  return (req, parsedJson) => {
    const json = parsedJson !== undefined || !needsJson ? parsedJson : parseJsonBody(req.body);
    for (const step of steps) {
      const value = step(req, json);
      if (value !== null) return value;
    }
    return null;
  };
}

function compileSource(source: EventFieldSource): (req: RawRequest, json: unknown) => string | null {
  switch (source.from) {
    case 'header':
      return (req) => nonEmpty(headerValue(req, source.name));
    case 'json': {
      const path = compileJsonPath(source.path);
      return (_req, json) => scalar(path.read(json));
    }
    case 'json-composite': {
      const paths: CompiledJsonPath[] = source.paths.map((p) => compileJsonPath(p));
      return (_req, json) => {
        const parts: string[] = [];
        for (const path of paths) {
          const value = scalar(path.read(json));
          if (value === null) return null;
          parts.push(value);
        }
        return parts.join(':');
      };
    }
    case 'form':
      return (req) => nonEmpty(new URLSearchParams(req.body.toString('utf8')).get(source.name) ?? undefined);
    case 'body-sha256':
      return (req) => (req.body.length === 0 ? null : createHash('sha256').update(req.body).digest('hex'));
  }
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

function scalar(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}
