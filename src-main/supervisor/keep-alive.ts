/**
 * keepAlive: restart a crashed server, with backoff 1 s doubling to 30 s, reset once it has
 * run for 30 s.
 */
import type { ServerProcess } from './server-process';

interface Backoff {
  delayMs: number;
  timer: NodeJS.Timeout | null;
  runningSinceMs: number | null;
}

export class KeepAlive {
  /** the servers to restart when they crash */
  private readonly ids = new Set<number>();
  private readonly backoff = new Map<number, Backoff>();

  constructor(
    /** restart server `id` */
    private readonly start: (id: number) => Promise<void>,
    private readonly isClosed: () => boolean,
  ) {}

  get size(): number {
    return this.ids.size;
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  set(id: number, on: boolean): void {
    if (on) this.ids.add(id);
    else this.ids.delete(id);
  }

  /** after any change: schedule a restart of crashed servers, with backoff */
  watch(procs: Iterable<ServerProcess>): void {
    for (const p of procs) {
      const id = p.slot.id;
      const b = this.backoff.get(id) ?? { delayMs: 1000, timer: null, runningSinceMs: null };
      this.backoff.set(id, b);
      const st = p.state.state;
      if (st === 'running') {
        b.runningSinceMs ??= Date.now();
        if (Date.now() - b.runningSinceMs > 30_000) b.delayMs = 1000;
      } else b.runningSinceMs = null;
      if (st !== 'crashed' || !this.ids.has(id) || b.timer || this.isClosed()) continue;
      const delay = b.delayMs;
      b.delayMs = Math.min(30_000, b.delayMs * 2);
      b.timer = setTimeout(() => {
        b.timer = null;
        if (this.isClosed() || !this.ids.has(id) || p.state.state !== 'crashed') return;
        this.start(id).catch(() => {});
      }, delay);
      b.timer.unref();
    }
  }

  /** Cancel every scheduled restart (shutdown). */
  clearTimers(): void {
    for (const b of this.backoff.values()) if (b.timer) clearTimeout(b.timer);
  }
}
