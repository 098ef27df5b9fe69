import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HookyardError } from '../../src/domain/errors.ts';
import { compileJsonPath, readJsonPath } from '../../src/ingest/verification/json-path.ts';

const doc = {
  id: 'evt_1',
  data: { object: { id: 'obj_1' } },
  list: [10, 20, 30],
  'event-data': { id: 'mg_1' },
};

test('reads dotted names, indexes and quoted names', () => {
  assert.equal(readJsonPath(doc, '$.id'), 'evt_1');
  assert.equal(readJsonPath(doc, '$.data.object.id'), 'obj_1');
  assert.equal(readJsonPath(doc, '$.list[2]'), 30);
  assert.equal(readJsonPath([{ eventId: 7 }], '$[0].eventId'), 7);
  assert.equal(readJsonPath(doc, "$['event-data'].id"), 'mg_1');
  assert.equal(readJsonPath(doc, '$["event-data"].id'), 'mg_1');
  assert.equal(readJsonPath(doc, '$.event-data.id'), 'mg_1');
  assert.deepEqual(readJsonPath(doc, '$'), doc);
});

test('missing steps read as undefined, never throw', () => {
  assert.equal(readJsonPath(doc, '$.nope.deeper'), undefined);
  assert.equal(readJsonPath(doc, '$.list[3]'), undefined);
  assert.equal(readJsonPath(doc, '$.id[0]'), undefined);
  assert.equal(readJsonPath(doc, '$.list.length'), undefined);
  assert.equal(readJsonPath(undefined, '$.id'), undefined);
  assert.equal(readJsonPath(null, '$[0]'), undefined);
});

test('never reaches the prototype', () => {
  assert.equal(readJsonPath({}, '$.constructor'), undefined);
  assert.equal(readJsonPath({}, '$.__proto__'), undefined);
  assert.equal(readJsonPath({}, '$.toString'), undefined);
});

test('a compiled path reads the same and keeps its source', () => {
  const path = compileJsonPath('$.data.object.id');
  assert.equal(path.read(doc), 'obj_1');
  assert.equal(path.source, '$.data.object.id');
  assert.deepEqual(path.segments, ['data', 'object', 'id']);
});

test('malformed paths are validation errors that say what is allowed', () => {
  for (const bad of ['id', '$.', '$..a', '$[x]', '$[0', '$a', "$['a]"]) {
    assert.throws(
      () => compileJsonPath(bad),
      (error: unknown) =>
        error instanceof HookyardError &&
        error.code === 'validation_failed' &&
        /allowed: \$, \.name, \[index\]/.test(error.detail),
      bad,
    );
  }
});
