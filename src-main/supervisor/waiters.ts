/**
 * Waiting on an ensemble's condition with a deadline: each wait re-checks its condition at
 * every change the ensemble reports (`notify`) and every 200 ms; and the ensemble's usual
 * waits (a server in a state, every server in a state, every server settled).
 */
import type { ServerState } from '../api/contract';
import { ZooLabError } from '../common/errors';
import type { ServerProcess } from './server-process';

export class Waiters {
  private readonly checks = new Set<() => void>();

  /** something changed: re-check every pending wait */
  notify(): void {
    for (const w of [...this.checks]) w();
  }

  /** Wait on a condition re-checked at every change (and every 200 ms), with a deadline. */
  until(condition: () => boolean, what: string, timeoutMs: number, describe?: () => string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (condition()) {
          cleanup();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new ZooLabError('TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}${describe ? `; ${describe()}` : ''}`));
      }, timeoutMs);
      const ticker = setInterval(check, 200);
      const cleanup = (): void => {
        clearTimeout(timer);
        clearInterval(ticker);
        this.checks.delete(check);
      };
      this.checks.add(check);
    });
  }
}

/** Wait until server `p` is in `state`; the timeout names the state it is in instead. */
export function waitForServer(waiters: Waiters, p: ServerProcess, state: ServerState, timeoutMs: number): Promise<void> {
  return waiters.until(() => p.state.state === state, `server ${p.slot.id} to be ${state}`, timeoutMs, () => {
    const v = p.view();
    return `it is ${v.state}${v.lastError ? `: ${v.lastError}` : ''}`;
  });
}

/** Wait until every server (as `procs` lists them at each check) is in `state`. */
export function waitForEvery(waiters: Waiters, procs: () => Iterable<ServerProcess>, state: ServerState, timeoutMs: number): Promise<void> {
  return waiters.until(
    () => [...procs()].every((p) => p.state.state === state),
    `every server to be ${state}`,
    timeoutMs,
    () =>
      [...procs()]
        .map((p) => `server ${p.slot.id} ${p.state.state}${p.state.lastError ? ` (${p.state.lastError})` : ''}`)
        .join(', '),
  );
}

/** Wait until every server is running or has crashed (a crash does not make the others wait). */
export function waitForSettled(waiters: Waiters, procs: () => Iterable<ServerProcess>, timeoutMs: number): Promise<void> {
  return waiters.until(
    () => [...procs()].every((p) => p.state.state === 'running' || p.state.state === 'crashed'),
    'every server to run (or fail)',
    timeoutMs,
    () => [...procs()].map((p) => `server ${p.slot.id} ${p.state.state}`).join(', '),
  );
}
