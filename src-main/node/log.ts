/**
 * The server's log: one readable line per event, `2026-11-25T08:10:01.123Z INFO  [myid:1] text`,
 * info and below to stdout, warnings and errors to stderr. The supervisor captures both per
 * server; a person running `zoolab server` reads them directly.
 */
import { writeStdout } from './stdout-lines';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface LogOutput {
  out(line: string): void;
  err(line: string): void;
}

const stdio: LogOutput = {
  out: (line) => writeStdout(line),
  err: (line) => process.stderr.write(line),
};

export function formatLogLine(timeMs: number, level: LogLevel, tag: string, message: string): string {
  // one event = one line: a multi-line message (stack trace) is folded so line-based readers keep it together
  const oneLine = message.replace(/\r?\n/g, ' ⏎ ');
  return `${new Date(timeMs).toISOString()} ${level.padEnd(5)} [${tag}] ${oneLine}\n`;
}

export function createLogger(tag: string, output: LogOutput = stdio, clock: () => number = Date.now): Logger {
  const write = (level: LogLevel, message: string): void => {
    const line = formatLogLine(clock(), level, tag, message);
    if (level === 'WARN' || level === 'ERROR') output.err(line);
    else output.out(line);
  };
  return {
    debug: (m) => write('DEBUG', m),
    info: (m) => write('INFO', m),
    warn: (m) => write('WARN', m),
    error: (m) => write('ERROR', m),
  };
}
