/**
 * `zoolab shell [-server host:port,...] [-timeout ms] [-r] [command args]`: the ShellSession
 * bound to process.stdin/stdout. With a command it runs it once and returns zkCli's status;
 * otherwise it reads commands: raw keys with line editing when stdin is a TTY, plain lines
 * when it is piped (so scripts can feed it, as they feed zkCli).
 */
import { readFile } from 'node:fs/promises';
import { connectShellZk } from './client-binding';
import { ShellSession } from './session';
import type { ShellMode, ShellSessionOptions } from './session';
import type { ShellZkFactory } from './zk-port';

export interface ShellArgs {
  server: string;
  timeoutMs: number;
  readOnly: boolean;
  /** the command to run once, or empty for an interactive shell */
  command: string[];
  /** problems zkCli reports on stderr and then carries on */
  warnings: string[];
}

/** zkCli's own option handling: -server, -timeout, -r, -client-configuration, -waitforconnection; the first other word starts the command. */
export function parseShellArgs(args: readonly string[]): ShellArgs {
  const out: ShellArgs = { server: 'localhost:2181', timeoutMs: 30000, readOnly: false, command: [], warnings: [] };
  for (let i = 0; i < args.length; i++) {
    const opt = args[i] ?? '';
    const needValue = (): string | null => {
      const v = args[i + 1];
      if (v === undefined) {
        out.warnings.push(`Error: no argument found for option ${opt}`);
        return null;
      }
      i += 1;
      return v;
    };
    if (opt === '-server') {
      const v = needValue();
      if (v === null) return out;
      out.server = v;
    } else if (opt === '-timeout') {
      const v = needValue();
      if (v === null) return out;
      const n = Number.parseInt(v, 10);
      if (Number.isFinite(n) && n > 0) out.timeoutMs = n;
    } else if (opt === '-r') {
      out.readOnly = true;
    } else if (opt === '-client-configuration') {
      if (needValue() === null) return out;
    } else if (opt === '-waitforconnection') {
      // zoolab's shell always waits for the connection before the first command
    } else if (!opt.startsWith('-')) {
      out.command = args.slice(i);
      return out;
    }
  }
  return out;
}

export interface ShellIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Reads a file for reconfig -file; a failure worded as Java's FileNotFoundException message. */
export async function readFileJavaWording(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'No such file or directory' : code === 'EISDIR' ? 'Is a directory' : code === 'EACCES' ? 'Permission denied' : (e as Error).message;
    throw new Error(`${path} (${reason})`);
  }
}

/** Runs the shell on the given streams (process's by default); resolves with the exit status. */
export async function runShell(
  args: readonly string[],
  io: ShellIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
  connect: ShellZkFactory = connectShellZk,
): Promise<number> {
  // `zoolab shell ls / | head -1`: a reader that goes away is not an error worth a stack trace
  const ignorePipeErrors = (e: NodeJS.ErrnoException): void => {
    if (e.code !== 'EPIPE') throw e;
  };
  io.stdout.on('error', ignorePipeErrors);
  io.stderr.on('error', ignorePipeErrors);
  const parsed = parseShellArgs(args);
  for (const w of parsed.warnings) io.stderr.write(`${w}\n`);
  const oneShot = parsed.command.length > 0;
  const tty = !oneShot && io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function';
  const mode: ShellMode = oneShot ? 'oneShot' : tty ? 'terminal' : 'lines';

  let finish: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const options: ShellSessionOptions = {
    server: parsed.server,
    timeoutMs: parsed.timeoutMs,
    readOnly: parsed.readOnly,
    mode,
    connect,
    stdout: (t) => void io.stdout.write(t),
    stderr: (t) => void io.stderr.write(t),
    onExit: (code) => finish(code),
    readFile: readFileJavaWording,
  };
  const session = new ShellSession(options);
  session.start();

  if (oneShot) {
    const code = await session.runOnce(parsed.command);
    return code;
  }

  const onData = (chunk: Buffer | string): void => session.feed(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
  const onEnd = (): void => session.endOfInput();
  const onResize = (): void => session.resize(io.stdout.columns ?? 80);
  if (tty) {
    io.stdin.setRawMode(true);
    onResize();
    io.stdout.on('resize', onResize);
  }
  io.stdin.setEncoding('utf8');
  io.stdin.on('data', onData);
  io.stdin.on('end', onEnd);
  io.stdin.resume();
  try {
    return await exited;
  } finally {
    io.stdin.off('data', onData);
    io.stdin.off('end', onEnd);
    io.stdout.off('resize', onResize);
    if (tty) io.stdin.setRawMode(false);
    io.stdin.pause();
  }
}

/** The `zoolab shell` subcommand. */
export function shellMain(args: string[]): Promise<number> {
  return runShell(args);
}
