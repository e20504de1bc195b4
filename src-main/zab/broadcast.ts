/**
 * ZooKeeper Atomic Broadcast for one server, as a pure state machine: the leader side
 * (discovery, sync, broadcast, commit) and the learner side (follower and observer).
 *
 * `step(input) → effects`. The shell carries out the effects IN THE ORDER GIVEN, synchronously,
 * before feeding the next input. The ordering rules the effects encode:
 * - persist before ack: an ACK (of a PROPOSAL, of NEWLEADER) or ACKEPOCH is only emitted after
 *   the shell has reported `persisted(seq)` for the persist op it depends on; the leader counts
 *   its own ack the same way. `persisted(seq)` means every op up to seq is durable.
 * - `commit` effects come strictly in zxid order, and only for txns a quorum has made durable
 *   (leader), or that the leader committed (learner).
 * - a `persist` op of kind `truncate` or `snapshot` changes the state machine at once (the
 *   shell rolls back / installs before the next effect); `sendSnapshot` must serialize the state
 *   machine as it is when that effect is carried out (it then reflects exactly `zxid`).
 * - sends to one peer keep their order (TCP); a dropped connection loses what is in flight and
 *   the shell reports `disconnected(peer)`.
 *
 * Time enters only as `tick` inputs (one per tickTime) and `nowMs` (trace stamps only).
 * Role changes: the election decides, the shell feeds `lead` or `follow`; when this core emits
 * `abandoned` the shell stops serving clients, closes quorum connections and restarts the
 * election with `lastLoggedZxid` and `currentEpoch` read from this core.
 */
import { assert } from '../common/assert';
import { hex, makeZxid, zxidCounter, zxidEpoch, type SessionId, type Zxid } from '../common/ids';
import type { TraceEvent, TraceKind } from '../common/trace';
import { Membership } from '../common/membership';
import { QuorumMaj, type Sid } from './quorum';
import { membershipOfQuorum, reconfigOfTxnEntry } from './reconfig';
import { ZAB_PROTOCOL_VERSION, type PersistOp, type SessionTouch, type TxnRecord, type ZabMessage } from './types';

export interface ZabConfig {
  readonly myid: Sid;
  readonly quorum: QuorumMaj;
  /** ticks a learner may take to connect and sync; a leader must be established within it */
  readonly initLimitTicks: number;
  /** ticks a synced learner (or the leader's quorum) may stay silent */
  readonly syncLimitTicks: number;
  /** committed txns kept in memory for DIFF (ZooKeeper keeps 500); older learners get SNAP */
  readonly committedLogMax?: number;
  /** proposals in flight at the leader; more are refused (`dropped`) */
  readonly outstandingProposalsMax?: number;
  /** syncs waiting at the leader */
  readonly pendingSyncsMax?: number;
  /** false when nothing reads the trace: the per-txn events (log append, fsync, proposal, ack,
   * quorum, commit, forward) are not built. Role, election and sync events stay. Default true. */
  readonly tracing?: boolean;
  /** the membership (addresses and version) this server starts with; its voters/observers must
   * be `quorum`'s. Default: made up from `quorum`, version 0 */
  readonly membership?: Membership;
  /** whether a txn is a reconfig, and the membership it makes (default: ZooKeeper's txn format,
   * see reconfig.ts) */
  readonly reconfigOf?: (txn: TxnRecord) => Membership | null;
  /** zoo.cfg reconfigEnabled: a leader stamps a version-0 membership with its epoch (as
   * ZooKeeper does only then; without it /zookeeper/config keeps version=0). Default false */
  readonly reconfigEnabled?: boolean;
}


/** What the server recovered from disk at start (snapshot + txn log + epoch files). */
export interface ZabDurableState {
  readonly acceptedEpoch: number;
  readonly currentEpoch: number;
  /** the zxid just before `log`: the snapshot's zxid, or the txn before the first one passed
   * when only the tail of the log is given (0n for an empty data dir) */
  readonly snapshotZxid: Zxid;
  /** logged txns after snapshotZxid, ascending (at least every txn after appliedZxid) */
  readonly log: readonly TxnRecord[];
  /** the zxid the state machine reflects (ZooKeeper replays the whole log: the last logged) */
  readonly appliedZxid: Zxid;
}

export type ZabRole = 'leading' | 'following' | 'observing';

export type ZabInput = { readonly nowMs: number } & (
  | { readonly type: 'lead' }
  | { readonly type: 'follow'; readonly leader: Sid }
  | { readonly type: 'message'; readonly from: Sid; readonly msg: ZabMessage }
  | { readonly type: 'disconnected'; readonly peer: Sid }
  | { readonly type: 'tick' }
  /**
   * learner: the shell's prompt retry after the link to the leader failed while connecting (the
   * new leader may not be listening yet). Without it the retry waits for the next tick, which
   * adds up to a whole tickTime to every election. initLimit still bounds the attempts.
   */
  | { readonly type: 'retryConnect' }
  | { readonly type: 'persisted'; readonly seq: number }
  /** leader: propose a prepped txn; txn.zxid must be nextZxid() */
  | { readonly type: 'propose'; readonly txn: TxnRecord }
  /** learner: send a client write to the leader */
  | { readonly type: 'forward'; readonly sessionId: SessionId; readonly xid: number; readonly data: Uint8Array }
  /** a client's sync: answered with `synced` once everything committed before it is applied here
   * and the leader has confirmed it still leads a quorum */
  | { readonly type: 'sync'; readonly sessionId: SessionId; readonly xid: number }
  /** learner: a local client session showed life; reported in the next PING reply */
  | { readonly type: 'touch'; readonly sessionId: SessionId; readonly timeoutMs: number }
  /** learner: a client reconnected here with this session; ask the leader */
  | { readonly type: 'revalidate'; readonly sessionId: SessionId; readonly timeoutMs: number }
  /** leader: answer a `revalidate` effect */
  | { readonly type: 'revalidateReply'; readonly to: Sid; readonly sessionId: SessionId; readonly valid: boolean }
  /** stop this role without a reason from ZAB (shutdown, or the election was restarted) */
  | { readonly type: 'stop' }
  /** while LOOKING: the election saw a newer membership in a peer's notification; take it */
  | { readonly type: 'adopt'; readonly membership: Membership }
);

export type ZabEffect =
  | { readonly type: 'send'; readonly to: Sid; readonly msg: ZabMessage }
  /** close the quorum connection to peer (the shell reports nothing back for it) */
  | { readonly type: 'disconnect'; readonly peer: Sid }
  /** make `op` durable; report `persisted(seq)` when it is (ordered with earlier ops) */
  | { readonly type: 'persist'; readonly seq: number; readonly op: PersistOp }
  /** apply to the state machine (zxid order) and answer the client if it is connected here */
  | { readonly type: 'commit'; readonly txn: TxnRecord }
  /** send SNAP{zxid, serialized state machine} to `to`, in order with the other sends */
  | { readonly type: 'sendSnapshot'; readonly to: Sid; readonly zxid: Zxid }
  /** leader: a learner forwarded a client write; prep it and feed `propose` */
  | { readonly type: 'request'; readonly from: Sid; readonly sessionId: SessionId; readonly xid: number; readonly data: Uint8Array }
  /** leader: sessions a learner's clients touched (feed the session tracker) */
  | { readonly type: 'sessionTouches'; readonly from: Sid; readonly touches: readonly SessionTouch[] }
  /** leader: a learner asks whether a session is valid; answer with `revalidateReply` */
  | { readonly type: 'revalidate'; readonly from: Sid; readonly sessionId: SessionId; readonly timeoutMs: number }
  /** learner: the leader's answer to `revalidate` */
  | { readonly type: 'revalidated'; readonly sessionId: SessionId; readonly valid: boolean }
  /** a client's sync is done: reads after it see every txn up to zxid */
  | { readonly type: 'synced'; readonly sessionId: SessionId; readonly xid: number; readonly zxid: Zxid }
  /** a propose / forward / sync this role cannot take now; the client sees no answer from ZAB */
  | { readonly type: 'dropped'; readonly sessionId: SessionId; readonly xid: number; readonly reason: string }
  /** the membership changed (a reconfig committed, the leader stamped the first version, or a
   * learner took its leader's): update /zookeeper/config, the dynamic config file and the
   * peers; `leader` is the designated leader when a reconfig named one */
  | { readonly type: 'activated'; readonly membership: Membership; readonly leader: Sid | null }
  /** start serving clients in this role and epoch */
  | { readonly type: 'serving'; readonly role: ZabRole; readonly epoch: number; readonly leader: Sid }
  /** this role is over: stop serving clients and restart the election */
  | {
      readonly type: 'abandoned';
      readonly role: ZabRole;
      readonly reason: string;
      /** a reconfig designated this leader: lead (if it is me) or follow it, without an election */
      readonly next?: Sid;
      /** a reconfig removed this server from the ensemble: stop taking part */
      readonly removed?: boolean;
    }
  | { readonly type: 'trace'; readonly event: TraceEvent };

