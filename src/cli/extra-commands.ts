import { verifyCommand } from './verify-command.ts';

/** Commands contributed by areas, keyed by name. */
export type CliCommand = (
  args: string[],
  out: { log: (s: string) => void; error: (s: string) => void },
) => Promise<number>;
export const COMMANDS: Record<string, CliCommand> = { verify: verifyCommand };
