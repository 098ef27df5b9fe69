import type { CliCommand } from './cli-command.ts';
import { listenCommand } from './listen-command.ts';
import { loginCommand } from './login-command.ts';
import { replayCommand, resendCommand, sendCommand } from './send-command.ts';
import { verifyCommand } from './verify-command.ts';
import { statusCommand, tailCommand } from './watch-commands.ts';
import { workflowsCommand } from './workflows-command.ts';

/** Commands contributed by areas, keyed by name. */
export const COMMANDS: Record<string, CliCommand> = {
  verify: verifyCommand,
  login: loginCommand,
  listen: listenCommand,
  send: sendCommand,
  replay: replayCommand,
  resend: resendCommand,
  tail: tailCommand,
  status: statusCommand,
  workflows: workflowsCommand,
};
