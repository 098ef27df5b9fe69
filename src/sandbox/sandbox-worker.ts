import { parentPort } from 'node:worker_threads';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSWASMModule,
  RELEASE_SYNC,
} from 'quickjs-emscripten';
import { runInQuickJS } from './quickjs-runner.ts';
import { MIN_MEMORY_BYTES, SandboxError, type SandboxLimits, WASM_PAGE_BYTES } from './sandbox-limits.ts';

/**
 * The sandbox's thread: loads QuickJS's WebAssembly module once, then runs one call at a time. It
 * is its own thread so that code running up to its CPU limit never holds the server's event loop.
 */
export interface SandboxRequest {
  id: number;
  code: string;
  inputJson: string;
  limits: SandboxLimits;
}
export type SandboxReply =
  | { id: number; ok: true; outputJson: string }
  | { id: number; ok: false; kind: SandboxError['kind']; message: string };

const port = parentPort;
if (!port) throw new Error('sandbox-worker.ts runs as a worker thread');

/**
 * One QuickJS module per memory limit: its WebAssembly memory starts at QuickJS's 16 MiB and may
 * grow to the limit, never past it. Calls run one at a time, and each disposes its runtime, so a
 * call has the whole memory less QuickJS's own static data.
 */
// The WebAssembly global is not in this project's TypeScript libs (no DOM, Node's types omit it).
const WasmMemory = (
  globalThis as unknown as {
    WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => object };
  }
).WebAssembly.Memory;
const modules = new Map<number, Promise<QuickJSWASMModule>>();
const MAX_MODULES = 4;
function moduleFor(memoryBytes: number): Promise<QuickJSWASMModule> {
  let m = modules.get(memoryBytes);
  if (!m) {
    if (modules.size >= MAX_MODULES) modules.delete(modules.keys().next().value as number);
    const memory = new WasmMemory({
      initial: MIN_MEMORY_BYTES / WASM_PAGE_BYTES,
      maximum: Math.ceil(memoryBytes / WASM_PAGE_BYTES),
    });
    m = newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory: memory }));
    modules.set(memoryBytes, m);
  }
  return m;
}

port.on('message', async (request: SandboxRequest) => {
  let reply: SandboxReply;
  let broken = false;
  try {
    const module = await moduleFor(request.limits.memoryBytes);
    reply = {
      id: request.id,
      ok: true,
      outputJson: runInQuickJS(module, request.code, request.inputJson, request.limits),
    };
  } catch (err) {
    if (err instanceof SandboxError)
      reply = { id: request.id, ok: false, kind: err.kind, message: err.message };
    else {
      // QuickJS aborted (an assertion in the engine): its module cannot be trusted again, so the
      // thread ends and the host starts a fresh one.
      broken = true;
      reply = {
        id: request.id,
        ok: false,
        kind: 'sandbox_unavailable',
        message: `the sandbox failed: ${(err as Error).message}`,
      };
    }
  }
  port.postMessage(reply);
  if (broken) process.exit(1);
});
await moduleFor(MIN_MEMORY_BYTES);
port.postMessage({ ready: true });
