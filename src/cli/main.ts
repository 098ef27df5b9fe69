import { parseArgs } from 'node:util';
import { CONFIG_DEFAULTS, CONFIG_KEYS, type Config, ConfigError, loadConfig } from '../config.ts';
import { systemClock } from '../domain/clock.ts';
import { HookyardError } from '../domain/errors.ts';
import { isId } from '../domain/ids.ts';
import { startHookyard } from '../main.ts';
import { createProjectService } from '../projects/project-service.ts';
import { createSecretBox, loadMasterKeys, SecretBoxError } from '../security/secret-box.ts';
import { openStore } from '../store/open-store.ts';
import { COMMANDS as EXTRA_COMMANDS } from './extra-commands.ts';
import { createLogOutput } from './log-output.ts';

/** The thin command line; the only place that writes to the console. */

type Out = { log: (s: string) => void; error: (s: string) => void };
const console_: Out = {
  log: (s) => process.stdout.write(`${s}\n`),
  error: (s) => process.stderr.write(`${s}\n`),
};

const configFlags = Object.fromEntries(
  Object.values(CONFIG_KEYS).map((spec) => [spec.flag.slice(2), { type: 'string' as const }]),
);

function configFlagHelp(): string {
  return Object.entries(CONFIG_KEYS)
    .map(([key, spec]) => {
      const def = CONFIG_DEFAULTS[key as keyof Config];
      return `  ${spec.flag.padEnd(26)} ${spec.doc} [${spec.env}${def ? `, default ${def}` : ''}]`;
    })
    .join('\n');
}

const HELP = {
  root: `hookyard: webhook and integration-event gateway

Usage: hookyard <command> [options]

Commands:
  start          Run the server (ingest, API, delivery; see --roles)
  migrate        Apply database migrations and exit
  keys create    Create an API key for a project, or reset the operator key
  verify         Check one captured webhook request offline against a provider's scheme

Client commands (talk to a running server; see docs/cli.md):
  login          Save a server URL and API key for the other client commands
  listen         Stream inbound events as they land; --forward-to a local URL, re-signed
  send           Send an event type's example (or --data) to an endpoint, or publish a message
  replay         Forward a stored inbound event again (as a new message)
  resend         Send a message again
  tail           Inbound events and refused requests as a live table
  status         Health of the project's endpoints
  workflows      apply FILE: create a workflow from YAML or JSON, or put a new version

Run "hookyard <command> --help" for a command's options.

Exit status: 0 success; 1 the command failed (a project that does not exist, a store that cannot be
reached; verify: the request is invalid); 2 bad usage (unknown command or option, a missing or
malformed option, an invalid setting); 3 (client commands) not authenticated.`,
  start: `Usage: hookyard start [options]

Starts Hookyard. Settings come from defaults, then --config FILE (JSON), then HOOKYARD_* env, then flags.

Options:
  --config FILE              JSON config file (keys as in docs/configuration.md) [HOOKYARD_CONFIG]
${configFlagHelp()}
  -h, --help                 Show this help`,
  migrate: `Usage: hookyard migrate [--data-dir DIR] [--database-url URL] [--config FILE]

Applies pending database migrations (SQLite in the data folder, or PostgreSQL) and exits.`,
  keys: `Usage: hookyard keys create --project prj_… [--name NAME] [store options]
       hookyard keys create --admin [store options]

Creates an API key for a project and prints it once. With --admin, replaces the stored operator key
(for when it was lost; has no effect while HOOKYARD_ADMIN_KEY is set) and prints the new one.
Store options: --data-dir, --database-url, --master-key, --config.`,
};

