/**
 * The simulator's fake network.
 *
 * Election messages: random delay, optional loss, so reordering happens. Quorum connections
 * behave like TCP: opened by the learner's FOLLOWERINFO/OBSERVERINFO, FIFO per direction,
 * stalled (not lost) while a partition cuts the link, lost when the connection closes; a close
 * is noticed by the other end only if the link is up (else it times out).
 */
import type { ZabInput } from '../zab/broadcast';
import type { Notification } from '../zab/election';
import type { Sid } from '../zab/quorum';
import type { ZabMessage } from '../zab/types';
import type { SimEvent } from './events';
import type { Prng } from './prng';
import type { SimServer } from './server';

interface Conn {
  readonly id: number;
  readonly a: Sid;
  readonly b: Sid;
  open: boolean;
  /** the acceptor has seen the first message (FOLLOWERINFO): only then may it send on it */
  accepted: boolean;
  /** per direction "from>to": messages not yet delivered, with the earliest delivery time */
  readonly queues: Map<string, { msg: ZabMessage; readyAt: number }[]>;
}

export const pairKey = (a: Sid, b: Sid): string => (a < b ? `${a}-${b}` : `${b}-${a}`);

/** what the network needs from the simulation that owns it */
export interface NetworkHost {
  readonly prng: Prng;
  readonly tickMs: number;
  readonly netDelayMsMin: number;
  readonly netDelayMsMax: number;
  readonly electionDropP: number;
  now(): number;
  schedule(atMs: number, ev: SimEvent): void;
  server(id: Sid): SimServer;
  zabStep(s: SimServer, input: ZabInput): void;
}

export class SimNetwork {
  private readonly blocked = new Set<string>();
  private readonly conns = new Map<string, Conn>();
  private connSeq = 0;

  constructor(private readonly host: NetworkHost) {}

  delay(): number {
    return this.host.prng.range(this.host.netDelayMsMin, this.host.netDelayMsMax);
  }

  linkUp(a: Sid, b: Sid): boolean {
    return !this.blocked.has(pairKey(a, b));
  }

  /** the id of the open-or-closing connection between a and b, if any */
  connId(a: Sid, b: Sid): number | undefined {
    return this.conns.get(pairKey(a, b))?.id;
  }

  isOpen(a: Sid, b: Sid): boolean {
    return this.conns.get(pairKey(a, b))?.open === true;
  }

