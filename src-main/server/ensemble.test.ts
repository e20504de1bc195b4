/**
 * The ensemble contract of ServerCore: a leader core and a learner core wired by a tiny
 * synchronous stand-in for ZAB (a proposal commits on both at once unless held; forwards,
 * syncs and revalidations are delivered directly). ZAB itself is tested in src-main/zab.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCode as E } from '../common/error-codes';
import type { ACL, Request } from '../jute/types';
import { CreateFlags, OpCode, WatcherEventType as W } from '../jute/types';
import { OPEN_ACL_UNSAFE, digestId } from '../tree/acl';
import { EnsembleHarness } from './test-harness';

const sha1 = (b: Uint8Array) => new Uint8Array(createHash('sha1').update(b).digest());
const enc = (s: string) => new TextEncoder().encode(s);
const open: ACL[] = [...OPEN_ACL_UNSAFE];
const create = (path: string, flags = 0, acl: ACL[] = open): Request => ({ type: OpCode.create, req: { path, data: enc('v'), acl, flags } });

describe('ensemble: learner sessions and writes go through the leader', () => {
  it('new session on a learner: id carries the learner id, the leader tracks it, ConnectResponse after commit', () => {
    const q = new EnsembleHarness(sha1);
    q.holdCommits = true;
    q.learner.core.openConnection(1, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 4000, sessionId: 0n, passwd: new Uint8Array(16) }, '10.0.0.9');
    q.settle();
    expect(q.learner.take(1)).toEqual([]);
    q.release();
    const r = q.learner.take(1).find((x) => x.kind === 'connect-response');
    expect(r?.kind === 'connect-response' && r.response.sessionId >> 56n).toBe(2n);
    expect(q.leader.core.dump().sessions.map((s) => s.id)).toEqual([r?.kind === 'connect-response' && r.response.sessionId]);
    expect(q.proposals[0]!.header.zxid).toBe(0x100000001n);
  });

  it('a write on the learner is prepped by the leader and answered on the learner; replicas agree', () => {
    const q = new EnsembleHarness(sha1);
    q.connectLearner(1);
    const r = q.call(q.learner, 1, 1, create('/a'));
    expect(r).toMatchObject({ err: 0, response: { type: OpCode.create, path: '/a' }, zxid: 0x100000002n });
    expect(q.call(q.learner, 1, 2, create('/a')).err).toBe(E.NODEEXISTS);
    expect(q.call(q.learner, 1, 3, create('/q/', CreateFlags.PERSISTENT_SEQUENTIAL)).err).toBe(E.NONODE);
    expect(q.learner.core.tree.digest()).toBe(q.leader.core.tree.digest());
    // a repeated commit (e.g. after a learner reconnects) changes nothing and answers nobody
    const before = q.learner.core.tree.digest();
    q.learner.core.applyCommitted(q.proposals[1]!);
    q.learner.pump();
    expect(q.learner.take(1)).toEqual([]);
    expect(q.learner.core.tree.digest()).toBe(before);
  });

  it("the leader commits its own proposal by zxid (commitOwn) and refuses any other zxid", () => {
    const q = new EnsembleHarness(sha1);
    q.connectLearner(1);
    q.holdCommits = true;
    q.learner.core.request(1, { xid: 1, type: OpCode.create }, create('/own'));
    q.settle();
    const own = q.proposals[q.proposals.length - 1]!.header.zxid;
    expect(q.leader.core.commitOwn(own + 1n)).toBe(false);
    expect(q.leader.core.tree.getData('/own')).toBeUndefined();
    expect(q.leader.core.commitOwn(own)).toBe(true);
    expect(q.leader.core.tree.getData('/own')).toBeDefined();
    expect(q.leader.core.commitOwn(own)).toBe(false);
    expect(q.learner.core.commitOwn(own)).toBe(false);
  });

  it('pipelined on the learner: a read behind a forwarded write waits for its commit', () => {
    const q = new EnsembleHarness(sha1);
    q.connectLearner(1);
    q.holdCommits = true;
    q.learner.core.request(1, { xid: 1, type: OpCode.create }, create('/p'));
    q.learner.core.request(1, { xid: 2, type: OpCode.create }, create('/p/c'));
    q.learner.core.request(1, { xid: 3, type: OpCode.getChildren }, { type: OpCode.getChildren, req: { path: '/p', watch: false } });
    q.settle();
    expect(q.learner.take(1)).toEqual([]);
    q.release();
    const got = q.learner.take(1);
    expect(got.map((x) => x.kind === 'reply' && [x.header.xid, x.header.err])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    expect(got[2]!.kind === 'reply' && got[2]!.response).toEqual({ type: OpCode.getChildren, children: ['c'] });
  });

  it("the learner's auth ids travel with the forwarded write (auth ACL expands on the leader)", () => {
    const q = new EnsembleHarness(sha1);
    q.connectLearner(1);
    expect(q.call(q.learner, 1, -4, { type: OpCode.auth, req: { type: 0, scheme: 'digest', auth: enc('ann:pw') } }).err).toBe(0);
    q.call(q.learner, 1, 1, create('/mine', 0, [{ perms: 31, id: { scheme: 'auth', id: '' } }]));
    expect(q.leader.core.tree.getAcl('/mine')!.acl).toEqual([{ perms: 31, id: { scheme: 'digest', id: digestId('ann:pw', sha1) } }]);
  });

  it('sync on the learner waits for the leader, then answers in order', () => {
    const q = new EnsembleHarness(sha1);
    q.connectLearner(1);
    const r = q.call(q.learner, 1, 1, { type: OpCode.sync, req: { path: '/x' } });
    expect(r).toMatchObject({ err: 0, response: { type: OpCode.sync, path: '/x' } });
  });
});

describe('ensemble: session lifecycle across servers', () => {
  it('the leader expires a learner session: ephemerals go on both, the learner closes its connection and tells watchers', () => {
    const q = new EnsembleHarness(sha1);
    q.connectLearner(1);
    q.connectLearner(2, { timeOut: 40_000 });
    q.call(q.learner, 1, 1, create('/e', CreateFlags.EPHEMERAL));
    q.call(q.learner, 2, 1, { type: OpCode.exists, req: { path: '/e', watch: true } });
    // client 2 keeps its session alive through the learner's touches; client 1 is silent
    for (let i = 0; i < 4; i++) {
      q.learner.core.request(2, { xid: -2, type: OpCode.ping }, { type: OpCode.ping, req: null });
      q.leader.core.touchSessions(q.learner.core.takeSessionTouches());
      q.advance(2000);
    }
    expect(q.leader.core.tree.has('/e')).toBe(false);
    expect(q.learner.core.tree.has('/e')).toBe(false);
    expect(q.learner.take(1).map((x) => x.kind)).toEqual(['close']);
    expect(q.learner.take(2).filter((x) => x.kind === 'notification').map((x) => x.kind === 'notification' && x.event)).toEqual([{ type: W.NodeDeleted, state: 3, path: '/e' }]);
    expect(q.leader.core.dump().sessions).toHaveLength(1);
  });

  it('resume on the learner: the leader revalidates; a wrong password is refused without asking', () => {
    const q = new EnsembleHarness(sha1);
    const s = q.connectLearner(1)!;
    q.learner.core.connectionClosed(1);
    const again = q.connectLearner(5, { sessionId: s.sessionId, passwd: s.passwd, lastZxidSeen: 1n });
    expect(again?.sessionId).toBe(s.sessionId);
    const bad = q.connectLearner(6, { sessionId: s.sessionId, passwd: new Uint8Array(16) });
    expect(bad?.timeOut).toBe(0);
    expect(q.learner.take(5)).toEqual([]);
    // an unknown session: the leader says no
    const gone = q.connectLearner(7, { sessionId: 0x0200000000000999n, passwd: q.learner.core.password(0x0200000000000999n) });
    expect(gone?.timeOut).toBe(0);
  });

  it('closeSession from a learner client: reply then close; the leader forgets the session', () => {
    const q = new EnsembleHarness(sha1);
    q.connectLearner(1);
    q.call(q.learner, 1, 1, create('/e', CreateFlags.EPHEMERAL));
    q.learner.core.request(1, { xid: 2, type: OpCode.closeSession }, { type: OpCode.closeSession, req: null });
    q.settle();
    expect(q.learner.take(1).map((x) => x.kind)).toEqual(['reply', 'close']);
    expect(q.leader.core.tree.has('/e')).toBe(false);
    expect(q.leader.core.dump().sessions).toEqual([]);
  });

  it('session moved to the leader: a write still arriving through the learner closes that stale connection, changes nothing', () => {
    const q = new EnsembleHarness(sha1);
    const s = q.connectLearner(1)!;
    q.leader.core.openConnection(9, { protocolVersion: 0, lastZxidSeen: 1n, timeOut: 4000, sessionId: s.sessionId, passwd: s.passwd }, '127.0.0.1');
    q.settle();
    expect(q.leader.take(9).map((x) => x.kind)).toEqual(['connect-response']);
    q.learner.core.request(1, { xid: 1, type: OpCode.create }, create('/stale'));
    q.settle();
    expect(q.learner.take(1).map((x) => x.kind)).toEqual(['close']);
    expect(q.leader.core.tree.has('/stale')).toBe(false);
    expect(q.call(q.leader, 9, 1, create('/fresh')).err).toBe(0);
  });

  it('session moved to the learner: the leader closes its own connection holding it', () => {
    const q = new EnsembleHarness(sha1);
    q.leader.core.openConnection(9, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 4000, sessionId: 0n, passwd: new Uint8Array(16) }, '127.0.0.1');
    q.settle();
    const r = q.leader.take(9).find((x) => x.kind === 'connect-response');
    const s = r?.kind === 'connect-response' ? r.response : undefined;
    const moved = q.connectLearner(1, { sessionId: s!.sessionId, passwd: s!.passwd, lastZxidSeen: 1n });
    expect(moved?.sessionId).toBe(s!.sessionId);
    expect(q.leader.take(9).map((x) => x.kind)).toEqual(['close']);
    expect(q.call(q.learner, 1, 1, create('/via-learner')).err).toBe(0);
  });

  it("the leader's own clients: zxids of its epoch, propose effects instead of log", () => {
    const q = new EnsembleHarness(sha1);
    q.leader.core.openConnection(9, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 4000, sessionId: 0n, passwd: new Uint8Array(16) }, '127.0.0.1');
    q.settle();
    expect(q.leader.take(9).map((x) => x.kind)).toEqual(['connect-response']);
    expect(q.call(q.leader, 9, 1, create('/l')).zxid).toBe(0x100000002n);
    expect(q.leader.logged).toEqual([]);
    expect(q.learner.core.tree.has('/l')).toBe(true);
  });
});
