import { Worker } from 'node:worker_threads';
import {
  checkLimits,
  MAX_CODE_BYTES,
  MAX_JSON_BYTES,
  SandboxError,
  type SandboxLimits,
} from './sandbox-limits.ts';
import type { SandboxReply, SandboxRequest } from './sandbox-worker.ts';

const BOOT = new URL('./sandbox-worker-boot.mjs', import.meta.url);

/**
 * Custom code from integration definitions (handshake answers, signature checks, transforms,
 * routing values), run in QuickJS compiled to WebAssembly on a thread of its own, one call at a
 * time, under a CPU time and a memory limit per call. JSON in, JSON out.
 *
 * Calls queue (at most `maxQueued`). If the thread does not answer within a backstop well past the
 * CPU limit (QuickJS's interrupt handler not being reached), it is terminated and replaced, and that
 * call fails with the CPU limit; the calls behind it run on the new thread.
 */
export interface Sandbox {
  /** Runs `code`, which defines `function handler(input)`, on `input`; resolves to its JSON result. */
  run(code: string, input: unknown, limits?: Partial<SandboxLimits>): Promise<unknown>;
  close(): Promise<void>;
}

interface Pending {
  request: SandboxRequest;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export function createSandbox(
  options: { limits?: Partial<SandboxLimits>; maxQueued?: number } = {},
): Sandbox {
  const defaults = checkLimits(options.limits);
  const maxQueued = options.maxQueued ?? 256;
  const queue: Pending[] = [];
  let worker: Worker | null = null;
  let ready: Promise<void> | null = null;
  let current: Pending | null = null;
  let backstop: NodeJS.Timeout | null = null;
  let nextId = 1;
  let closed = false;

  function start(): Promise<void> {
    const w = new Worker(BOOT, { execArgv: [], resourceLimits: { maxOldGenerationSizeMb: 64 } });
    worker = w;
    ready = new Promise<void>((resolve, reject) => {
      const onFirst = (message: unknown) => {
        if ((message as { ready?: boolean }).ready) {
          w.off('message', onFirst);
          w.on('message', onReply);
          resolve();
        }
      };
      w.on('message', onFirst);
      w.once('error', reject);
    });
    w.on('error', (err) =>
      fail(new SandboxError('sandbox_unavailable', `the sandbox thread failed: ${err.message}`)),
    );
    w.on('exit', () => {
      if (worker === w) worker = null;
    });
    return ready;
  }

  function fail(error: SandboxError): void {
    const call = current;
    current = null;
    if (backstop) clearTimeout(backstop);
    backstop = null;
    if (call) call.reject(error);
    const w = worker;
    worker = null;
    ready = null;
    void w?.terminate();
    pump();
  }

  function onReply(reply: SandboxReply): void {
    const call = current;
    if (!call || call.request.id !== reply.id) return;
    current = null;
    if (backstop) clearTimeout(backstop);
    backstop = null;
    if (reply.ok) {
      try {
        call.resolve(JSON.parse(reply.outputJson));
      } catch {
        call.reject(new SandboxError('invalid_output', 'the result is not JSON'));
      }
    } else call.reject(new SandboxError(reply.kind, reply.message));
    pump();
  }

  function pump(): void {
    if (closed || current || queue.length === 0) return;
    const call = queue.shift() as Pending;
    current = call;
    const go = async () => {
      if (!worker || !ready) await start();
      else await ready;
      if (current !== call) return;
      // Generous: the thread's own interrupt normally stops the code at its limit; this catches
      // code QuickJS cannot interrupt.
      backstop = setTimeout(
        () =>
          fail(
            new SandboxError(
              'cpu_time_limit',
              `the code ran past its CPU time limit of ${call.request.limits.cpuTimeMs} ms`,
            ),
          ),
        call.request.limits.cpuTimeMs * 5 + 1000,
      );
      worker?.postMessage(call.request);
    };
    go().catch((err: Error) =>
      fail(new SandboxError('sandbox_unavailable', `the sandbox could not start: ${err.message}`)),
    );
  }

  return {
    run(code, input, limits) {
      return new Promise((resolve, reject) => {
        if (closed) return reject(new SandboxError('sandbox_unavailable', 'the sandbox is closed'));
        if (typeof code !== 'string' || Buffer.byteLength(code) > MAX_CODE_BYTES) {
          return reject(
            new SandboxError('invalid_input', `code: expected at most ${MAX_CODE_BYTES} bytes of JavaScript`),
          );
        }
        let inputJson: string | undefined;
        try {
          inputJson = JSON.stringify(input);
        } catch {}
        if (inputJson === undefined || Buffer.byteLength(inputJson) > MAX_JSON_BYTES) {
          return reject(
            new SandboxError(
              'invalid_input',
              `input: expected a JSON value of at most ${MAX_JSON_BYTES} bytes`,
            ),
          );
        }
        if (queue.length >= maxQueued) {
          return reject(
            new SandboxError('sandbox_unavailable', `the sandbox has ${maxQueued} calls waiting; try later`),
          );
        }
        let callLimits: SandboxLimits;
        try {
          callLimits = checkLimits({ ...defaults, ...limits });
        } catch (err) {
          return reject(err as Error);
        }
        queue.push({ request: { id: nextId++, code, inputJson, limits: callLimits }, resolve, reject });
        pump();
      });
    },
    async close() {
      closed = true;
      for (const call of queue.splice(0))
        call.reject(new SandboxError('sandbox_unavailable', 'the sandbox is closed'));
      current?.reject(new SandboxError('sandbox_unavailable', 'the sandbox is closed'));
      current = null;
      if (backstop) clearTimeout(backstop);
      const w = worker;
      worker = null;
      await w?.terminate();
    },
  };
}