  /** cut every link between the groups (servers not listed keep their links) */
  partition(groups: Sid[][]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const a of groups[i] as Sid[]) for (const b of groups[j] as Sid[]) this.blocked.add(pairKey(a, b));
      }
    }
  }

  /** every link up again; stalled connections deliver what waited */
  heal(): void {
    this.blocked.clear();
    const now = this.host.now();
    for (const c of this.conns.values()) {
      if (!c.open) continue;
      for (const [dir, q] of c.queues) {
        if (q.length === 0) continue;
        const [from, to] = dir.split('>').map(Number) as [Sid, Sid];
        const base = now + this.delay();
        for (const m of q) if (m.readyAt < base) m.readyAt = base;
        this.host.schedule(base, { k: 'pump', conn: c.id, from, to });
      }
    }
  }

  /** reset the quorum connection between a and b (both ends notice if the link is up) */
  resetConnection(a: Sid, b: Sid): void {
    const c = this.conns.get(pairKey(a, b));
    if (c?.open) this.closeConn(c, null);
  }

  /** server `id` crashed: its connections are reset, it notices nothing */
  closeAllOf(id: Sid): void {
    for (const c of [...this.conns.values()]) if (c.a === id || c.b === id) this.closeConn(c, id);
  }

  /** server `by` closes its connection to `peer` */
  disconnect(by: Sid, peer: Sid): void {
    const c = this.conns.get(pairKey(by, peer));
    if (c) this.closeConn(c, by);
  }

  sendElection(from: Sid, to: Sid, msg: Notification): void {
    if (!this.linkUp(from, to)) return;
    const now = this.host.now();
    // a real shell's dial to a dead server is refused at once: the election hears it is down
    // (a fixed 1 ms, so the PRNG's sequence and every seed's run stay as they were otherwise)
    if (!this.host.server(to).alive) this.host.schedule(now + 1, { k: 'unreachable', sid: from, inc: this.host.server(from).inc, peer: to });
    if (this.host.electionDropP > 0 && this.host.prng.chance(this.host.electionDropP)) return;
    this.host.schedule(now + this.delay(), { k: 'elec', from, to, msg });
  }

  sendZab(from: Sid, to: Sid, msg: ZabMessage): void {
    const now = this.host.now();
    const key = pairKey(from, to);
    let c = this.conns.get(key);
    if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') {
      const fromInc = this.host.server(from).inc;
      if (c?.open) {
        // the learner opens a new connection; the old one is gone for both (no notices)
        c.open = false;
        this.conns.delete(key);
      }
      if (!this.host.server(to).alive) {
        this.host.schedule(now + this.delay(), { k: 'connFail', to: from, inc: fromInc, peer: to });
        return;
      }
      if (!this.linkUp(from, to)) {
        this.host.schedule(now + 3 * this.host.tickMs, { k: 'connFail', to: from, inc: fromInc, peer: to });
        return;
      }
      c = { id: ++this.connSeq, a: from, b: to, open: true, accepted: false, queues: new Map() };
      this.conns.set(key, c);
    }
    if (!c || !c.open) return;
    // the leader's sends for a learner go to the connection it has accepted; one the learner
    // just dialled is not there yet (a real shell routes by socket, not by server id)
    if (from === c.b && !c.accepted) return;
    const dir = `${from}>${to}`;
    let q = c.queues.get(dir);
    if (!q) {
      q = [];
      c.queues.set(dir, q);
    }
    const last = q[q.length - 1];
    const readyAt = Math.max(now + this.delay(), last ? last.readyAt : 0);
    q.push({ msg, readyAt });
    if (this.linkUp(from, to)) this.host.schedule(readyAt, { k: 'pump', conn: c.id, from, to });
  }

  /** deliver the head of connection `connId`'s from→to queue if it is due */
  pump(connId: number, from: Sid, to: Sid): void {
    const now = this.host.now();
    const c = this.conns.get(pairKey(from, to));
    if (!c || c.id !== connId || !c.open) return;
    if (!this.linkUp(from, to)) return; // stalled until heal
    const q = c.queues.get(`${from}>${to}`);
    const head = q?.[0];
    if (!q || !head || head.readyAt > now) return;
    q.shift();
    const next = q[0];
    if (next) this.host.schedule(Math.max(next.readyAt, now), { k: 'pump', conn: c.id, from, to });
    const s = this.host.server(to);
    if (!s.alive) return;
    if (!c.accepted && to === c.b) {
      // accepting a new connection from this learner: whatever we had with it is gone
      c.accepted = true;
      this.host.zabStep(s, { type: 'disconnected', nowMs: now, peer: from });
      if (!c.open) return;
    }
    this.host.zabStep(s, { type: 'message', nowMs: now, from, msg: head.msg });
  }

  /** close a connection; `by` (if any) closed it and is not notified */
  private closeConn(c: Conn, by: Sid | null): void {
    if (!c.open) return;
    c.open = false;
    this.conns.delete(pairKey(c.a, c.b));
    if (!this.linkUp(c.a, c.b)) return; // the other end finds out by timing out
    for (const end of [c.a, c.b]) {
      if (end === by) continue;
      const s = this.host.server(end);
      if (!s.alive) continue;
      const peer = end === c.a ? c.b : c.a;
      this.host.schedule(this.host.now() + this.delay(), { k: 'closed', conn: c.id, to: end, inc: s.inc, peer });
    }
  }
}
