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
 *
 * This file is the facade (`ZabPeer`: the read-only views and the dispatch of each input); the
 * state it works on is a `PeerCore` (peer-core.ts), the leader's side is leader.ts (discovery,
 * sync, per-learner handlers) and proposals.ts (proposals, quorum commit, sync rounds), the
 * learner's side is learner.ts; the config, input and effect types are in broadcast-io.ts.
 */
import { assert } from '../common/assert';
import { hex, makeZxid, type SessionId, type Zxid } from '../common/ids';
import type { Membership } from '../common/membership';
import { QuorumMaj, type Sid } from './quorum';
import type { TxnRecord, ZabMessage } from './types';
import type { ZabConfig, ZabDurableState, ZabEffect, ZabInput, ZabRole } from './broadcast-io';
import { PeerCore, type Waiter } from './peer-core';
import { lead, onLeaderMessage, onLeaderTick, tryEpochQuorum, tryEstablish } from './leader';
import { outstandingOf, propose, startSyncRound, tryCommit } from './proposals';
import { follow, forward, onLearnerMessage, onLearnerTick, sendInfo } from './learner';

export type { ZabConfig, ZabDurableState, ZabEffect, ZabInput, ZabRole } from './broadcast-io';

export class ZabPeer {
  readonly myid: Sid;
  /** everything this peer holds; the leader's and the learner's functions work on it */
  private readonly c: PeerCore;

  constructor(config: ZabConfig, durable: ZabDurableState) {
    this.c = new PeerCore(config, durable);
    this.myid = this.c.myid;
  }

  /** config.tracing; the shell may switch it at any time (the supervisor's trace level) */
  get tracing(): boolean {
    return this.c.tracing;
  }

  set tracing(on: boolean) {
    this.c.tracing = on;
  }

  // ---- read-only views the shell uses -------------------------------------------------------

  get acceptedEpoch(): number {
    return this.c.accepted;
  }

  get currentEpoch(): number {
    return this.c.current;
  }

  /** last txn appended to the log (durable or not): the election votes with it */
  get lastLoggedZxid(): Zxid {
    return this.c.lastLoggedZxid;
  }

  get appliedZxid(): Zxid {
    return this.c.applied;
  }

  get currentRole(): ZabRole | null {
    return this.c.currentRole;
  }

  /** true while this server may serve clients (leader established / learner up to date) */
  get serving(): boolean {
    const r = this.c.role;
    if (r === null) return false;
    return r.phase === 'broadcast';
  }

  /** the epoch this server works in (the one being established when leading/syncing) */
  get epoch(): number {
    return this.c.epoch;
  }

  get leaderId(): Sid | null {
    const r = this.c.role;
    if (r === null) return null;
    return r.kind === 'leader' ? this.myid : r.leader;
  }

  /** leader only: the zxid the next `propose` must carry, or null when not able to propose */
  nextZxid(): Zxid | null {
    const r = this.c.role;
    if (r?.kind !== 'leader' || r.phase !== 'broadcast' || r.epoch === null) return null;
    return makeZxid(r.epoch, r.counter + 1);
  }

  /** the active membership (what /zookeeper/config shows) */
  get activeMembership(): Membership {
    return this.c.membership;
  }

  /** leader: the newest membership proposed or active (ZooKeeper's lastSeenQuorumVerifier) */
  get lastSeenMembership(): Membership {
    const r = this.c.role;
    return r?.kind === 'leader' && r.pendingConfig !== null ? r.pendingConfig.membership : this.c.membership;
  }

  /** leader: a reconfig is proposed and not yet committed */
  get reconfigInProgress(): boolean {
    const r = this.c.role;
    return r?.kind === 'leader' && r.pendingConfig !== null;
  }

  /** leader: the voters of `next` include a quorum of (me +) followers connected and synced
   * (Leader.isQuorumSynced: observers and learners still syncing do not count) */
  isQuorumSynced(next: Membership): boolean {
    const r = this.c.role;
    if (r?.kind !== 'leader' || next.voters.length === 0) return false;
    const q = new QuorumMaj(next.voters, next.observers);
    const ids: Sid[] = q.isVoter(this.myid) ? [this.myid] : [];
    for (const h of r.learners.values()) if (!h.observer && (h.phase === 'synced' || h.phase === 'uptodate')) ids.push(h.sid);
    return q.containsQuorum(ids);
  }

  /** the txns this core still holds in memory (for tests and the simulator's checkers) */
  recentLog(): readonly TxnRecord[] {
    return this.c.window;
  }

  // ---- the step function --------------------------------------------------------------------

  step(input: ZabInput): ZabEffect[] {
    this.c.nowMs = input.nowMs;
    const out: ZabEffect[] = [];
    switch (input.type) {
      case 'lead':
        lead(this.c, out);
        break;
      case 'follow':
        follow(this.c, input.leader, out);
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
        propose(this.c, input.txn, out);
        break;
      case 'forward':
        forward(this.c, input.sessionId, input.xid, input.data, out);
        break;
      case 'sync':
        this.sync(input.sessionId, input.xid, out);
        break;
      case 'touch':
        if (this.c.role?.kind === 'learner') this.c.role.touches.set(input.sessionId, input.timeoutMs);
        break;
      case 'revalidate':
        if (this.c.role?.kind === 'learner' && this.c.role.phase === 'broadcast') {
          this.c.send(out, this.c.role.leader, { type: 'REVALIDATE', sessionId: input.sessionId, timeoutMs: input.timeoutMs, valid: false });
        } else {
          out.push({ type: 'revalidated', sessionId: input.sessionId, valid: false });
        }
        break;
      case 'revalidateReply': {
        const h = this.c.role?.kind === 'leader' ? this.c.role.learners.get(input.to) : undefined;
        if (h) this.c.send(out, h.sid, { type: 'REVALIDATE', sessionId: input.sessionId, timeoutMs: 0, valid: input.valid });
        break;
      }
      case 'stop':
        if (this.c.role !== null) this.c.closeRole(out);
        break;
      case 'adopt':
        if (this.c.role === null) this.c.activate(out, input.membership, null);
        break;
    }
    return out;
  }

