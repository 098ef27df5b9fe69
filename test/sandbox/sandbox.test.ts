import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSandbox, type Sandbox } from '../../src/sandbox/sandbox.ts';
import { DEFAULT_SANDBOX_LIMITS, type SandboxError } from '../../src/sandbox/sandbox-limits.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';

const LOOP = 'function handler() { for (;;) {} }';
const ALLOCATION_BOMB =
  'function handler() { const a = []; for (;;) a.push(new Array(100000).fill(a.length)); }';
const TYPED_BOMB = 'function handler() { const a = []; for (;;) a.push(new Uint8Array(1 << 20)); }';

async function failure(promise: Promise<unknown>): Promise<{ error: SandboxError; elapsedMs: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    return { error: error as SandboxError, elapsedMs: Date.now() - started };
  }
  assert.fail('expected the call to fail');
}

describe('sandbox (QuickJS in WebAssembly)', () => {
  let sandbox: Sandbox;
  before(() => {
    sandbox = createSandbox();
  });
  after(async () => {
    await sandbox.close();
  });

  it('runs handler(input) with JSON in and JSON out; defaults are 100 ms and 16 MiB', async () => {
    assert.deepEqual(DEFAULT_SANDBOX_LIMITS, { cpuTimeMs: 100, memoryBytes: 16 * 1024 * 1024 });
    const out = await sandbox.run(
      'function handler(input) { return { status: 200, body: input.challenge, n: input.list.length, nothing: null } }',
      { challenge: 'abc', list: [1, 2, 3] },
    );
    assert.deepEqual(out, { status: 200, body: 'abc', n: 3, nothing: null });
  });

  it('has no I/O: no fetch, require, process, timers, std or os', async () => {
    const out = await sandbox.run(
      'function handler() { return ["fetch", "require", "process", "setTimeout", "std", "os", "XMLHttpRequest"].filter((n) => typeof globalThis[n] !== "undefined") }',
      null,
    );
    assert.deepEqual(out, []);
  });

  it('an infinite loop is stopped at its CPU time limit, named', async () => {
    const { error, elapsedMs } = await failure(sandbox.run(LOOP, {}));
    assert.equal(error.kind, 'cpu_time_limit');
    assert.equal(error.message, 'the code ran past its CPU time limit of 100 ms');
    assert.ok(elapsedMs >= 100 && elapsedMs < 2500, `stopped after ${elapsedMs} ms`);
  });

  it('allocation bombs are stopped at the memory limit, named, and the next call runs', async () => {
    for (const bomb of [ALLOCATION_BOMB, TYPED_BOMB]) {
      const { error } = await failure(sandbox.run(bomb, {}, { cpuTimeMs: 5000 }));
      assert.equal(error.kind, 'memory_limit', error.message);
      assert.equal(error.message, 'the code ran past its memory limit of 16777216 bytes');
    }
    // 8 MiB fits in 16 MiB once the bomb's memory was given back.
    assert.equal(
      await sandbox.run('function handler() { return new Uint8Array(8 << 20).length }', {}),
      8 << 20,
    );
  });

  it('limits are configurable per sandbox and per call, within bounds', async () => {
    const generous = createSandbox({ limits: { cpuTimeMs: 300, memoryBytes: 64 * 1024 * 1024 } });
    try {
      const { error, elapsedMs } = await failure(generous.run(LOOP, {}));
      assert.equal(error.message, 'the code ran past its CPU time limit of 300 ms');
      assert.ok(elapsedMs >= 300, `${elapsedMs} ms`);
      // 40 MiB is past the default but within this sandbox's 64 MiB.
      assert.equal(
        await generous.run('function handler() { return new Uint8Array(40 << 20).length }', {}),
        40 << 20,
      );
      const small = await failure(
        generous.run(
          'function handler() { return new Uint8Array(40 << 20).length }',
          {},
          { memoryBytes: 16 << 20 },
        ),
      );
      assert.equal(small.error.kind, 'memory_limit');
    } finally {
      await generous.close();
    }
    const refused = await failure(sandbox.run('function handler() { return 1 }', {}, { memoryBytes: 1024 }));
    assert.equal(refused.error.kind, 'invalid_input');
    assert.match(refused.error.message, /^memoryBytes: expected an integer from 16777216 to 268435456/);
    assert.throws(
      () => createSandbox({ limits: { cpuTimeMs: 60_000 } }),
      /cpuTimeMs: expected an integer from 1 to 5000/,
    );
  });

  it('code errors, bad results and deep recursion are named; every handle is released', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['function handler() { throw new Error("nope") }', 'code_error', /threw Error: nope/],
      ['var x = 1', 'code_error', /must define function handler\(input\)/],
      ['function handler( {', 'code_error', /SyntaxError/],
      ['function handler() {}', 'invalid_output', /must return a JSON value/],
      [
        'function handler() { function f(n) { return f(n + 1) + 1 } return f(0) }',
        'stack_limit',
        /stack limit/,
      ],
    ];
    // Many calls through every error path on one module: a leaked handle would abort QuickJS
    // when its runtime is freed, and the call after would fail.
    for (let round = 0; round < 20; round++) {
      for (const [code, kind, message] of cases) {
        // CPU time to spare, so the deep recursion reaches the stack limit first on a busy machine.
        const { error } = await failure(sandbox.run(code, { round }, { cpuTimeMs: 3000 }));
        assert.equal(error.kind, kind);
        assert.match(error.message, message);
      }
    }
    assert.deepEqual(await sandbox.run('function handler(i) { return i }', { still: 'fine' }), {
      still: 'fine',
    });
  });

  it('refuses oversized code and input before running them', async () => {
    const big = await failure(sandbox.run(`function handler() { return 1 } //${'x'.repeat(70_000)}`, {}));
    assert.equal(big.error.kind, 'invalid_input');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(
      (await failure(sandbox.run('function handler() { return 1 }', cyclic))).error.kind,
      'invalid_input',
    );
  });
});

