/**
 * etcd-style scripted tests of the ZAB core alone: feed inputs by hand, read the effects.
 * They pin the ordering rules (persist before ack, commit in zxid order, quorum before commit).
 */
import { describe, expect, it } from 'vitest';
import { makeZxid } from '../common/ids';
import { ZabPeer, type ZabEffect, type ZabInput } from './broadcast';
import { QuorumMaj } from './quorum';
import type { TxnRecord, ZabMessage } from './types';

const q3 = new QuorumMaj([1, 2, 3]);
const empty = { acceptedEpoch: 0, currentEpoch: 0, snapshotZxid: 0n, log: [], appliedZxid: 0n };
const cfg = (myid: number) => ({ myid, quorum: q3, initLimitTicks: 10, syncLimitTicks: 5 });

type In = ZabInput extends infer T ? (T extends { nowMs: number } ? Omit<T, 'nowMs'> : never) : never;
const step = (p: ZabPeer, input: In): ZabEffect[] => p.step({ nowMs: 0, ...input } as ZabInput);
const sends = (effects: ZabEffect[]) => effects.filter((e) => e.type === 'send').map((e) => (e as { to: number; msg: ZabMessage }).msg);
const persists = (effects: ZabEffect[]) => effects.filter((e) => e.type === 'persist') as Extract<ZabEffect, { type: 'persist' }>[];
const lastSeq = (effects: ZabEffect[]): number => (persists(effects).at(-1) as { seq: number }).seq;
const txn = (epoch: number, n: number): TxnRecord => ({ zxid: makeZxid(epoch, n), sessionId: 0x10n, xid: n, data: new Uint8Array([n]) });

/** A follower of leader 1, taken through discovery and an empty DIFF up to serving. */
function syncedFollower(): ZabPeer {
  const f = new ZabPeer(cfg(2), empty);
  expect(sends(step(f, { type: 'follow', leader: 1 }))).toMatchObject([{ type: 'FOLLOWERINFO', sid: 2, acceptedEpoch: 0 }]);
  const li = step(f, { type: 'message', from: 1, msg: { type: 'LEADERINFO', newEpoch: 1, protocolVersion: 0x10000 } });
  expect(sends(li)).toEqual([]); // ACKEPOCH waits for acceptedEpoch to be durable
  expect(persists(li)[0]?.op).toEqual({ kind: 'acceptedEpoch', epoch: 1 });
  expect(sends(step(f, { type: 'persisted', seq: lastSeq(li) }))).toMatchObject([{ type: 'ACKEPOCH', currentEpoch: 0, lastZxid: 0n }]);
  step(f, { type: 'message', from: 1, msg: { type: 'DIFF', zxid: 0n, committedZxid: 0n } });
  const nl = step(f, { type: 'message', from: 1, msg: { type: 'NEWLEADER', zxid: makeZxid(1, 0) } });
  expect(sends(nl)).toEqual([]);
  expect(persists(nl)[0]?.op).toEqual({ kind: 'currentEpoch', epoch: 1 });
  expect(sends(step(f, { type: 'persisted', seq: lastSeq(nl) }))).toEqual([{ type: 'ACK', zxid: makeZxid(1, 0) }]);
  expect(step(f, { type: 'message', from: 1, msg: { type: 'UPTODATE', zxid: makeZxid(1, 0) } })).toContainEqual({ type: 'serving', role: 'following', epoch: 1, leader: 1 });
  return f;
}

