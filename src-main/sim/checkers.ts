/**
 * The simulator's checkers and the state they keep: the one committed history every serving
 * server's applied history must be a prefix of, the committed memberships, one leader per
 * epoch, per-session write order, and every acknowledged write committed and durable on a
 * quorum of the membership it committed under. A failed check calls `fail` (which throws).
 */
import { hex, type Zxid } from '../common/ids';
import { Membership } from '../common/membership';
import type { Sid } from '../zab/quorum';
import { imageHolds } from './disk';
import { KvState, type Applied } from './kv';
import type { SimServer } from './server';

export interface AckedWrite {
  readonly zxid: Zxid;
  readonly data: string;
  readonly client: number;
  readonly server: Sid;
  readonly atMs: number;
}

export class SimCheckers {
  /** the one committed history, in order, and each zxid's position in it */
  private readonly canon: Applied[] = [];
  private readonly canonIndex = new Map<Zxid, number>();
  /** committed reconfigs, in zxid order (from the committed history) */
  private readonly configs: { zxid: Zxid; membership: Membership }[] = [];
  private readonly leaderOfEpoch = new Map<number, Sid>();
  private readonly lastXidInCanon = new Map<string, number>();
  /** every write a client saw acknowledged, in the order answered */
  readonly acked: AckedWrite[] = [];
  /** the highest zxid acknowledged to any client */
  maxAckedZxid: Zxid = 0n;

  constructor(
    /** the membership every server starts from (version 0) */
    private readonly initialMembership: Membership,
    private readonly server: (id: Sid) => SimServer,
    private readonly fail: (message: string) => never,
  ) {}

  /** the committed membership now (the last committed reconfig's, else the initial one) */
  get membership(): Membership {
    return this.configs[this.configs.length - 1]?.membership ?? this.initialMembership;
  }

  committed(): readonly Applied[] {
    return this.canon;
  }

  /** the membership a txn at `zxid` committed under (its quorum made it durable) */
  private membershipAt(zxid: Zxid): Membership {
    let m = this.initialMembership;
    for (const c of this.configs) {
      if (c.zxid >= zxid) break;
      m = c.membership;
    }
    return m;
  }

  /** server `sid` serves as leader of `epoch`: no other server may have */
  leaderServing(sid: Sid, epoch: number): void {
    const prev = this.leaderOfEpoch.get(epoch);
    if (prev !== undefined && prev !== sid) this.fail(`two leaders for epoch ${epoch}: ${prev} and ${sid}`);
    this.leaderOfEpoch.set(epoch, sid);
  }

  /** a serving server's applied history must be a prefix of (or extend) the one committed history */
  checkHistory(s: SimServer): void {
    const h = s.kv.history;
    for (let i = s.checkedLen; i < h.length; i++) {
      const a = h[i] as Applied;
      const c = this.canon[i];
      if (c === undefined) {
        if (this.canonIndex.has(a.zxid)) this.fail(`server ${s.id}: ${hex(a.zxid)} at position ${i} but committed at ${this.canonIndex.get(a.zxid)}`);
        this.canon.push(a);
        this.canonIndex.set(a.zxid, i);
        if (a.data.startsWith('reconfig=')) {
          const m = Membership.parse(a.data.slice('reconfig='.length));
          if (typeof m === 'string' || m.version !== a.zxid) this.fail(`reconfig ${hex(a.zxid)} holds a bad membership: ${String(m)}`);
          this.configs.push({ zxid: a.zxid, membership: m });
        }
        const session = a.data.match(/=c(\d+)\./)?.[1];
        if (session !== undefined) {
          // writes of one session apply in the order sent: their sequence numbers increase
          const n = Number(a.data.slice(a.data.lastIndexOf('.') + 1));
          const prev = this.lastXidInCanon.get(session) ?? 0;
          if (n <= prev) this.fail(`client ${session}: write #${n} committed after #${prev}`);
          this.lastXidInCanon.set(session, n);
        }
      } else if (c.zxid !== a.zxid || c.data !== a.data) {
        this.fail(`server ${s.id}: position ${i} holds ${hex(a.zxid)} "${a.data}", committed history has ${hex(c.zxid)} "${c.data}"`);
      }
    }
    s.checkedLen = h.length;
  }

  /** a client saw write `w` acknowledged: record it and check it */
  acknowledged(w: AckedWrite): void {
    this.acked.push(w);
    if (w.zxid > this.maxAckedZxid) this.maxAckedZxid = w.zxid;
    this.checkAcked(w);
  }

  private checkAcked(w: AckedWrite): void {
    const i = this.canonIndex.get(w.zxid);
    if (i === undefined || (this.canon[i] as Applied).data !== w.data) this.fail(`acked write ${hex(w.zxid)} "${w.data}" is not in the committed history`);
    const m = this.membershipAt(w.zxid);
    let n = 0;
    for (const id of m.voters) if (imageHolds(this.server(id).disk.durable, w.zxid)) n++;
    const quorumSize = Math.floor(m.voters.length / 2) + 1;
    if (n < quorumSize) this.fail(`acked write ${hex(w.zxid)} is durable on ${n} voters of membership ${hex(m.version)}, quorum is ${quorumSize}`);
  }

  /** every acked write is still committed and durable on a quorum */
  checkAllAcked(): void {
    for (const w of this.acked) this.checkAcked(w);
  }

  /** after a quiet period with everyone up: all servers serve the same history, the one
   * their disks replay to; `members`: the servers that must serve */
  checkConverged(servers: Iterable<SimServer>, members: ReadonlySet<Sid>): void {
    const ref = this.canon;
    for (const s of servers) {
      // servers outside the membership (removed, or spares never added) need not serve
      if (!members.has(s.id) && !(s.alive && s.serving)) continue;
      if (!s.alive || !s.serving) this.fail(`server ${s.id} is not serving after the liveness phase (${s.alive ? (s.zab?.currentRole ?? 'looking') : 'down'})`);
      this.checkHistory(s);
      if (s.kv.history.length !== ref.length) {
        this.fail(`server ${s.id} applied ${s.kv.history.length} txns, the committed history has ${ref.length}`);
      }
      // replaying what is on disk (snapshot + log) gives the live state
      const replayed = KvState.fromImage(s.disk.durable).history;
      const live = s.kv.history;
      if (replayed.length !== live.length || replayed.some((a, i) => a.zxid !== (live[i] as Applied).zxid || a.data !== (live[i] as Applied).data)) {
        this.fail(`server ${s.id}: replaying its disk gives ${replayed.length} txns up to ${hex(replayed.at(-1)?.zxid ?? 0n)}, live state has ${live.length} up to ${hex(s.kv.lastZxid)}`);
      }
    }
    this.checkAllAcked();
  }
}
