import { HookyardError } from '../../domain/errors.ts';
import { headerValue, type RawRequest } from './raw-request.ts';

/**
 * The bytes a provider signs, described as a template (`{header:webhook-id}.{timestamp}.{body}`).
 * Compiled once into parts; per request the parts are produced without concatenating the body, so
 * an HMAC can be fed piece by piece.
 */
export type TemplatePart =
  | { kind: 'literal'; bytes: Buffer }
  | { kind: 'method' }
  | { kind: 'url' }
  | { kind: 'body' }
  | { kind: 'timestamp' }
  | { kind: 'header'; name: string };

export interface SignedContentTemplate {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  readonly usesTimestamp: boolean;
}

export const TEMPLATE_PLACEHOLDERS = ['{method}', '{url}', '{body}', '{timestamp}', '{header:NAME}'] as const;

export function compileSignedContent(template: string, field = 'signedContent'): SignedContentTemplate {
  const parts: TemplatePart[] = [];
  let literal = '';
  const flush = () => {
    if (literal !== '') parts.push({ kind: 'literal', bytes: Buffer.from(literal, 'utf8') });
    literal = '';
  };
  let i = 0;
  while (i < template.length) {
    const ch = template[i] as string;
    if (ch !== '{') {
      literal += ch;
      i++;
      continue;
    }
    const close = template.indexOf('}', i);
    if (close === -1) {
      throw new HookyardError(
        'validation_failed',
        `${field} has an unclosed "{" at position ${i}; allowed placeholders: ${TEMPLATE_PLACEHOLDERS.join(', ')}`,
      );
    }
    const name = template.slice(i + 1, close);
    flush();
    if (name === 'method' || name === 'url' || name === 'body' || name === 'timestamp') {
      parts.push({ kind: name });
    } else if (name.startsWith('header:') && name.length > 'header:'.length) {
      parts.push({ kind: 'header', name: name.slice('header:'.length).toLowerCase() });
    } else {
      throw new HookyardError(
        'validation_failed',
        `${field} has an unknown placeholder "{${name}}"; allowed: ${TEMPLATE_PLACEHOLDERS.join(', ')}`,
      );
    }
    i = close + 1;
  }
  flush();
  return { source: template, parts, usesTimestamp: parts.some((p) => p.kind === 'timestamp') };
}

/**
 * The signed content of one request as a list of chunks, or the name of a missing header.
 * `timestamp` is the raw timestamp text exactly as received (it is signed as sent, never re-formatted).
 */
export function renderSignedContent(
  template: SignedContentTemplate,
  req: RawRequest,
  timestamp: string | undefined,
): { chunks: Buffer[] } | { missingHeader: string } {
  const chunks: Buffer[] = [];
  for (const part of template.parts) {
    switch (part.kind) {
      case 'literal':
        chunks.push(part.bytes);
        break;
      case 'method':
        chunks.push(Buffer.from(req.method.toUpperCase(), 'utf8'));
        break;
      case 'url':
        chunks.push(Buffer.from(req.url, 'utf8'));
        break;
      case 'body':
        chunks.push(req.body);
        break;
      case 'timestamp':
        chunks.push(Buffer.from(timestamp ?? '', 'utf8'));
        break;
      case 'header': {
        const value = headerValue(req, part.name);
        if (value === undefined) return { missingHeader: part.name };
        chunks.push(Buffer.from(value, 'utf8'));
        break;
      }
    }
  }
  return { chunks };
}
