import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The providers' conformance data (../shared/conformance next to the repo, or
 * HOOKYARD_CONFORMANCE_DIR): real signature vectors and handshakes from providers' docs and
 * official SDK tests. Tests cite each case's `source`. Only the conformance suite
 * (`npm run test:conformance`, the *-conformance.test.ts files) reads it; missing data fails that
 * suite (never a skip: a skipped conformance suite proves nothing).
 */
export interface ConformanceVector {
  id: string;
  provider: string;
  source: string;
  expect: 'valid' | 'invalid';
  secret: string | { primary: string; secondary: string } | null;
  public_key?: string | null;
  headers: Record<string, string> | null;
  method?: string | null;
  url?: string | null;
  params?: Record<string, string | string[]> | null;
  body?: string | null;
  body_repeat?: { char: string; count: number } | null;
  mailgun_fields?: { timestamp: string; token: string; signature: string } | null;
  now: number | null;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CONFORMANCE_DIR = path.resolve(
  process.env.HOOKYARD_CONFORMANCE_DIR ?? path.join(repoRoot, '..', 'shared', 'conformance'),
);
export const VECTORS_FILE = path.join(CONFORMANCE_DIR, 'vectors.json');
export const vectorsPresent = existsSync(VECTORS_FILE);

export function loadVectors(): ConformanceVector[] {
  return vectorsPresent ? (JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as ConformanceVector[]) : [];
}

/** The vector's body, built the way its fields describe (never skipped for an unusual shape). */
export function bodyOf(v: ConformanceVector): string {
  if (typeof v.body === 'string') return v.body;
  if (v.body_repeat) return v.body_repeat.char.repeat(v.body_repeat.count);
  if (v.params) {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(v.params)) {
      for (const item of Array.isArray(value) ? value : [value]) form.append(key, item);
    }
    return form.toString();
  }
  if (v.mailgun_fields) return JSON.stringify({ signature: v.mailgun_fields });
  return '';
}

/** Secrets in the provider's documented order (Box: primary, then secondary). */
export function secretsOf(v: ConformanceVector): string[] {
  if (v.secret === null) return [];
  if (typeof v.secret === 'string') return [v.secret];
  return [v.secret.primary, v.secret.secondary];
}
