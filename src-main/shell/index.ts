/**
 * The zkCli-compatible shell: `shellMain` (the `zoolab shell` command), `openTerminalShell`
 * (the same shell behind the app's terminal pane), and the terminal-independent pieces.
 */
export { shellMain, runShell, parseShellArgs } from './cli';
export type { ShellArgs, ShellIo } from './cli';
export { openTerminalShell } from './terminal';
export type { TerminalShell, TerminalShellOptions } from './terminal';
export { ShellSession } from './session';
export type { ShellMode, ShellSessionOptions } from './session';
export { connectShellZk, ClientShellZk } from './client-binding';
export type { ShellZk, ShellZkFactory, ConnectOptions, Outcome, ZkState } from './zk-port';
