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

/**
 * Bounds on what one unauthenticated request can make the verifier hash: every live secret is run
 * over the whole expansion, so the expansion must not grow with the template. The body appears
 * once (its size is bounded by the source's maxBodyBytes); everything else together is capped per
 * request. No provider signs more than four placeholders.
 */
export const MAX_SIGNED_CONTENT_CHARS = 1024;
export const MAX_SIGNED_CONTENT_PLACEHOLDERS = 16;
export const MAX_SIGNED_HEAD_BYTES = 64 * 1024;

export function compileSignedContent(template: string, field = 'signedContent'): SignedContentTemplate {
  if (template.length > MAX_SIGNED_CONTENT_CHARS) {
    throw new HookyardError(
      'validation_failed',
      `${field} is ${template.length} characters; at most ${MAX_SIGNED_CONTENT_CHARS} are allowed`,
    );
  }
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
  const placeholders = parts.filter((p) => p.kind !== 'literal').length;
  if (placeholders > MAX_SIGNED_CONTENT_PLACEHOLDERS) {
    throw new HookyardError(
      'validation_failed',
      `${field} has ${placeholders} placeholders; at most ${MAX_SIGNED_CONTENT_PLACEHOLDERS} placeholders are allowed`,
    );
  }
  if (parts.filter((p) => p.kind === 'body').length > 1) {
    throw new HookyardError('validation_failed', `${field} may contain {body} at most once`);
  }
  return { source: template, parts, usesTimestamp: parts.some((p) => p.kind === 'timestamp') };
}

/**
 * The signed content of one request as a list of chunks, built once and fed to every secret's
 * HMAC; or the name of a missing header; or `tooLarge` when the parts besides the body pass
 * MAX_SIGNED_HEAD_BYTES (checked here, before any hashing).
 * `timestamp` is the raw timestamp text exactly as received (it is signed as sent, never re-formatted).
 */
export function renderSignedContent(
  template: SignedContentTemplate,
  req: RawRequest,
  timestamp: string | undefined,
): { chunks: Buffer[] } | { missingHeader: string } | { tooLarge: true } {
  const chunks: Buffer[] = [];
  let headBytes = 0;
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
    if (part.kind !== 'body') {
      headBytes += (chunks[chunks.length - 1] as Buffer).length;
      if (headBytes > MAX_SIGNED_HEAD_BYTES) return { tooLarge: true };
    }
  }
  return { chunks };
}
