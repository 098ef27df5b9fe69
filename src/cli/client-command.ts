import { parseArgs } from 'node:util';
import { type ApiClient, createApiClient } from './api-client.ts';
import type { CliCommand } from './cli-command.ts';
import { ApiError, EXIT, exitStatusOf, UnreachableError, UsageError } from './cli-errors.ts';
import { resolveTarget } from './client-config.ts';

export type Out = Parameters<CliCommand>[1];
type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

export const CLIENT_OPTIONS_HELP = `Server options (every client command):
  --url URL           the Hookyard server [HOOKYARD_URL, else the saved login]
  --key KEY           a project API key [HOOKYARD_KEY, else the saved login]
  --project prj_…     the project (default: the key's own project) [HOOKYARD_PROJECT]

Exit status: 0 success; 1 the server refused or failed the request, or could not be reached;
2 bad usage; 3 not authenticated (no key, or the key was refused).`;

const CLIENT_OPTIONS: OptionSpec = {
  url: { type: 'string' },
  key: { type: 'string' },
  project: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export interface ClientContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  out: Out;
  /** The API client (resolved on first use, so --help and usage errors need no server). */
  api(): ApiClient;
  json: boolean;
}

/**
 * A client command: parses its options with the shared server options, and turns failures into
 * one line on stderr and the documented exit status.
 */
export function clientCommand(
  name: string,
  help: string,
  options: OptionSpec,
  run: (ctx: ClientContext) => Promise<number>,
): CliCommand {
  return async (args, out) => {
    try {
      const { values, positionals } = parseArgs({
        args,
        options: { ...CLIENT_OPTIONS, ...options },
        allowPositionals: true,
        strict: true,
      });
      if (values.help) {
        out.log(`${help}\n\n${CLIENT_OPTIONS_HELP}`);
        return EXIT.ok;
      }
      let client: ApiClient | undefined;
      const v = values as ClientContext['values'];
      return await run({
        values: v,
        positionals,
        out,
        json: values.json === true,
        api: () => {
          client ??= createApiClient(
            resolveTarget({
              url: v.url as string | undefined,
              key: v.key as string | undefined,
              project: v.project as string | undefined,
            }),
          );
          return client;
        },
      });
    } catch (err) {
      if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        out.error(`hookyard ${name}: ${(err as Error).message}`);
        out.error(`Run "hookyard ${name} --help" for the options.`);
        return EXIT.usage;
      }
      if (err instanceof ApiError) {
        out.error(`hookyard ${name}: ${err.detail} (${err.status} ${err.code})`);
        return exitStatusOf(err);
      }
      if (err instanceof UnreachableError) {
        out.error(`hookyard ${name}: ${err.message}`);
        return EXIT.failed;
      }
      throw err;
    }
  };
}

export const time = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toISOString().slice(11, 19) : '-';

/** Columns padded to fixed widths (the last one left as it is). */
export function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i] as number) : c)).join('  ');
}
