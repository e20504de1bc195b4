/**
 * Read throttling: stop reading a client's socket while it has more than `highWater` requests
 * unanswered in the core, start again below half of that. One TCP read can carry thousands of
 * pipelined requests, so without this a fast client could queue unbounded work (the core's own
 * hard bound then closes the connection).
 *
 * A server-wide bound too (ZooKeeper's globalOutstandingLimit): while the txns in flight
 * (`globalBacklog`, e.g. a leader's proposals not yet committed) exceed `globalHighWater`, every
 * connection that sends more is paused until they fall below half of it. A quorum leader so
 * never reaches ZAB's own bound on proposals in flight, which would have to refuse one.
 */
import { limits } from '../common/limits';
import type { ClientConnection } from './client-listener';

export interface GlobalThrottle {
  backlog: () => number;
  highWater: number;
}

export class ReadThrottle {
  private readonly paused = new Map<number, ClientConnection>();

  constructor(
    private readonly backlog: (connId: number) => number,
    private readonly highWater: number = limits.outstandingRequestsPerConnectionMax,
    private readonly global: GlobalThrottle | null = null,
  ) {}

  /** after feeding `conn`'s frames to the core */
  afterFrames(conn: ClientConnection): void {
    if (this.paused.has(conn.id)) return;
    if (this.backlog(conn.id) > this.highWater || (this.global !== null && this.global.backlog() > this.global.highWater)) {
      conn.pauseReading();
      this.paused.set(conn.id, conn);
    }
  }

  /** after the core answered something: resume connections that drained */
  afterPump(): void {
    if (this.paused.size === 0) return;
    if (this.global !== null && this.global.backlog() > this.global.highWater / 2) return;
    for (const [id, conn] of this.paused) {
      if (conn.closed) this.paused.delete(id);
      else if (this.backlog(id) <= this.highWater / 2) {
        this.paused.delete(id);
        conn.resumeReading();
      }
    }
  }

  forget(connId: number): void {
    this.paused.delete(connId);
  }
}