describe('zab: learner', () => {
  it('a dial refused while connecting is retried on retryConnect at once, not a tick later; retryConnect alone does nothing', () => {
    const f = new ZabPeer(cfg(2), empty);
    expect(sends(step(f, { type: 'follow', leader: 1 }))).toMatchObject([{ type: 'FOLLOWERINFO' }]);
    expect(sends(step(f, { type: 'retryConnect' }))).toEqual([]); // nothing failed yet
    step(f, { type: 'disconnected', peer: 1 }); // the new leader is not listening yet
    expect(sends(step(f, { type: 'retryConnect' }))).toMatchObject([{ type: 'FOLLOWERINFO', sid: 2 }]);
    expect(sends(step(f, { type: 'retryConnect' }))).toEqual([]); // once per failure
    expect(sends(step(f, { type: 'tick' }))).toEqual([]); // the tick has nothing left to retry
  });

  it('follower: ACK of a proposal only after the append is durable', () => {
    const f = syncedFollower();
    const e = step(f, { type: 'message', from: 1, msg: { type: 'PROPOSAL', txn: txn(1, 1) } });
    expect(persists(e).map((p) => p.op.kind)).toEqual(['append']);
    expect(sends(e)).toEqual([]);
    expect(sends(step(f, { type: 'persisted', seq: lastSeq(e) }))).toEqual([{ type: 'ACK', zxid: makeZxid(1, 1) }]);
  });

  it('follower with tracing off: proposal, append, ack and commit build no trace events; the commit still applies', () => {
    const f = new ZabPeer({ ...cfg(2), tracing: false }, empty);
    step(f, { type: 'follow', leader: 1 });
    const li = step(f, { type: 'message', from: 1, msg: { type: 'LEADERINFO', newEpoch: 1, protocolVersion: 0x10000 } });
    step(f, { type: 'persisted', seq: lastSeq(li) });
    step(f, { type: 'message', from: 1, msg: { type: 'DIFF', zxid: 0n, committedZxid: 0n } });
    const nl = step(f, { type: 'message', from: 1, msg: { type: 'NEWLEADER', zxid: makeZxid(1, 0) } });
    step(f, { type: 'persisted', seq: lastSeq(nl) });
    step(f, { type: 'message', from: 1, msg: { type: 'UPTODATE', zxid: makeZxid(1, 0) } });
    const p = step(f, { type: 'message', from: 1, msg: { type: 'PROPOSAL', txn: txn(1, 1) } });
    const a = step(f, { type: 'persisted', seq: lastSeq(p) });
    const c = step(f, { type: 'message', from: 1, msg: { type: 'COMMIT', zxid: makeZxid(1, 1) } });
    expect([...p, ...a, ...c].filter((e) => e.type === 'trace')).toEqual([]);
    expect(sends(a)).toEqual([{ type: 'ACK', zxid: makeZxid(1, 1) }]);
    expect(c.filter((e) => e.type === 'commit')).toHaveLength(1);
  });

  it('follower: COMMIT applies in order; a COMMIT out of order abandons the leader', () => {
    const f = syncedFollower();
    step(f, { type: 'message', from: 1, msg: { type: 'PROPOSAL', txn: txn(1, 1) } });
    step(f, { type: 'message', from: 1, msg: { type: 'PROPOSAL', txn: txn(1, 2) } });
    const bad = step(f, { type: 'message', from: 1, msg: { type: 'COMMIT', zxid: makeZxid(1, 2) } });
    expect(bad.find((x) => x.type === 'abandoned')).toMatchObject({ reason: expect.stringMatching(/^protocol: COMMIT/) });
  });

  it('follower: DIFF delivers its own logged txns only up to what the leader has committed', () => {
    const f = new ZabPeer(cfg(2), { acceptedEpoch: 1, currentEpoch: 1, snapshotZxid: 0n, log: [txn(1, 1), txn(1, 2)], appliedZxid: 0n });
    step(f, { type: 'follow', leader: 1 });
    step(f, { type: 'message', from: 1, msg: { type: 'LEADERINFO', newEpoch: 1, protocolVersion: 0x10000 } });
    const d = step(f, { type: 'message', from: 1, msg: { type: 'DIFF', zxid: makeZxid(1, 2), committedZxid: makeZxid(1, 1) } });
    expect(d.filter((x) => x.type === 'commit').map((x) => (x as { txn: TxnRecord }).txn.zxid)).toEqual([makeZxid(1, 1)]);
    expect(f.appliedZxid).toBe(makeZxid(1, 1));
  });

  it('learner: LEADERINFO for an epoch already accepted → ACKEPOCH -1; an older epoch → abandon', () => {
    const f = new ZabPeer(cfg(2), { ...empty, acceptedEpoch: 3, currentEpoch: 2 });
    step(f, { type: 'follow', leader: 1 });
    expect(sends(step(f, { type: 'message', from: 1, msg: { type: 'LEADERINFO', newEpoch: 3, protocolVersion: 0x10000 } }))).toEqual([
      { type: 'ACKEPOCH', currentEpoch: -1, lastZxid: 0n },
    ]);
    const g = new ZabPeer(cfg(2), { ...empty, acceptedEpoch: 3, currentEpoch: 2 });
    step(g, { type: 'follow', leader: 1 });
    expect(step(g, { type: 'message', from: 1, msg: { type: 'LEADERINFO', newEpoch: 2, protocolVersion: 0x10000 } }).map((x) => x.type)).toContain('abandoned');
  });

  it('follower: TRUNC drops the uncommitted tail before syncing', () => {
    const f = new ZabPeer(cfg(2), { acceptedEpoch: 1, currentEpoch: 1, snapshotZxid: 0n, log: [txn(1, 1), txn(1, 2)], appliedZxid: makeZxid(1, 2) });
    step(f, { type: 'follow', leader: 1 });
    step(f, { type: 'message', from: 1, msg: { type: 'LEADERINFO', newEpoch: 2, protocolVersion: 0x10000 } });
    const t = step(f, { type: 'message', from: 1, msg: { type: 'TRUNC', zxid: makeZxid(1, 1), committedZxid: makeZxid(1, 1) } });
    expect(persists(t).map((p) => p.op)).toEqual([{ kind: 'truncate', zxid: makeZxid(1, 1) }]);
    expect(f.lastLoggedZxid).toBe(makeZxid(1, 1));
    expect(f.appliedZxid).toBe(makeZxid(1, 1));
  });
});

