import type { CliCommand } from './cli-command.ts';
import { verifyCommand } from './verify-command.ts';

/** Commands contributed by areas, keyed by name. */
export const COMMANDS: Record<string, CliCommand> = { verify: verifyCommand };
