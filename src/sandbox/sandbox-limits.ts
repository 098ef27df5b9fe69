/** Per-call limits of custom code, and what the sandbox answers when one is hit. */
export interface SandboxLimits {
  /** Time the code may run, measured on the sandbox's own thread (nothing else runs there). */
  cpuTimeMs: number;
  /**
   * The size the call's WebAssembly memory may reach, QuickJS itself included: the memory cannot
   * grow past it, so an allocation beyond it fails inside QuickJS as "out of memory". (QuickJS's own
   * malloc limit cannot be used: built for WebAssembly it cannot measure block sizes, so it counts
   * almost nothing.)
   */
  memoryBytes: number;
}

/** QuickJS's WebAssembly module declares 16 MiB as its initial memory; no call can have less. */
export const MIN_MEMORY_BYTES = 16 * 1024 * 1024;
export const WASM_PAGE_BYTES = 64 * 1024;

export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  cpuTimeMs: 100,
  memoryBytes: 16 * 1024 * 1024,
});

/** Upper bounds a caller may configure, so a definition cannot ask for a minute or a gigabyte. */
export const MAX_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  cpuTimeMs: 5000,
  memoryBytes: 256 * 1024 * 1024,
});

/** The code, the input and the output are bounded too: each is JSON text of at most this many bytes. */
export const MAX_CODE_BYTES = 64 * 1024;
export const MAX_JSON_BYTES = 1024 * 1024;

export const SANDBOX_ERROR_KINDS = [
  'cpu_time_limit',
  'memory_limit',
  'stack_limit',
  'code_error',
  'invalid_input',
  'invalid_output',
  'sandbox_unavailable',
] as const;
export type SandboxErrorKind = (typeof SANDBOX_ERROR_KINDS)[number];

export class SandboxError extends Error {
  constructor(
    readonly kind: SandboxErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'SandboxError';
  }
}

export function checkLimits(limits: Partial<SandboxLimits> | undefined): SandboxLimits {
  const out = { ...DEFAULT_SANDBOX_LIMITS, ...limits };
  const minimum = { cpuTimeMs: 1, memoryBytes: MIN_MEMORY_BYTES };
  for (const key of ['cpuTimeMs', 'memoryBytes'] as const) {
    const v = out[key];
    if (!Number.isInteger(v) || v < minimum[key] || v > MAX_SANDBOX_LIMITS[key]) {
      throw new SandboxError(
        'invalid_input',
        `${key}: expected an integer from ${minimum[key]} to ${MAX_SANDBOX_LIMITS[key]}`,
      );
    }
  }
  return out;
}