type Waiter =
  | { readonly seq: number; readonly kind: 'append'; readonly txn: TxnRecord; readonly ack: boolean }
  | { readonly seq: number; readonly kind: 'ackEpoch'; readonly currentEpoch: number }
  | { readonly seq: number; readonly kind: 'ackNewLeader'; readonly zxid: Zxid }
  | { readonly seq: number; readonly kind: 'leaderEpochAccepted' }
  | { readonly seq: number; readonly kind: 'leaderEpochCurrent' }
  | { readonly seq: number; readonly kind: 'truncated'; readonly zxid: Zxid }
  | { readonly seq: number; readonly kind: 'snapshot'; readonly zxid: Zxid };

type HandlePhase = 'info' | 'epochAcked' | 'syncing' | 'synced' | 'uptodate';

interface LearnerHandle {
  readonly sid: Sid;
  readonly observer: boolean;
  phase: HandlePhase;
  acceptedEpoch: number;
  leaderInfoSent: boolean;
  lastZxid: Zxid;
  lastHeardTick: number;
  lastRoundAcked: number;
  /** last zxid queued to it before NEWLEADER: its NEWLEADER ack covers every proposal up to it */
  newLeaderCoversZxid: Zxid;
}

interface Outstanding {
  readonly txn: TxnRecord;
  readonly ackers: Set<Sid>;
  /** every one must see a quorum of acks: the active membership's, and while a reconfig is in
   * flight the proposed one's too (ZooKeeper's qvAcksetPairs) */
  readonly quorums: readonly QuorumMaj[];
  /** a reconfig: the membership it makes */
  readonly config: Membership | null;
}

interface PendingSync {
  readonly round: number;
  readonly zxid: Zxid;
  readonly to: Sid | null;
  readonly sessionId: SessionId;
  readonly xid: number;
}

interface LeaderState {
  readonly kind: 'leader';
  phase: 'discovery' | 'epochAck' | 'sync' | 'broadcast';
  startTick: number;
  /** the epoch being established, once a quorum told us their acceptedEpochs */
  epoch: number | null;
  readonly summaryEpoch: number;
  readonly summaryZxid: Zxid;
  readonly connecting: Map<Sid, number>;
  readonly epochAckers: Set<Sid>;
  readonly newLeaderAckers: Set<Sid>;
  selfEpochAcked: boolean;
  selfNewLeaderAcked: boolean;
  readonly learners: Map<Sid, LearnerHandle>;
  readonly outstanding: Outstanding[];
  counter: number;
  pingRound: number;
  readonly pendingSyncs: PendingSync[];
  /** a proposed reconfig not committed yet (ZooKeeper's lastSeenQuorumVerifier) */
  pendingConfig: { readonly membership: Membership; readonly quorum: QuorumMaj } | null;
}

interface LearnerState {
  readonly kind: 'learner';
  readonly leader: Sid;
  readonly observer: boolean;
  phase: 'connecting' | 'epoch' | 'sync' | 'synced' | 'broadcast';
  startTick: number;
  lastHeardTick: number;
  reconnect: boolean;
  newEpoch: number;
  readonly touches: Map<SessionId, number>;
  /** the membership the leader's NEWLEADER named, active at UPTODATE */
  newLeaderConfig: Membership | null;
}

const PROTOCOL = 'protocol: ';

/** every quorum of the proposal has acked it (a loop: tryCommit asks at every ACK) */
function quorumsAcked(o: Outstanding): boolean {
  for (const q of o.quorums) if (!q.containsQuorum(o.ackers)) return false;
  return true;
}

export class ZabPeer {
  readonly myid: Sid;
  /** the active membership's quorum: replaced when a reconfig activates */
  private quorum: QuorumMaj;
  private membership: Membership;
  private readonly reconfigOf: (txn: TxnRecord) => Membership | null;
  /** my role in the membership I started with: a joiner not yet in the leader's membership
   * connects in this role */
  private readonly ownType: 'participant' | 'observer';
  private readonly reconfigEnabled: boolean;
  private readonly initLimitTicks: number;
  private readonly syncLimitTicks: number;
  private readonly committedLogMax: number;
  private readonly outstandingProposalsMax: number;
  private readonly pendingSyncsMax: number;
  /** config.tracing; the shell may switch it at any time (the supervisor's trace level) */
  tracing: boolean;

  private accepted: number;
  private current: number;
  /** recent log: every txn after `windowBase`, ascending (bounded for committed ones) */
  private window: TxnRecord[];
  private windowBase: Zxid;
  private applied: Zxid;
  private persistSeq = 0;
  private durableSeq = 0;
  private waiters: Waiter[] = [];
  private role: LeaderState | LearnerState | null = null;
  private ticks = 0;
  private nowMs = 0;
  /** [this.quorum], remade when the quorum changes (see leaderQuorums) */
  private soloQuorums: readonly QuorumMaj[] = [];
  private readonly fieldsOf = new WeakMap<TxnRecord, { zxid: string; session?: string; xid?: number }>();

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

  // ---- read-only views the shell uses -------------------------------------------------------

  get acceptedEpoch(): number {
    return this.accepted;
  }

  get currentEpoch(): number {
    return this.current;
  }

  /** last txn appended to the log (durable or not): the election votes with it */
  get lastLoggedZxid(): Zxid {
    const last = this.window[this.window.length - 1];
    return last ? last.zxid : this.windowBase;
  }

  get appliedZxid(): Zxid {
    return this.applied;
  }

  get currentRole(): ZabRole | null {
    if (this.role === null) return null;
    if (this.role.kind === 'leader') return 'leading';
    return this.role.observer ? 'observing' : 'following';
  }

  /** true while this server may serve clients (leader established / learner up to date) */
  get serving(): boolean {
    const r = this.role;
    if (r === null) return false;
    return r.phase === 'broadcast';
  }

  /** the epoch this server works in (the one being established when leading/syncing) */
  get epoch(): number {
    const r = this.role;
    if (r?.kind === 'leader' && r.epoch !== null) return r.epoch;
    if (r?.kind === 'learner' && r.newEpoch > 0) return r.newEpoch;
    return this.current;
  }

  get leaderId(): Sid | null {
    const r = this.role;
    if (r === null) return null;
    return r.kind === 'leader' ? this.myid : r.leader;
  }

  /** leader only: the zxid the next `propose` must carry, or null when not able to propose */
  nextZxid(): Zxid | null {
    const r = this.role;
    if (r?.kind !== 'leader' || r.phase !== 'broadcast' || r.epoch === null) return null;
    return makeZxid(r.epoch, r.counter + 1);
  }

  /** the active membership (what /zookeeper/config shows) */
  get activeMembership(): Membership {
    return this.membership;
  }

  /** leader: the newest membership proposed or active (ZooKeeper's lastSeenQuorumVerifier) */
  get lastSeenMembership(): Membership {
    const r = this.role;
    return r?.kind === 'leader' && r.pendingConfig !== null ? r.pendingConfig.membership : this.membership;
  }

