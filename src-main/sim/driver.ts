/**
 * Driving the simulated servers: boot from the fake disk and crash, feed inputs to the real
 * election and ZAB cores and carry out their effects (messages through the network, writes
 * and fsyncs on the fake disk, commits into the KV state, replies to clients, checks), and
 * the leader's request and reconfig prep (stands in for ServerCore).
 */
import { hex, type SessionId } from '../common/ids';
import { Membership, type Member } from '../common/membership';
import type { TraceEvent } from '../common/trace';
import { fromUtf8, utf8 } from '../jute/buffer';
import { ZabPeer, type ZabEffect, type ZabInput } from '../zab/broadcast';
import { FastLeaderElection, type ElectionEffect, type ElectionInput } from '../zab/election';
import { QuorumMaj, type Sid } from '../zab/quorum';
import { membershipOfQuorum } from '../zab/reconfig';
import type { TxnRecord } from '../zab/types';
import type { SimCheckers } from './checkers';
import type { SimClients } from './clients';
import { lastLogged } from './disk';
import type { SimEvent } from './events';
import { KvState } from './kv';
import type { SimNetwork } from './network';
import type { Prng } from './prng';
import type { SimServer } from './server';

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

/** a membership change through the leader: add `id` (as participant or observer), remove
 * `id`, flip its role, or replace the whole membership */
export type ReconfigChange = { op: 'add' | 'remove' | 'flip'; id: Sid; observer?: boolean } | { op: 'replace'; voters: Sid[]; observers?: Sid[] };

export interface DriverOptions {
  readonly tickMs: number;
  readonly initLimitTicks: number;
  readonly syncLimitTicks: number;
  readonly finalizeWaitMs: number;
  readonly maxNotificationIntervalMs: number;
  readonly fsyncMsMin: number;
  readonly fsyncMsMax: number;
  readonly committedLogMax: number;
  readonly reconfig: boolean;
}

/** what the driver needs from the simulation that owns it */
export interface DriverHost {
  readonly prng: Prng;
  readonly opts: DriverOptions;
  readonly net: SimNetwork;
  readonly clients: SimClients;
  readonly checkers: SimCheckers;
  now(): number;
  schedule(atMs: number, ev: SimEvent): void;
  server(id: Sid): SimServer;
  emitTrace(ev: TraceEvent, fromCore: boolean): void;
  fail(message: string): never;
}

export class ServerDriver {
  /** extra fsync latency per server (a slow disk) */
  private readonly slowDiskMs = new Map<Sid, number>();
  readonly decisions: { atMs: number; sid: Sid; role: string; leader: Sid; round: number }[] = [];
  readonly established: { atMs: number; sid: Sid; epoch: number }[] = [];
  readonly abandons: { atMs: number; sid: Sid; reason: string }[] = [];
  crashes = 0;
  reconfigs = 0;

  constructor(private readonly host: DriverHost) {}

  /** make fsyncs on this server slower by extraMs (0 heals) */
  slowDisk(id: Sid, extraMs: number): void {
    if (extraMs <= 0) this.slowDiskMs.delete(id);
    else this.slowDiskMs.set(id, extraMs);
  }

  /** every disk at its normal speed again */
  healDisks(): void {
    this.slowDiskMs.clear();
  }

  // ---- servers: lifecycle -------------------------------------------------------------------

