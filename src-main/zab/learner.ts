/**
 * ZAB's learner side (follower and observer): connect with FOLLOWERINFO/OBSERVERINFO, accept
 * the leader's epoch (ACKEPOCH once durable), take its sync (DIFF / TRUNC / SNAP, then the
 * proposals and commits that bring this log up to the leader's), ack NEWLEADER once the log and
 * currentEpoch are durable, serve from UPTODATE; then log, ack and commit what the leader sends,
 * activate reconfigs, answer PINGs with session touches and forward client writes.
 * Free functions over the peer's state (peer-core.ts); broadcast.ts dispatches to them.
 */
import { assert } from '../common/assert';
import { hex, zxidCounter, zxidEpoch, type SessionId } from '../common/ids';
import { Membership } from '../common/membership';
import type { Sid } from './quorum';
import { ZAB_PROTOCOL_VERSION, type SessionTouch, type ZabMessage } from './types';
import type { ZabEffect } from './broadcast-io';
import { PROTOCOL, type PeerCore } from './peer-core';

export interface LearnerState {
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

export function follow(c: PeerCore, leader: Sid, out: ZabEffect[]): void {
  assert(leader !== c.myid, 'cannot follow myself');
  if (c.role !== null) c.closeRole(out);
  const observer = c.quorum.isMember(c.myid) ? !c.quorum.isVoter(c.myid) : c.ownType === 'observer';
  c.role = {
    kind: 'learner',
    leader,
    observer,
    phase: 'connecting',
    startTick: c.ticks,
    lastHeardTick: c.ticks,
    reconnect: false,
    newEpoch: 0,
    touches: new Map(),
    newLeaderConfig: null,
  };
  c.trace(out, 'server.role', { peer: leader, detail: { role: observer ? 'observing' : 'following' } });
  sendInfo(c, c.role, out);
}

export function sendInfo(c: PeerCore, r: LearnerState, out: ZabEffect[]): void {
  c.send(out, r.leader, {
    type: r.observer ? 'OBSERVERINFO' : 'FOLLOWERINFO',
    sid: c.myid,
    acceptedEpoch: c.accepted,
    protocolVersion: ZAB_PROTOCOL_VERSION,
  });
}

export function onLearnerMessage(c: PeerCore, r: LearnerState, from: Sid, msg: ZabMessage, out: ZabEffect[]): void {
  if (from !== r.leader) return;
  r.lastHeardTick = c.ticks;
  switch (msg.type) {
    case 'LEADERINFO': {
      if (r.phase !== 'connecting') return violation(c, r, out, 'LEADERINFO');
      r.newEpoch = msg.newEpoch;
      if (msg.newEpoch < c.accepted) {
        c.abandon(out, `leader's epoch ${msg.newEpoch} is below my accepted epoch ${c.accepted}`);
        return;
      }
      r.phase = 'epoch';
      if (msg.newEpoch > c.accepted) {
        const currentEpoch = c.current;
        c.accepted = msg.newEpoch;
        const seq = c.persist(out, { kind: 'acceptedEpoch', epoch: msg.newEpoch });
        c.waiters.push({ seq, kind: 'ackEpoch', currentEpoch });
      } else {
        // already accepted this epoch from someone: we cannot vote for it again in good conscience
        c.send(out, r.leader, { type: 'ACKEPOCH', currentEpoch: -1, lastZxid: c.lastLoggedZxid });
      }
      return;
    }
    case 'DIFF':
      if (r.phase !== 'epoch') return violation(c, r, out, 'DIFF');
      if (msg.zxid !== c.lastLoggedZxid) return violation(c, r, out, `DIFF from ${hex(msg.zxid)} but my log ends at ${hex(c.lastLoggedZxid)}`);
      r.phase = 'sync';
      c.trace(out, 'zab.sync.received', { zxid: hex(msg.zxid), peer: from, detail: { how: 'DIFF' } });
      c.deliverLocalUpTo(out, msg.zxid < msg.committedZxid ? msg.zxid : msg.committedZxid);
      return;
    case 'TRUNC': {
      if (r.phase !== 'epoch') return violation(c, r, out, 'TRUNC');
      r.phase = 'sync';
      c.trace(out, 'zab.sync.received', { zxid: hex(msg.zxid), peer: from, detail: { how: 'TRUNC', dropped: hex(c.lastLoggedZxid) } });
      c.window = c.window.filter((t) => t.zxid <= msg.zxid);
      // below what memory holds (a long replayed tail): the log on disk still has it, the
      // shell rolls the state back from there
      if (msg.zxid < c.windowBase) c.windowBase = msg.zxid;
      if (c.applied > msg.zxid) c.applied = msg.zxid;
      const seq = c.persist(out, { kind: 'truncate', zxid: msg.zxid });
      c.waiters.push({ seq, kind: 'truncated', zxid: msg.zxid });
      c.deliverLocalUpTo(out, msg.zxid < msg.committedZxid ? msg.zxid : msg.committedZxid);
      return;
    }
    case 'SNAP': {
      if (r.phase !== 'epoch') return violation(c, r, out, 'SNAP');
      r.phase = 'sync';
      c.trace(out, 'zab.sync.received', { zxid: hex(msg.zxid), peer: from, detail: { how: 'SNAP' } });
      c.window = [];
      c.windowBase = msg.zxid;
      c.applied = msg.zxid;
      const seq = c.persist(out, { kind: 'snapshot', zxid: msg.zxid, snapshot: msg.snapshot });
      c.waiters.push({ seq, kind: 'snapshot', zxid: msg.zxid });
      return;
    }
    case 'PROPOSAL': {
      if (r.phase !== 'sync' && r.phase !== 'synced' && r.phase !== 'broadcast') return violation(c, r, out, 'PROPOSAL');
      if (r.observer && r.phase !== 'sync') return violation(c, r, out, 'PROPOSAL to an observer');
      if (msg.txn.zxid <= c.lastLoggedZxid) return violation(c, r, out, `PROPOSAL ${hex(msg.txn.zxid)} not after ${hex(c.lastLoggedZxid)}`);
      if (c.tracing) c.traceTxn(out, 'zab.proposal.received', msg.txn, from);
      // before NEWLEADER, its ACK covers these; after, each proposal is acked once durable
      c.appendToLog(out, msg.txn, !r.observer && r.phase !== 'sync');
      return;
    }
    case 'COMMIT': {
      if (r.phase !== 'sync' && r.phase !== 'synced' && r.phase !== 'broadcast') return violation(c, r, out, 'COMMIT');
      const next = c.window[c.indexAfter(c.applied)];
      if (next === undefined || next.zxid !== msg.zxid) return violation(c, r, out, `COMMIT ${hex(msg.zxid)} but next uncommitted is ${next ? hex(next.zxid) : 'none'}`);
      if (c.tracing) c.traceTxn(out, 'zab.commit.received', next, from);
      c.deliver(out, next);
      c.trimWindow();
      return;
    }
    case 'COMMITANDACTIVATE': {
      if (r.phase !== 'sync' && r.phase !== 'synced' && r.phase !== 'broadcast') return violation(c, r, out, 'COMMITANDACTIVATE');
      const next = c.window[c.indexAfter(c.applied)];
      if (next === undefined || next.zxid !== msg.zxid) return violation(c, r, out, `COMMITANDACTIVATE ${hex(msg.zxid)} but next uncommitted is ${next ? hex(next.zxid) : 'none'}`);
      if (c.tracing) c.traceTxn(out, 'zab.commit.received', next, from, { activate: true });
      const wasMember = c.quorum.isMember(c.myid);
      c.deliver(out, next, msg.leader);
      c.trimWindow();
      if (r.phase === 'broadcast') afterLearnerActivation(c, r, wasMember, msg.leader, out);
      return;
    }
    case 'INFORMANDACTIVATE': {
      if (!r.observer || (r.phase !== 'synced' && r.phase !== 'broadcast' && r.phase !== 'sync')) return violation(c, r, out, 'INFORMANDACTIVATE');
      if (msg.txn.zxid <= c.lastLoggedZxid) return violation(c, r, out, `INFORMANDACTIVATE ${hex(msg.txn.zxid)} not after ${hex(c.lastLoggedZxid)}`);
      if (c.tracing) c.traceTxn(out, 'zab.commit.received', msg.txn, from, { inform: true, activate: true });
      const wasMember = c.quorum.isMember(c.myid);
      c.appendToLog(out, msg.txn, false);
      c.deliver(out, msg.txn, msg.leader);
      c.trimWindow();
      if (r.phase === 'broadcast') afterLearnerActivation(c, r, wasMember, msg.leader, out);
      return;
    }
    case 'INFORM': {
      if (!r.observer || (r.phase !== 'synced' && r.phase !== 'broadcast' && r.phase !== 'sync')) return violation(c, r, out, 'INFORM');
      if (msg.txn.zxid <= c.lastLoggedZxid) return violation(c, r, out, `INFORM ${hex(msg.txn.zxid)} not after ${hex(c.lastLoggedZxid)}`);
      if (c.tracing) c.traceTxn(out, 'zab.commit.received', msg.txn, from, { inform: true });
      c.appendToLog(out, msg.txn, false);
      c.deliver(out, msg.txn);
      c.trimWindow();
      return;
    }
    case 'NEWLEADER': {
      if (r.phase !== 'sync') return violation(c, r, out, 'NEWLEADER');
      const epoch = zxidEpoch(msg.zxid);
      if (epoch !== r.newEpoch || zxidCounter(msg.zxid) !== 0) return violation(c, r, out, `NEWLEADER ${hex(msg.zxid)} for epoch ${r.newEpoch}`);
      r.phase = 'synced';
      if (msg.config !== undefined) {
        // the leader's membership (ZooKeeper sends it in NEWLEADER): a newer one becomes
        // active at UPTODATE, once the epoch is established
        const m = Membership.parse(msg.config);
        if (typeof m !== 'string' && m.version > c.membership.version) r.newLeaderConfig = m;
      }
      // persist the log (ops before this one) and then currentEpoch, and only then ack:
      // acking first is ZOOKEEPER-3911/4394/4643/4646/4785
      c.current = epoch;
      const seq = c.persist(out, { kind: 'currentEpoch', epoch });
      c.waiters.push({ seq, kind: 'ackNewLeader', zxid: msg.zxid });
      c.trace(out, 'zab.newleader', { zxid: hex(msg.zxid), peer: from });
      return;
    }
    case 'UPTODATE':
      if (r.phase !== 'synced') return violation(c, r, out, 'UPTODATE');
      if (r.newLeaderConfig !== null) {
        // a membership without me: I am a joiner (or was removed while away) and sync on as
        // a non-voting learner until a reconfig adds me
        c.activate(out, r.newLeaderConfig, null);
        r.newLeaderConfig = null;
        if (c.quorum.isMember(c.myid) && !c.quorum.isVoter(r.leader)) {
          c.abandon(out, `membership ${hex(c.membership.version)} leaves leader ${r.leader} no vote`);
          return;
        }
      }
      if (c.quorum.isMember(c.myid) && c.quorum.isVoter(c.myid) === r.observer) {
        c.abandon(out, `the leader's membership makes me ${r.observer ? 'a participant' : 'an observer'}`, { next: r.leader });
        return;
      }
      r.phase = 'broadcast';
      c.trace(out, 'zab.uptodate', { zxid: hex(msg.zxid), peer: from });
      out.push({ type: 'serving', role: r.observer ? 'observing' : 'following', epoch: r.newEpoch, leader: r.leader });
      return;
    case 'PING': {
      const touches: SessionTouch[] = [...r.touches].map(([sessionId, timeoutMs]) => ({ sessionId, timeoutMs }));
      r.touches.clear();
      c.send(out, r.leader, { type: 'PING', round: msg.round, touches });
      return;
    }
    case 'SYNC':
      out.push({ type: 'synced', sessionId: msg.sessionId, xid: msg.xid, zxid: msg.zxid });
      return;
    case 'REVALIDATE':
      out.push({ type: 'revalidated', sessionId: msg.sessionId, valid: msg.valid });
      return;
    default:
      return violation(c, r, out, `leader sent ${msg.type}`);
  }
}

/** the leader broke the protocol: this role ends (a function, not a closure made per message) */
function violation(c: PeerCore, r: LearnerState, out: ZabEffect[], what: string): void {
  c.abandon(out, `${PROTOCOL}${what} in phase ${r.phase}`);
}

export function onLearnerTick(c: PeerCore, r: LearnerState, out: ZabEffect[]): void {
  if (r.phase === 'connecting') {
    if (c.ticks - r.startTick > c.initLimitTicks) {
      c.abandon(out, `could not connect to leader ${r.leader} within initLimit`);
      return;
    }
    if (r.reconnect) {
      r.reconnect = false;
      r.lastHeardTick = c.ticks;
      sendInfo(c, r, out);
    }
    return;
  }
  const limit = r.phase === 'broadcast' ? c.syncLimitTicks : c.initLimitTicks;
  if (c.ticks - r.lastHeardTick > limit) {
    c.abandon(out, `leader ${r.leader} silent for ${limit} ticks`);
  }
}

export function forward(c: PeerCore, sessionId: SessionId, xid: number, data: Uint8Array, out: ZabEffect[]): void {
  const r = c.role;
  if (r?.kind !== 'learner' || r.phase !== 'broadcast') {
    out.push({ type: 'dropped', sessionId, xid, reason: 'not following' });
    return;
  }
  c.send(out, r.leader, { type: 'REQUEST', sessionId, xid, data });
  if (c.tracing) c.trace(out, 'request.forwarded', { session: hex(sessionId), xid, peer: r.leader });
}

/**
 * A learner after its membership changed while broadcasting: removed → leave; my role
 * (follower/observer) or my leader changed → end this role and go to the designated leader
 * (ZooKeeper's "changes proposed in reconfig"). A learner that was not a member (a joiner)
 * and still is not one carries on as a non-voting follower.
 */
function afterLearnerActivation(c: PeerCore, r: LearnerState, wasMember: boolean, designated: Sid | null, out: ZabEffect[]): void {
  const member = c.quorum.isMember(c.myid);
  if (!member) {
    if (wasMember) c.abandon(out, `removed from the ensemble by reconfig ${hex(c.membership.version)}`, { removed: true });
    return;
  }
  const next = designated ?? r.leader;
  if (c.quorum.isVoter(c.myid) === r.observer) {
    c.abandon(out, `reconfig ${hex(c.membership.version)} made me ${r.observer ? 'a participant' : 'an observer'}`, { next });
  } else if (next !== r.leader) {
    c.abandon(out, `reconfig ${hex(c.membership.version)} designated leader ${next}`, { next });
  }
}