describe('the server keeps answering while code runs to its limits', () => {
  let t: TestHookyard;
  let sandbox: Sandbox;
  before(async () => {
    t = await startTestHookyard('sqlite');
    sandbox = createSandbox({ limits: { cpuTimeMs: 1500 } });
  });
  after(async () => {
    await sandbox.close();
    await t.cleanup();
  });

  for (const [name, code, kind] of [
    ['an infinite loop', LOOP, 'cpu_time_limit'],
    [
      'an allocation bomb',
      // Slowed down, so the server is asked while it is still growing.
      'function handler() { const a = []; for (;;) { a.push(new Array(20000).fill(a.length)); for (let i = 0; i < 2e5; i++); } }',
      'memory_limit',
    ],
  ] as const) {
    it(`${name}: real HTTP requests are answered during the run`, async () => {
      let running = true;
      const run = sandbox.run(code, {}).then(
        () => assert.fail('expected the call to fail'),
        (error: SandboxError) => {
          running = false;
          return error;
        },
      );
      const answeredDuringRun: number[] = [];
      // Poll the server while the code runs; each answer that comes back while it still runs counts.
      while (running) {
        const started = Date.now();
        const res = await fetch(`${t.url}/healthz`);
        assert.equal(res.status, 200);
        await res.text();
        if (running) answeredDuringRun.push(Date.now() - started);
        await new Promise((r) => setTimeout(r, 20));
      }
      const error = await run;
      assert.equal(error.kind, kind, error.message);
      assert.ok(
        answeredDuringRun.length >= 3,
        `answered ${answeredDuringRun.length} requests during the run`,
      );
      assert.ok(
        Math.max(...answeredDuringRun) < 500,
        `slowest answer during the run: ${Math.max(...answeredDuringRun)} ms`,
      );
    });
  }
});
