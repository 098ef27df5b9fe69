import type { TimestampUnit, ToleranceDirection } from './verification-scheme.ts';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Milliseconds since the epoch, or undefined when the text is not a valid timestamp in `unit`.
 * Digits only for numeric units: Svix rejects negative and non-numeric timestamps, and accepting
 * `1e9` or ` 12` would let two spellings of one signed value disagree.
 */
export function parseTimestampMs(text: string, unit: TimestampUnit): number | undefined {
  switch (unit) {
    case 'seconds':
      return /^\d{1,12}$/.test(text) ? Number(text) * 1000 : undefined;
    case 'milliseconds':
      return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
    case 'rfc3339': {
      if (!RFC3339.test(text)) return undefined;
      const ms = Date.parse(text);
      return Number.isNaN(ms) ? undefined : ms;
    }
  }
}

/**
 * True when the timestamp is within tolerance. The boundary is inclusive (exactly 300 s old passes),
 * as every SDK we checked rejects only when the difference is strictly greater. For whole-second
 * timestamps the clock is floored to seconds first, as the SDKs compare integer seconds.
 */
export function isFresh(
  timestampMs: number,
  unit: TimestampUnit,
  nowMs: number,
  toleranceSeconds: number,
  direction: ToleranceDirection,
): boolean {
  const now = unit === 'seconds' ? Math.floor(nowMs / 1000) * 1000 : nowMs;
  const ageMs = now - timestampMs;
  const toleranceMs = toleranceSeconds * 1000;
  if (ageMs > toleranceMs) return false;
  if (direction === 'both' && -ageMs > toleranceMs) return false;
  return true;
}

export function toleranceReason(toleranceSeconds: number): string {
  return `timestamp outside tolerance (${toleranceSeconds} s)`;
}
