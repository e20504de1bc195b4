/**
 * ZAB's leader side, broadcast phase: propose client txns to the followers, count acks per
 * proposal against every quorum it needs (two while a reconfig is in flight), commit in zxid
 * order (COMMIT to followers, INFORM to observers; COMMITANDACTIVATE / INFORMANDACTIVATE and a
 * designated leader for a reconfig), and quorum-confirmed `sync` rounds.
 * Free functions over the peer's state (peer-core.ts); discovery and sync are in leader.ts.
 */
import { assert } from '../common/assert';
import { hex, makeZxid, type SessionId, type Zxid } from '../common/ids';
import type { Membership } from '../common/membership';
import { QuorumMaj, type Sid } from './quorum';
import type { TxnRecord, ZabMessage } from './types';
import type { ZabEffect } from './broadcast-io';
import type { PeerCore } from './peer-core';
import type { LeaderState, LearnerHandle } from './leader';

export interface Outstanding {
  readonly txn: TxnRecord;
  readonly ackers: Set<Sid>;
  /** every one must see a quorum of acks: the active membership's, and while a reconfig is in
   * flight the proposed one's too (ZooKeeper's qvAcksetPairs) */
  readonly quorums: readonly QuorumMaj[];
  /** a reconfig: the membership it makes */
  readonly config: Membership | null;
}

export interface PendingSync {
  readonly round: number;
  readonly zxid: Zxid;
  readonly to: Sid | null;
  readonly sessionId: SessionId;
  readonly xid: number;
}

/** every quorum of the proposal has acked it (a loop: tryCommit asks at every ACK) */
function quorumsAcked(o: Outstanding): boolean {
  for (const q of o.quorums) if (!q.containsQuorum(o.ackers)) return false;
  return true;
}

export function isForwarding(h: LearnerHandle): boolean {
  return h.phase === 'syncing' || h.phase === 'synced' || h.phase === 'uptodate';
}

export function propose(c: PeerCore, txn: TxnRecord, out: ZabEffect[]): void {
  const r = c.role;
  if (r?.kind !== 'leader' || r.phase !== 'broadcast' || r.epoch === null) {
    out.push({ type: 'dropped', sessionId: txn.sessionId, xid: txn.xid, reason: 'not leading' });
    return;
  }
  if (r.outstanding.length >= c.outstandingProposalsMax) {
    out.push({ type: 'dropped', sessionId: txn.sessionId, xid: txn.xid, reason: 'too many outstanding proposals' });
    return;
  }
  const expected = makeZxid(r.epoch, r.counter + 1);
  if (txn.zxid !== expected) assert(false, `propose ${hex(txn.zxid)}, expected ${hex(expected)}`);
  r.counter++;
  const config = c.reconfigOf(txn);
  if (config !== null) {
    assert(r.pendingConfig === null, `reconfig ${hex(txn.zxid)} proposed while another is in flight`);
    r.pendingConfig = { membership: config, quorum: new QuorumMaj(config.voters, config.observers) };
  }
  const quorums = leaderQuorums(c, r);
  r.outstanding.push({ txn, ackers: new Set(), quorums, config });
  c.appendToLog(out, txn, true);
  // one message value for every learner (the shell may encode it once)
  const proposal: ZabMessage = { type: 'PROPOSAL', txn };
  for (const h of r.learners.values()) {
    if (!h.observer && isForwarding(h)) {
      c.send(out, h.sid, proposal);
      if (c.tracing) c.traceTxn(out, 'zab.proposal.sent', txn, h.sid);
    }
  }
  if (r.counter >= 0xfffffffe) {
    // ZOOKEEPER-1277: the counter would roll over into the epoch bits; start a new epoch
    c.abandon(out, 'zxid counter exhausted');
  }
}

/** the proposal in flight with this zxid: they are consecutive zxids of one epoch, oldest first */
export function outstandingOf(r: LeaderState, zxid: Zxid): Outstanding | undefined {
  const head = r.outstanding[0];
  if (head === undefined || zxid < head.txn.zxid) return undefined;
  const o = r.outstanding[Number(zxid - head.txn.zxid)];
  if (o === undefined || o.txn.zxid !== zxid) return undefined;
  return o;
}

export function tryCommit(c: PeerCore, r: LeaderState, out: ZabEffect[]): void {
  if (r.phase !== 'broadcast') return;
  while (r.outstanding.length > 0) {
    const head = r.outstanding[0] as Outstanding;
    if (!quorumsAcked(head)) break;
    r.outstanding.shift();
    if (c.tracing) c.traceTxn(out, 'zab.quorum.reached', head.txn, undefined, { ackers: [...head.ackers].sort((a, b) => a - b).join(',') });
    if (head.config !== null) {
      if (!commitReconfig(c, r, head, out)) return;
      continue;
    }
    let commit: ZabMessage | null = null;
    let inform: ZabMessage | null = null;
    for (const h of r.learners.values()) {
      if (!isForwarding(h)) continue;
      if (h.observer) {
        c.send(out, h.sid, (inform ??= { type: 'INFORM', txn: head.txn }));
        if (c.tracing) c.traceTxn(out, 'zab.commit.sent', head.txn, h.sid, { inform: true });
      } else {
        c.send(out, h.sid, (commit ??= { type: 'COMMIT', zxid: head.txn.zxid }));
        if (c.tracing) c.traceTxn(out, 'zab.commit.sent', head.txn, h.sid);
      }
    }
    // (not a reconfig: propose() asked already)
    c.deliver(out, head.txn, null, null);
  }
  c.trimWindow();
  tryFinishSyncs(c, r, out);
}