export async function runCli(argv: string[], out: Out = console_): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        out.log(HELP.root);
        return command === undefined ? 2 : 0;
      case 'start':
        return await startCommand(rest, out);
      case 'migrate':
        return await migrateCommand(rest, out);
      case 'keys':
        return await keysCommand(rest, out);
      default: {
        const extra = EXTRA_COMMANDS[command];
        if (extra) return await extra(rest, out);
        out.error(
          `hookyard: unknown command "${command}"; expected one of: start, migrate, keys, ${Object.keys(EXTRA_COMMANDS).join(', ')}.`,
        );
        return 2;
      }
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      out.error(`hookyard: invalid configuration: ${err.message}`);
      return 2;
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      out.error(`hookyard: ${(err as Error).message}`);
      return 2;
    }
    // Expected failures say what went wrong in one line; only a bug prints a stack trace.
    if (err instanceof HookyardError || err instanceof SecretBoxError) {
      out.error(`hookyard ${command}: ${err instanceof HookyardError ? err.detail : err.message}`);
      return 1;
    }
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z]+|\d{5})$/.test(code)) {
      // A system or database error (ECONNREFUSED, EACCES, a PostgreSQL SQLSTATE): not a bug here.
      out.error(`hookyard ${command}: ${(err as Error).message} (${code})`);
      return 1;
    }
    out.error(`hookyard: ${(err as Error).stack ?? String(err)}`);
    return 1;
  }
}

function parseConfigArgs(args: string[], extra: Record<string, { type: 'string' | 'boolean' }> = {}) {
  const parsed = parseArgs({
    args,
    options: { ...configFlags, config: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...extra },
    allowPositionals: true,
    strict: true,
  });
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const positionals = parsed.positionals;
  const flags: Partial<Record<keyof Config, string>> = {};
  for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
    const v = values[spec.flag.slice(2)];
    if (typeof v === 'string') flags[key as keyof Config] = v;
  }
  return { values, positionals, flags };
}

async function startCommand(args: string[], out: Out): Promise<number> {
  const { values, flags } = parseConfigArgs(args);
  if (values.help) {
    out.log(HELP.start);
    return 0;
  }
  const config = loadConfig({ flags, file: values.config as string | undefined });
  const { logger, announce } = createLogOutput({ level: config.logLevel, format: config.logFormat });
  const hy = await startHookyard(config, { logger });
  if (hy.generatedAdminKey) {
    announce.info(
      { adminKey: hy.generatedAdminKey },
      'Operator (admin) key, shown once; only its hash is stored. Use it as "Authorization: Bearer <key>". Lost it? Run: hookyard keys create --admin',
    );
  }
  announce.info(
    { url: hy.url, store: hy.store.kind },
    `Hookyard is listening on ${hy.url} (store: ${hy.store.kind}, ingest URLs: ${config.publicBaseUrl}/in/…)`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      announce.info({ signal }, `Received ${signal}; finishing in-flight work…`);
      hy.close().then(resolve, (err) => {
        announce.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

async function migrateCommand(args: string[], out: Out): Promise<number> {
  const { values, flags } = parseConfigArgs(args);
  if (values.help) {
    out.log(HELP.migrate);
    return 0;
  }
  const config = loadConfig({ flags, file: values.config as string | undefined });
  const store = openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await store.migrate();
    out.log(
      applied.length
        ? `Applied migrations ${applied.join(', ')} (${store.kind}).`
        : `Up to date (${store.kind}).`,
    );
  } finally {
    await store.close();
  }
  return 0;
}

async function keysCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals, flags } = parseConfigArgs(args, {
    project: { type: 'string' },
    name: { type: 'string' },
    admin: { type: 'boolean' },
  });
  if (values.help || positionals[0] !== 'create') {
    out.log(HELP.keys);
    return values.help ? 0 : 2;
  }
  if (!values.admin && values.project === undefined) {
    out.error('hookyard keys create: --project prj_… is required (or --admin for the operator key).');
    return 2;
  }
  if (!values.admin && !isId('project', values.project)) {
    out.error(
      `hookyard keys create: --project "${String(values.project)}" is not a project id; expected prj_ followed by lower-case letters and digits, as GET /api/v1/projects lists them.`,
    );
    return 2;
  }
  const config = loadConfig({ flags, file: values.config as string | undefined });
  const store = openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await store.migrate();
    const secrets = createSecretBox(loadMasterKeys(config.masterKey, config.dataDir));
    const projects = createProjectService({ store, secrets, clock: systemClock });
    if (values.admin) {
      if (config.adminKey)
        out.error('note: HOOKYARD_ADMIN_KEY is set, so the server uses that key, not this one.');
      out.log(await projects.resetAdminKey());
      return 0;
    }
    const { record, key } = await projects.createApiKey(
      values.project as never,
      (values.name as string) ?? 'cli',
    );
    out.log(key);
    out.error(`created ${record.id} for ${record.projectId}; the key is shown once.`);
    return 0;
  } finally {
    await store.close();
  }
}
