/**
 * ZAB's leader side, discovery and sync: collect a quorum's FOLLOWERINFO (their accepted
 * epochs) to choose the new epoch, send LEADERINFO and collect ACKEPOCHs, bring each learner up
 * to this history (DIFF / TRUNC / SNAP, then NEWLEADER), establish the epoch on a quorum of
 * NEWLEADER acks (UPTODATE); then the per-learner message handlers, learner liveness on ticks
 * and pings. The broadcast phase (proposals, acks, commits, sync rounds) is in proposals.ts.
 * Free functions over the peer's state (peer-core.ts); broadcast.ts dispatches to them.
 */
import { assert } from '../common/assert';
import { hex, makeZxid, type Zxid } from '../common/ids';
import type { Membership } from '../common/membership';
import { QuorumMaj, type Sid } from './quorum';
import { ZAB_PROTOCOL_VERSION, type ZabMessage } from './types';
import type { ZabEffect } from './broadcast-io';
import { PROTOCOL, type PeerCore } from './peer-core';
import { isForwarding, leaderQuorums, outstandingOf, startSyncRound, tryCommit, tryFinishSyncs, type Outstanding, type PendingSync } from './proposals';

export type HandlePhase = 'info' | 'epochAcked' | 'syncing' | 'synced' | 'uptodate';

