/**
 * The deterministic simulator: real election and ZAB cores on a fake clock, network and disk.
 *
 * - Network: see network.ts (election messages delayed and maybe lost, quorum links like TCP).
 * - Disk: see disk.ts (fsync latency, group commit, random surviving prefix on crash).
 * - Servers crash (state lost, disk torn) and restart (rebuild from disk, like ZooKeeper:
 *   snapshot + the whole log); this file drives their election and ZAB cores and carries out
 *   the cores' effects.
 * - Clients: see clients.ts ("key=value" writes, pipelined, per-session order checked; syncs).
 * - Checkers (checkers.ts) run after every event; a failure throws SimFailure carrying the seed.
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
import { FastLeaderElection, type ElectionEffect, type ElectionInput } from '../zab/election';
import { QuorumMaj, type Sid } from '../zab/quorum';
import type { TxnRecord } from '../zab/types';
import { SimCheckers, type AckedWrite } from './checkers';
import { SimClients, type SimClient } from './clients';
import { type SimDisk, lastLogged } from './disk';
import { EventQueue, type Popped } from './event-queue';
import { eventTarget, type SimEvent } from './events';
import { KvState, type Applied } from './kv';
import { SimNetwork } from './network';
import { Prng } from './prng';
import { SimServer, type ServerView } from './server';

export type { AckedWrite } from './checkers';
export { SimClient } from './clients';
export type { ServerView } from './server';

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

export class Simulation {
  readonly prng: Prng;
  readonly seed: number;
  readonly quorum: QuorumMaj;
  readonly tickMs: number;
  private readonly opts: Required<Omit<SimOptions, 'observers' | 'keepTrace' | 'spares' | 'reconfig'>> & { observers: number; keepTrace: boolean; spares: number; reconfig: boolean };
  /** the membership every server starts from (version 0) */
  readonly initialMembership: Membership;
  reconfigs = 0;
  private readonly servers = new Map<Sid, SimServer>();
  private readonly queue = new EventQueue<SimEvent>();
  private readonly net: SimNetwork;
  private readonly clientsOf: SimClients;
  private readonly checkers: SimCheckers;
  /** SIGSTOPped servers and when they resume: their events wait until then */
  private readonly paused = new Map<Sid, number>();
  /** extra fsync latency per server (a slow disk) */
  private readonly slowDiskMs = new Map<Sid, number>();
  now = 0;
  steps = 0;
  readonly trace: TraceEvent[] = [];
  readonly traceCounts = new Map<TraceKind, number>();
  /** how learners were synced: DIFF / TRUNC / SNAP counts */
  readonly syncKinds = new Map<string, number>();
  readonly decisions: { atMs: number; sid: Sid; role: string; leader: Sid; round: number }[] = [];
  readonly established: { atMs: number; sid: Sid; epoch: number }[] = [];
  readonly abandons: { atMs: number; sid: Sid; reason: string }[] = [];
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
    const server = (id: Sid): SimServer => this.server(id);
    const fail = (message: string): never => this.fail(message);
    const schedule = (atMs: number, ev: SimEvent): void => this.schedule(atMs, ev);
    const zabStep = (s: SimServer, input: ZabInput): void => this.zabStep(s, input);
    this.checkers = new SimCheckers(this.initialMembership, server, fail);
    const o = this.opts;
    this.net = new SimNetwork({
      prng: this.prng,
      tickMs: o.tickMs,
      netDelayMsMin: o.netDelayMsMin,
      netDelayMsMax: o.netDelayMsMax,
      electionDropP: o.electionDropP,
      now: () => this.now,
      schedule,
      server,
      zabStep,
    });
    this.clientsOf = new SimClients({
      prng: this.prng,
      requestTimeoutMs: o.requestTimeoutMs,
      checkers: this.checkers,
      now: () => this.now,
      ids: () => this.ids,
      schedule,
      server,
      zabStep,
      prepAndPropose: (s, from, sessionId, xid, data) => this.prepAndPropose(s, from, sessionId, xid, data),
      emitTrace: (ev, fromCore) => this.emitTrace(ev, fromCore),
      fail,
    });
  }

  /** the committed membership now (the last committed reconfig's, else the initial one) */
  get membership(): Membership {
    return this.checkers.membership;
  }

  /** the servers of the committed membership (those that must serve after healing) */
  memberIds(): Sid[] {
    return [...this.membership.members.keys()];
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
    return this.checkers.committed();
  }

  /** every write a client saw acknowledged, in the order answered */
  get acked(): readonly AckedWrite[] {
    return this.checkers.acked;
  }

  get clients(): readonly SimClient[] {
    return this.clientsOf.list;
  }

  /** syncs answered (and checked) */
  get syncsChecked(): number {
    return this.clientsOf.syncsChecked;
  }

  /** every answered sync: the state the read after it would see, and what it had to see */
  get syncResults(): readonly { client: number; server: Sid; sawZxid: Zxid; floor: Zxid; atMs: number }[] {
    return this.clientsOf.syncResults;
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

  private schedule(atMs: number, ev: SimEvent): void {
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

  private handle(popped: Popped<SimEvent>): void {
    const ev = popped.item;
    const target = eventTarget(ev);
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
        if (!s.alive || !this.net.linkUp(ev.from, ev.to) || !this.server(ev.from).alive) return;
        this.electionStep(s, { type: 'message', nowMs: this.now, from: ev.from, msg: ev.msg });
        return;
      }
      case 'pump':
        this.net.pump(ev.conn, ev.from, ev.to);
        return;
      case 'closed': {
        const s = this.server(ev.to);
        if (!s.alive || s.inc !== ev.inc) return;
        const id = this.net.connId(ev.to, ev.peer);
        if (id !== undefined && id !== ev.conn) return; // a newer connection replaced it
        this.zabStep(s, { type: 'disconnected', nowMs: this.now, peer: ev.peer });
        return;
      }
      case 'connFail': {
        const s = this.server(ev.to);
        if (!s.alive || s.inc !== ev.inc) return;
        if (this.net.isOpen(ev.to, ev.peer)) return;
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
        this.clientsOf.act(ev.cid, ev.gen);
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
    this.net.closeAllOf(id);
    this.clientsOf.serverGone(id);
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
    this.net.partition(groups);
    this.emitTrace({ t: this.now, kind: 'fault.set', server: 0, detail: { fault: 'partition', groups: groups.map((g) => g.join(',')).join(' | ') } }, false);
  }

  isolate(id: Sid): void {
    this.partition([id], this.ids.filter((x) => x !== id));
  }

  heal(): void {
    this.slowDiskMs.clear();
    this.net.heal();
    this.emitTrace({ t: this.now, kind: 'fault.healed', server: 0 }, false);
  }

  /** reset the quorum connection between a and b (both ends notice if the link is up) */
  resetConnection(a: Sid, b: Sid): void {
    this.net.resetConnection(a, b);
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
        this.net.sendElection(s.id, e.to, e.msg);
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
        this.net.sendZab(s.id, e.to, e.msg);
        return;
      case 'disconnect':
        this.net.disconnect(s.id, e.peer);
        return;
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
        if (s.serving) this.checkers.checkHistory(s);
        this.clientsOf.replyWrite(s, e.txn);
        return;
      case 'sendSnapshot':
        if (s.kv.lastZxid !== e.zxid) this.fail(`server ${s.id}: snapshot requested at ${hex(e.zxid)} but state is at ${hex(s.kv.lastZxid)}`);
        this.net.sendZab(s.id, e.to, { type: 'SNAP', zxid: e.zxid, snapshot: s.kv.serialize() });
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
        this.clientsOf.onSynced(s, e.sessionId, e.xid);
        return;
      case 'dropped':
        // the server cannot take it: it closes that client's connection (order must not break)
        this.clientsOf.closedBy(s.id, e.sessionId);
        return;
      case 'serving':
        s.serving = true;
        s.servingEpoch = e.epoch;
        if (e.role === 'leading') {
          this.checkers.leaderServing(s.id, e.epoch);
          this.established.push({ atMs: this.now, sid: s.id, epoch: e.epoch });
        }
        this.checkers.checkHistory(s);
        this.electionStep(s, { type: 'established', nowMs: this.now, leader: e.leader, epoch: e.epoch });
        return;
      case 'abandoned':
        s.serving = false;
        this.abandons.push({ atMs: this.now, sid: s.id, reason: e.reason });
        if (e.reason.startsWith('protocol:')) this.fail(`server ${s.id} saw a protocol violation: ${e.reason}`);
        this.clientsOf.serverGone(s.id);
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
      this.clientsOf.closedBy(from, sessionId);
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

  // ---- clients (clients.ts) ----------------------------------------------------------------

  /** add a client; auto clients keep writing (and sometimes syncing) on their own */
  addClient(auto = true): SimClient {
    return this.clientsOf.add(auto);
  }

  /** stop the auto clients (their pending requests stay pending) */
  stopClients(): void {
    this.clientsOf.stop();
  }

  /** reconnect a client to server `id` (outstanding requests become unknown) */
  moveClient(c: SimClient, id: Sid): void {
    this.clientsOf.move(c, id);
  }

  /** send a write from client c through server `server`; false if that server is not serving */
  clientWrite(c: SimClient, server: Sid, data: string): boolean {
    return this.clientsOf.write(c, server, data);
  }

  clientSync(c: SimClient, server: Sid): boolean {
    return this.clientsOf.sync(c, server);
  }

  // ---- checkers (checkers.ts) --------------------------------------------------------------

  /** every acked write is still committed and durable on a quorum */
  checkAllAcked(): void {
    this.checkers.checkAllAcked();
  }

  /** after a quiet period with everyone up: all servers serve the same history */
  checkConverged(): void {
    this.checkers.checkConverged(this.servers.values(), new Set(this.memberIds()));
  }
}
