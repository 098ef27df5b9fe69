import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * Which build of better-sqlite3 this Node.js loads. Neither major version runs on every Node.js
 * we support (>= 20.19, 22, 24):
 * - 12.x wraps its objects in node::ObjectWrap. Built against Node.js 24's headers, that class
 *   registers a cleanup hook per object and its destructor CHECKs for an Environment, which a
 *   V8 weak callback does not have: the first garbage-collected statement or iterator aborts the
 *   process ("Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook).
 * - 13.x is built on Node-API (prebuilt, nothing to compile) and requires Node.js >= 22; on 20 it
 *   crashes on the first statement.
 * So package.json installs both (13.x under the alias better-sqlite3-napi) and Node.js 24 and
 * later load 13.x; 20 and 22 load 12.x. The JavaScript API we use is the same in both, and the
 * test suite passes on each (docs/development.md says how to run it on another Node.js).
 */
export const SQLITE_DRIVER: 'better-sqlite3' | 'better-sqlite3-napi' =
  Number(process.versions.node.split('.')[0]) >= 24 ? 'better-sqlite3-napi' : 'better-sqlite3';

const Database = createRequire(import.meta.url)(SQLITE_DRIVER) as typeof BetterSqlite3;

export default Database;
