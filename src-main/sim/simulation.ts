/**
 * The deterministic simulator: real election and ZAB cores on a fake clock, network and disk.
 *
 * - Network. Election messages: random delay, optional loss, so reordering happens. Quorum
 *   connections behave like TCP: opened by the learner's FOLLOWERINFO/OBSERVERINFO, FIFO per
 *   direction, stalled (not lost) while a partition cuts the link, lost when the connection
 *   closes; a close is noticed by the other end only if the link is up (else it times out).
 * - Disk: see disk.ts (fsync latency, group commit, random surviving prefix on crash).
 * - Servers crash (state lost, disk torn) and restart (rebuild from disk, like ZooKeeper:
 *   snapshot + the whole log).
 * - Clients send "key=value" writes (pipelined, per-session order checked) and syncs.
 * - Checkers run after every event; a failure throws SimFailure carrying the seed.
 *
 * No Date.now, Math.random or timers: time is `now`, dice are `prng`.
 */
import { AssertionError } from '../common/assert';
import { hex, type SessionId, type Zxid } from '../common/ids';
import type { TraceEvent, TraceKind } from '../common/trace';
import { fromUtf8, utf8 } from '../jute/buffer';
import { Membership, type Member } from '../common/membership';
import { membershipOfQuorum } from '../zab/reconfig';
import { ZabPeer, type ZabEffect, type ZabInput } from '../zab/broadcast';
import { FastLeaderElection, type ElectionEffect, type ElectionInput, type ElectionTimer, type Notification } from '../zab/election';
import { QuorumMaj, type Sid } from '../zab/quorum';
import type { TxnRecord, ZabMessage } from '../zab/types';
import { SimDisk, imageHolds, lastLogged } from './disk';
import { EventQueue, type Popped } from './event-queue';
import { KvState, type Applied } from './kv';
import { Prng } from './prng';

export class SimFailure extends Error {
  override name = 'SimFailure';
  constructor(
    message: string,
    readonly seed: number,
    readonly atMs: number,
    readonly step: number,
  ) {
    super(`${message} (seed ${seed}, t=${atMs} ms, step ${step})`);
  }
}

export interface SimOptions {
  readonly seed: number;
  readonly servers: number;
  readonly observers?: number;
  readonly tickMs?: number;
  readonly initLimitTicks?: number;
  readonly syncLimitTicks?: number;
  readonly finalizeWaitMs?: number;
  readonly maxNotificationIntervalMs?: number;
  readonly netDelayMsMin?: number;
  readonly netDelayMsMax?: number;
  /** chance an election message is lost */
  readonly electionDropP?: number;
  readonly fsyncMsMin?: number;
  readonly fsyncMsMax?: number;
  readonly committedLogMax?: number;
  readonly requestTimeoutMs?: number;
  /** keep every trace event (tests); otherwise only counts are kept */
  readonly keepTrace?: boolean;
  /** servers outside the initial membership (ids after the observers): they boot with the
   * members plus themselves and sync as non-voting learners until a reconfig adds them */
  readonly spares?: number;
  /** reconfigEnabled: the leader stamps the first version; `reconfig()` may be called */
  readonly reconfig?: boolean;
}

/** the sim's reconfig txn: "reconfig=<membership text>" (a real server logs a SetDataTxn of
 * /zookeeper/config; the ZAB core only needs to know it is one and what it makes) */
export function simReconfigOf(txn: TxnRecord): Membership | null {
  const d = txn.data;
  // "reconfig=" in UTF-8
  if (d.length < 9 || d[0] !== 0x72 || d[8] !== 0x3d) return null;
  const text = fromUtf8(d);
  if (!text.startsWith('reconfig=')) return null;
  const m = Membership.parse(text.slice('reconfig='.length));
  return typeof m === 'string' ? null : m;
}

type Ev =
  | { k: 'elec'; from: Sid; to: Sid; msg: Notification }
  | { k: 'pump'; conn: number; from: Sid; to: Sid }
  | { k: 'closed'; conn: number; to: Sid; inc: number; peer: Sid }
  | { k: 'connFail'; to: Sid; inc: number; peer: Sid }
  | { k: 'etimer'; sid: Sid; inc: number; timer: ElectionTimer; gen: number }
  /** the election port of `peer` refused `sid`'s dial (it is down) */
  | { k: 'unreachable'; sid: Sid; inc: number; peer: Sid }
  | { k: 'tick'; sid: Sid; inc: number }
  | { k: 'fsync'; sid: Sid; inc: number; upTo: number }
  | { k: 'client'; cid: number; gen: number }
  | { k: 'call'; fn: () => void; on?: Sid };

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

export interface ServerView {
  readonly id: Sid;
  readonly alive: boolean;
  readonly serving: boolean;
  readonly role: string;
  readonly epoch: number;
  readonly lastLoggedZxid: Zxid;
  readonly appliedZxid: Zxid;
  readonly history: readonly Applied[];
}

class SimServer {
  alive = false;
  inc = 0;
  election: FastLeaderElection | null = null;
  zab: ZabPeer | null = null;
  readonly disk = new SimDisk();
  kv = new KvState();
  serving = false;
  servingEpoch = 0;
  checkedLen = 0;
  /** leader only: which server owns each session (ZooKeeper's session owner) */
  readonly owners = new Map<SessionId, Sid>();
  /** what its zoo.cfg.dynamic file holds: the newest membership that includes it */
  membership: Membership;
  /** a reconfig removed it: it takes no part until restarted */
  removed = false;
  constructor(
    readonly id: Sid,
    membership: Membership,
  ) {
    this.membership = membership;
  }
}

