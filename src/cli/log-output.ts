import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat, LogLevel } from '../config.ts';

/**
 * The log `hookyard start` writes to stdout, in one format: JSON lines for log collectors, or
 * pino-pretty's readable lines for a person at a terminal. The command's own announcements (the
 * listening address, the operator key shown once, shutdown) go through the same format, so a log
 * collector never meets a line that is not JSON.
 */
export interface LogOutput {
  /** The server's logger, at the configured level. */
  logger: Logger;
  /** The command's announcements: always shown, whatever the level. */
  announce: Logger;
  format: 'json' | 'pretty';
}

export function resolveLogFormat(format: LogFormat, isTty: boolean): 'json' | 'pretty' {
  return format === 'auto' ? (isTty ? 'pretty' : 'json') : format;
}

export function createLogOutput(options: {
  level: LogLevel;
  format: LogFormat;
  stream?: NodeJS.WriteStream;
}): LogOutput {
  const stream = options.stream ?? process.stdout;
  const format = resolveLogFormat(options.format, stream.isTTY === true);
  const destination =
    format === 'pretty'
      ? pretty({
          colorize: stream.isTTY === true,
          // Written as they come, so nothing is lost when the process exits.
          sync: true,
          destination: stream,
          ignore: 'pid,hostname,service',
          translateTime: 'SYS:HH:MM:ss.l',
        })
      : stream === process.stdout
        ? pino.destination({ dest: 1, sync: true })
        : stream;
  const root = pino({ level: 'info', base: { service: 'hookyard' } }, destination);
  return {
    logger: root.child({}, { level: options.level }),
    announce: root.child({ component: 'cli' }),
    format,
  };
}
