import {
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
  shouldInterruptAfterDeadline,
} from 'quickjs-emscripten';
import { MAX_JSON_BYTES, SandboxError, type SandboxLimits } from './sandbox-limits.ts';

/**
 * Runs one call of custom code in a fresh QuickJS runtime: the code defines `handler(input)`, the
 * input goes in as JSON text, the result comes out as JSON text. Nothing of one call survives into
 * the next. QuickJS has no I/O of its own and none is given to it: no fetch, no timers, no modules,
 * no host functions.
 *
 * Every handle is disposed before the runtime is (QuickJS aborts when a runtime is freed with live
 * objects), on every path, errors included.
 */

/** The message QuickJS gives the error the interrupt handler raises. */
const INTERRUPTED = /interrupted/i;
const OUT_OF_MEMORY = /out of memory/i;
const STACK_OVERFLOW = /stack overflow|call stack size/i;
/** QuickJS's native stack is separate from the heap; a deep recursion stops here, not in the host. */
const MAX_STACK_BYTES = 512 * 1024;

function describeError(context: QuickJSContext, handle: QuickJSHandle): { name: string; message: string } {
  const dumped = context.dump(handle) as unknown;
  if (dumped && typeof dumped === 'object') {
    const e = dumped as { name?: unknown; message?: unknown };
    return { name: String(e.name ?? 'Error'), message: String(e.message ?? '') };
  }
  return { name: 'Error', message: String(dumped) };
}

function classify(
  error: { name: string; message: string },
  limits: SandboxLimits,
  deadlinePassed: boolean,
): SandboxError {
  const text = `${error.name}: ${error.message}`;
  if (deadlinePassed && INTERRUPTED.test(text)) {
    return new SandboxError(
      'cpu_time_limit',
      `the code ran past its CPU time limit of ${limits.cpuTimeMs} ms`,
    );
  }
  if (OUT_OF_MEMORY.test(text)) {
    return new SandboxError(
      'memory_limit',
      `the code ran past its memory limit of ${limits.memoryBytes} bytes`,
    );
  }
  if (STACK_OVERFLOW.test(text)) {
    return new SandboxError('stack_limit', `the code ran past its stack limit of ${MAX_STACK_BYTES} bytes`);
  }
  return new SandboxError('code_error', `the code threw ${text}`);
}

export function runInQuickJS(
  module: QuickJSWASMModule,
  code: string,
  inputJson: string,
  limits: SandboxLimits,
): string {
  let runtime: QuickJSRuntime | undefined;
  let context: QuickJSContext | undefined;
  const deadline = Date.now() + limits.cpuTimeMs;
  try {
    // The memory limit is the module's: its WebAssembly memory has `limits.memoryBytes` as its
    // maximum (sandbox-worker.ts keeps one module per limit).
    runtime = module.newRuntime();
    runtime.setMaxStackSize(MAX_STACK_BYTES);
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(deadline));
    context = runtime.newContext();
    const ctx = context;
    const input = ctx.newString(inputJson);
    try {
      ctx.setProp(ctx.global, '__hookyardInput', input);
    } finally {
      input.dispose();
    }

    const defined = ctx.evalCode(code, 'definition.js');
    if (defined.error) {
      const error = describeError(ctx, defined.error);
      defined.error.dispose();
      throw classify(error, limits, Date.now() >= deadline);
    }
    defined.value.dispose();

    const called = ctx.evalCode(
      `if (typeof handler !== 'function') throw new TypeError('the code must define function handler(input)');
       JSON.stringify(handler(JSON.parse(globalThis.__hookyardInput)))`,
      'call.js',
    );
    if (called.error) {
      const error = describeError(ctx, called.error);
      called.error.dispose();
      throw classify(error, limits, Date.now() >= deadline);
    }
    const type = ctx.typeof(called.value);
    const output = type === 'string' ? ctx.getString(called.value) : undefined;
    called.value.dispose();
    if (output === undefined) {
      throw new SandboxError(
        'invalid_output',
        'handler(input) must return a JSON value (it returned undefined or a function)',
      );
    }
    if (Buffer.byteLength(output) > MAX_JSON_BYTES) {
      throw new SandboxError('invalid_output', `the result is larger than ${MAX_JSON_BYTES} bytes of JSON`);
    }
    return output;
  } finally {
    context?.dispose();
    runtime?.dispose();
  }
}
