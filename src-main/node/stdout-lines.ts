/**
 * The server's stdout (log lines, trace NDJSON, step-mode reports), written once per turn of the
 * event loop instead of once per line: a busy traced server emits several trace events per
 * request, and on a pipe each process.stdout.write is its own system call. Order is kept (every
 * stdout line goes through here); what is pending when the process exits is written
 * synchronously. A kill -9 loses at most the current turn's lines.
 */
import { writeSync } from 'node:fs';

let pending: string[] = [];
let scheduled = false;
let exitHooked = false;

export function writeStdout(text: string): void {
  pending.push(text);
  if (scheduled) return;
  scheduled = true;
  setImmediate(flushStdout);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      if (pending.length === 0) return;
      const rest = pending.join('');
      pending = [];
      try {
        writeSync(1, rest);
      } catch {
        // stdout gone: nothing to tell
      }
    });
  }
}

export function flushStdout(): void {
  scheduled = false;
  if (pending.length === 0) return;
  const text = pending.length === 1 ? (pending[0] as string) : pending.join('');
  pending = [];
  process.stdout.write(text);
}
