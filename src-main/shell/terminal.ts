/**
 * The shell for a terminal that is not this process's (the app's xterm pane, over IPC or a
 * WebSocket): bytes typed in go to `input`, text to show comes out through `write` (CRLF line
 * ends, VT100 sequences), `resize` follows the pane's width. The backend owns the ZooKeeper
 * session; the pane only forwards bytes.
 */
import { connectShellZk } from './client-binding';
import { ShellSession } from './session';
import type { ShellZkFactory } from './zk-port';

export interface TerminalShellOptions {
  /** connection string of the ensemble, e.g. "127.0.0.1:2181,127.0.0.1:2182" */
  server: string;
  /** session timeout (zkCli's -timeout), default 30000 */
  timeoutMs?: number;
  columns?: number;
  /** text for the terminal (stdout and stderr alike, as a terminal shows both) */
  write(text: string): void;
  /** the shell ended (quit, Ctrl-D) with zkCli's status */
  onExit?(code: number): void;
  /** local file access for reconfig -file (the host's; absent: the command says it cannot read files) */
  readFile?(path: string): Promise<string>;
  /** the client binding (tests may pass another ShellZkFactory) */
  connect?: ShellZkFactory;
}

export interface TerminalShell {
  /** bytes from the terminal (xterm's onData) */
  input(data: string): void;
  resize(columns: number): void;
  /** close the ZooKeeper session (pane closed) */
  dispose(): Promise<void>;
  readonly ended: boolean;
}

export function openTerminalShell(options: TerminalShellOptions): TerminalShell {
  const session = new ShellSession({
    server: options.server,
    timeoutMs: options.timeoutMs ?? 30_000,
    mode: 'terminal',
    connect: options.connect ?? connectShellZk,
    stdout: options.write,
    stderr: options.write,
    onExit: options.onExit,
    readFile: options.readFile,
  });
  if (options.columns !== undefined) session.resize(options.columns);
  session.start();
  return {
    input: (data) => session.feed(data),
    resize: (columns) => session.resize(columns),
    dispose: () => session.dispose(),
    get ended() {
      return session.isEnded;
    },
  };
}