/** Leader 1 established with follower 2 (3 stays away). */
function establishedLeader(): ZabPeer {
  const l = new ZabPeer(cfg(1), empty);
  step(l, { type: 'lead' });
  const fi = step(l, { type: 'message', from: 2, msg: { type: 'FOLLOWERINFO', sid: 2, acceptedEpoch: 0, protocolVersion: 0x10000 } });
  expect(persists(fi)[0]?.op).toEqual({ kind: 'acceptedEpoch', epoch: 1 });
  expect(sends(fi)).toEqual([{ type: 'LEADERINFO', newEpoch: 1, protocolVersion: 0x10000 }]);
  step(l, { type: 'persisted', seq: lastSeq(fi) });
  const ae = step(l, { type: 'message', from: 2, msg: { type: 'ACKEPOCH', currentEpoch: 0, lastZxid: 0n } });
  expect(sends(ae)).toEqual([
    { type: 'DIFF', zxid: 0n, committedZxid: 0n },
    { type: 'NEWLEADER', zxid: makeZxid(1, 0), config: expect.any(String) },
  ]);
  step(l, { type: 'persisted', seq: lastSeq(ae) });
  expect(l.serving).toBe(false);
  const up = step(l, { type: 'message', from: 2, msg: { type: 'ACK', zxid: makeZxid(1, 0) } });
  expect(up).toContainEqual({ type: 'serving', role: 'leading', epoch: 1, leader: 1 });
  expect(sends(up)).toEqual([{ type: 'UPTODATE', zxid: makeZxid(1, 0) }]);
  return l;
}