  // ---- dispatch -----------------------------------------------------------------------------

  private onPersisted(seq: number, out: ZabEffect[]): void {
    assert(seq <= this.c.persistSeq, `persisted(${seq}) but only ${this.c.persistSeq} ops issued`);
    if (seq <= this.c.durableSeq) return;
    this.c.durableSeq = seq;
    while (this.c.waiters.length > 0 && (this.c.waiters[0] as Waiter).seq <= seq) {
      const w = this.c.waiters.shift() as Waiter;
      this.onDurable(w, out);
    }
  }

  private onDurable(w: Waiter, out: ZabEffect[]): void {
    const r = this.c.role;
    switch (w.kind) {
      case 'append':
        if (this.c.tracing) this.c.traceTxn(out, 'txnlog.fsync.done', w.txn);
        if (!w.ack || r === null) return;
        if (r.kind === 'leader') {
          const o = outstandingOf(r, w.txn.zxid);
          if (o) {
            o.ackers.add(this.myid);
            if (this.c.tracing) this.c.traceTxn(out, 'zab.ack.received', w.txn, this.myid);
            tryCommit(this.c, r, out);
          }
        } else {
          this.c.send(out, r.leader, { type: 'ACK', zxid: w.txn.zxid });
          if (this.c.tracing) this.c.traceTxn(out, 'zab.ack.sent', w.txn, r.leader);
        }
        return;
      case 'ackEpoch':
        if (r?.kind === 'learner' && r.phase === 'epoch') {
          this.c.send(out, r.leader, { type: 'ACKEPOCH', currentEpoch: w.currentEpoch, lastZxid: this.c.lastLoggedZxid });
        }
        return;
      case 'ackNewLeader':
        if (r?.kind === 'learner' && r.phase === 'synced') {
          this.c.send(out, r.leader, { type: 'ACK', zxid: w.zxid });
          this.c.trace(out, 'zab.ack.sent', { zxid: hex(w.zxid), peer: r.leader, detail: { of: 'NEWLEADER' } });
        }
        return;
      case 'leaderEpochAccepted':
        if (r?.kind === 'leader') {
          r.selfEpochAcked = true;
          tryEpochQuorum(this.c, r, out);
        }
        return;
      case 'leaderEpochCurrent':
        if (r?.kind === 'leader') {
          r.selfNewLeaderAcked = true;
          tryEstablish(this.c, r, out);
        }
        return;
      case 'truncated':
        this.c.trace(out, 'txnlog.truncated', { zxid: hex(w.zxid) });
        return;
      case 'snapshot':
        this.c.trace(out, 'snapshot.taken', { zxid: hex(w.zxid), detail: { from: 'leader' } });
        return;
    }
  }

  private sync(sessionId: SessionId, xid: number, out: ZabEffect[]): void {
    const r = this.c.role;
    if (r === null || r.phase !== 'broadcast') {
      out.push({ type: 'dropped', sessionId, xid, reason: 'not serving' });
      return;
    }
    if (r.kind === 'leader') startSyncRound(this.c, r, null, sessionId, xid, out);
    else this.c.send(out, r.leader, { type: 'SYNC', sessionId, xid, zxid: 0n });
  }

  private onMessage(from: Sid, msg: ZabMessage, out: ZabEffect[]): void {
    const r = this.c.role;
    if (r === null) {
      // not leading: refuse learners that found us too early or too late
      if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') out.push({ type: 'disconnect', peer: from });
      return;
    }
    if (r.kind === 'leader') onLeaderMessage(this.c, r, from, msg, out);
    else if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') out.push({ type: 'disconnect', peer: from });
    else onLearnerMessage(this.c, r, from, msg, out);
  }

  private onDisconnected(peer: Sid, out: ZabEffect[]): void {
    const r = this.c.role;
    if (r === null) return;
    if (r.kind === 'leader') {
      const h = r.learners.get(peer);
      if (h === undefined) return;
      r.learners.delete(peer);
      r.epochAckers.delete(peer);
      r.newLeaderAckers.delete(peer);
      if (r.epoch === null) r.connecting.delete(peer);
      this.c.trace(out, 'server.role', { peer, detail: { dropped: 'disconnected' } });
      return;
    }
    if (peer !== r.leader) return;
    if (r.phase === 'connecting') {
      r.reconnect = true; // retry on the next tick, until initLimit
      return;
    }
    this.c.abandon(out, `connection to leader ${peer} lost`);
  }

  private onRetryConnect(out: ZabEffect[]): void {
    const r = this.c.role;
    if (r === null || r.kind === 'leader' || r.phase !== 'connecting' || !r.reconnect) return;
    r.reconnect = false;
    sendInfo(this.c, r, out);
  }

  private onTick(out: ZabEffect[]): void {
    this.c.ticks++;
    const r = this.c.role;
    if (r === null) return;
    if (r.kind === 'leader') onLeaderTick(this.c, r, out);
    else onLearnerTick(this.c, r, out);
  }
}
