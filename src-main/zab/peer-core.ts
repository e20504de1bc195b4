/**
 * The state a `ZabPeer` keeps whatever its role (epochs, the recent log, the active membership,
 * persist sequence numbers and what waits on them, the current role's state) and the helpers
 * both sides use: trace, send, persist, append, deliver (commit), activate a membership, end the
 * role. The leader's side (leader.ts, proposals.ts) and the learner's side (learner.ts) are free
 * functions over this object; broadcast.ts dispatches inputs to them.
 */
import { assert } from '../common/assert';
import { hex, type Zxid } from '../common/ids';
import type { TraceEvent, TraceKind } from '../common/trace';
import type { Membership } from '../common/membership';
import { QuorumMaj, type Sid } from './quorum';
import { membershipOfQuorum, reconfigOfTxnEntry } from './reconfig';
import type { PersistOp, TxnRecord, ZabMessage } from './types';
import type { ZabConfig, ZabDurableState, ZabEffect, ZabRole } from './broadcast-io';
import type { LeaderState } from './leader';
import type { LearnerState } from './learner';

/** what waits for a persist op to be durable (see ZabPeer.onDurable) */
export type Waiter =
  | { readonly seq: number; readonly kind: 'append'; readonly txn: TxnRecord; readonly ack: boolean }
  | { readonly seq: number; readonly kind: 'ackEpoch'; readonly currentEpoch: number }
  | { readonly seq: number; readonly kind: 'ackNewLeader'; readonly zxid: Zxid }
  | { readonly seq: number; readonly kind: 'leaderEpochAccepted' }
  | { readonly seq: number; readonly kind: 'leaderEpochCurrent' }
  | { readonly seq: number; readonly kind: 'truncated'; readonly zxid: Zxid }
  | { readonly seq: number; readonly kind: 'snapshot'; readonly zxid: Zxid };

export const PROTOCOL = 'protocol: ';

export class PeerCore {
  readonly myid: Sid;
  /** the active membership's quorum: replaced when a reconfig activates */
  quorum: QuorumMaj;
  membership: Membership;
  readonly reconfigOf: (txn: TxnRecord) => Membership | null;
  /** my role in the membership I started with: a joiner not yet in the leader's membership
   * connects in this role */
  readonly ownType: 'participant' | 'observer';
  readonly reconfigEnabled: boolean;
  readonly initLimitTicks: number;
  readonly syncLimitTicks: number;
  readonly committedLogMax: number;
  readonly outstandingProposalsMax: number;
  readonly pendingSyncsMax: number;
  /** config.tracing; the shell may switch it at any time (the supervisor's trace level) */
  tracing: boolean;

  accepted: number;
  current: number;
  /** recent log: every txn after `windowBase`, ascending (bounded for committed ones) */
  window: TxnRecord[];
  windowBase: Zxid;
  applied: Zxid;
  persistSeq = 0;
  durableSeq = 0;
  waiters: Waiter[] = [];
  role: LeaderState | LearnerState | null = null;
  ticks = 0;
  nowMs = 0;
  /** [this.quorum], remade when the quorum changes (see leaderQuorums in proposals.ts) */
  soloQuorums: readonly QuorumMaj[] = [];
  readonly fieldsOf = new WeakMap<TxnRecord, { zxid: string; session?: string; xid?: number }>();

  constructor(config: ZabConfig, durable: ZabDurableState) {
    this.myid = config.myid;
    this.quorum = config.quorum;
    this.initLimitTicks = config.initLimitTicks;
    this.syncLimitTicks = config.syncLimitTicks;
    this.committedLogMax = config.committedLogMax ?? 500;
    this.outstandingProposalsMax = config.outstandingProposalsMax ?? 1000;
    this.pendingSyncsMax = config.pendingSyncsMax ?? 1000;
    this.tracing = config.tracing ?? true;
    assert(this.quorum.isMember(this.myid), `server ${this.myid} is not in the ensemble`);
    this.membership = config.membership ?? membershipOfQuorum(this.quorum);
    this.reconfigOf = config.reconfigOf ?? reconfigOfTxnEntry;
    this.ownType = this.quorum.isVoter(this.myid) ? 'participant' : 'observer';
    this.reconfigEnabled = config.reconfigEnabled ?? false;
    assert(this.initLimitTicks > 0 && this.syncLimitTicks > 0, 'initLimit and syncLimit must be positive');
    this.accepted = durable.acceptedEpoch;
    this.current = durable.currentEpoch;
    assert(this.current <= this.accepted, `currentEpoch ${this.current} > acceptedEpoch ${this.accepted}`);
    this.windowBase = durable.snapshotZxid;
    this.window = [...durable.log];
    let prev = this.windowBase;
    for (const t of this.window) {
      assert(t.zxid > prev, `log not ascending at ${hex(t.zxid)}`);
      prev = t.zxid;
    }
    this.applied = durable.appliedZxid;
    assert(this.applied >= this.windowBase && this.applied <= this.lastLoggedZxid, `applied ${hex(this.applied)} outside the log`);
  }

  /** last txn appended to the log (durable or not): the election votes with it */
  get lastLoggedZxid(): Zxid {
    const last = this.window[this.window.length - 1];
    return last ? last.zxid : this.windowBase;
  }

  get currentRole(): ZabRole | null {
    if (this.role === null) return null;
    if (this.role.kind === 'leader') return 'leading';
    return this.role.observer ? 'observing' : 'following';
  }

  /** the epoch this server works in (the one being established when leading/syncing) */
  get epoch(): number {
    const r = this.role;
    if (r?.kind === 'leader' && r.epoch !== null) return r.epoch;
    if (r?.kind === 'learner' && r.newEpoch > 0) return r.newEpoch;
    return this.current;
  }