interface ClientRequest {
  readonly kind: 'write' | 'sync';
  readonly xid: number;
  readonly data: string;
  readonly sentAt: number;
  /** sync: the highest zxid acknowledged to any client when the sync was sent */
  readonly floor: Zxid;
  /** done at the server, answer held until the earlier requests of the session are answered */
  done?: { zxid: Zxid; server: Sid };
}

export class SimClient {
  server: Sid | null = null;
  xid = 0;
  readonly pending: ClientRequest[] = [];
  written = 0;
  gen = 0;
  /** bumped on every reconnect: bytes sent on an older connection never reach a server */
  conn = 0;
  /** the connection the session was last taken over on */
  connectedConn = -1;
  constructor(
    readonly id: number,
    readonly sessionId: SessionId,
    readonly auto: boolean,
  ) {}
}

export interface AckedWrite {
  readonly zxid: Zxid;
  readonly data: string;
  readonly client: number;
  readonly server: Sid;
  readonly atMs: number;
}

const pairKey = (a: Sid, b: Sid): string => (a < b ? `${a}-${b}` : `${b}-${a}`);

export class Simulation {
  readonly prng: Prng;
  readonly seed: number;
  readonly quorum: QuorumMaj;
  readonly tickMs: number;
  private readonly opts: Required<Omit<SimOptions, 'observers' | 'keepTrace' | 'spares' | 'reconfig'>> & { observers: number; keepTrace: boolean; spares: number; reconfig: boolean };
  /** the membership every server starts from (version 0) */
  readonly initialMembership: Membership;
  /** committed reconfigs, in zxid order (from the committed history) */
  private readonly configs: { zxid: Zxid; membership: Membership }[] = [];
  reconfigs = 0;
  private readonly servers = new Map<Sid, SimServer>();
  private readonly queue = new EventQueue<Ev>();
  private readonly blocked = new Set<string>();
  /** SIGSTOPped servers and when they resume: their events wait until then */
  private readonly paused = new Map<Sid, number>();
  /** extra fsync latency per server (a slow disk) */
  private readonly slowDiskMs = new Map<Sid, number>();
  private readonly conns = new Map<string, Conn>();
  private connSeq = 0;
  now = 0;
  steps = 0;
  readonly clients: SimClient[] = [];
  private clientSeq = 0;

  // checker state
  private readonly canon: Applied[] = [];
  private readonly canonIndex = new Map<Zxid, number>();
  private readonly leaderOfEpoch = new Map<number, Sid>();
  readonly acked: AckedWrite[] = [];
  private maxAckedZxid: Zxid = 0n;
  private readonly lastXidInCanon = new Map<string, number>();
  readonly trace: TraceEvent[] = [];
  readonly traceCounts = new Map<TraceKind, number>();
  /** how learners were synced: DIFF / TRUNC / SNAP counts */
  readonly syncKinds = new Map<string, number>();
  readonly decisions: { atMs: number; sid: Sid; role: string; leader: Sid; round: number }[] = [];
  readonly established: { atMs: number; sid: Sid; epoch: number }[] = [];
  readonly abandons: { atMs: number; sid: Sid; reason: string }[] = [];
  syncsChecked = 0;
  /** every answered sync: the state the read after it would see, and what it had to see */
  readonly syncResults: { client: number; server: Sid; sawZxid: Zxid; floor: Zxid; atMs: number }[] = [];
  crashes = 0;

  constructor(options: SimOptions) {
    this.seed = options.seed;
    this.opts = {
      seed: options.seed,
      servers: options.servers,
      observers: options.observers ?? 0,
      tickMs: options.tickMs ?? 100,
      initLimitTicks: options.initLimitTicks ?? 10,
      syncLimitTicks: options.syncLimitTicks ?? 5,
      finalizeWaitMs: options.finalizeWaitMs ?? 200,
      maxNotificationIntervalMs: options.maxNotificationIntervalMs ?? 1600,
      netDelayMsMin: options.netDelayMsMin ?? 1,
      netDelayMsMax: options.netDelayMsMax ?? 8,
      electionDropP: options.electionDropP ?? 0,
      fsyncMsMin: options.fsyncMsMin ?? 1,
      fsyncMsMax: options.fsyncMsMax ?? 12,
      committedLogMax: options.committedLogMax ?? 50,
      requestTimeoutMs: options.requestTimeoutMs ?? 2000,
      keepTrace: options.keepTrace ?? false,
      spares: options.spares ?? 0,
      reconfig: options.reconfig ?? false,
    };
    this.prng = new Prng(options.seed);
    this.tickMs = this.opts.tickMs;
    const voters: Sid[] = [];
    const observers: Sid[] = [];
    for (let i = 1; i <= this.opts.servers; i++) voters.push(i);
    for (let i = 1; i <= this.opts.observers; i++) observers.push(this.opts.servers + i);
    this.quorum = new QuorumMaj(voters, observers);
    this.initialMembership = membershipOfQuorum(this.quorum);
    for (const id of this.quorum.members()) this.servers.set(id, new SimServer(id, this.initialMembership));
    const firstSpare = this.opts.servers + this.opts.observers + 1;
    for (let id = firstSpare; id < firstSpare + this.opts.spares; id++) {
      this.servers.set(id, new SimServer(id, membershipOfQuorum(new QuorumMaj([...voters, id], observers))));
    }
  }

  /** the committed membership now (the last committed reconfig's, else the initial one) */
  get membership(): Membership {
    return this.configs[this.configs.length - 1]?.membership ?? this.initialMembership;
  }