  /** leader: a reconfig is proposed and not yet committed */
  get reconfigInProgress(): boolean {
    const r = this.role;
    return r?.kind === 'leader' && r.pendingConfig !== null;
  }

  /** leader: the voters of `next` include a quorum of (me +) followers connected and synced
   * (Leader.isQuorumSynced: observers and learners still syncing do not count) */
  isQuorumSynced(next: Membership): boolean {
    const r = this.role;
    if (r?.kind !== 'leader' || next.voters.length === 0) return false;
    const q = new QuorumMaj(next.voters, next.observers);
    const ids: Sid[] = q.isVoter(this.myid) ? [this.myid] : [];
    for (const h of r.learners.values()) if (!h.observer && (h.phase === 'synced' || h.phase === 'uptodate')) ids.push(h.sid);
    return q.containsQuorum(ids);
  }

  /** the txns this core still holds in memory (for tests and the simulator's checkers) */
  recentLog(): readonly TxnRecord[] {
    return this.window;
  }

  // ---- the step function --------------------------------------------------------------------

  step(input: ZabInput): ZabEffect[] {
    this.nowMs = input.nowMs;
    const out: ZabEffect[] = [];
    switch (input.type) {
      case 'lead':
        this.lead(out);
        break;
      case 'follow':
        this.follow(input.leader, out);
        break;
      case 'message':
        this.onMessage(input.from, input.msg, out);
        break;
      case 'disconnected':
        this.onDisconnected(input.peer, out);
        break;
      case 'tick':
        this.onTick(out);
        break;
      case 'retryConnect':
        this.onRetryConnect(out);
        break;
      case 'persisted':
        this.onPersisted(input.seq, out);
        break;
      case 'propose':
        this.propose(input.txn, out);
        break;
      case 'forward':
        this.forward(input.sessionId, input.xid, input.data, out);
        break;
      case 'sync':
        this.sync(input.sessionId, input.xid, out);
        break;
      case 'touch':
        if (this.role?.kind === 'learner') this.role.touches.set(input.sessionId, input.timeoutMs);
        break;
      case 'revalidate':
        if (this.role?.kind === 'learner' && this.role.phase === 'broadcast') {
          this.send(out, this.role.leader, { type: 'REVALIDATE', sessionId: input.sessionId, timeoutMs: input.timeoutMs, valid: false });
        } else {
          out.push({ type: 'revalidated', sessionId: input.sessionId, valid: false });
        }
        break;
      case 'revalidateReply': {
        const h = this.role?.kind === 'leader' ? this.role.learners.get(input.to) : undefined;
        if (h) this.send(out, h.sid, { type: 'REVALIDATE', sessionId: input.sessionId, timeoutMs: 0, valid: input.valid });
        break;
      }
      case 'stop':
        if (this.role !== null) this.closeRole(out);
        break;
      case 'adopt':
        if (this.role === null) this.activate(out, input.membership, null);
        break;
    }
    return out;
  }

  // ---- shared helpers -----------------------------------------------------------------------

  private trace(out: ZabEffect[], kind: TraceKind, fields: Partial<Omit<TraceEvent, 't' | 'kind' | 'server'>> = {}): void {
    out.push({ type: 'trace', event: { t: this.nowMs, kind, server: this.myid, epoch: this.epoch, ...fields } });
  }

  /**
   * A per-txn event (~10 per txn at a leader, ~5 at a follower): one object literal of one shape,
   * no spreads. Spreading a fields object into another spread built each event through slow
   * property definitions, and JSON.stringify of those objects (the supervisor's NDJSON) took
   * ~2.5x as long as of a literal. Absent fields are undefined (JSON leaves them out).
   */
  private traceTxn(out: ZabEffect[], kind: TraceKind, txn: TxnRecord, peer?: Sid, detail?: TraceEvent['detail']): void {
    const f = this.txnFields(txn);
    out.push({ type: 'trace', event: { t: this.nowMs, kind, server: this.myid, epoch: this.epoch, zxid: f.zxid, session: f.session, xid: f.xid, peer, detail } });
  }

  /** a txn's trace fields, made once per txn (a leader traces each txn ~10 times) */
  private txnFields(txn: TxnRecord): { zxid: string; session?: string; xid?: number } {
    let f = this.fieldsOf.get(txn);
    if (f === undefined) {
      f = txn.sessionId !== 0n ? { zxid: hex(txn.zxid), session: hex(txn.sessionId), xid: txn.xid } : { zxid: hex(txn.zxid) };
      this.fieldsOf.set(txn, f);
    }
    return f;
  }

  private send(out: ZabEffect[], to: Sid, msg: ZabMessage): void {
    out.push({ type: 'send', to, msg });
  }

  private persist(out: ZabEffect[], op: PersistOp): number {
    const seq = ++this.persistSeq;
    out.push({ type: 'persist', seq, op });
    return seq;
  }

  private appendToLog(out: ZabEffect[], txn: TxnRecord, ack: boolean): void {
    // (the message is built only when it fails: two hex() per txn were ~1% of a leader's CPU)
    if (txn.zxid <= this.lastLoggedZxid) assert(false, `append ${hex(txn.zxid)} after ${hex(this.lastLoggedZxid)}`);
    this.window.push(txn);
    const seq = this.persist(out, { kind: 'append', txn });
    if (this.tracing) this.traceTxn(out, 'txnlog.append', txn);
    this.waiters.push({ seq, kind: 'append', txn, ack });
  }

  /** Commit `txn` here; a reconfig's membership becomes active right after it (`leader`: the
   * designated leader, when the leader named one). Returns that membership, if any. */
  private deliver(out: ZabEffect[], txn: TxnRecord, leader: Sid | null = null, known?: Membership | null): Membership | null {
    if (txn.zxid <= this.applied) assert(false, `commit ${hex(txn.zxid)} after applied ${hex(this.applied)}`);
    this.applied = txn.zxid;
    out.push({ type: 'commit', txn });
    const m = known === undefined ? this.reconfigOf(txn) : known;
    if (m !== null) this.activate(out, m, leader);
    return m;
  }