describe('zab: leader', () => {
  it('leader: commits only with a quorum of durable acks, and strictly in zxid order', () => {
    const l = establishedLeader();
    expect(l.nextZxid()).toBe(makeZxid(1, 1));
    const p1 = step(l, { type: 'propose', txn: txn(1, 1) });
    const p2 = step(l, { type: 'propose', txn: txn(1, 2) });
    expect(sends(p1)).toEqual([{ type: 'PROPOSAL', txn: txn(1, 1) }]);
    // the follower acks 2 first: nothing commits (1 lacks a quorum, and order is zxid order)
    expect(step(l, { type: 'message', from: 2, msg: { type: 'ACK', zxid: makeZxid(1, 2) } }).some((x) => x.type === 'commit')).toBe(false);
    expect(step(l, { type: 'message', from: 2, msg: { type: 'ACK', zxid: makeZxid(1, 1) } }).some((x) => x.type === 'commit')).toBe(false);
    // the leader's own log becomes durable: both commit, 1 then 2
    const d = step(l, { type: 'persisted', seq: lastSeq(p2) });
    expect(d.filter((x) => x.type === 'commit').map((x) => (x as { txn: TxnRecord }).txn.zxid)).toEqual([makeZxid(1, 1), makeZxid(1, 2)]);
    expect(sends(d)).toEqual([
      { type: 'COMMIT', zxid: makeZxid(1, 1) },
      { type: 'COMMIT', zxid: makeZxid(1, 2) },
    ]);
  });

  it('leader: a learner rejoining with a proposal not yet committed gets TRUNC to the committed point and the proposal again', () => {
    const l = establishedLeader();
    const p1 = step(l, { type: 'propose', txn: txn(1, 1) });
    step(l, { type: 'persisted', seq: lastSeq(p1) });
    // follower 3 (restarted, it had logged and replayed 1:1) joins while 1:1 is outstanding
    step(l, { type: 'message', from: 3, msg: { type: 'FOLLOWERINFO', sid: 3, acceptedEpoch: 1, protocolVersion: 0x10000 } });
    const ae = step(l, { type: 'message', from: 3, msg: { type: 'ACKEPOCH', currentEpoch: -1, lastZxid: makeZxid(1, 1) } });
    expect(sends(ae)).toEqual([
      { type: 'TRUNC', zxid: 0n, committedZxid: 0n },
      { type: 'PROPOSAL', txn: txn(1, 1) },
      { type: 'NEWLEADER', zxid: makeZxid(1, 0), config: expect.any(String) },
    ]);
    // its NEWLEADER ack covers the re-sent proposal: with the leader that is a quorum
    const ack = step(l, { type: 'message', from: 3, msg: { type: 'ACK', zxid: makeZxid(1, 0) } });
    expect(ack.filter((x) => x.type === 'commit').map((x) => (x as { txn: TxnRecord }).txn.zxid)).toEqual([makeZxid(1, 1)]);
  });

  it('leader: a propose with the wrong zxid is a bug (asserts)', () => {
    const l = establishedLeader();
    expect(() => step(l, { type: 'propose', txn: txn(1, 5) })).toThrow(/expected 0x100000001/);
  });

  it('leader: steps down when its quorum goes silent for syncLimit ticks', () => {
    const l = establishedLeader();
    let abandoned: ZabEffect | undefined;
    for (let i = 0; i < 10 && !abandoned; i++) abandoned = step(l, { type: 'tick' }).find((x) => x.type === 'abandoned');
    expect(abandoned).toMatchObject({ type: 'abandoned', role: 'leading', reason: expect.stringMatching(/lost quorum/) });
    expect(l.serving).toBe(false);
  });

  it('leader: a follower that is ahead of the leader makes it abandon (stale election)', () => {
    const l = new ZabPeer(cfg(1), empty);
    step(l, { type: 'lead' });
    const fi = step(l, { type: 'message', from: 2, msg: { type: 'FOLLOWERINFO', sid: 2, acceptedEpoch: 0, protocolVersion: 0x10000 } });
    step(l, { type: 'persisted', seq: lastSeq(fi) });
    const ae = step(l, { type: 'message', from: 2, msg: { type: 'ACKEPOCH', currentEpoch: 0, lastZxid: makeZxid(0, 3) } });
    expect(ae.find((x) => x.type === 'abandoned')).toMatchObject({ reason: expect.stringMatching(/ahead of the leader/) });
  });

  it('leader: an ACKEPOCH of -1 (the learner already accepted this epoch elsewhere) does not count toward the epoch quorum', () => {
    const q5 = new QuorumMaj([1, 2, 3, 4, 5]);
    const l = new ZabPeer({ myid: 1, quorum: q5, initLimitTicks: 10, syncLimitTicks: 5 }, empty);
    step(l, { type: 'lead' });
    for (const sid of [2, 3]) step(l, { type: 'message', from: sid, msg: { type: 'FOLLOWERINFO', sid, acceptedEpoch: 0, protocolVersion: 0x10000 } });
    // epoch 1 chosen from (1, 2, 3); persist it
    const p = step(l, { type: 'message', from: 4, msg: { type: 'FOLLOWERINFO', sid: 4, acceptedEpoch: 1, protocolVersion: 0x10000 } });
    expect(sends(p)).toEqual([{ type: 'LEADERINFO', newEpoch: 1, protocolVersion: 0x10000 }]);
    step(l, { type: 'persisted', seq: 1 });
    step(l, { type: 'message', from: 2, msg: { type: 'ACKEPOCH', currentEpoch: 0, lastZxid: 0n } });
    // 4 had accepted epoch 1 from another would-be leader: its -1 must not make (1, 2, 4) a quorum
    const e = step(l, { type: 'message', from: 4, msg: { type: 'ACKEPOCH', currentEpoch: -1, lastZxid: 0n } });
    expect(persists(e).map((x) => x.op.kind)).not.toContain('currentEpoch');
    const e3 = step(l, { type: 'message', from: 3, msg: { type: 'ACKEPOCH', currentEpoch: 0, lastZxid: 0n } });
    expect(persists(e3).map((x) => x.op)).toContainEqual({ kind: 'currentEpoch', epoch: 1 });
  });

  it('leader: sync is answered only after a quorum confirms this leader after the request', () => {
    const l = establishedLeader();
    const s = step(l, { type: 'sync', sessionId: 0x77n, xid: 4 });
    expect(s.some((x) => x.type === 'synced')).toBe(false);
    const ping = sends(s).find((m) => m.type === 'PING') as { round: number };
    expect(step(l, { type: 'message', from: 2, msg: { type: 'PING', round: ping.round - 1, touches: [] } }).some((x) => x.type === 'synced')).toBe(false);
    expect(step(l, { type: 'message', from: 2, msg: { type: 'PING', round: ping.round, touches: [] } })).toContainEqual({ type: 'synced', sessionId: 0x77n, xid: 4, zxid: 0n });
  });
});
