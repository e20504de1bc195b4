/**
 * The deterministic simulator: real election and ZAB cores on a fake clock, network and disk.
 *
 * - Network: see network.ts (election messages delayed and maybe lost, quorum links like TCP).
 * - Disk: see disk.ts (fsync latency, group commit, random surviving prefix on crash).
 * - Servers crash (state lost, disk torn) and restart (rebuild from disk, like ZooKeeper:
 *   snapshot + the whole log); driver.ts feeds their election and ZAB cores and carries out
 *   the cores' effects.
 * - Clients: see clients.ts ("key=value" writes, pipelined, per-session order checked; syncs).
 * - Checkers (checkers.ts) run after every event; a failure throws SimFailure carrying the seed.
 *
 * This file: the agenda loop (pausing included), the fault and scripted API, the views; the
 * parts above are collaborators it wires together and delegates to.
 *
 * No Date.now, Math.random or timers: time is `now`, dice are `prng`.
 */
import { AssertionError } from '../common/assert';
import type { Zxid } from '../common/ids';
import type { Membership } from '../common/membership';
import type { TraceEvent, TraceKind } from '../common/trace';
import type { ZabInput } from '../zab/broadcast';
import { QuorumMaj, type Sid } from '../zab/quorum';
import { membershipOfQuorum } from '../zab/reconfig';
import { SimCheckers, type AckedWrite } from './checkers';
import { SimClients, type SimClient } from './clients';
import type { SimDisk } from './disk';
import { ServerDriver, type ReconfigChange } from './driver';
import { EventQueue, type Popped } from './event-queue';
import { eventTarget, type SimEvent } from './events';
import type { Applied } from './kv';
import { SimNetwork } from './network';
import { resolveSimOptions, type ResolvedSimOptions, type SimOptions } from './options';
import { Prng } from './prng';
import { SimServer, type ServerView } from './server';

export type { AckedWrite } from './checkers';
export { SimClient } from './clients';
export type { ServerView } from './server';
export type { SimOptions } from './options';
export { simReconfigOf, type ReconfigChange } from './driver';

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

export class Simulation {
  readonly prng: Prng;
  readonly seed: number;
  readonly quorum: QuorumMaj;
  readonly tickMs: number;
  private readonly opts: ResolvedSimOptions;
  /** the membership every server starts from (version 0) */
  readonly initialMembership: Membership;
  private readonly servers = new Map<Sid, SimServer>();
  private readonly queue = new EventQueue<SimEvent>();
  private readonly net: SimNetwork;
  private readonly clientsOf: SimClients;
  private readonly checkers: SimCheckers;
  private readonly driver: ServerDriver;
  /** SIGSTOPped servers and when they resume: their events wait until then */
  private readonly paused = new Map<Sid, number>();
  now = 0;
  steps = 0;
  readonly trace: TraceEvent[] = [];
  readonly traceCounts = new Map<TraceKind, number>();
  /** how learners were synced: DIFF / TRUNC / SNAP counts */
  readonly syncKinds = new Map<string, number>();

  constructor(options: SimOptions) {
    this.seed = options.seed;
    this.opts = resolveSimOptions(options);
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
    const zabStep = (s: SimServer, input: ZabInput): void => this.driver.zabStep(s, input);
    const emitTrace = (ev: TraceEvent, fromCore: boolean): void => this.emitTrace(ev, fromCore);
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
      prepAndPropose: (s, from, sessionId, xid, data) => this.driver.prepAndPropose(s, from, sessionId, xid, data),
      emitTrace,
      fail,
    });
    this.driver = new ServerDriver({
      prng: this.prng,
      opts: o,
      net: this.net,
      clients: this.clientsOf,
      checkers: this.checkers,
      now: () => this.now,
      schedule,
      server,
      emitTrace,
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

  /** every election decision (role and leader) */
  get decisions(): readonly { atMs: number; sid: Sid; role: string; leader: Sid; round: number }[] {
    return this.driver.decisions;
  }

  get established(): readonly { atMs: number; sid: Sid; epoch: number }[] {
    return this.driver.established;
  }

  get abandons(): readonly { atMs: number; sid: Sid; reason: string }[] {
    return this.driver.abandons;
  }

  get crashes(): number {
    return this.driver.crashes;
  }

  /** reconfigs proposed */
  get reconfigs(): number {
    return this.driver.reconfigs;
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
        this.driver.electionStep(s, { type: 'message', nowMs: this.now, from: ev.from, msg: ev.msg });
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
        this.driver.zabStep(s, { type: 'disconnected', nowMs: this.now, peer: ev.peer });
        return;
      }
      case 'connFail': {
        const s = this.server(ev.to);
        if (!s.alive || s.inc !== ev.inc) return;
        if (this.net.isOpen(ev.to, ev.peer)) return;
        this.driver.zabStep(s, { type: 'disconnected', nowMs: this.now, peer: ev.peer });
        return;
      }
      case 'etimer': {
        const s = this.server(ev.sid);
        if (!s.alive || s.inc !== ev.inc) return;
        this.driver.electionStep(s, { type: 'timer', nowMs: this.now, timer: ev.timer, gen: ev.gen });
        return;
      }
      case 'unreachable': {
        const s = this.server(ev.sid);
        if (!s.alive || s.inc !== ev.inc || this.server(ev.peer).alive) return;
        this.driver.electionStep(s, { type: 'reachability', nowMs: this.now, peer: ev.peer, reachable: false });
        return;
      }
      case 'tick': {
        const s = this.server(ev.sid);
        if (!s.alive || s.inc !== ev.inc) return;
        this.schedule(this.now + this.tickMs, ev);
        this.driver.zabStep(s, { type: 'tick', nowMs: this.now });
        return;
      }
      case 'fsync': {
        const s = this.server(ev.sid);
        if (!s.alive || s.inc !== ev.inc) return;
        s.disk.completeFsync(ev.upTo);
        this.driver.zabStep(s, { type: 'persisted', nowMs: this.now, seq: ev.upTo });
        this.driver.startFsync(s);
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
    this.driver.start(id);
  }

  /** kill -9 / power cut: memory gone, unsynced writes partly lost, connections reset */
  crash(id: Sid): void {
    this.driver.crash(id);
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
    this.driver.slowDisk(id, extraMs);
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
    this.driver.healDisks();
    this.net.heal();
    this.emitTrace({ t: this.now, kind: 'fault.healed', server: 0 }, false);
  }

  /** reset the quorum connection between a and b (both ends notice if the link is up) */
  resetConnection(a: Sid, b: Sid): void {
    this.net.resetConnection(a, b);
  }

  private emitTrace(ev: TraceEvent, fromCore: boolean): void {
    this.traceCounts.set(ev.kind, (this.traceCounts.get(ev.kind) ?? 0) + 1);
    if (ev.kind === 'zab.sync.sent') {
      const how = String(ev.detail?.how);
      this.syncKinds.set(how, (this.syncKinds.get(how) ?? 0) + 1);
    }
    if (this.opts.keepTrace) this.trace.push(fromCore ? ev : { ...ev });
  }

  // ---- reconfig (driver.ts) ---------------------------------------------------------------

  /**
   * The serving leader proposes a membership change, as a client's reconfig would: refused
   * (false) when there is no single serving leader, a reconfig is in flight or the new
   * membership has no synced quorum.
   * `change`: add `id` (as participant or observer), remove `id`, or flip its role.
   */
  reconfig(change: ReconfigChange): boolean {
    const l = this.leader();
    if (l === null) return false;
    return this.driver.reconfig(this.server(l), change);
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
