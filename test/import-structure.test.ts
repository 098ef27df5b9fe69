import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

/**
 * The layers of src/: areas (ingest, routing, delivery, store, domain…) below, `api/` above them,
 * `app.ts` and `main.ts` on top, and the CLI (which starts `main.ts`) above all. An area never
 * imports upwards, and no files import each other in a circle (type-only imports included: a
 * cycle of types is still two concepts tangled).
 */
const SRC = path.resolve(import.meta.dirname, '..', 'src');
const ABOVE_AREAS = [
  path.join(SRC, 'api') + path.sep,
  path.join(SRC, 'cli') + path.sep,
  path.join(SRC, 'app.ts'),
  path.join(SRC, 'main.ts'),
];
const SPECIFIER =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|mts|mjs|js)$/.test(name) ? [full] : [];
  });
}

/** Each file of src/ with the files of src/ it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = new Set<string>();
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2];
      if (!spec?.startsWith('.')) continue;
      targets.add(path.resolve(path.dirname(file), spec));
    }
    graph.set(file, [...targets]);
  }
  return graph;
}

/** Circles of imports (Tarjan's strongly connected components of more than one file, or a self-import). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, indexOf.get(w) as number));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indexOf.has(v)) visit(v);
  return found;
}

const relative = (f: string) => path.relative(SRC, f);
const isAbove = (f: string) => ABOVE_AREAS.some((a) => (a.endsWith(path.sep) ? f.startsWith(a) : f === a));

describe('import structure of src/', () => {
  const graph = importGraph();

  it('finds the imports it checks', () => {
    assert.ok(graph.size > 50, `src/ has ${graph.size} files`);
    assert.ok((graph.get(path.join(SRC, 'main.ts')) ?? []).includes(path.join(SRC, 'app.ts')));
  });

  it('has no files that import each other, directly or around a circle', () => {
    assert.deepEqual(
      cycles(graph).map((c) => c.map(relative)),
      [],
    );
  });

  it('has no area importing api/, app.ts, main.ts or cli/', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      if (isAbove(file)) continue;
      for (const target of targets)
        if (isAbove(target)) upward.push(`${relative(file)} → ${relative(target)}`);
    }
    assert.deepEqual(upward, []);
  });
});