  /** the servers of the committed membership (those that must serve after healing) */
  memberIds(): Sid[] {
    return [...this.membership.members.keys()];
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

  // ---- views --------------------------------------------------------------------------------

  get ids(): Sid[] {
    return [...this.servers.keys()].sort((a, b) => a - b);
  }

  view(id: Sid): ServerView {
    const s = this.server(id);
    return {
      id,
      alive: s.alive,
      serving: s.serving,
      role: s.alive ? (s.zab?.currentRole ?? 'looking') : 'down',
      epoch: s.zab?.epoch ?? 0,
      lastLoggedZxid: s.zab?.lastLoggedZxid ?? 0n,
      appliedZxid: s.zab?.appliedZxid ?? 0n,
      history: s.kv.history,
    };
  }

  /** for failure reports: what a server's election and membership look like */
  describe(id: Sid): string {
    const s = this.server(id);
    const v = s.election?.vote;
    const d = this.decisions.filter((x) => x.sid === id).slice(-1)[0];
    return `vote ${v ? `${v.leader}/${v.peerEpoch}` : '-'} membership v${s.membership.version.toString(16)} voters ${s.membership.voters.join(',')} zab v${s.zab?.activeMembership.version.toString(16) ?? '-'}${s.removed ? ' removed' : ''}${d ? ` last decided @${d.atMs} ${d.role} ${d.leader}` : ''}`;
  }

  /** the established (serving) leader, if exactly one believes it is (a paused, deposed
   * leader still believes it) */
  leader(): Sid | null {
    const ls = this.servingLeaders();
    return ls.length === 1 ? (ls[0] as Sid) : null;
  }

  servingLeaders(): Sid[] {
    return this.ids.filter((id) => {
      const s = this.server(id);
      return s.alive && s.serving && s.zab?.currentRole === 'leading';
    });
  }

  committed(): readonly Applied[] {
    return this.canon;
  }

  durableImage(id: Sid): SimDisk {
    return this.server(id).disk;
  }

  private server(id: Sid): SimServer {
    const s = this.servers.get(id);
    if (!s) throw new Error(`no server ${id}`);
    return s;
  }

  private fail(message: string): never {
    throw new SimFailure(message, this.seed, this.now, this.steps);
  }

  private delay(): number {
    return this.prng.range(this.opts.netDelayMsMin, this.opts.netDelayMsMax);
  }

  private linkUp(a: Sid, b: Sid): boolean {
    return !this.blocked.has(pairKey(a, b));
  }

  private schedule(atMs: number, ev: Ev): void {
    this.queue.push(atMs, ev);
  }

  /** run `fn` at simulated time now + afterMs (faults, scripted steps) */
  at(afterMs: number, fn: () => void): void {
    this.schedule(this.now + afterMs, { k: 'call', fn });
  }

  // ---- running ------------------------------------------------------------------------------

  /** process one event; false when nothing is left */
  stepOnce(): boolean {
    const e = this.queue.pop();
    if (!e) return false;
    this.now = e.at;
    this.steps++;
    try {
      this.handle(e);
    } catch (err) {
      if (err instanceof SimFailure) throw err;
      if (err instanceof AssertionError) this.fail(`assertion: ${err.message}`);
      throw err;
    }
    return true;
  }

  runFor(ms: number): void {
    const end = this.now + ms;
    while ((this.queue.peekTime() ?? Infinity) <= end) this.stepOnce();
    this.now = end;
  }

  /** run until pred() holds; fails the run if it does not within maxMs */
  runUntil(pred: () => boolean, maxMs: number, what = 'condition'): void {
    const end = this.now + maxMs;
    while (!pred()) {
      const t = this.queue.peekTime();
      if (t === undefined || t > end) this.fail(`${what} not reached within ${maxMs} ms`);
      this.stepOnce();
    }
  }

  /** the server an event runs on (for pausing), if any */
  private target(ev: Ev): Sid | null {
    switch (ev.k) {
      case 'elec':
      case 'pump':
      case 'closed':
      case 'connFail':
        return ev.to;
      case 'etimer':
      case 'unreachable':
      case 'tick':
      case 'fsync':
        return ev.sid;
      case 'call':
        return ev.on ?? null;
      case 'client':
        return null;
    }
  }

  private handle(popped: Popped<Ev>): void {
    const ev = popped.item;
    const target = this.target(ev);
    if (target !== null) {
      const resumeAt = this.paused.get(target);
      if (resumeAt !== undefined) {
        if (resumeAt > this.now) {
          this.queue.postpone(popped, resumeAt); // SIGSTOPped: everything waits, in its order
          return;
        }
        this.paused.delete(target);
      }
    }
    switch (ev.k) {
      case 'elec': {
        const s = this.server(ev.to);
        if (!s.alive || !this.linkUp(ev.from, ev.to) || !this.server(ev.from).alive) return;
        this.electionStep(s, { type: 'message', nowMs: this.now, from: ev.from, msg: ev.msg });
        return;
      }
      case 'pump':
        this.pump(ev.conn, ev.from, ev.to);
        return;
      case 'closed': {
        const s = this.server(ev.to);
        if (!s.alive || s.inc !== ev.inc) return;
        const c = this.conns.get(pairKey(ev.to, ev.peer));
        if (c && c.id !== ev.conn) return; // a newer connection replaced it
        this.zabStep(s, { type: 'disconnected', nowMs: this.now, peer: ev.peer });
        return;
      }
      case 'connFail': {
        const s = this.server(ev.to);
        if (!s.alive || s.inc !== ev.inc) return;
        if (this.conns.get(pairKey(ev.to, ev.peer))?.open) return;
        this.zabStep(s, { type: 'disconnected', nowMs: this.now, peer: ev.peer });
        return;
      }
      case 'etimer': {
        const s = this.server(ev.sid);
        if (!s.alive || s.inc !== ev.inc) return;
        this.electionStep(s, { type: 'timer', nowMs: this.now, timer: ev.timer, gen: ev.gen });
        return;
      }
      case 'unreachable': {
        const s = this.server(ev.sid);
        if (!s.alive || s.inc !== ev.inc || this.server(ev.peer).alive) return;
        this.electionStep(s, { type: 'reachability', nowMs: this.now, peer: ev.peer, reachable: false });
        return;
      }
      case 'tick': {
        const s = this.server(ev.sid);
        if (!s.alive || s.inc !== ev.inc) return;
        this.schedule(this.now + this.tickMs, ev);
        this.zabStep(s, { type: 'tick', nowMs: this.now });
        return;
      }
      case 'fsync': {
        const s = this.server(ev.sid);
        if (!s.alive || s.inc !== ev.inc) return;
        s.disk.completeFsync(ev.upTo);
        this.zabStep(s, { type: 'persisted', nowMs: this.now, seq: ev.upTo });
        this.startFsync(s);
        return;
      }
      case 'client':
        this.clientAct(ev.cid, ev.gen);
        return;
      case 'call':
        ev.fn();
        return;
    }
  }

  // ---- servers: lifecycle -------------------------------------------------------------------

  /** boot (or reboot after a crash) from what the disk holds */
  start(id: Sid): void {
    const s = this.server(id);
    if (s.alive) return;
    s.alive = true;
    s.inc++;
    s.serving = false;
    const img = s.disk.view;
    s.kv = KvState.fromImage(img);
    s.checkedLen = 0;
    const keep = this.opts.committedLogMax;
    const log = img.log.length > keep ? img.log.slice(img.log.length - keep) : img.log;
    const base = img.log.length > keep ? (img.log[img.log.length - keep - 1] as TxnRecord).zxid : (img.snapshot?.zxid ?? 0n);
    s.removed = false;
    const quorum = new QuorumMaj(s.membership.voters, s.membership.observers);
    s.zab = new ZabPeer(
      {
        myid: id,
        quorum,
        membership: s.membership,
        reconfigOf: simReconfigOf,
        reconfigEnabled: this.opts.reconfig,
        initLimitTicks: this.opts.initLimitTicks,
        syncLimitTicks: this.opts.syncLimitTicks,
        committedLogMax: this.opts.committedLogMax,
      },
      { acceptedEpoch: img.acceptedEpoch, currentEpoch: img.currentEpoch, snapshotZxid: base, log, appliedZxid: lastLogged(img) },
    );
    s.election = new FastLeaderElection({
      myid: id,
      quorum,
      membership: s.membership,
      finalizeWaitMs: this.opts.finalizeWaitMs,
      maxNotificationIntervalMs: this.opts.maxNotificationIntervalMs,
    });
    this.emitTrace({ t: this.now, kind: 'server.started', server: id, epoch: img.currentEpoch, zxid: hex(lastLogged(img)) }, false);
    this.schedule(this.now + 1 + this.prng.int(this.tickMs), { k: 'tick', sid: id, inc: s.inc });
    this.electionStep(s, { type: 'start', nowMs: this.now, lastZxid: s.zab.lastLoggedZxid, currentEpoch: s.zab.currentEpoch });
  }

  /** kill -9 / power cut: memory gone, unsynced writes partly lost, connections reset */
  crash(id: Sid): void {
    const s = this.server(id);
    if (!s.alive) return;
    this.crashes++;
    s.alive = false;
    s.serving = false;
    s.inc++;
    s.disk.crash(this.prng);
    s.election = null;
    s.zab = null;
    for (const c of [...this.conns.values()]) if (c.a === id || c.b === id) this.closeConn(c, id);
    for (const cl of this.clients) if (cl.server === id) this.clientLost(cl);
    this.emitTrace({ t: this.now, kind: 'fault.set', server: id, detail: { fault: 'crash' } }, false);
  }

  restart(id: Sid): void {
    this.start(id);
  }

  /** SIGSTOP for ms: the server runs nothing (no ticks, no messages) until it resumes */
  pause(id: Sid, ms: number): void {
    if (!this.server(id).alive) return;
    this.paused.set(id, Math.max(this.paused.get(id) ?? 0, this.now + ms));
    this.emitTrace({ t: this.now, kind: 'fault.set', server: id, detail: { fault: 'pause', ms } }, false);
  }

  isPaused(id: Sid): boolean {
    return (this.paused.get(id) ?? 0) > this.now;
  }

  /** make fsyncs on this server slower by extraMs (0 heals) */
  slowDisk(id: Sid, extraMs: number): void {
    if (extraMs <= 0) this.slowDiskMs.delete(id);
    else this.slowDiskMs.set(id, extraMs);
  }

  /** cut every link between the groups (servers not listed keep their links) */
  partition(...groups: Sid[][]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const a of groups[i] as Sid[]) for (const b of groups[j] as Sid[]) this.blocked.add(pairKey(a, b));
      }
    }
    this.emitTrace({ t: this.now, kind: 'fault.set', server: 0, detail: { fault: 'partition', groups: groups.map((g) => g.join(',')).join(' | ') } }, false);
  }

  isolate(id: Sid): void {
    this.partition([id], this.ids.filter((x) => x !== id));
  }

  heal(): void {
    this.blocked.clear();
    this.slowDiskMs.clear();
    for (const c of this.conns.values()) {
      if (!c.open) continue;
      for (const [dir, q] of c.queues) {
        if (q.length === 0) continue;
        const [from, to] = dir.split('>').map(Number) as [Sid, Sid];
        const base = this.now + this.delay();
        for (const m of q) if (m.readyAt < base) m.readyAt = base;
        this.schedule(base, { k: 'pump', conn: c.id, from, to });
      }
    }
    this.emitTrace({ t: this.now, kind: 'fault.healed', server: 0 }, false);
  }

  /** reset the quorum connection between a and b (both ends notice if the link is up) */
  resetConnection(a: Sid, b: Sid): void {
    const c = this.conns.get(pairKey(a, b));
    if (c?.open) this.closeConn(c, null);
  }

  // ---- network ------------------------------------------------------------------------------

  private sendElection(from: Sid, to: Sid, msg: Notification): void {
    if (!this.linkUp(from, to)) return;
    // a real shell's dial to a dead server is refused at once: the election hears it is down
    // (a fixed 1 ms, so the PRNG's sequence and every seed's run stay as they were otherwise)
    if (!this.server(to).alive) this.schedule(this.now + 1, { k: 'unreachable', sid: from, inc: this.server(from).inc, peer: to });
    if (this.opts.electionDropP > 0 && this.prng.chance(this.opts.electionDropP)) return;
    this.schedule(this.now + this.delay(), { k: 'elec', from, to, msg });
  }

  private sendZab(from: Sid, to: Sid, msg: ZabMessage): void {
    const key = pairKey(from, to);
    let c = this.conns.get(key);
    if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') {
      const fromInc = this.server(from).inc;
      if (c?.open) {
        // the learner opens a new connection; the old one is gone for both (no notices)
        c.open = false;
        this.conns.delete(key);
      }
      if (!this.server(to).alive) {
        this.schedule(this.now + this.delay(), { k: 'connFail', to: from, inc: fromInc, peer: to });
        return;
      }
      if (!this.linkUp(from, to)) {
        this.schedule(this.now + 3 * this.tickMs, { k: 'connFail', to: from, inc: fromInc, peer: to });
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
    const readyAt = Math.max(this.now + this.delay(), last ? last.readyAt : 0);
    q.push({ msg, readyAt });
    if (this.linkUp(from, to)) this.schedule(readyAt, { k: 'pump', conn: c.id, from, to });
  }

  private pump(connId: number, from: Sid, to: Sid): void {
    const c = this.conns.get(pairKey(from, to));
    if (!c || c.id !== connId || !c.open) return;
    if (!this.linkUp(from, to)) return; // stalled until heal
    const q = c.queues.get(`${from}>${to}`);
    const head = q?.[0];
    if (!q || !head || head.readyAt > this.now) return;
    q.shift();
    const next = q[0];
    if (next) this.schedule(Math.max(next.readyAt, this.now), { k: 'pump', conn: c.id, from, to });
    const s = this.server(to);
    if (!s.alive) return;
    if (!c.accepted && to === c.b) {
      // accepting a new connection from this learner: whatever we had with it is gone
      c.accepted = true;
      this.zabStep(s, { type: 'disconnected', nowMs: this.now, peer: from });
      if (!c.open) return;
    }
    this.zabStep(s, { type: 'message', nowMs: this.now, from, msg: head.msg });
  }

  /** close a connection; `by` (if any) closed it and is not notified */
  private closeConn(c: Conn, by: Sid | null): void {
    if (!c.open) return;
    c.open = false;
    this.conns.delete(pairKey(c.a, c.b));
    if (!this.linkUp(c.a, c.b)) return; // the other end finds out by timing out
    for (const end of [c.a, c.b]) {
      if (end === by) continue;
      const s = this.server(end);
      if (!s.alive) continue;
      const peer = end === c.a ? c.b : c.a;
      this.schedule(this.now + this.delay(), { k: 'closed', conn: c.id, to: end, inc: s.inc, peer });
    }
  }

  // ---- driving the cores --------------------------------------------------------------------

  private electionStep(s: SimServer, input: ElectionInput): void {
    if (!s.election) return;
    const effects = s.election.step(input);
    for (const e of effects) this.electionEffect(s, e);
  }

  private electionEffect(s: SimServer, e: ElectionEffect): void {
    switch (e.type) {
      case 'send':
        this.sendElection(s.id, e.to, e.msg);
        return;
      case 'setTimer':
        this.schedule(this.now + e.delayMs, { k: 'etimer', sid: s.id, inc: s.inc, timer: e.timer, gen: e.gen });
        return;
      case 'cancelTimer':
        return; // stale timers are ignored by their generation
      case 'decided':
        if (s.removed && s.zab?.activeMembership.members.has(s.id) !== true) {
          // a removed server follows no one: look again a little later
          const inc = s.inc;
          this.schedule(this.now + 5 * this.tickMs, {
            k: 'call',
            on: s.id,
            fn: () => {
              if (s.alive && s.inc === inc && s.zab) this.electionStep(s, { type: 'start', nowMs: this.now, lastZxid: s.zab.lastLoggedZxid, currentEpoch: s.zab.currentEpoch });
            },
          });
          return;
        }
        this.decisions.push({ atMs: this.now, sid: s.id, role: e.role, leader: e.leader, round: e.electionEpoch });
        if (e.role === 'leading') this.zabStep(s, { type: 'lead', nowMs: this.now });
        else this.zabStep(s, { type: 'follow', nowMs: this.now, leader: e.leader });
        return;
      case 'membership':
        this.zabStep(s, { type: 'adopt', nowMs: this.now, membership: e.membership });
        return;
      case 'trace':
        this.emitTrace(e.event, true);
        return;
    }
  }

  private zabStep(s: SimServer, input: ZabInput): void {
    if (!s.zab) return;
    const effects = s.zab.step(input);
    for (const e of effects) {
      if (!s.alive) return;
      this.zabEffect(s, e);
    }
  }

  private zabEffect(s: SimServer, e: ZabEffect): void {
    const zab = s.zab as ZabPeer;
    switch (e.type) {
      case 'send':
        this.sendZab(s.id, e.to, e.msg);
        return;
      case 'disconnect': {
        const c = this.conns.get(pairKey(s.id, e.peer));
        if (c) this.closeConn(c, s.id);
        return;
      }
      case 'persist':
        s.disk.write(e.seq, e.op);
        if (e.op.kind === 'truncate' && s.kv.lastZxid > e.op.zxid) {
          s.kv = KvState.fromImage(s.disk.view);
          s.checkedLen = 0;
        } else if (e.op.kind === 'snapshot') {
          s.kv = KvState.deserialize(e.op.snapshot);
          s.checkedLen = 0;
        }
        this.startFsync(s);
        return;
      case 'commit':
        s.kv.apply(e.txn.zxid, e.txn.data);
        this.emitTrace(
          {
            t: this.now,
            kind: 'txn.applied',
            server: s.id,
            epoch: zab.epoch,
            zxid: hex(e.txn.zxid),
            ...(e.txn.sessionId !== 0n ? { session: hex(e.txn.sessionId), xid: e.txn.xid } : {}),
          },
          true,
        );
        if (s.serving) this.checkHistory(s);
        this.replyWrite(s, e.txn);
        return;
      case 'sendSnapshot':
        if (s.kv.lastZxid !== e.zxid) this.fail(`server ${s.id}: snapshot requested at ${hex(e.zxid)} but state is at ${hex(s.kv.lastZxid)}`);
        this.sendZab(s.id, e.to, { type: 'SNAP', zxid: e.zxid, snapshot: s.kv.serialize() });
        return;
      case 'request':
        this.prepAndPropose(s, e.from, e.sessionId, e.xid, e.data);
        return;
      case 'sessionTouches':
        return;
      case 'revalidate':
        // the client moved to server e.from: it owns the session now (requests still coming
        // through the old owner will fail with SESSIONMOVED)
        s.owners.set(e.sessionId, e.from);
        this.zabStep(s, { type: 'revalidateReply', nowMs: this.now, to: e.from, sessionId: e.sessionId, valid: true });
        return;
      case 'revalidated':
        return;
      case 'synced':
        this.onSynced(s, e.sessionId, e.xid);
        return;
      case 'dropped': {
        // the server cannot take it: it closes that client's connection (order must not break)
        const c = this.clients.find((x) => x.sessionId === e.sessionId);
        if (c && c.server === s.id) this.clientLost(c);
        return;
      }
      case 'serving':
        s.serving = true;
        s.servingEpoch = e.epoch;
        if (e.role === 'leading') {
          const prev = this.leaderOfEpoch.get(e.epoch);
          if (prev !== undefined && prev !== s.id) this.fail(`two leaders for epoch ${e.epoch}: ${prev} and ${s.id}`);
          this.leaderOfEpoch.set(e.epoch, s.id);
          this.established.push({ atMs: this.now, sid: s.id, epoch: e.epoch });
        }
        this.checkHistory(s);
        this.electionStep(s, { type: 'established', nowMs: this.now, leader: e.leader, epoch: e.epoch });
        return;
      case 'abandoned':
        s.serving = false;
        this.abandons.push({ atMs: this.now, sid: s.id, reason: e.reason });
        if (e.reason.startsWith('protocol:')) this.fail(`server ${s.id} saw a protocol violation: ${e.reason}`);
        for (const cl of this.clients) if (cl.server === s.id) this.clientLost(cl);
        if (e.removed === true) {
          // keeps looking (learns of a membership adding it back from peers' answers), follows no one
          s.removed = true;
          this.electionStep(s, { type: 'start', nowMs: this.now, lastZxid: zab.lastLoggedZxid, currentEpoch: zab.currentEpoch });
          return;
        }
        if (e.next !== undefined) {
          this.electionStep(s, { type: 'designate', nowMs: this.now, leader: e.next, lastZxid: zab.lastLoggedZxid, currentEpoch: zab.currentEpoch });
          return;
        }
        this.electionStep(s, { type: 'start', nowMs: this.now, lastZxid: zab.lastLoggedZxid, currentEpoch: zab.currentEpoch });
        return;
      case 'activated':
        if (e.membership.members.has(s.id)) {
          s.membership = e.membership;
          s.removed = false;
        }
        this.electionStep(s, { type: 'reconfig', nowMs: this.now, membership: e.membership });
        return;
      case 'trace':
        this.emitTrace(e.event, true);
        return;
    }
  }

  private startFsync(s: SimServer): void {
    if (s.disk.fsyncUpTo !== null) return;
    const upTo = s.disk.lastPendingSeq;
    if (upTo === null) return;
    s.disk.fsyncUpTo = upTo;
    const ms = this.prng.range(this.opts.fsyncMsMin, this.opts.fsyncMsMax) + (this.slowDiskMs.get(s.id) ?? 0);
    this.schedule(this.now + ms, { k: 'fsync', sid: s.id, inc: s.inc, upTo });
  }

  private emitTrace(ev: TraceEvent, fromCore: boolean): void {
    this.traceCounts.set(ev.kind, (this.traceCounts.get(ev.kind) ?? 0) + 1);
    if (ev.kind === 'zab.sync.sent') {
      const how = String(ev.detail?.how);
      this.syncKinds.set(how, (this.syncKinds.get(how) ?? 0) + 1);
    }
    if (this.opts.keepTrace) this.trace.push(fromCore ? ev : { ...ev });
  }

  // ---- the leader's request pipeline (stands in for ServerCore prep) ------------------------

  private prepAndPropose(s: SimServer, from: Sid, sessionId: SessionId, xid: number, data: Uint8Array): void {
    const zab = s.zab as ZabPeer;
    const owner = s.owners.get(sessionId);
    if (owner !== undefined && owner !== from) return; // SESSIONMOVED: not proposed
    s.owners.set(sessionId, from);
    const zxid = zab.nextZxid();
    if (zxid === null) {
      // the leader cannot take it: the connection it came through is closed (order must hold)
      const c = this.clients.find((x) => x.sessionId === sessionId);
      if (c && c.server === from) this.clientLost(c);
      return;
    }
    this.zabStep(s, { type: 'propose', nowMs: this.now, txn: { zxid, sessionId, xid, data } });
  }

  // ---- reconfig (stands in for ServerCore's reconfig prep) ---------------------------------

  /**
   * The serving leader proposes a membership change, as a client's reconfig would: refused
   * (false) when a reconfig is in flight or the new membership has no synced quorum.
   * `change`: add `id` (as participant or observer), remove `id`, or flip its role.
   */
  reconfig(change: { op: 'add' | 'remove' | 'flip'; id: Sid; observer?: boolean } | { op: 'replace'; voters: Sid[]; observers?: Sid[] }): boolean {
    const l = this.leader();
    if (l === null) return false;
    const s = this.server(l);
    const zab = s.zab as ZabPeer;
    if (zab.reconfigInProgress) return false;
    const cur = zab.lastSeenMembership;
    let members = new Map(cur.members);
    if (change.op === 'replace') {
      // a whole new membership (newMembers)
      members = new Map(membershipOfQuorum(new QuorumMaj(change.voters, change.observers ?? [])).members);
      return this.proposeMembership(s, cur, members, `replace ${change.voters.join(',')}`);
    }
    const fresh = membershipOfQuorum(new QuorumMaj([change.id]));
    const spec = fresh.members.get(change.id);
    if (spec === undefined) return false;
    if (change.op === 'remove') members.delete(change.id);
    else if (change.op === 'add') members.set(change.id, { ...spec, type: change.observer === true ? 'observer' : 'participant' });
    else {
      const m = members.get(change.id);
      if (m === undefined) return false;
      members.set(change.id, { ...m, type: m.type === 'participant' ? 'observer' : 'participant' });
    }
    return this.proposeMembership(s, cur, members, `${change.op} ${change.id}`);
  }

  private proposeMembership(s: SimServer, cur: Membership, members: ReadonlyMap<Sid, Member>, what: string): boolean {
    const zab = s.zab as ZabPeer;
    const zxid = zab.nextZxid();
    if (zxid === null) return false;
    const next = new Membership(members.values(), zxid);
    if (next.voters.length < 2 || next.sameServers(cur)) return false;
    if (!zab.isQuorumSynced(next)) return false;
    this.reconfigs++;
    this.emitTrace({ t: this.now, kind: 'reconfig.prepped', server: s.id, zxid: hex(zxid), detail: { change: what } }, false);
    this.zabStep(s, { type: 'propose', nowMs: this.now, txn: { zxid, sessionId: 0n, xid: 0, data: utf8(`reconfig=${next.toText()}`) } });
    return true;
  }

  // ---- clients ------------------------------------------------------------------------------

  /** a client's request reaches server `id` 1 ms later, in the order sent (FIFO through the
   * agenda); while the server is paused it waits in the socket buffer */
  private onServer(id: Sid, fn: () => void): void {
    this.schedule(this.now + 1, { k: 'call', fn, on: id });
  }

  /** add a client; auto clients keep writing (and sometimes syncing) on their own */
  addClient(auto = true): SimClient {
    const id = ++this.clientSeq;
    const c = new SimClient(id, (0x100n << 32n) | BigInt(id), auto);
    this.clients.push(c);
    if (auto) this.schedule(this.now + this.prng.range(1, 30), { k: 'client', cid: id, gen: c.gen });
    return c;
  }

  /** stop the auto clients (their pending requests stay pending) */
  stopClients(): void {
    for (const c of this.clients) c.gen++;
  }

  private clientAct(cid: number, gen: number): void {
    const c = this.clients.find((x) => x.id === cid);
    if (!c || c.gen !== gen) return;
    this.schedule(this.now + this.prng.range(3, 40), { k: 'client', cid, gen });
    const head = c.pending[0];
    if (head && this.now - head.sentAt > this.opts.requestTimeoutMs) this.clientLost(c);
    if (c.server === null || !this.server(c.server).alive || !this.server(c.server).serving) {
      const candidates = this.ids.filter((id) => this.server(id).alive && this.server(id).serving);
      if (candidates.length === 0) return;
      this.clientLost(c);
      c.server = this.prng.pick(candidates);
    }
    if (c.pending.length >= 3) return;
    if (this.prng.chance(0.1)) this.clientSync(c, c.server);
    else this.clientWrite(c, c.server, `k${this.prng.int(5)}=c${c.id}.${++c.written}`);
  }

  /** reconnect a client to server `id` (outstanding requests become unknown) */
  moveClient(c: SimClient, id: Sid): void {
    this.clientLost(c);
    c.server = id;
  }

  /** a client's first request on a new connection: the server takes the session over
   * (REVALIDATE through the leader, or directly on the leader) */
  private connectIfNew(c: SimClient, s: SimServer): void {
    if (c.connectedConn === c.conn) return;
    c.connectedConn = c.conn;
    const conn = c.conn;
    this.onServer(s.id, () => {
      if (!s.alive || !s.zab || c.conn !== conn) return;
      if (s.zab.currentRole === 'leading') s.owners.set(c.sessionId, s.id);
      else this.zabStep(s, { type: 'revalidate', nowMs: this.now, sessionId: c.sessionId, timeoutMs: 30_000 });
    });
  }

  /** the client gives up on its connection: outstanding requests have unknown outcomes */
  private clientLost(c: SimClient): void {
    c.pending.length = 0;
    c.server = null;
    c.conn++;
  }

  /** Client c talks to `server` from now on (a switch loses what it had outstanding); null if it is not serving. */
  private attach(c: SimClient, server: Sid): SimServer | null {
    const s = this.server(server);
    if (!s.alive || !s.serving || !s.zab) return null;
    if (c.server !== server) {
      this.clientLost(c);
      c.server = server;
    }
    this.connectIfNew(c, s);
    return s;
  }

  /** send a write from client c through server `server`; false if that server is not serving */
  clientWrite(c: SimClient, server: Sid, data: string): boolean {
    const s = this.attach(c, server);
    if (s === null) return false;
    const xid = ++c.xid;
    c.pending.push({ kind: 'write', xid, data, sentAt: this.now, floor: 0n });
    this.emitTrace({ t: this.now, kind: 'request.received', server, session: hex(c.sessionId), xid, op: 'setData' }, false);
    const bytes = utf8(data);
    const conn = c.conn;
    this.onServer(server, () => {
      if (!s.alive || !s.serving || !s.zab || c.conn !== conn) return;
      if (s.zab.currentRole === 'leading') this.prepAndPropose(s, s.id, c.sessionId, xid, bytes);
      else this.zabStep(s, { type: 'forward', nowMs: this.now, sessionId: c.sessionId, xid, data: bytes });
    });
    return true;
  }

  clientSync(c: SimClient, server: Sid): boolean {
    const s = this.attach(c, server);
    if (s === null) return false;
    const xid = ++c.xid;
    c.pending.push({ kind: 'sync', xid, data: '', sentAt: this.now, floor: this.maxAckedZxid });
    const conn = c.conn;
    this.onServer(server, () => {
      if (!s.alive || !s.serving || !s.zab || c.conn !== conn) return;
      this.zabStep(s, { type: 'sync', nowMs: this.now, sessionId: c.sessionId, xid });
    });
    return true;
  }

  private replyWrite(s: SimServer, txn: TxnRecord): void {
    if (txn.sessionId === 0n) return;
    const c = this.clients.find((x) => x.sessionId === txn.sessionId);
    if (!c || c.server !== s.id || !s.serving) return;
    const req = c.pending.find((p) => p.xid === txn.xid);
    if (req === undefined) return;
    if (req.kind !== 'write' || req.done) this.fail(`client ${c.id}: xid ${txn.xid} committed twice or is not a write`);
    const data = s.kv.history[s.kv.history.length - 1]?.data ?? '';
    if (data !== req.data) this.fail(`client ${c.id}: xid ${txn.xid} committed "${data}" but sent "${req.data}"`);
    for (const p of c.pending) {
      if (p === req) break;
      // writes of a session commit in the order sent (syncs may still be waiting)
      if (p.kind === 'write' && !p.done) this.fail(`client ${c.id}: xid ${txn.xid} committed before earlier write xid ${p.xid}`);
    }
    req.done = { zxid: txn.zxid, server: s.id };
    this.flushReplies(c);
  }

  /** answer the session's finished requests in the order they were sent (ServerCore's duty) */
  private flushReplies(c: SimClient): void {
    while (c.pending.length > 0 && (c.pending[0] as ClientRequest).done !== undefined) {
      const req = c.pending.shift() as ClientRequest;
      const done = req.done as { zxid: Zxid; server: Sid };
      if (req.kind === 'sync') continue;
      this.emitTrace({ t: this.now, kind: 'request.replied', server: done.server, zxid: hex(done.zxid), session: hex(c.sessionId), xid: req.xid }, false);
      const w: AckedWrite = { zxid: done.zxid, data: req.data, client: c.id, server: done.server, atMs: this.now };
      this.acked.push(w);
      if (done.zxid > this.maxAckedZxid) this.maxAckedZxid = done.zxid;
      this.checkAcked(w);
    }
  }

  private onSynced(s: SimServer, sessionId: SessionId, xid: number): void {
    const c = this.clients.find((x) => x.sessionId === sessionId);
    if (!c || c.server !== s.id) return;
    const req = c.pending.find((p) => p.xid === xid);
    if (req === undefined || req.kind !== 'sync' || req.done) return;
    req.done = { zxid: s.kv.lastZxid, server: s.id };
    this.syncsChecked++;
    this.syncResults.push({ client: c.id, server: s.id, sawZxid: s.kv.lastZxid, floor: req.floor, atMs: this.now });
    // ZooLab's promise (protocol doc §9): a read after sync sees every write acked before the sync
    if (s.kv.lastZxid < req.floor) {
      this.fail(`server ${s.id}: read after sync sees ${hex(s.kv.lastZxid)} but ${hex(req.floor)} was acknowledged before the sync`);
    }
    this.flushReplies(c);
  }

  // ---- checkers -----------------------------------------------------------------------------

  /** a serving server's applied history must be a prefix of (or extend) the one committed history */
  private checkHistory(s: SimServer): void {
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

  /** after a quiet period with everyone up: all servers serve the same history */
  checkConverged(): void {
    const ref = this.canon;
    const members = new Set(this.memberIds());
    for (const s of this.servers.values()) {
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