export interface LearnerHandle {
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

export interface LeaderState {
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

export function lead(c: PeerCore, out: ZabEffect[]): void {
  assert(c.quorum.isVoter(c.myid), 'an observer cannot lead');
  if (c.role !== null) c.closeRole(out);
  const r: LeaderState = {
    kind: 'leader',
    phase: 'discovery',
    startTick: c.ticks,
    epoch: null,
    summaryEpoch: c.current,
    summaryZxid: c.lastLoggedZxid,
    connecting: new Map([[c.myid, c.accepted]]),
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
  c.role = r;
  c.trace(out, 'server.role', { detail: { role: 'leading' } });
  // my whole log is my history: it is all committed once the epoch is established
  c.deliverLocalUpTo(out, c.lastLoggedZxid);
  // a reconfig in my history that is newer than my membership (proposed, maybe committed, not
  // activated here): the new epoch needs quorums of both, and activates it when established
  // (ZooKeeper: lastSeenQuorumVerifier in Leader.lead)
  let pending: Membership | null = null;
  for (const t of c.window) {
    const m = c.reconfigOf(t);
    if (m !== null && m.version > c.membership.version && m.voters.length > 0) pending = m;
  }
  if (pending !== null) r.pendingConfig = { membership: pending, quorum: new QuorumMaj(pending.voters, pending.observers) };
  tryDecideEpoch(c, r, out);
}

function tryDecideEpoch(c: PeerCore, r: LeaderState, out: ZabEffect[]): void {
  if (r.epoch !== null || !leaderQuorums(c, r).every((q) => q.containsQuorum(r.connecting.keys()))) return;
  let max = 0;
  for (const e of r.connecting.values()) max = Math.max(max, e);
  r.epoch = max + 1;
  r.phase = 'epochAck';
  // ZOOKEEPER-1783: a membership never stamped (version 0, from a static zoo.cfg) gets the new
  // epoch's first zxid as its version; learners take it from NEWLEADER
  if (c.reconfigEnabled && c.membership.version === 0n && r.pendingConfig === null) c.activate(out, c.membership.withVersion(makeZxid(r.epoch, 0)), null);
  c.accepted = r.epoch;
  const seq = c.persist(out, { kind: 'acceptedEpoch', epoch: r.epoch });
  c.waiters.push({ seq, kind: 'leaderEpochAccepted' });
  for (const h of r.learners.values()) sendLeaderInfo(c, r, h, out);
}

function sendLeaderInfo(c: PeerCore, r: LeaderState, h: LearnerHandle, out: ZabEffect[]): void {
  if (r.epoch === null || h.leaderInfoSent) return;
  h.leaderInfoSent = true;
  c.send(out, h.sid, { type: 'LEADERINFO', newEpoch: r.epoch, protocolVersion: ZAB_PROTOCOL_VERSION });
}

export function tryEpochQuorum(c: PeerCore, r: LeaderState, out: ZabEffect[]): void {
  if (r.phase !== 'epochAck' || !r.selfEpochAcked) return;
  if (!leaderQuorums(c, r).every((q) => q.containsQuorum([c.myid, ...r.epochAckers]))) return;
  assert(r.epoch !== null, 'epoch chosen before epoch acks');
  r.phase = 'sync';
  c.current = r.epoch;
  const seq = c.persist(out, { kind: 'currentEpoch', epoch: r.epoch });
  c.waiters.push({ seq, kind: 'leaderEpochCurrent' });
  c.trace(out, 'zab.newleader', { zxid: hex(makeZxid(r.epoch, 0)), detail: { epochAckers: [...r.epochAckers].join(',') } });
  for (const h of r.learners.values()) if (h.phase === 'epochAcked') startSync(c, r, h, out);
}

/** Bring one learner up to my history (DIFF / TRUNC / SNAP), then NEWLEADER. From here on it
 * receives every new proposal and commit. */
function startSync(c: PeerCore, r: LeaderState, h: LearnerHandle, out: ZabEffect[]): void {
  assert(r.epoch !== null, 'sync before the epoch is chosen');
  const last = c.lastLoggedZxid;
  const peer = h.lastZxid;
  let from: Zxid;
  let how: 'DIFF' | 'TRUNC' | 'SNAP';
  if (peer < c.windowBase) {
    how = 'SNAP';
    from = c.applied;
  } else {
    // the largest zxid of my history at or below the learner's last one, but never above
    // what I have committed: a learner must not hold (and, after a restart, have applied) a
    // txn that is still only proposed; such a tail is truncated and proposed again
    const limit = peer < c.applied ? peer : c.applied;
    let p = c.windowBase;
    for (const t of c.window) {
      if (t.zxid > limit) break;
      p = t.zxid;
    }
    from = p;
    how = p === peer ? 'DIFF' : 'TRUNC';
  }
  if (how === 'SNAP') {
    out.push({ type: 'sendSnapshot', to: h.sid, zxid: c.applied });
  } else {
    // committedZxid: the learner may hold some of my outstanding proposals; those wait for COMMIT
    c.send(out, h.sid, { type: how, zxid: from, committedZxid: c.applied });
  }
  c.trace(out, 'zab.sync.sent', { zxid: hex(from), peer: h.sid, detail: { how, peerLastZxid: hex(peer) } });
  for (const t of c.window) {
    if (t.zxid <= from) continue;
    if (t.zxid <= c.applied) {
      c.send(out, h.sid, { type: 'PROPOSAL', txn: t });
      c.send(out, h.sid, { type: 'COMMIT', zxid: t.zxid });
    } else if (!h.observer) {
      c.send(out, h.sid, { type: 'PROPOSAL', txn: t });
    }
  }
  h.newLeaderCoversZxid = last;
  h.phase = 'syncing';
  c.send(out, h.sid, { type: 'NEWLEADER', zxid: makeZxid(r.epoch, 0), config: (r.pendingConfig?.membership ?? c.membership).toText() });
}

export function tryEstablish(c: PeerCore, r: LeaderState, out: ZabEffect[]): void {
  if (r.phase !== 'sync' || !r.selfNewLeaderAcked) return;
  if (!leaderQuorums(c, r).every((q) => q.containsQuorum([c.myid, ...r.newLeaderAckers]))) return;
  assert(r.epoch !== null, 'established without an epoch');
  if (r.pendingConfig !== null) {
    // my history's reconfig is committed with this epoch: active now, here and (at UPTODATE)
    // on the learners; if it leaves me no vote, a designated voter leads instead
    const config = r.pendingConfig.membership;
    const designated = config.isVoter(c.myid) ? c.myid : [...r.newLeaderAckers].filter((s) => config.isVoter(s)).sort((a, b) => a - b)[0];
    assert(designated !== undefined, 'established without a voter of the new membership');
    c.activate(out, config, designated);
    r.pendingConfig = null;
    if (designated !== c.myid) {
      c.abandon(out, `reconfig ${hex(config.version)} in my history hands leadership to ${designated}`, c.quorum.isMember(c.myid) ? { next: designated } : { next: designated, removed: true });
      return;
    }
  }
  r.phase = 'broadcast';
  c.trace(out, 'zab.uptodate', { zxid: hex(makeZxid(r.epoch, 0)), detail: { quorum: [c.myid, ...r.newLeaderAckers].join(',') } });
  out.push({ type: 'serving', role: 'leading', epoch: r.epoch, leader: c.myid });
  for (const h of r.learners.values()) {
    if (h.phase === 'synced') {
      h.phase = 'uptodate';
      c.send(out, h.sid, { type: 'UPTODATE', zxid: makeZxid(r.epoch, 0) });
    }
  }
  tryCommit(c, r, out);
}

export function onLeaderMessage(c: PeerCore, r: LeaderState, from: Sid, msg: ZabMessage, out: ZabEffect[]): void {
  if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') {
    const observer = msg.type === 'OBSERVERINFO';
    // a server outside the membership may connect: a joiner syncs as a non-voting learner
    // before the reconfig that adds it (its acks count only for the new membership)
    if (msg.sid !== from || from === c.myid) {
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
      lastHeardTick: c.ticks,
      lastRoundAcked: 0,
      newLeaderCoversZxid: 0n,
    };
    r.learners.set(from, h);
    r.epochAckers.delete(from);
    r.newLeaderAckers.delete(from);
    if (r.epoch === null) {
      r.connecting.set(from, msg.acceptedEpoch);
      tryDecideEpoch(c, r, out);
    } else {
      sendLeaderInfo(c, r, h, out);
    }
    return;
  }
  const h = r.learners.get(from);
  if (h === undefined) return; // from a connection we already dropped
  h.lastHeardTick = c.ticks;
  switch (msg.type) {
    case 'ACKEPOCH': {
      if (h.phase !== 'info' || !h.leaderInfoSent) return dropLearner(c, r, h, out, `${PROTOCOL}unexpected ACKEPOCH`);
      h.lastZxid = msg.lastZxid;
      h.phase = 'epochAcked';
      if (msg.currentEpoch !== -1) {
        const ahead = msg.currentEpoch > r.summaryEpoch || (msg.currentEpoch === r.summaryEpoch && msg.lastZxid > r.summaryZxid);
        if (ahead) {
          c.abandon(out, `follower ${from} is ahead of the leader (epoch ${msg.currentEpoch}, ${hex(msg.lastZxid)})`);
          return;
        }
        if (!h.observer) r.epochAckers.add(from);
      }
      if (r.phase === 'epochAck') tryEpochQuorum(c, r, out);
      else if (r.phase === 'sync' || r.phase === 'broadcast') startSync(c, r, h, out);
      return;
    }
    case 'ACK': {
      assert(r.epoch !== null, 'ACK before an epoch');
      if (h.phase === 'syncing' && msg.zxid === makeZxid(r.epoch, 0)) {
        h.phase = 'synced';
        c.trace(out, 'zab.ack.received', { zxid: hex(msg.zxid), peer: from, detail: { of: 'NEWLEADER' } });
        if (!h.observer) {
          r.newLeaderAckers.add(from);
          for (const o of r.outstanding) if (o.txn.zxid <= h.newLeaderCoversZxid) o.ackers.add(from);
        }
        if (r.phase === 'sync') {
          tryEstablish(c, r, out);
        } else if (r.phase === 'broadcast') {
          h.phase = 'uptodate';
          c.send(out, from, { type: 'UPTODATE', zxid: makeZxid(r.epoch, 0) });
          tryCommit(c, r, out);
        }
        return;
      }
      if (h.observer || (h.phase !== 'synced' && h.phase !== 'uptodate')) return;
      const o = outstandingOf(r, msg.zxid);
      if (o === undefined) return; // already committed
      o.ackers.add(from);
      if (c.tracing) c.traceTxn(out, 'zab.ack.received', o.txn, from);
      tryCommit(c, r, out);
      return;
    }
    case 'PING':
      if (msg.round > h.lastRoundAcked) h.lastRoundAcked = Math.min(msg.round, r.pingRound);
      if (msg.touches.length > 0) out.push({ type: 'sessionTouches', from, touches: msg.touches });
      tryFinishSyncs(c, r, out);
      return;
    case 'REQUEST':
      if (h.phase !== 'uptodate' || r.phase !== 'broadcast') {
        out.push({ type: 'dropped', sessionId: msg.sessionId, xid: msg.xid, reason: 'learner not up to date' });
        return;
      }
      out.push({ type: 'request', from, sessionId: msg.sessionId, xid: msg.xid, data: msg.data });
      return;
    case 'SYNC':
      if (h.phase === 'uptodate' && r.phase === 'broadcast') startSyncRound(c, r, from, msg.sessionId, msg.xid, out);
      return;
    case 'REVALIDATE':
      out.push({ type: 'revalidate', from, sessionId: msg.sessionId, timeoutMs: msg.timeoutMs });
      return;
    default:
      dropLearner(c, r, h, out, `${PROTOCOL}learner sent ${msg.type}`);
      return;
  }
}

function dropLearner(c: PeerCore, r: LeaderState, h: LearnerHandle, out: ZabEffect[], reason: string): void {
  r.learners.delete(h.sid);
  r.epochAckers.delete(h.sid);
  r.newLeaderAckers.delete(h.sid);
  if (r.epoch === null) r.connecting.delete(h.sid);
  out.push({ type: 'disconnect', peer: h.sid });
  c.trace(out, 'server.role', { peer: h.sid, detail: { dropped: reason } });
}

export function onLeaderTick(c: PeerCore, r: LeaderState, out: ZabEffect[]): void {
  if (r.phase !== 'broadcast') {
    if (c.ticks - r.startTick > c.initLimitTicks) {
      c.abandon(out, `no quorum synced within initLimit (${c.initLimitTicks} ticks)`);
    }
    return;
  }
  for (const h of [...r.learners.values()]) {
    const limit = h.phase === 'synced' || h.phase === 'uptodate' ? c.syncLimitTicks : c.initLimitTicks;
    if (c.ticks - h.lastHeardTick > limit) dropLearner(c, r, h, out, `silent for ${limit} ticks`);
  }
  const alive = [c.myid];
  for (const h of r.learners.values()) if (h.phase === 'synced' || h.phase === 'uptodate') alive.push(h.sid);
  if (!c.quorum.containsQuorum(alive)) {
    c.abandon(out, `lost quorum: synced with ${alive.sort((a, b) => a - b).join(',')}`);
    return;
  }
  r.pingRound++;
  for (const h of r.learners.values()) {
    if (isForwarding(h)) c.send(out, h.sid, { type: 'PING', round: r.pingRound, touches: [] });
  }
}