  /** Switch to a newer membership (an older or equal version is ignored). */
  private activate(out: ZabEffect[], m: Membership, leader: Sid | null): boolean {
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
  private indexAfter(zxid: Zxid): number {
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
  private deliverLocalUpTo(out: ZabEffect[], zxid: Zxid): void {
    for (let i = this.indexAfter(this.applied); i < this.window.length; i++) {
      const t = this.window[i] as TxnRecord;
      if (t.zxid > zxid) break;
      this.deliver(out, t, null, null);
    }
  }

  private trimWindow(): void {
    while (this.window.length > this.committedLogMax) {
      const first = this.window[0];
      if (first === undefined || first.zxid > this.applied) break;
      this.window.shift();
      this.windowBase = first.zxid;
    }
  }

  private onPersisted(seq: number, out: ZabEffect[]): void {
    assert(seq <= this.persistSeq, `persisted(${seq}) but only ${this.persistSeq} ops issued`);
    if (seq <= this.durableSeq) return;
    this.durableSeq = seq;
    while (this.waiters.length > 0 && (this.waiters[0] as Waiter).seq <= seq) {
      const w = this.waiters.shift() as Waiter;
      this.onDurable(w, out);
    }
  }

  private onDurable(w: Waiter, out: ZabEffect[]): void {
    const r = this.role;
    switch (w.kind) {
      case 'append':
        if (this.tracing) this.traceTxn(out, 'txnlog.fsync.done', w.txn);
        if (!w.ack || r === null) return;
        if (r.kind === 'leader') {
          const o = this.outstandingOf(r, w.txn.zxid);
          if (o) {
            o.ackers.add(this.myid);
            if (this.tracing) this.traceTxn(out, 'zab.ack.received', w.txn, this.myid);
            this.tryCommit(r, out);
          }
        } else {
          this.send(out, r.leader, { type: 'ACK', zxid: w.txn.zxid });
          if (this.tracing) this.traceTxn(out, 'zab.ack.sent', w.txn, r.leader);
        }
        return;
      case 'ackEpoch':
        if (r?.kind === 'learner' && r.phase === 'epoch') {
          this.send(out, r.leader, { type: 'ACKEPOCH', currentEpoch: w.currentEpoch, lastZxid: this.lastLoggedZxid });
        }
        return;
      case 'ackNewLeader':
        if (r?.kind === 'learner' && r.phase === 'synced') {
          this.send(out, r.leader, { type: 'ACK', zxid: w.zxid });
          this.trace(out, 'zab.ack.sent', { zxid: hex(w.zxid), peer: r.leader, detail: { of: 'NEWLEADER' } });
        }
        return;
      case 'leaderEpochAccepted':
        if (r?.kind === 'leader') {
          r.selfEpochAcked = true;
          this.tryEpochQuorum(r, out);
        }
        return;
      case 'leaderEpochCurrent':
        if (r?.kind === 'leader') {
          r.selfNewLeaderAcked = true;
          this.tryEstablish(r, out);
        }
        return;
      case 'truncated':
        this.trace(out, 'txnlog.truncated', { zxid: hex(w.zxid) });
        return;
      case 'snapshot':
        this.trace(out, 'snapshot.taken', { zxid: hex(w.zxid), detail: { from: 'leader' } });
        return;
    }
  }

  /** End the current role: close its connections, forget role-bound waiters. */
  private closeRole(out: ZabEffect[]): void {
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

  private abandon(out: ZabEffect[], reason: string, after: { next?: Sid; removed?: boolean } = {}): void {
    const role = this.currentRole;
    if (role === null) return;
    this.trace(out, 'server.role', { detail: { role: 'looking', reason } });
    this.closeRole(out);
    out.push({ type: 'abandoned', role, reason, ...after });
  }

  /**
   * A learner after its membership changed while broadcasting: removed → leave; my role
   * (follower/observer) or my leader changed → end this role and go to the designated leader
   * (ZooKeeper's "changes proposed in reconfig"). A learner that was not a member (a joiner)
   * and still is not one carries on as a non-voting follower.
   */
  private afterLearnerActivation(r: LearnerState, wasMember: boolean, designated: Sid | null, out: ZabEffect[]): void {
    const member = this.quorum.isMember(this.myid);
    if (!member) {
      if (wasMember) this.abandon(out, `removed from the ensemble by reconfig ${hex(this.membership.version)}`, { removed: true });
      return;
    }
    const next = designated ?? r.leader;
    if (this.quorum.isVoter(this.myid) === r.observer) {
      this.abandon(out, `reconfig ${hex(this.membership.version)} made me ${r.observer ? 'a participant' : 'an observer'}`, { next });
    } else if (next !== r.leader) {
      this.abandon(out, `reconfig ${hex(this.membership.version)} designated leader ${next}`, { next });
    }
  }

  // ---- leader -------------------------------------------------------------------------------

  private lead(out: ZabEffect[]): void {
    assert(this.quorum.isVoter(this.myid), 'an observer cannot lead');
    if (this.role !== null) this.closeRole(out);
    const r: LeaderState = {
      kind: 'leader',
      phase: 'discovery',
      startTick: this.ticks,
      epoch: null,
      summaryEpoch: this.current,
      summaryZxid: this.lastLoggedZxid,
      connecting: new Map([[this.myid, this.accepted]]),
      epochAckers: new Set(),
      newLeaderAckers: new Set(),
      selfEpochAcked: false,
      selfNewLeaderAcked: false,
      learners: new Map(),
      outstanding: [],
      counter: 0,
      pingRound: 0,
      pendingSyncs: [],
      pendingConfig: null,
    };
    this.role = r;
    this.trace(out, 'server.role', { detail: { role: 'leading' } });
    // my whole log is my history: it is all committed once the epoch is established
    this.deliverLocalUpTo(out, this.lastLoggedZxid);
    // a reconfig in my history that is newer than my membership (proposed, maybe committed, not
    // activated here): the new epoch needs quorums of both, and activates it when established
    // (ZooKeeper: lastSeenQuorumVerifier in Leader.lead)
    let pending: Membership | null = null;
    for (const t of this.window) {
      const m = this.reconfigOf(t);
      if (m !== null && m.version > this.membership.version && m.voters.length > 0) pending = m;
    }
    if (pending !== null) r.pendingConfig = { membership: pending, quorum: new QuorumMaj(pending.voters, pending.observers) };
    this.tryDecideEpoch(r, out);
  }

  private tryDecideEpoch(r: LeaderState, out: ZabEffect[]): void {
    if (r.epoch !== null || !this.leaderQuorums(r).every((q) => q.containsQuorum(r.connecting.keys()))) return;
    let max = 0;
    for (const e of r.connecting.values()) max = Math.max(max, e);
    r.epoch = max + 1;
    r.phase = 'epochAck';
    // ZOOKEEPER-1783: a membership never stamped (version 0, from a static zoo.cfg) gets the new
    // epoch's first zxid as its version; learners take it from NEWLEADER
    if (this.reconfigEnabled && this.membership.version === 0n && r.pendingConfig === null) this.activate(out, this.membership.withVersion(makeZxid(r.epoch, 0)), null);
    this.accepted = r.epoch;
    const seq = this.persist(out, { kind: 'acceptedEpoch', epoch: r.epoch });
    this.waiters.push({ seq, kind: 'leaderEpochAccepted' });
    for (const h of r.learners.values()) this.sendLeaderInfo(r, h, out);
  }

  private sendLeaderInfo(r: LeaderState, h: LearnerHandle, out: ZabEffect[]): void {
    if (r.epoch === null || h.leaderInfoSent) return;
    h.leaderInfoSent = true;
    this.send(out, h.sid, { type: 'LEADERINFO', newEpoch: r.epoch, protocolVersion: ZAB_PROTOCOL_VERSION });
  }

  private tryEpochQuorum(r: LeaderState, out: ZabEffect[]): void {
    if (r.phase !== 'epochAck' || !r.selfEpochAcked) return;
    if (!this.leaderQuorums(r).every((q) => q.containsQuorum([this.myid, ...r.epochAckers]))) return;
    assert(r.epoch !== null, 'epoch chosen before epoch acks');
    r.phase = 'sync';
    this.current = r.epoch;
    const seq = this.persist(out, { kind: 'currentEpoch', epoch: r.epoch });
    this.waiters.push({ seq, kind: 'leaderEpochCurrent' });
    this.trace(out, 'zab.newleader', { zxid: hex(makeZxid(r.epoch, 0)), detail: { epochAckers: [...r.epochAckers].join(',') } });
    for (const h of r.learners.values()) if (h.phase === 'epochAcked') this.startSync(r, h, out);
  }

  /** Bring one learner up to my history (DIFF / TRUNC / SNAP), then NEWLEADER. From here on it
   * receives every new proposal and commit. */
  private startSync(r: LeaderState, h: LearnerHandle, out: ZabEffect[]): void {
    assert(r.epoch !== null, 'sync before the epoch is chosen');
    const last = this.lastLoggedZxid;
    const peer = h.lastZxid;
    let from: Zxid;
    let how: 'DIFF' | 'TRUNC' | 'SNAP';
    if (peer < this.windowBase) {
      how = 'SNAP';
      from = this.applied;
    } else {
      // the largest zxid of my history at or below the learner's last one, but never above
      // what I have committed: a learner must not hold (and, after a restart, have applied) a
      // txn that is still only proposed; such a tail is truncated and proposed again
      const limit = peer < this.applied ? peer : this.applied;
      let p = this.windowBase;
      for (const t of this.window) {
        if (t.zxid > limit) break;
        p = t.zxid;
      }
      from = p;
      how = p === peer ? 'DIFF' : 'TRUNC';
    }
    if (how === 'SNAP') {
      out.push({ type: 'sendSnapshot', to: h.sid, zxid: this.applied });
    } else {
      // committedZxid: the learner may hold some of my outstanding proposals; those wait for COMMIT
      this.send(out, h.sid, { type: how, zxid: from, committedZxid: this.applied });
    }
    this.trace(out, 'zab.sync.sent', { zxid: hex(from), peer: h.sid, detail: { how, peerLastZxid: hex(peer) } });
    for (const t of this.window) {
      if (t.zxid <= from) continue;
      if (t.zxid <= this.applied) {
        this.send(out, h.sid, { type: 'PROPOSAL', txn: t });
        this.send(out, h.sid, { type: 'COMMIT', zxid: t.zxid });
      } else if (!h.observer) {
        this.send(out, h.sid, { type: 'PROPOSAL', txn: t });
      }
    }
    h.newLeaderCoversZxid = last;
    h.phase = 'syncing';
    this.send(out, h.sid, { type: 'NEWLEADER', zxid: makeZxid(r.epoch, 0), config: (r.pendingConfig?.membership ?? this.membership).toText() });
  }

  private tryEstablish(r: LeaderState, out: ZabEffect[]): void {
    if (r.phase !== 'sync' || !r.selfNewLeaderAcked) return;
    if (!this.leaderQuorums(r).every((q) => q.containsQuorum([this.myid, ...r.newLeaderAckers]))) return;
    assert(r.epoch !== null, 'established without an epoch');
    if (r.pendingConfig !== null) {
      // my history's reconfig is committed with this epoch: active now, here and (at UPTODATE)
      // on the learners; if it leaves me no vote, a designated voter leads instead
      const config = r.pendingConfig.membership;
      const designated = config.isVoter(this.myid) ? this.myid : [...r.newLeaderAckers].filter((s) => config.isVoter(s)).sort((a, b) => a - b)[0];
      assert(designated !== undefined, 'established without a voter of the new membership');
      this.activate(out, config, designated);
      r.pendingConfig = null;
      if (designated !== this.myid) {
        this.abandon(out, `reconfig ${hex(config.version)} in my history hands leadership to ${designated}`, this.quorum.isMember(this.myid) ? { next: designated } : { next: designated, removed: true });
        return;
      }
    }
    r.phase = 'broadcast';
    this.trace(out, 'zab.uptodate', { zxid: hex(makeZxid(r.epoch, 0)), detail: { quorum: [this.myid, ...r.newLeaderAckers].join(',') } });
    out.push({ type: 'serving', role: 'leading', epoch: r.epoch, leader: this.myid });
    for (const h of r.learners.values()) {
      if (h.phase === 'synced') {
        h.phase = 'uptodate';
        this.send(out, h.sid, { type: 'UPTODATE', zxid: makeZxid(r.epoch, 0) });
      }
    }
    this.tryCommit(r, out);
  }

  private isForwarding(h: LearnerHandle): boolean {
    return h.phase === 'syncing' || h.phase === 'synced' || h.phase === 'uptodate';
  }

  private propose(txn: TxnRecord, out: ZabEffect[]): void {
    const r = this.role;
    if (r?.kind !== 'leader' || r.phase !== 'broadcast' || r.epoch === null) {
      out.push({ type: 'dropped', sessionId: txn.sessionId, xid: txn.xid, reason: 'not leading' });
      return;
    }
    if (r.outstanding.length >= this.outstandingProposalsMax) {
      out.push({ type: 'dropped', sessionId: txn.sessionId, xid: txn.xid, reason: 'too many outstanding proposals' });
      return;
    }
    const expected = makeZxid(r.epoch, r.counter + 1);
    if (txn.zxid !== expected) assert(false, `propose ${hex(txn.zxid)}, expected ${hex(expected)}`);
    r.counter++;
    const config = this.reconfigOf(txn);
    if (config !== null) {
      assert(r.pendingConfig === null, `reconfig ${hex(txn.zxid)} proposed while another is in flight`);
      r.pendingConfig = { membership: config, quorum: new QuorumMaj(config.voters, config.observers) };
    }
    const quorums = this.leaderQuorums(r);
    r.outstanding.push({ txn, ackers: new Set(), quorums, config });
    this.appendToLog(out, txn, true);
    // one message value for every learner (the shell may encode it once)
    const proposal: ZabMessage = { type: 'PROPOSAL', txn };
    for (const h of r.learners.values()) {
      if (!h.observer && this.isForwarding(h)) {
        this.send(out, h.sid, proposal);
        if (this.tracing) this.traceTxn(out, 'zab.proposal.sent', txn, h.sid);
      }
    }
    if (r.counter >= 0xfffffffe) {
      // ZOOKEEPER-1277: the counter would roll over into the epoch bits; start a new epoch
      this.abandon(out, 'zxid counter exhausted');
    }
  }

  /** the proposal in flight with this zxid: they are consecutive zxids of one epoch, oldest first */
  private outstandingOf(r: LeaderState, zxid: Zxid): Outstanding | undefined {
    const head = r.outstanding[0];
    if (head === undefined || zxid < head.txn.zxid) return undefined;
    const o = r.outstanding[Number(zxid - head.txn.zxid)];
    if (o === undefined || o.txn.zxid !== zxid) return undefined;
    return o;
  }

  private tryCommit(r: LeaderState, out: ZabEffect[]): void {
    if (r.phase !== 'broadcast') return;
    while (r.outstanding.length > 0) {
      const head = r.outstanding[0] as Outstanding;
      if (!quorumsAcked(head)) break;
      r.outstanding.shift();
      if (this.tracing) this.traceTxn(out, 'zab.quorum.reached', head.txn, undefined, { ackers: [...head.ackers].sort((a, b) => a - b).join(',') });
      if (head.config !== null) {
        if (!this.commitReconfig(r, head, out)) return;
        continue;
      }
      let commit: ZabMessage | null = null;
      let inform: ZabMessage | null = null;
      for (const h of r.learners.values()) {
        if (!this.isForwarding(h)) continue;
        if (h.observer) {
          this.send(out, h.sid, (inform ??= { type: 'INFORM', txn: head.txn }));
          if (this.tracing) this.traceTxn(out, 'zab.commit.sent', head.txn, h.sid, { inform: true });
        } else {
          this.send(out, h.sid, (commit ??= { type: 'COMMIT', zxid: head.txn.zxid }));
          if (this.tracing) this.traceTxn(out, 'zab.commit.sent', head.txn, h.sid);
        }
      }
      // (not a reconfig: propose() asked already)
      this.deliver(out, head.txn, null, null);
    }
    this.trimWindow();
    this.tryFinishSyncs(r, out);
  }

  /** the quorums a leader must hear from: its membership's, and a pending reconfig's (the
   * usual single one is one array shared by every proposal, not one each) */
  private leaderQuorums(r: LeaderState): readonly QuorumMaj[] {
    if (r.pendingConfig !== null) return [this.quorum, r.pendingConfig.quorum];
    if (this.soloQuorums[0] !== this.quorum) this.soloQuorums = [this.quorum];
    return this.soloQuorums;
  }

  /**
   * Leader: a reconfig reached quorums of the old and the new membership. Followers get
   * COMMITANDACTIVATE, observers INFORMANDACTIVATE, both naming the designated leader; the new
   * membership is active here at once. If I am not a voter of it, leadership goes to the
   * designated server: this role ends (false). Learners handle their own removal or role change.
   */
  private commitReconfig(r: LeaderState, head: Outstanding, out: ZabEffect[]): boolean {
    const config = head.config as Membership;
    const designated = this.designatedLeader(r, head, config);
    for (const h of r.learners.values()) {
      if (!this.isForwarding(h)) continue;
      if (h.observer) this.send(out, h.sid, { type: 'INFORMANDACTIVATE', txn: head.txn, leader: designated });
      else this.send(out, h.sid, { type: 'COMMITANDACTIVATE', zxid: head.txn.zxid, leader: designated });
    }
    this.deliver(out, head.txn, designated, config);
    r.pendingConfig = null;
    if (designated !== this.myid) {
      this.abandon(out, `reconfig ${hex(config.version)} hands leadership to ${designated}`, this.quorum.isMember(this.myid) ? { next: designated } : { next: designated, removed: true });
      return false;
    }
    return true;
  }

  /** Leader.getDesignatedLeader: me if I stay a voter; else the new voter that acked the
   * reconfig and most of the proposals after it (the most up to date one). */
  private designatedLeader(r: LeaderState, head: Outstanding, config: Membership): Sid {
    if (config.isVoter(this.myid)) return this.myid;
    let candidates = [...head.ackers].filter((s) => s !== this.myid && config.isVoter(s)).sort((a, b) => a - b);
    assert(candidates.length > 0, `reconfig ${hex(head.txn.zxid)} committed without a new voter's ack`);
    for (const o of r.outstanding) {
      const keep = candidates.filter((s) => o.ackers.has(s));
      if (keep.length === 0) break;
      candidates = keep;
      if (candidates.length === 1) break;
    }
    return candidates[0] as Sid;
  }

  private tryFinishSyncs(r: LeaderState, out: ZabEffect[]): void {
    while (r.pendingSyncs.length > 0) {
      const s = r.pendingSyncs[0] as PendingSync;
      if (this.applied < s.zxid) return;
      const confirmed = [this.myid];
      for (const h of r.learners.values()) {
        if (!h.observer && (h.phase === 'synced' || h.phase === 'uptodate') && h.lastRoundAcked >= s.round) confirmed.push(h.sid);
      }
      if (!this.quorum.containsQuorum(confirmed)) return;
      r.pendingSyncs.shift();
      if (s.to === null) {
        out.push({ type: 'synced', sessionId: s.sessionId, xid: s.xid, zxid: this.applied });
      } else if (r.learners.get(s.to)?.phase === 'uptodate') {
        this.send(out, s.to, { type: 'SYNC', sessionId: s.sessionId, xid: s.xid, zxid: this.applied });
      }
    }
  }

  private startSyncRound(r: LeaderState, to: Sid | null, sessionId: SessionId, xid: number, out: ZabEffect[]): void {
    if (r.pendingSyncs.length >= this.pendingSyncsMax) {
      if (to === null) out.push({ type: 'dropped', sessionId, xid, reason: 'too many pending syncs' });
      return;
    }
    r.pingRound++;
    r.pendingSyncs.push({ round: r.pingRound, zxid: this.lastLoggedZxid, to, sessionId, xid });
    for (const h of r.learners.values()) {
      if (!h.observer && (h.phase === 'synced' || h.phase === 'uptodate')) this.send(out, h.sid, { type: 'PING', round: r.pingRound, touches: [] });
    }
    this.tryFinishSyncs(r, out);
  }

  private onLeaderMessage(r: LeaderState, from: Sid, msg: ZabMessage, out: ZabEffect[]): void {
    if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') {
      const observer = msg.type === 'OBSERVERINFO';
      // a server outside the membership may connect: a joiner syncs as a non-voting learner
      // before the reconfig that adds it (its acks count only for the new membership)
      if (msg.sid !== from || from === this.myid) {
        out.push({ type: 'disconnect', peer: from });
        return;
      }
      // a new connection from this learner replaces whatever we knew of it
      const h: LearnerHandle = {
        sid: from,
        observer,
        phase: 'info',
        acceptedEpoch: msg.acceptedEpoch,
        leaderInfoSent: false,
        lastZxid: 0n,
        lastHeardTick: this.ticks,
        lastRoundAcked: 0,
        newLeaderCoversZxid: 0n,
      };
      r.learners.set(from, h);
      r.epochAckers.delete(from);
      r.newLeaderAckers.delete(from);
      if (r.epoch === null) {
        r.connecting.set(from, msg.acceptedEpoch);
        this.tryDecideEpoch(r, out);
      } else {
        this.sendLeaderInfo(r, h, out);
      }
      return;
    }
    const h = r.learners.get(from);
    if (h === undefined) return; // from a connection we already dropped
    h.lastHeardTick = this.ticks;
    switch (msg.type) {
      case 'ACKEPOCH': {
        if (h.phase !== 'info' || !h.leaderInfoSent) return this.dropLearner(r, h, out, `${PROTOCOL}unexpected ACKEPOCH`);
        h.lastZxid = msg.lastZxid;
        h.phase = 'epochAcked';
        if (msg.currentEpoch !== -1) {
          const ahead = msg.currentEpoch > r.summaryEpoch || (msg.currentEpoch === r.summaryEpoch && msg.lastZxid > r.summaryZxid);
          if (ahead) {
            this.abandon(out, `follower ${from} is ahead of the leader (epoch ${msg.currentEpoch}, ${hex(msg.lastZxid)})`);
            return;
          }
          if (!h.observer) r.epochAckers.add(from);
        }
        if (r.phase === 'epochAck') this.tryEpochQuorum(r, out);
        else if (r.phase === 'sync' || r.phase === 'broadcast') this.startSync(r, h, out);
        return;
      }
      case 'ACK': {
        assert(r.epoch !== null, 'ACK before an epoch');
        if (h.phase === 'syncing' && msg.zxid === makeZxid(r.epoch, 0)) {
          h.phase = 'synced';
          this.trace(out, 'zab.ack.received', { zxid: hex(msg.zxid), peer: from, detail: { of: 'NEWLEADER' } });
          if (!h.observer) {
            r.newLeaderAckers.add(from);
            for (const o of r.outstanding) if (o.txn.zxid <= h.newLeaderCoversZxid) o.ackers.add(from);
          }
          if (r.phase === 'sync') {
            this.tryEstablish(r, out);
          } else if (r.phase === 'broadcast') {
            h.phase = 'uptodate';
            this.send(out, from, { type: 'UPTODATE', zxid: makeZxid(r.epoch, 0) });
            this.tryCommit(r, out);
          }
          return;
        }
        if (h.observer || (h.phase !== 'synced' && h.phase !== 'uptodate')) return;
        const o = this.outstandingOf(r, msg.zxid);
        if (o === undefined) return; // already committed
        o.ackers.add(from);
        if (this.tracing) this.traceTxn(out, 'zab.ack.received', o.txn, from);
        this.tryCommit(r, out);
        return;
      }
      case 'PING':
        if (msg.round > h.lastRoundAcked) h.lastRoundAcked = Math.min(msg.round, r.pingRound);
        if (msg.touches.length > 0) out.push({ type: 'sessionTouches', from, touches: msg.touches });
        this.tryFinishSyncs(r, out);
        return;
      case 'REQUEST':
        if (h.phase !== 'uptodate' || r.phase !== 'broadcast') {
          out.push({ type: 'dropped', sessionId: msg.sessionId, xid: msg.xid, reason: 'learner not up to date' });
          return;
        }
        out.push({ type: 'request', from, sessionId: msg.sessionId, xid: msg.xid, data: msg.data });
        return;
      case 'SYNC':
        if (h.phase === 'uptodate' && r.phase === 'broadcast') this.startSyncRound(r, from, msg.sessionId, msg.xid, out);
        return;
      case 'REVALIDATE':
        out.push({ type: 'revalidate', from, sessionId: msg.sessionId, timeoutMs: msg.timeoutMs });
        return;
      default:
        this.dropLearner(r, h, out, `${PROTOCOL}learner sent ${msg.type}`);
        return;
    }
  }

  private dropLearner(r: LeaderState, h: LearnerHandle, out: ZabEffect[], reason: string): void {
    r.learners.delete(h.sid);
    r.epochAckers.delete(h.sid);
    r.newLeaderAckers.delete(h.sid);
    if (r.epoch === null) r.connecting.delete(h.sid);
    out.push({ type: 'disconnect', peer: h.sid });
    this.trace(out, 'server.role', { peer: h.sid, detail: { dropped: reason } });
  }

  private onLeaderTick(r: LeaderState, out: ZabEffect[]): void {
    if (r.phase !== 'broadcast') {
      if (this.ticks - r.startTick > this.initLimitTicks) {
        this.abandon(out, `no quorum synced within initLimit (${this.initLimitTicks} ticks)`);
      }
      return;
    }
    for (const h of [...r.learners.values()]) {
      const limit = h.phase === 'synced' || h.phase === 'uptodate' ? this.syncLimitTicks : this.initLimitTicks;
      if (this.ticks - h.lastHeardTick > limit) this.dropLearner(r, h, out, `silent for ${limit} ticks`);
    }
    const alive = [this.myid];
    for (const h of r.learners.values()) if (h.phase === 'synced' || h.phase === 'uptodate') alive.push(h.sid);
    if (!this.quorum.containsQuorum(alive)) {
      this.abandon(out, `lost quorum: synced with ${alive.sort((a, b) => a - b).join(',')}`);
      return;
    }
    r.pingRound++;
    for (const h of r.learners.values()) {
      if (this.isForwarding(h)) this.send(out, h.sid, { type: 'PING', round: r.pingRound, touches: [] });
    }
  }

  // ---- learner ------------------------------------------------------------------------------

  private follow(leader: Sid, out: ZabEffect[]): void {
    assert(leader !== this.myid, 'cannot follow myself');
    if (this.role !== null) this.closeRole(out);
    const observer = this.quorum.isMember(this.myid) ? !this.quorum.isVoter(this.myid) : this.ownType === 'observer';
    this.role = {
      kind: 'learner',
      leader,
      observer,
      phase: 'connecting',
      startTick: this.ticks,
      lastHeardTick: this.ticks,
      reconnect: false,
      newEpoch: 0,
      touches: new Map(),
      newLeaderConfig: null,
    };
    this.trace(out, 'server.role', { peer: leader, detail: { role: observer ? 'observing' : 'following' } });
    this.sendInfo(this.role, out);
  }

  private sendInfo(r: LearnerState, out: ZabEffect[]): void {
    this.send(out, r.leader, {
      type: r.observer ? 'OBSERVERINFO' : 'FOLLOWERINFO',
      sid: this.myid,
      acceptedEpoch: this.accepted,
      protocolVersion: ZAB_PROTOCOL_VERSION,
    });
  }

  private onLearnerMessage(r: LearnerState, from: Sid, msg: ZabMessage, out: ZabEffect[]): void {
    if (from !== r.leader) return;
    r.lastHeardTick = this.ticks;
    switch (msg.type) {
      case 'LEADERINFO': {
        if (r.phase !== 'connecting') return this.violation(r, out, 'LEADERINFO');
        r.newEpoch = msg.newEpoch;
        if (msg.newEpoch < this.accepted) {
          this.abandon(out, `leader's epoch ${msg.newEpoch} is below my accepted epoch ${this.accepted}`);
          return;
        }
        r.phase = 'epoch';
        if (msg.newEpoch > this.accepted) {
          const currentEpoch = this.current;
          this.accepted = msg.newEpoch;
          const seq = this.persist(out, { kind: 'acceptedEpoch', epoch: msg.newEpoch });
          this.waiters.push({ seq, kind: 'ackEpoch', currentEpoch });
        } else {
          // already accepted this epoch from someone: we cannot vote for it again in good conscience
          this.send(out, r.leader, { type: 'ACKEPOCH', currentEpoch: -1, lastZxid: this.lastLoggedZxid });
        }
        return;
      }
      case 'DIFF':
        if (r.phase !== 'epoch') return this.violation(r, out, 'DIFF');
        if (msg.zxid !== this.lastLoggedZxid) return this.violation(r, out, `DIFF from ${hex(msg.zxid)} but my log ends at ${hex(this.lastLoggedZxid)}`);
        r.phase = 'sync';
        this.trace(out, 'zab.sync.received', { zxid: hex(msg.zxid), peer: from, detail: { how: 'DIFF' } });
        this.deliverLocalUpTo(out, msg.zxid < msg.committedZxid ? msg.zxid : msg.committedZxid);
        return;
      case 'TRUNC': {
        if (r.phase !== 'epoch') return this.violation(r, out, 'TRUNC');
        r.phase = 'sync';
        this.trace(out, 'zab.sync.received', { zxid: hex(msg.zxid), peer: from, detail: { how: 'TRUNC', dropped: hex(this.lastLoggedZxid) } });
        this.window = this.window.filter((t) => t.zxid <= msg.zxid);
        // below what memory holds (a long replayed tail): the log on disk still has it, the
        // shell rolls the state back from there
        if (msg.zxid < this.windowBase) this.windowBase = msg.zxid;
        if (this.applied > msg.zxid) this.applied = msg.zxid;
        const seq = this.persist(out, { kind: 'truncate', zxid: msg.zxid });
        this.waiters.push({ seq, kind: 'truncated', zxid: msg.zxid });
        this.deliverLocalUpTo(out, msg.zxid < msg.committedZxid ? msg.zxid : msg.committedZxid);
        return;
      }
      case 'SNAP': {
        if (r.phase !== 'epoch') return this.violation(r, out, 'SNAP');
        r.phase = 'sync';
        this.trace(out, 'zab.sync.received', { zxid: hex(msg.zxid), peer: from, detail: { how: 'SNAP' } });
        this.window = [];
        this.windowBase = msg.zxid;
        this.applied = msg.zxid;
        const seq = this.persist(out, { kind: 'snapshot', zxid: msg.zxid, snapshot: msg.snapshot });
        this.waiters.push({ seq, kind: 'snapshot', zxid: msg.zxid });
        return;
      }
      case 'PROPOSAL': {
        if (r.phase !== 'sync' && r.phase !== 'synced' && r.phase !== 'broadcast') return this.violation(r, out, 'PROPOSAL');
        if (r.observer && r.phase !== 'sync') return this.violation(r, out, 'PROPOSAL to an observer');
        if (msg.txn.zxid <= this.lastLoggedZxid) return this.violation(r, out, `PROPOSAL ${hex(msg.txn.zxid)} not after ${hex(this.lastLoggedZxid)}`);
        if (this.tracing) this.traceTxn(out, 'zab.proposal.received', msg.txn, from);
        // before NEWLEADER, its ACK covers these; after, each proposal is acked once durable
        this.appendToLog(out, msg.txn, !r.observer && r.phase !== 'sync');
        return;
      }
      case 'COMMIT': {
        if (r.phase !== 'sync' && r.phase !== 'synced' && r.phase !== 'broadcast') return this.violation(r, out, 'COMMIT');
        const next = this.window[this.indexAfter(this.applied)];
        if (next === undefined || next.zxid !== msg.zxid) return this.violation(r, out, `COMMIT ${hex(msg.zxid)} but next uncommitted is ${next ? hex(next.zxid) : 'none'}`);
        if (this.tracing) this.traceTxn(out, 'zab.commit.received', next, from);
        this.deliver(out, next);
        this.trimWindow();
        return;
      }
      case 'COMMITANDACTIVATE': {
        if (r.phase !== 'sync' && r.phase !== 'synced' && r.phase !== 'broadcast') return this.violation(r, out, 'COMMITANDACTIVATE');
        const next = this.window[this.indexAfter(this.applied)];
        if (next === undefined || next.zxid !== msg.zxid) return this.violation(r, out, `COMMITANDACTIVATE ${hex(msg.zxid)} but next uncommitted is ${next ? hex(next.zxid) : 'none'}`);
        if (this.tracing) this.traceTxn(out, 'zab.commit.received', next, from, { activate: true });
        const wasMember = this.quorum.isMember(this.myid);
        this.deliver(out, next, msg.leader);
        this.trimWindow();
        if (r.phase === 'broadcast') this.afterLearnerActivation(r, wasMember, msg.leader, out);
        return;
      }
      case 'INFORMANDACTIVATE': {
        if (!r.observer || (r.phase !== 'synced' && r.phase !== 'broadcast' && r.phase !== 'sync')) return this.violation(r, out, 'INFORMANDACTIVATE');
        if (msg.txn.zxid <= this.lastLoggedZxid) return this.violation(r, out, `INFORMANDACTIVATE ${hex(msg.txn.zxid)} not after ${hex(this.lastLoggedZxid)}`);
        if (this.tracing) this.traceTxn(out, 'zab.commit.received', msg.txn, from, { inform: true, activate: true });
        const wasMember = this.quorum.isMember(this.myid);
        this.appendToLog(out, msg.txn, false);
        this.deliver(out, msg.txn, msg.leader);
        this.trimWindow();
        if (r.phase === 'broadcast') this.afterLearnerActivation(r, wasMember, msg.leader, out);
        return;
      }
      case 'INFORM': {
        if (!r.observer || (r.phase !== 'synced' && r.phase !== 'broadcast' && r.phase !== 'sync')) return this.violation(r, out, 'INFORM');
        if (msg.txn.zxid <= this.lastLoggedZxid) return this.violation(r, out, `INFORM ${hex(msg.txn.zxid)} not after ${hex(this.lastLoggedZxid)}`);
        if (this.tracing) this.traceTxn(out, 'zab.commit.received', msg.txn, from, { inform: true });
        this.appendToLog(out, msg.txn, false);
        this.deliver(out, msg.txn);
        this.trimWindow();
        return;
      }
      case 'NEWLEADER': {
        if (r.phase !== 'sync') return this.violation(r, out, 'NEWLEADER');
        const epoch = zxidEpoch(msg.zxid);
        if (epoch !== r.newEpoch || zxidCounter(msg.zxid) !== 0) return this.violation(r, out, `NEWLEADER ${hex(msg.zxid)} for epoch ${r.newEpoch}`);
        r.phase = 'synced';
        if (msg.config !== undefined) {
          // the leader's membership (ZooKeeper sends it in NEWLEADER): a newer one becomes
          // active at UPTODATE, once the epoch is established
          const m = Membership.parse(msg.config);
          if (typeof m !== 'string' && m.version > this.membership.version) r.newLeaderConfig = m;
        }
        // persist the log (ops before this one) and then currentEpoch, and only then ack:
        // acking first is ZOOKEEPER-3911/4394/4643/4646/4785
        this.current = epoch;
        const seq = this.persist(out, { kind: 'currentEpoch', epoch });
        this.waiters.push({ seq, kind: 'ackNewLeader', zxid: msg.zxid });
        this.trace(out, 'zab.newleader', { zxid: hex(msg.zxid), peer: from });
        return;
      }
      case 'UPTODATE':
        if (r.phase !== 'synced') return this.violation(r, out, 'UPTODATE');
        if (r.newLeaderConfig !== null) {
          // a membership without me: I am a joiner (or was removed while away) and sync on as
          // a non-voting learner until a reconfig adds me
          this.activate(out, r.newLeaderConfig, null);
          r.newLeaderConfig = null;
          if (this.quorum.isMember(this.myid) && !this.quorum.isVoter(r.leader)) {
            this.abandon(out, `membership ${hex(this.membership.version)} leaves leader ${r.leader} no vote`);
            return;
          }
        }
        if (this.quorum.isMember(this.myid) && this.quorum.isVoter(this.myid) === r.observer) {
          this.abandon(out, `the leader's membership makes me ${r.observer ? 'a participant' : 'an observer'}`, { next: r.leader });
          return;
        }
        r.phase = 'broadcast';
        this.trace(out, 'zab.uptodate', { zxid: hex(msg.zxid), peer: from });
        out.push({ type: 'serving', role: r.observer ? 'observing' : 'following', epoch: r.newEpoch, leader: r.leader });
        return;
      case 'PING': {
        const touches: SessionTouch[] = [...r.touches].map(([sessionId, timeoutMs]) => ({ sessionId, timeoutMs }));
        r.touches.clear();
        this.send(out, r.leader, { type: 'PING', round: msg.round, touches });
        return;
      }
      case 'SYNC':
        out.push({ type: 'synced', sessionId: msg.sessionId, xid: msg.xid, zxid: msg.zxid });
        return;
      case 'REVALIDATE':
        out.push({ type: 'revalidated', sessionId: msg.sessionId, valid: msg.valid });
        return;
      default:
        return this.violation(r, out, `leader sent ${msg.type}`);
    }
  }

  /** the leader broke the protocol: this role ends (a method, not a closure made per message) */
  private violation(r: LearnerState, out: ZabEffect[], what: string): void {
    this.abandon(out, `${PROTOCOL}${what} in phase ${r.phase}`);
  }

  private onLearnerTick(r: LearnerState, out: ZabEffect[]): void {
    if (r.phase === 'connecting') {
      if (this.ticks - r.startTick > this.initLimitTicks) {
        this.abandon(out, `could not connect to leader ${r.leader} within initLimit`);
        return;
      }
      if (r.reconnect) {
        r.reconnect = false;
        r.lastHeardTick = this.ticks;
        this.sendInfo(r, out);
      }
      return;
    }
    const limit = r.phase === 'broadcast' ? this.syncLimitTicks : this.initLimitTicks;
    if (this.ticks - r.lastHeardTick > limit) {
      this.abandon(out, `leader ${r.leader} silent for ${limit} ticks`);
    }
  }

  private forward(sessionId: SessionId, xid: number, data: Uint8Array, out: ZabEffect[]): void {
    const r = this.role;
    if (r?.kind !== 'learner' || r.phase !== 'broadcast') {
      out.push({ type: 'dropped', sessionId, xid, reason: 'not following' });
      return;
    }
    this.send(out, r.leader, { type: 'REQUEST', sessionId, xid, data });
    if (this.tracing) this.trace(out, 'request.forwarded', { session: hex(sessionId), xid, peer: r.leader });
  }

  private sync(sessionId: SessionId, xid: number, out: ZabEffect[]): void {
    const r = this.role;
    if (r === null || r.phase !== 'broadcast') {
      out.push({ type: 'dropped', sessionId, xid, reason: 'not serving' });
      return;
    }
    if (r.kind === 'leader') this.startSyncRound(r, null, sessionId, xid, out);
    else this.send(out, r.leader, { type: 'SYNC', sessionId, xid, zxid: 0n });
  }

  // ---- dispatch -----------------------------------------------------------------------------

  private onMessage(from: Sid, msg: ZabMessage, out: ZabEffect[]): void {
    const r = this.role;
    if (r === null) {
      // not leading: refuse learners that found us too early or too late
      if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') out.push({ type: 'disconnect', peer: from });
      return;
    }
    if (r.kind === 'leader') this.onLeaderMessage(r, from, msg, out);
    else if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') out.push({ type: 'disconnect', peer: from });
    else this.onLearnerMessage(r, from, msg, out);
  }

  private onDisconnected(peer: Sid, out: ZabEffect[]): void {
    const r = this.role;
    if (r === null) return;
    if (r.kind === 'leader') {
      const h = r.learners.get(peer);
      if (h === undefined) return;
      r.learners.delete(peer);
      r.epochAckers.delete(peer);
      r.newLeaderAckers.delete(peer);
      if (r.epoch === null) r.connecting.delete(peer);
      this.trace(out, 'server.role', { peer, detail: { dropped: 'disconnected' } });
      return;
    }
    if (peer !== r.leader) return;
    if (r.phase === 'connecting') {
      r.reconnect = true; // retry on the next tick, until initLimit
      return;
    }
    this.abandon(out, `connection to leader ${peer} lost`);
  }

  private onRetryConnect(out: ZabEffect[]): void {
    const r = this.role;
    if (r === null || r.kind === 'leader' || r.phase !== 'connecting' || !r.reconnect) return;
    r.reconnect = false;
    this.sendInfo(r, out);
  }

  private onTick(out: ZabEffect[]): void {
    this.ticks++;
    const r = this.role;
    if (r === null) return;
    if (r.kind === 'leader') this.onLeaderTick(r, out);
    else this.onLearnerTick(r, out);
  }
}