  trace(out: ZabEffect[], kind: TraceKind, fields: Partial<Omit<TraceEvent, 't' | 'kind' | 'server'>> = {}): void {
    out.push({ type: 'trace', event: { t: this.nowMs, kind, server: this.myid, epoch: this.epoch, ...fields } });
  }

  /**
   * A per-txn event (~10 per txn at a leader, ~5 at a follower): one object literal of one shape,
   * no spreads. Spreading a fields object into another spread built each event through slow
   * property definitions, and JSON.stringify of those objects (the supervisor's NDJSON) took
   * ~2.5x as long as of a literal. Absent fields are undefined (JSON leaves them out).
   */
  traceTxn(out: ZabEffect[], kind: TraceKind, txn: TxnRecord, peer?: Sid, detail?: TraceEvent['detail']): void {
    const f = this.txnFields(txn);
    out.push({ type: 'trace', event: { t: this.nowMs, kind, server: this.myid, epoch: this.epoch, zxid: f.zxid, session: f.session, xid: f.xid, peer, detail } });
  }

  /** a txn's trace fields, made once per txn (a leader traces each txn ~10 times) */
  txnFields(txn: TxnRecord): { zxid: string; session?: string; xid?: number } {
    let f = this.fieldsOf.get(txn);
    if (f === undefined) {
      f = txn.sessionId !== 0n ? { zxid: hex(txn.zxid), session: hex(txn.sessionId), xid: txn.xid } : { zxid: hex(txn.zxid) };
      this.fieldsOf.set(txn, f);
    }
    return f;
  }

  send(out: ZabEffect[], to: Sid, msg: ZabMessage): void {
    out.push({ type: 'send', to, msg });
  }

  persist(out: ZabEffect[], op: PersistOp): number {
    const seq = ++this.persistSeq;
    out.push({ type: 'persist', seq, op });
    return seq;
  }

  appendToLog(out: ZabEffect[], txn: TxnRecord, ack: boolean): void {
    // (the message is built only when it fails: two hex() per txn were ~1% of a leader's CPU)
    if (txn.zxid <= this.lastLoggedZxid) assert(false, `append ${hex(txn.zxid)} after ${hex(this.lastLoggedZxid)}`);
    this.window.push(txn);
    const seq = this.persist(out, { kind: 'append', txn });
    if (this.tracing) this.traceTxn(out, 'txnlog.append', txn);
    this.waiters.push({ seq, kind: 'append', txn, ack });
  }

  /** Commit `txn` here; a reconfig's membership becomes active right after it (`leader`: the
   * designated leader, when the leader named one). Returns that membership, if any. */
  deliver(out: ZabEffect[], txn: TxnRecord, leader: Sid | null = null, known?: Membership | null): Membership | null {
    if (txn.zxid <= this.applied) assert(false, `commit ${hex(txn.zxid)} after applied ${hex(this.applied)}`);
    this.applied = txn.zxid;
    out.push({ type: 'commit', txn });
    const m = known === undefined ? this.reconfigOf(txn) : known;
    if (m !== null) this.activate(out, m, leader);
    return m;
  }

  /** Switch to a newer membership (an older or equal version is ignored). */
  activate(out: ZabEffect[], m: Membership, leader: Sid | null): boolean {
    if (m.version <= this.membership.version && this.membership.version !== 0n) return false;
    if (m.voters.length === 0) return false;
    this.membership = m;
    this.quorum = new QuorumMaj(m.voters, m.observers);
    out.push({ type: 'activated', membership: m, leader });
    this.trace(out, 'reconfig.activated', {
      zxid: hex(m.version),
      detail: { version: m.version.toString(16), voters: m.voters.join(','), observers: m.observers.join(','), leader },
    });
    return true;
  }

  /** index of the first txn in the window with a zxid above `zxid` (window.length if none) */
  indexAfter(zxid: Zxid): number {
    let lo = 0;
    let hi = this.window.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.window[mid] as TxnRecord).zxid <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** deliver my own logged txns up to zxid (they are part of the leader's history) */
  /** (a reconfig in it takes effect when the new epoch is established: the leader's NEWLEADER
   * names the membership, see lead() and UPTODATE) */
  deliverLocalUpTo(out: ZabEffect[], zxid: Zxid): void {
    for (let i = this.indexAfter(this.applied); i < this.window.length; i++) {
      const t = this.window[i] as TxnRecord;
      if (t.zxid > zxid) break;
      this.deliver(out, t, null, null);
    }
  }

  trimWindow(): void {
    while (this.window.length > this.committedLogMax) {
      const first = this.window[0];
      if (first === undefined || first.zxid > this.applied) break;
      this.window.shift();
      this.windowBase = first.zxid;
    }
  }

  /** End the current role: close its connections, forget role-bound waiters. */
  closeRole(out: ZabEffect[]): void {
    const r = this.role;
    if (r === null) return;
    if (r.kind === 'leader') {
      for (const h of r.learners.values()) out.push({ type: 'disconnect', peer: h.sid });
    } else {
      out.push({ type: 'disconnect', peer: r.leader });
    }
    for (const w of this.waiters) if (w.kind === 'append') (w as { ack: boolean }).ack = false;
    this.waiters = this.waiters.filter((w) => w.kind === 'append' || w.kind === 'truncated' || w.kind === 'snapshot');
    this.role = null;
  }

  abandon(out: ZabEffect[], reason: string, after: { next?: Sid; removed?: boolean } = {}): void {
    const role = this.currentRole;
    if (role === null) return;
    this.trace(out, 'server.role', { detail: { role: 'looking', reason } });
    this.closeRole(out);
    out.push({ type: 'abandoned', role, reason, ...after });
  }
}
