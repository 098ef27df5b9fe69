import { Writable } from 'node:stream';
import pino from 'pino';

/** A logger at trace level that keeps every line, to check what a process wrote (and did not). */
export function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}