  /** boot (or reboot after a crash) from what the disk holds */
  start(id: Sid): void {
    const s = this.host.server(id);
    if (s.alive) return;
    s.alive = true;
    s.inc++;
    s.serving = false;
    const img = s.disk.view;
    s.kv = KvState.fromImage(img);
    s.checkedLen = 0;
    const keep = this.host.opts.committedLogMax;
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
        reconfigEnabled: this.host.opts.reconfig,
        initLimitTicks: this.host.opts.initLimitTicks,
        syncLimitTicks: this.host.opts.syncLimitTicks,
        committedLogMax: this.host.opts.committedLogMax,
      },
      { acceptedEpoch: img.acceptedEpoch, currentEpoch: img.currentEpoch, snapshotZxid: base, log, appliedZxid: lastLogged(img) },
    );
    s.election = new FastLeaderElection({
      myid: id,
      quorum,
      membership: s.membership,
      finalizeWaitMs: this.host.opts.finalizeWaitMs,
      maxNotificationIntervalMs: this.host.opts.maxNotificationIntervalMs,
    });
    this.host.emitTrace({ t: this.host.now(), kind: 'server.started', server: id, epoch: img.currentEpoch, zxid: hex(lastLogged(img)) }, false);
    this.host.schedule(this.host.now() + 1 + this.host.prng.int(this.host.opts.tickMs), { k: 'tick', sid: id, inc: s.inc });
    this.electionStep(s, { type: 'start', nowMs: this.host.now(), lastZxid: s.zab.lastLoggedZxid, currentEpoch: s.zab.currentEpoch });
  }

  /** kill -9 / power cut: memory gone, unsynced writes partly lost, connections reset */
  crash(id: Sid): void {
    const s = this.host.server(id);
    if (!s.alive) return;
    this.crashes++;
    s.alive = false;
    s.serving = false;
    s.inc++;
    s.disk.crash(this.host.prng);
    s.election = null;
    s.zab = null;
    this.host.net.closeAllOf(id);
    this.host.clients.serverGone(id);
    this.host.emitTrace({ t: this.host.now(), kind: 'fault.set', server: id, detail: { fault: 'crash' } }, false);
  }

  // ---- driving the cores --------------------------------------------------------------------

  electionStep(s: SimServer, input: ElectionInput): void {
    if (!s.election) return;
    const effects = s.election.step(input);
    for (const e of effects) this.electionEffect(s, e);
  }

  private electionEffect(s: SimServer, e: ElectionEffect): void {
    switch (e.type) {
      case 'send':
        this.host.net.sendElection(s.id, e.to, e.msg);
        return;
      case 'setTimer':
        this.host.schedule(this.host.now() + e.delayMs, { k: 'etimer', sid: s.id, inc: s.inc, timer: e.timer, gen: e.gen });
        return;
      case 'cancelTimer':
        return; // stale timers are ignored by their generation
      case 'decided':
        if (s.removed && s.zab?.activeMembership.members.has(s.id) !== true) {
          // a removed server follows no one: look again a little later
          const inc = s.inc;
          this.host.schedule(this.host.now() + 5 * this.host.opts.tickMs, {
            k: 'call',
            on: s.id,
            fn: () => {
              if (s.alive && s.inc === inc && s.zab) this.electionStep(s, { type: 'start', nowMs: this.host.now(), lastZxid: s.zab.lastLoggedZxid, currentEpoch: s.zab.currentEpoch });
            },
          });
          return;
        }
        this.decisions.push({ atMs: this.host.now(), sid: s.id, role: e.role, leader: e.leader, round: e.electionEpoch });
        if (e.role === 'leading') this.zabStep(s, { type: 'lead', nowMs: this.host.now() });
        else this.zabStep(s, { type: 'follow', nowMs: this.host.now(), leader: e.leader });
        return;
      case 'membership':
        this.zabStep(s, { type: 'adopt', nowMs: this.host.now(), membership: e.membership });
        return;
      case 'trace':
        this.host.emitTrace(e.event, true);
        return;
    }
  }

  zabStep(s: SimServer, input: ZabInput): void {
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
        this.host.net.sendZab(s.id, e.to, e.msg);
        return;
      case 'disconnect':
        this.host.net.disconnect(s.id, e.peer);
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
        this.host.emitTrace(
          {
            t: this.host.now(),
            kind: 'txn.applied',
            server: s.id,
            epoch: zab.epoch,
            zxid: hex(e.txn.zxid),
            ...(e.txn.sessionId !== 0n ? { session: hex(e.txn.sessionId), xid: e.txn.xid } : {}),
          },
          true,
        );
        if (s.serving) this.host.checkers.checkHistory(s);
        this.host.clients.replyWrite(s, e.txn);
        return;
      case 'sendSnapshot':
        if (s.kv.lastZxid !== e.zxid) this.host.fail(`server ${s.id}: snapshot requested at ${hex(e.zxid)} but state is at ${hex(s.kv.lastZxid)}`);
        this.host.net.sendZab(s.id, e.to, { type: 'SNAP', zxid: e.zxid, snapshot: s.kv.serialize() });
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
        this.zabStep(s, { type: 'revalidateReply', nowMs: this.host.now(), to: e.from, sessionId: e.sessionId, valid: true });
        return;
      case 'revalidated':
        return;
      case 'synced':
        this.host.clients.onSynced(s, e.sessionId, e.xid);
        return;
      case 'dropped':
        // the server cannot take it: it closes that client's connection (order must not break)
        this.host.clients.closedBy(s.id, e.sessionId);
        return;
      case 'serving':
        s.serving = true;
        s.servingEpoch = e.epoch;
        if (e.role === 'leading') {
          this.host.checkers.leaderServing(s.id, e.epoch);
          this.established.push({ atMs: this.host.now(), sid: s.id, epoch: e.epoch });
        }
        this.host.checkers.checkHistory(s);
        this.electionStep(s, { type: 'established', nowMs: this.host.now(), leader: e.leader, epoch: e.epoch });
        return;
      case 'abandoned':
        s.serving = false;
        this.abandons.push({ atMs: this.host.now(), sid: s.id, reason: e.reason });
        if (e.reason.startsWith('protocol:')) this.host.fail(`server ${s.id} saw a protocol violation: ${e.reason}`);
        this.host.clients.serverGone(s.id);
        if (e.removed === true) {
          // keeps looking (learns of a membership adding it back from peers' answers), follows no one
          s.removed = true;
          this.electionStep(s, { type: 'start', nowMs: this.host.now(), lastZxid: zab.lastLoggedZxid, currentEpoch: zab.currentEpoch });
          return;
        }
        if (e.next !== undefined) {
          this.electionStep(s, { type: 'designate', nowMs: this.host.now(), leader: e.next, lastZxid: zab.lastLoggedZxid, currentEpoch: zab.currentEpoch });
          return;
        }
        this.electionStep(s, { type: 'start', nowMs: this.host.now(), lastZxid: zab.lastLoggedZxid, currentEpoch: zab.currentEpoch });
        return;
      case 'activated':
        if (e.membership.members.has(s.id)) {
          s.membership = e.membership;
          s.removed = false;
        }
        this.electionStep(s, { type: 'reconfig', nowMs: this.host.now(), membership: e.membership });
        return;
      case 'trace':
        this.host.emitTrace(e.event, true);
        return;
    }
  }

  startFsync(s: SimServer): void {
    if (s.disk.fsyncUpTo !== null) return;
    const upTo = s.disk.lastPendingSeq;
    if (upTo === null) return;
    s.disk.fsyncUpTo = upTo;
    const ms = this.host.prng.range(this.host.opts.fsyncMsMin, this.host.opts.fsyncMsMax) + (this.slowDiskMs.get(s.id) ?? 0);
    this.host.schedule(this.host.now() + ms, { k: 'fsync', sid: s.id, inc: s.inc, upTo });
  }

  // ---- the leader's request pipeline (stands in for ServerCore prep) ------------------------

  prepAndPropose(s: SimServer, from: Sid, sessionId: SessionId, xid: number, data: Uint8Array): void {
    const zab = s.zab as ZabPeer;
    const owner = s.owners.get(sessionId);
    if (owner !== undefined && owner !== from) return; // SESSIONMOVED: not proposed
    s.owners.set(sessionId, from);
    const zxid = zab.nextZxid();
    if (zxid === null) {
      // the leader cannot take it: the connection it came through is closed (order must hold)
      this.host.clients.closedBy(from, sessionId);
      return;
    }
    this.zabStep(s, { type: 'propose', nowMs: this.host.now(), txn: { zxid, sessionId, xid, data } });
  }

  // ---- reconfig (stands in for ServerCore's reconfig prep) ---------------------------------

  /**
   * The serving leader `s` proposes a membership change, as a client's reconfig would: refused
   * (false) when a reconfig is in flight or the new membership has no synced quorum.
   * `change`: add `id` (as participant or observer), remove `id`, or flip its role.
   */
  reconfig(s: SimServer, change: ReconfigChange): boolean {
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
    this.host.emitTrace({ t: this.host.now(), kind: 'reconfig.prepped', server: s.id, zxid: hex(zxid), detail: { change: what } }, false);
    this.zabStep(s, { type: 'propose', nowMs: this.host.now(), txn: { zxid, sessionId: 0n, xid: 0, data: utf8(`reconfig=${next.toText()}`) } });
    return true;
  }
}
