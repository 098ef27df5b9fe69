import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from './cli-errors.ts';

/**
 * Where the client commands (login, listen, send, tail…) find their server: `--url`/`--key`
 * flags, then HOOKYARD_URL/HOOKYARD_KEY, then the file `hookyard login` wrote
 * ($XDG_CONFIG_HOME/hookyard/config.json, else ~/.config/hookyard/config.json; mode 0600).
 */
export interface ClientConfigFile {
  url?: string;
  key?: string;
  projectId?: string;
  /** The secret `hookyard listen` signs forwarded events with, kept so it stays the same. */
  listenSecret?: string;
}

export interface ClientTarget {
  url: string;
  key: string;
  projectId: string | undefined;
}

export function clientConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'hookyard', 'config.json');
}

export function readClientConfig(env: NodeJS.ProcessEnv = process.env): ClientConfigFile {
  const file = clientConfigPath(env);
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as ClientConfigFile) : {};
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}; run "hookyard login" again.`);
  }
}

/** Writes the file readable by its owner only (it holds an API key), replacing it atomically. */
export function writeClientConfig(config: ClientConfigFile, env: NodeJS.ProcessEnv = process.env): string {
  const file = clientConfigPath(env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
  return file;
}

export function normaliseUrl(raw: string, from: string): string {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    return raw.replace(/\/+$/, '');
  } catch {
    throw new UsageError(`${from} "${raw}" is not an http(s) URL, e.g. http://localhost:7070.`);
  }
}

/** The server and key from flags, environment and config file, in that order. */
export function resolveTarget(
  flags: { url?: string | undefined; key?: string | undefined; project?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): ClientTarget {
  const file = readClientConfig(env);
  const url = flags.url ?? env.HOOKYARD_URL ?? file.url;
  const key = flags.key ?? env.HOOKYARD_KEY ?? file.key;
  if (!url || !key) {
    throw new UsageError(
      'no server given: run "hookyard login --url URL --key KEY", or pass --url and --key (HOOKYARD_URL, HOOKYARD_KEY).',
    );
  }
  const urlFrom = flags.url ? '--url' : env.HOOKYARD_URL ? 'HOOKYARD_URL' : clientConfigPath(env);
  return {
    url: normaliseUrl(url, urlFrom),
    key,
    projectId: flags.project ?? env.HOOKYARD_PROJECT ?? (file.url === url ? file.projectId : undefined),
  };
}
