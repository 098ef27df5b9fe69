/**
 * Structured clone turns a Buffer into a plain Uint8Array; the store port speaks Buffer (and
 * better-sqlite3 binds only Buffer), so both sides of the worker boundary turn them back, in place.
 */
export function restoreBuffers(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = restoreBuffers(value[i]);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const v = o[k];
      if (v !== null && typeof v === 'object') o[k] = restoreBuffers(v);
    }
  }
  return value;
}
