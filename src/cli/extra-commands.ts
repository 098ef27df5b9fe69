import { listenCommand } from './listen-command.ts';
import { loginCommand } from './login-command.ts';
import { replayCommand, resendCommand, sendCommand } from './send-command.ts';
import { verifyCommand } from './verify-command.ts';
import { statusCommand, tailCommand } from './watch-commands.ts';

/** Commands contributed by areas, keyed by name. */
export type CliCommand = (
  args: string[],
  out: { log: (s: string) => void; error: (s: string) => void },
) => Promise<number>;
export const COMMANDS: Record<string, CliCommand> = {
  verify: verifyCommand,
  login: loginCommand,
  listen: listenCommand,
  send: sendCommand,
  replay: replayCommand,
  resend: resendCommand,
  tail: tailCommand,
  status: statusCommand,
};
