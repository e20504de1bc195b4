/**
 * The sessions a ServerCore knows of: their expiry (SessionTracker), the local connection each is
 * bound to, a learner's touches for the leader, a leader's owners, and session ids and passwords.
 * Bookkeeping only: what a session's change does to connections (close, answer) is ServerCore's.
 */
import type { SessionId } from '../common/ids';
import type { DataTree } from '../tree/data-tree';
import { SessionTracker, initialSessionId, sessionPassword } from './sessions';
import type { SessionDump } from './types';

export class SessionTable {
  readonly tracker: SessionTracker;
  /** session -> the local connection it is bound to */
  readonly boundConn = new Map<SessionId, number>();
  /** learner: sessions that showed life since the last takeTouches() */
  readonly touches = new Map<SessionId, number>();
  /** leader: the server whose client connection holds each session (ZooKeeper's owner) */
  readonly owners = new Map<SessionId, number>();
  private nextId: SessionId;

  constructor(
    private readonly tree: DataTree,
    private readonly learner: boolean,
    tickMs: number,
    serverId: number,
    nowMs: number,
    private readonly secret: Uint8Array,
    private readonly sha1: (b: Uint8Array) => Uint8Array,
  ) {
    this.tracker = new SessionTracker(tickMs);
    // sessions restored from disk get a fresh full timeout, so ephemerals survive a restart until expiry
    for (const [id, timeoutMs] of tree.sessions) this.tracker.add(id, timeoutMs, nowMs);
    this.nextId = initialSessionId(serverId, nowMs);
  }

  /** The next session id that is in use neither here nor in the tree. */
  allocate(): SessionId {
    for (let i = 0; i < 1_000_000; i++) {
      const id = this.nextId;
      this.nextId = BigInt.asIntN(64, id + 1n);
      if (id !== 0n && !this.tracker.has(id) && !this.tree.sessions.has(id)) return id;
    }
    throw new Error('no free session id');
  }

  password(id: SessionId): Uint8Array {
    return sessionPassword(id, this.secret, this.sha1);
  }

  /** A request from the session's client: a learner notes it for the leader, others push expiry. */
  clientActivity(sessionId: SessionId, timeoutMs: number, nowMs: number): void {
    if (this.learner) this.touches.set(sessionId, timeoutMs);
    else this.tracker.touch(sessionId, nowMs);
  }

  /** A live session (not closing) takes `timeoutMs` and a fresh expiry; false if gone or closing. */
  renew(sessionId: SessionId, timeoutMs: number, nowMs: number): boolean {
    const s = this.tracker.get(sessionId);
    if (!s || s.closing) return false;
    s.timeoutMs = timeoutMs;
    this.tracker.touch(sessionId, nowMs);
    return true;
  }

  /** Learner: sessions with client activity since the last call. */
  takeTouches(): { sessionId: SessionId; timeoutMs: number }[] {
    const out = [...this.touches].map(([sessionId, timeoutMs]) => ({ sessionId, timeoutMs }));
    this.touches.clear();
    return out;
  }

  /** `dump` */
  dump(): SessionDump {
    return {
      sessions: this.tracker.all().map((s) => ({ id: s.id, timeoutMs: s.timeoutMs, expiresAtMs: s.expiresAtMs, connId: this.boundConn.get(s.id) ?? null, closing: s.closing })),
      ephemerals: this.tree.ephemeralsBySession(),
    };
  }
}