/** the quorums a leader must hear from: its membership's, and a pending reconfig's (the
 * usual single one is one array shared by every proposal, not one each) */
export function leaderQuorums(c: PeerCore, r: LeaderState): readonly QuorumMaj[] {
  if (r.pendingConfig !== null) return [c.quorum, r.pendingConfig.quorum];
  if (c.soloQuorums[0] !== c.quorum) c.soloQuorums = [c.quorum];
  return c.soloQuorums;
}

/**
 * Leader: a reconfig reached quorums of the old and the new membership. Followers get
 * COMMITANDACTIVATE, observers INFORMANDACTIVATE, both naming the designated leader; the new
 * membership is active here at once. If I am not a voter of it, leadership goes to the
 * designated server: this role ends (false). Learners handle their own removal or role change.
 */
function commitReconfig(c: PeerCore, r: LeaderState, head: Outstanding, out: ZabEffect[]): boolean {
  const config = head.config as Membership;
  const designated = designatedLeader(c, r, head, config);
  for (const h of r.learners.values()) {
    if (!isForwarding(h)) continue;
    if (h.observer) c.send(out, h.sid, { type: 'INFORMANDACTIVATE', txn: head.txn, leader: designated });
    else c.send(out, h.sid, { type: 'COMMITANDACTIVATE', zxid: head.txn.zxid, leader: designated });
  }
  c.deliver(out, head.txn, designated, config);
  r.pendingConfig = null;
  if (designated !== c.myid) {
    c.abandon(out, `reconfig ${hex(config.version)} hands leadership to ${designated}`, c.quorum.isMember(c.myid) ? { next: designated } : { next: designated, removed: true });
    return false;
  }
  return true;
}

/** Leader.getDesignatedLeader: me if I stay a voter; else the new voter that acked the
 * reconfig and most of the proposals after it (the most up to date one). */
function designatedLeader(c: PeerCore, r: LeaderState, head: Outstanding, config: Membership): Sid {
  if (config.isVoter(c.myid)) return c.myid;
  let candidates = [...head.ackers].filter((s) => s !== c.myid && config.isVoter(s)).sort((a, b) => a - b);
  assert(candidates.length > 0, `reconfig ${hex(head.txn.zxid)} committed without a new voter's ack`);
  for (const o of r.outstanding) {
    const keep = candidates.filter((s) => o.ackers.has(s));
    if (keep.length === 0) break;
    candidates = keep;
    if (candidates.length === 1) break;
  }
  return candidates[0] as Sid;
}

export function tryFinishSyncs(c: PeerCore, r: LeaderState, out: ZabEffect[]): void {
  while (r.pendingSyncs.length > 0) {
    const s = r.pendingSyncs[0] as PendingSync;
    if (c.applied < s.zxid) return;
    const confirmed = [c.myid];
    for (const h of r.learners.values()) {
      if (!h.observer && (h.phase === 'synced' || h.phase === 'uptodate') && h.lastRoundAcked >= s.round) confirmed.push(h.sid);
    }
    if (!c.quorum.containsQuorum(confirmed)) return;
    r.pendingSyncs.shift();
    if (s.to === null) {
      out.push({ type: 'synced', sessionId: s.sessionId, xid: s.xid, zxid: c.applied });
    } else if (r.learners.get(s.to)?.phase === 'uptodate') {
      c.send(out, s.to, { type: 'SYNC', sessionId: s.sessionId, xid: s.xid, zxid: c.applied });
    }
  }
}

export function startSyncRound(c: PeerCore, r: LeaderState, to: Sid | null, sessionId: SessionId, xid: number, out: ZabEffect[]): void {
  if (r.pendingSyncs.length >= c.pendingSyncsMax) {
    if (to === null) out.push({ type: 'dropped', sessionId, xid, reason: 'too many pending syncs' });
    return;
  }
  r.pingRound++;
  r.pendingSyncs.push({ round: r.pingRound, zxid: c.lastLoggedZxid, to, sessionId, xid });
  for (const h of r.learners.values()) {
    if (!h.observer && (h.phase === 'synced' || h.phase === 'uptodate')) c.send(out, h.sid, { type: 'PING', round: r.pingRound, touches: [] });
  }
  tryFinishSyncs(c, r, out);
}
