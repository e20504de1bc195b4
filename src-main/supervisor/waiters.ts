/**
 * Waiting on an ensemble's condition with a deadline: each wait re-checks its condition at
 * every change the ensemble reports (`notify`) and every 200 ms.
 */
import { ZooLabError } from '../common/errors';

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
