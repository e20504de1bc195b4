import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode as E } from '../common/error-codes';
import type { ACL, MultiOp, MultiResult, Request, Response } from '../jute/types';
import { CreateFlags, OpCode, Perms, WatcherEventType as W } from '../jute/types';
import { OPEN_ACL_UNSAFE, digestId } from '../tree/acl';
import { CoreHarness } from './test-harness';

const sha1 = (b: Uint8Array) => new Uint8Array(createHash('sha1').update(b).digest());
const enc = (s: string) => new TextEncoder().encode(s);
const open: ACL[] = [...OPEN_ACL_UNSAFE];

const create = (path: string, flags = 0, data: Uint8Array | null = enc('d'), acl: ACL[] = open): Request => ({ type: OpCode.create, req: { path, data, acl, flags } });
const del = (path: string, version = -1): Request => ({ type: OpCode.delete, req: { path, version } });
const setData = (path: string, data: string, version = -1): Request => ({ type: OpCode.setData, req: { path, data: enc(data), version } });
const getData = (path: string, watch = false): Request => ({ type: OpCode.getData, req: { path, watch } });
const exists = (path: string, watch = false): Request => ({ type: OpCode.exists, req: { path, watch } });
const children = (path: string, watch = false): Request => ({ type: OpCode.getChildren, req: { path, watch } });
const auth = (scheme: string, text: string): Request => ({ type: OpCode.auth, req: { type: 0, scheme, auth: enc(text) } });

const results = (r: Response | null): MultiResult[] => (r as { results: MultiResult[] }).results;

function h(opts: ConstructorParameters<typeof CoreHarness>[1] = {}) {
  return new CoreHarness(sha1, { tickTimeMs: 2000, ...opts });
}

describe('sessions: connect', () => {
  it('new session: createSession txn is logged first, then ConnectResponse with negotiated timeout', () => {
    const t = h();
    const r = t.connect(1, { timeOut: 30_000 });
    expect(r).toBeDefined();
    expect(r!.timeOut).toBe(30_000);
    expect(r!.sessionId >> 56n).toBe(1n);
    expect(r!.passwd).toEqual(t.core.password(r!.sessionId));
    expect(r!.readOnly).toBeUndefined();
    expect(t.logged.map((e) => e.txn)).toEqual([{ type: OpCode.createSession, timeOut: 30_000 }]);
    expect(t.core.lastProcessedZxid).toBe(1n);
    expect(t.core.tree.sessions.get(r!.sessionId)).toBe(30_000);
  });

  it('timeout clamps to [2×tick, 20×tick]; readOnly byte mirrored', () => {
    const t = h();
    expect(t.connect(1, { timeOut: 100, readOnly: false })!).toMatchObject({ timeOut: 4000, readOnly: false });
    expect(t.connect(2, { timeOut: 1_000_000 })!.timeOut).toBe(40_000);
  });

  it('connect-response waits for the createSession txn to be durable', () => {
    const t = h();
    t.holdLog = true;
    expect(t.connect(1)).toBeUndefined();
    t.releaseLog();
    expect(t.take(1).map((x) => x.kind)).toEqual(['connect-response']);
  });

  it('lastZxidSeen ahead of the server: closed with no response', () => {
    const t = h();
    expect(t.connect(1, { lastZxidSeen: 99n })).toBeUndefined();
    expect(t.take(1)).toEqual([{ kind: 'close', reason: expect.stringContaining('ahead') }]);
  });

  it('resume with a wrong password: invalid answer, and the owner keeps its connection (§9)', () => {
    const t = h();
    const s = t.connect(1)!;
    const bad = t.connect(2, { sessionId: s.sessionId, passwd: new Uint8Array(16).fill(7) })!;
    expect(bad).toMatchObject({ timeOut: 0, sessionId: 0n });
    expect(t.take(2).map((x) => x.kind)).toEqual(['close']);
    expect(t.take(1)).toEqual([]);
    expect(t.call(1, 1, exists('/')).err).toBe(0);
  });

  it('resume with the right password on another connection: old connection closed, same session', () => {
    const t = h();
    const s = t.connect(1)!;
    t.call(1, 1, create('/e', CreateFlags.EPHEMERAL));
    const again = t.connect(2, { sessionId: s.sessionId, passwd: s.passwd, lastZxidSeen: 2n })!;
    expect(again.sessionId).toBe(s.sessionId);
    expect(again.passwd).toEqual(s.passwd);
    expect(t.take(1).map((x) => x.kind)).toEqual(['close']);
    expect(t.core.tree.ephemeralsOf(s.sessionId)).toEqual(['/e']);
  });

  it('requests sent before the handshake completes are buffered, then answered in order', () => {
    const t = h();
    t.holdLog = true;
    t.connect(1);
    t.send(1, 1, exists('/zookeeper'));
    expect(t.take(1)).toEqual([]);
    t.holdLog = false;
    t.releaseLog();
    const got = t.take(1);
    expect(got.map((x) => x.kind)).toEqual(['connect-response', 'reply']);
  });
});

describe('sessions: expiry and close', () => {
  it('expiry after timeout rounded up to the tick: ephemerals deleted, watchers told, connection closed', () => {
    const t = h();
    const a = t.connect(1, { timeOut: 4000 })!;
    t.connect(2, { timeOut: 40_000 });
    t.call(1, 1, create('/eph', CreateFlags.EPHEMERAL));
    t.call(2, 1, exists('/eph', true));
    const start = t.nowMs;
    // the session's deadline is the tick boundary after now+4000
    const deadline = (Math.floor((start + 4000) / 2000) + 1) * 2000;
    t.advance(deadline - start - 1);
    expect(t.core.tree.has('/eph')).toBe(true);
    t.advance(1);
    expect(t.core.tree.has('/eph')).toBe(false);
    expect(t.take(1).map((x) => x.kind)).toEqual(['close']);
    expect(t.take(2)).toEqual([{ kind: 'notification', zxid: expect.any(BigInt), event: { type: W.NodeDeleted, state: 3, path: '/eph' } }]);
    expect(t.traces.some((e) => e.kind === 'session.expired')).toBe(true);
    // a resume is now refused
    expect(t.connect(3, { sessionId: a.sessionId, passwd: a.passwd, lastZxidSeen: 0n })!.timeOut).toBe(0);
  });

  it('any packet (a ping) keeps the session alive', () => {
    const t = h();
    t.connect(1, { timeOut: 4000 });
    for (let i = 0; i < 10; i++) {
      t.advance(3000);
      t.send(1, -2, { type: OpCode.ping, req: null });
      expect(t.take(1).map((x) => (x.kind === 'reply' ? x.header.xid : x.kind))).toEqual([-2]);
    }
    expect(t.core.stats().sessionCount).toBe(1);
  });

  it('a disconnected session lives until its timeout, then its ephemerals go', () => {
    const t = h();
    t.connect(1, { timeOut: 4000 });
    t.call(1, 1, create('/e', CreateFlags.EPHEMERAL));
    t.core.connectionClosed(1);
    t.advance(2000);
    expect(t.core.tree.has('/e')).toBe(true);
    t.advance(4000);
    expect(t.core.tree.has('/e')).toBe(false);
  });

  it('closeSession: ephemerals removed under one zxid, reply then close', () => {
    const t = h();
    const s = t.connect(1)!;
    t.call(1, 1, create('/e1', CreateFlags.EPHEMERAL));
    t.call(1, 2, create('/e2', CreateFlags.EPHEMERAL));
    t.send(1, 3, { type: OpCode.closeSession, req: null });
    const got = t.take(1);
    expect(got.map((x) => x.kind)).toEqual(['reply', 'close']);
    const last = t.logged[t.logged.length - 1]!;
    expect(last.txn).toEqual({ type: OpCode.closeSession, paths2Delete: ['/e1', '/e2'] });
    expect(t.core.tree.ephemeralsOf(s.sessionId)).toEqual([]);
    expect(t.core.tree.sessions.has(s.sessionId)).toBe(false);
  });

  it('closeSession sees pipelined (unapplied) ephemeral creates', () => {
    const t = h();
    t.connect(1);
    t.holdLog = true;
    t.send(1, 1, create('/p', CreateFlags.EPHEMERAL));
    t.send(1, 2, { type: OpCode.closeSession, req: null });
    t.releaseLog();
    expect(t.logged[t.logged.length - 1]!.txn).toEqual({ type: OpCode.closeSession, paths2Delete: ['/p'] });
    expect(t.core.tree.has('/p')).toBe(false);
  });

  it('restart: sessions restored from the tree get a fresh full timeout', () => {
    const t = h();
    const start = t.nowMs;
    const s = t.connect(1, { timeOut: 4000 })!;
    t.call(1, 1, create('/e', CreateFlags.EPHEMERAL));
    t.core.connectionClosed(1);
    // the old deadline was start+6000; the restarted server gives start+5000+4000 → start+10000
    const u = new CoreHarness(sha1, { tickTimeMs: 2000, tree: t.core.tree }, 1, start + 5000);
    u.advance(1500);
    expect(u.core.tree.has('/e')).toBe(true);
    const back = u.connect(5, { sessionId: s.sessionId, passwd: s.passwd, lastZxidSeen: 2n, timeOut: 4000 })!;
    expect(back.sessionId).toBe(s.sessionId);
    u.core.connectionClosed(5);
    u.advance(10_000);
    expect(u.core.tree.has('/e')).toBe(false);
  });
});

describe('prep: create checks in ZooKeeper order', () => {
  let t: CoreHarness;
  beforeEach(() => {
    t = h();
    t.connect(1);
    t.call(1, 1, create('/p'));
    t.call(1, 2, create('/ro', 0, null, [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }]));
    t.call(1, 3, create('/eph', CreateFlags.EPHEMERAL));
  });
  const cases: [string, Request, number][] = [
    ['flags 7 → BADARGUMENTS', create('/p/x', 7), E.BADARGUMENTS],
    ['TTL while disabled → UNIMPLEMENTED (before path checks)', { type: OpCode.createTTL, req: { path: 'bad', data: null, acl: [], flags: 5, ttl: 10n } }, E.UNIMPLEMENTED],
    ['no slash → BADARGUMENTS', create('p'), E.BADARGUMENTS],
    ['empty ACL → INVALIDACL before a missing parent', create('/missing/x', 0, null, []), E.INVALIDACL],
    ['auth ACL without digest auth → INVALIDACL', create('/p/x', 0, null, [{ perms: 31, id: { scheme: 'auth', id: '' } }]), E.INVALIDACL],
    ['parent missing → NONODE', create('/missing/x'), E.NONODE],
    ['existing node under an open parent → NODEEXISTS', create('/ro'), E.NODEEXISTS],
    ['no CREATE on parent → NOAUTH', create('/ro/x'), E.NOAUTH],
    ['trailing slash, not sequential → BADARGUMENTS after parent checks', create('/p/'), E.BADARGUMENTS],
    ['"." segment → BADARGUMENTS', create('/p/.'), E.BADARGUMENTS],
    ['exists → NODEEXISTS', create('/p'), E.NODEEXISTS],
    ['"/" → NODEEXISTS', create('/'), E.NODEEXISTS],
    ['under an ephemeral → NOCHILDRENFOREPHEMERALS', create('/eph/x'), E.NOCHILDRENFOREPHEMERALS],
    ['createTTL op with a non-TTL mode → BADARGUMENTS', { type: OpCode.createTTL, req: { path: '/c', data: null, acl: open, flags: 0, ttl: -1n } }, E.BADARGUMENTS],
    ['data over 1 MiB → BADARGUMENTS', create('/big', 0, new Uint8Array(1024 * 1024 + 1)), E.BADARGUMENTS],
  ];
  for (const [name, req, err] of cases) it(name, () => expect(t.call(1, 10, req).err).toBe(err));

  it('sequential create of "/p/" yields "/p/0000000000"; errors still consume a zxid', () => {
    const before = t.core.lastProcessedZxid;
    expect(t.call(1, 10, create('/p/x', 7)).zxid).toBe(before + 1n);
    expect(t.logged[t.logged.length - 1]!.txn).toEqual({ type: OpCode.error, err: E.BADARGUMENTS });
    expect(t.call(1, 11, create('/p/', CreateFlags.PERSISTENT_SEQUENTIAL)).response).toEqual({ type: OpCode.create, path: '/p/0000000000' });
  });

  it('the opcode makes a container: createContainer with flags 0 does, create with flag 4 does not (as upstream)', () => {
    expect(t.call(1, 10, { type: OpCode.createContainer, req: { path: '/k1', data: null, acl: open, flags: 0 } }).response).toMatchObject({ type: OpCode.createContainer, path: '/k1' });
    expect(t.call(1, 11, create('/k2', CreateFlags.CONTAINER)).response).toEqual({ type: OpCode.create, path: '/k2' });
    expect(t.core.tree.containers()).toEqual(['/k1']);
  });

  it('TTL enabled: range checks and a TTL node with create2-style reply', () => {
    const u = h({ extendedTypesEnabled: true });
    u.connect(1);
    const ttl = (flags: number, ttlMs: bigint): Request => ({ type: OpCode.createTTL, req: { path: '/t', data: null, acl: open, flags, ttl: ttlMs } });
    expect(u.call(1, 1, ttl(5, 0n)).err).toBe(E.BADARGUMENTS);
    expect(u.call(1, 2, ttl(5, 2n ** 40n)).err).toBe(E.BADARGUMENTS);
    expect(u.call(1, 3, ttl(0, 100n)).err).toBe(E.BADARGUMENTS);
    const r = u.call(1, 4, ttl(6, 100n));
    expect(r.response).toMatchObject({ type: OpCode.createTTL, path: '/t0000000000', stat: { ephemeralOwner: 0n } });
  });
});

describe('prep: delete, setData, setACL', () => {
  let t: CoreHarness;
  beforeEach(() => {
    t = h();
    t.connect(1);
    t.call(1, 1, create('/a'));
    t.call(1, 2, create('/a/b'));
    t.call(1, 3, create('/nodel', 0, null, [{ perms: Perms.ALL & ~Perms.DELETE & ~Perms.WRITE & ~Perms.ADMIN, id: { scheme: 'world', id: 'anyone' } }]));
    t.call(1, 4, create('/nodel/c'));
  });
  it.each([
    ['/zookeeper', -1, E.BADARGUMENTS],
    ['/zookeeper/config', -1, E.BADARGUMENTS],
    ['/', -1, E.BADARGUMENTS],
    ['/x/y', -1, E.NONODE],
    ['/nodel/c', -1, E.NOAUTH],
    ['/a/zz', -1, E.NONODE],
    ['/a/b', 5, E.BADVERSION],
    ['/a', -1, E.NOTEMPTY],
    ['/a/b', 0, E.OK],
  ])('delete %s version %d → %d', (path, version, err) => expect(t.call(1, 9, del(path, version)).err).toBe(err));

  it('setData: checks, then version increments and the reply carries the new Stat', () => {
    expect(t.call(1, 9, setData('/a/', 'x')).err).toBe(E.BADARGUMENTS);
    expect(t.call(1, 9, setData('/zz', 'x')).err).toBe(E.NONODE);
    expect(t.call(1, 9, setData('/nodel', 'x')).err).toBe(E.NOAUTH);
    expect(t.call(1, 9, setData('/a', 'x', 3)).err).toBe(E.BADVERSION);
    const r = t.call(1, 9, setData('/a', 'hello', 0));
    expect(r.response).toMatchObject({ type: OpCode.setData, stat: { version: 1, dataLength: 5, mzxid: r.zxid } });
  });

  it('setACL: INVALIDACL, NONODE, NOAUTH (ADMIN), BADVERSION on aversion; success bumps aversion only', () => {
    const setAcl = (path: string, acl: ACL[], version = -1): Request => ({ type: OpCode.setACL, req: { path, acl, version } });
    expect(t.call(1, 9, setAcl('/a', [])).err).toBe(E.INVALIDACL);
    expect(t.call(1, 9, setAcl('/zz', open)).err).toBe(E.NONODE);
    expect(t.call(1, 9, setAcl('/nodel', open)).err).toBe(E.NOAUTH);
    expect(t.call(1, 9, setAcl('/a', open, 2)).err).toBe(E.BADVERSION);
    const r = t.call(1, 9, setAcl('/a', open, 0));
    expect(r.response).toMatchObject({ type: OpCode.setACL, stat: { aversion: 1, version: 0 } });
  });
});

describe('pipeline: prep sees unapplied predecessors, replies stay in request order', () => {
  it('create /a, create /a/b, delete /a (NOTEMPTY), all prepped before any is durable', () => {
    const t = h();
    t.connect(1);
    t.holdLog = true;
    t.send(1, 1, create('/a'));
    t.send(1, 2, create('/a/b'));
    t.send(1, 3, del('/a'));
    t.send(1, 4, getData('/a/b'));
    t.send(1, 5, create('/a/', CreateFlags.PERSISTENT_SEQUENTIAL));
    expect(t.take(1)).toEqual([]);
    t.releaseLog();
    const got = t.take(1);
    expect(got.map((x) => (x.kind === 'reply' ? [x.header.xid, x.header.err] : x.kind))).toEqual([
      [1, 0],
      [2, 0],
      [3, E.NOTEMPTY],
      [4, 0],
      [5, 0],
    ]);
    const seq = got[4]!;
    expect(seq.kind === 'reply' && seq.response).toEqual({ type: OpCode.create, path: '/a/0000000001' });
  });

  it('a read behind a pending write waits and sees it; another connection is not blocked', () => {
    const t = h();
    t.connect(1);
    t.connect(2);
    t.holdLog = true;
    t.send(1, 1, create('/x'));
    t.send(1, 2, getData('/x'));
    t.send(2, 1, exists('/x'));
    expect(t.take(1)).toEqual([]);
    expect(t.take(2).map((x) => x.kind === 'reply' && x.header.err)).toEqual([E.NONODE]);
    t.releaseLog();
    const got = t.take(1);
    expect(got.map((x) => x.kind === 'reply' && x.header.xid)).toEqual([1, 2]);
    expect(got[1]!.kind === 'reply' && got[1]!.header.err).toBe(0);
  });

  it('sync waits for every write proposed before it, from any connection', () => {
    const t = h();
    t.connect(1);
    t.connect(2);
    t.holdLog = true;
    t.send(1, 1, create('/s'));
    t.send(2, 1, { type: OpCode.sync, req: { path: '/s' } });
    expect(t.take(2)).toEqual([]);
    t.releaseLog();
    expect(t.take(2)).toEqual([{ kind: 'reply', header: { xid: 1, zxid: 3n, err: 0 }, response: { type: OpCode.sync, path: '/s' } }]);
  });

  it('ping and auth replies keep their place in order', () => {
    const t = h();
    t.connect(1);
    t.holdLog = true;
    t.send(1, 1, create('/o'));
    t.send(1, -2, { type: OpCode.ping, req: null });
    t.send(1, -4, auth('digest', 'u:p'));
    t.releaseLog();
    expect(t.take(1).map((x) => x.kind === 'reply' && [x.header.xid, x.header.zxid])).toEqual([
      [1, 2n],
      [-2, 2n],
      [-4, 0n],
    ]);
  });

  it('unknown opcode: UNIMPLEMENTED after the earlier replies, then close; later requests ignored', () => {
    const t = h();
    t.connect(1);
    t.holdLog = true;
    t.send(1, 1, create('/u'));
    t.send(1, 2, null, 999);
    t.send(1, 3, exists('/u'));
    t.releaseLog();
    expect(t.take(1).map((x) => (x.kind === 'reply' ? [x.header.xid, x.header.err, x.header.zxid] : x.kind))).toEqual([[1, 0, 2n], [2, E.UNIMPLEMENTED, -1n], 'close']);
  });

  it('top-level check is refused and never logged; createSession mid-session closes', () => {
    const t = h();
    t.connect(1);
    const n = t.logged.length;
    t.send(1, 1, { type: OpCode.check, req: { path: '/', version: -1 } });
    expect(t.take(1).map((x) => (x.kind === 'reply' ? x.header.err : x.kind))).toEqual([E.UNIMPLEMENTED, 'close']);
    expect(t.logged.length).toBe(n);
    t.connect(2);
    t.send(2, 1, null, OpCode.createSession);
    expect(t.take(2).map((x) => x.kind)).toEqual(['close']);
  });

  it('deleteContainer from a client → BADARGUMENTS, as upstream (its body is read as a bare path)', () => {
    const t = h();
    t.connect(1);
    t.call(1, 1, { type: OpCode.createContainer, req: { path: '/c', data: null, acl: open, flags: CreateFlags.CONTAINER } });
    expect(t.call(1, 2, { type: OpCode.deleteContainer, req: { path: '/c' } }).err).toBe(E.BADARGUMENTS);
    expect(t.core.tree.has('/c')).toBe(true);
  });

  it('sasl without a configured mechanism: an empty token, as upstream, and the connection stays', () => {
    const t = h();
    t.connect(1);
    expect(t.call(1, 1, { type: OpCode.sasl, req: { token: new Uint8Array(0) } }).response).toEqual({ type: OpCode.sasl, token: null });
    expect(t.call(1, 2, { type: OpCode.whoAmI, req: null }).response).toEqual({ type: OpCode.whoAmI, clientInfo: [{ authScheme: 'ip', user: '127.0.0.1' }] });
  });

  it('reconfig → RECONFIGDISABLED, connection stays', () => {
    const t = h();
    t.connect(1);
    expect(t.call(1, 1, { type: OpCode.reconfig, req: { joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n } }).err).toBe(E.RECONFIGDISABLED);
    // refused in prep, so like upstream it is an error txn with a zxid of its own
    expect(t.logged[t.logged.length - 1]!.txn).toEqual({ type: OpCode.error, err: E.RECONFIGDISABLED });
    expect(t.call(1, 2, exists('/')).err).toBe(0);
  });
});

describe('multi', () => {
  const m = (ops: MultiOp[]): Request => ({ type: OpCode.multi, req: { ops } });
  it('success: one zxid, later ops see earlier ones; create and create2 sub-ops reported as 1, container as 15', () => {
    const t = h();
    t.connect(1);
    const r = t.call(
      1,
      1,
      m([
        { type: OpCode.create, req: { path: '/m', data: null, acl: open, flags: 0 } },
        { type: OpCode.create2, req: { path: '/m/c', data: null, acl: open, flags: 0 } },
        { type: OpCode.setData, req: { path: '/m', data: enc('v'), version: 0 } },
        { type: OpCode.check, req: { path: '/m', version: 1 } },
        { type: OpCode.delete, req: { path: '/m/c', version: 0 } },
        { type: OpCode.createContainer, req: { path: '/m/k', data: null, acl: open, flags: CreateFlags.CONTAINER } },
      ]),
    );
    expect(r.err).toBe(0);
    const res = results(r.response);
    expect(res.map((x) => x.type)).toEqual([OpCode.create, OpCode.create, OpCode.setData, OpCode.check, OpCode.delete, OpCode.create2]);
    expect(res[0]).toEqual({ type: OpCode.create, path: '/m' });
    expect(res[1]).toEqual({ type: OpCode.create, path: '/m/c' });
    expect(res[5]).toMatchObject({ type: OpCode.create2, path: '/m/k', stat: { czxid: r.zxid } });
    expect(t.core.tree.stat('/m')!.czxid).toBe(r.zxid);
    expect(t.core.tree.stat('/m')!.version).toBe(1);
  });

  it('failure: before → 0, failing op → its code, after → RUNTIMEINCONSISTENCY; header err 0; nothing applied; zxid consumed', () => {
    const t = h();
    t.connect(1);
    const before = t.core.lastProcessedZxid;
    const r = t.call(
      1,
      1,
      m([
        { type: OpCode.create, req: { path: '/f', data: null, acl: open, flags: 0 } },
        { type: OpCode.delete, req: { path: '/nope', version: -1 } },
        { type: OpCode.create, req: { path: '/g', data: null, acl: open, flags: 0 } },
      ]),
    );
    expect(r.err).toBe(0);
    expect(r.zxid).toBe(before + 1n);
    expect(results(r.response)).toEqual([
      { type: OpCode.error, err: 0 },
      { type: OpCode.error, err: E.NONODE },
      { type: OpCode.error, err: E.RUNTIMEINCONSISTENCY },
    ]);
    expect(t.core.tree.has('/f')).toBe(false);
    // the failed multi's staged create must not leak into later requests
    expect(t.call(1, 2, create('/f/x')).err).toBe(E.NONODE);
  });

  it('multiRead: independent per-op results', () => {
    const t = h();
    t.connect(1);
    t.call(1, 1, create('/r'));
    const r = t.call(1, 2, {
      type: OpCode.multiRead,
      req: {
        ops: [
          { type: OpCode.getData, req: { path: '/r' } },
          { type: OpCode.getChildren, req: { path: '/nope' } },
          { type: OpCode.getChildren, req: { path: '/' } },
        ],
      },
    });
    const res = results(r.response);
    expect(res[0]).toMatchObject({ type: OpCode.getData, data: enc('d') });
    expect(res[1]).toEqual({ type: OpCode.error, err: E.NONODE });
    expect(res[2]).toEqual({ type: OpCode.getChildren, children: ['r', 'zookeeper'] });
  });
});

describe('watches through the pipeline', () => {
  it('notification precedes the reply that reveals the change, on the writer and on others', () => {
    const t = h();
    t.connect(1);
    t.connect(2);
    t.call(1, 1, create('/w'));
    t.call(1, 2, getData('/w', true));
    t.call(2, 1, getData('/w', true));
    t.send(1, 3, setData('/w', 'new'));
    expect(t.take(1).map((x) => x.kind)).toEqual(['notification', 'reply']);
    const other = t.take(2);
    expect(other).toEqual([{ kind: 'notification', zxid: t.core.lastProcessedZxid, event: { type: W.NodeDataChanged, state: 3, path: '/w' } }]);
    // one-shot
    t.call(1, 4, setData('/w', 'again'));
    expect(t.take(2)).toEqual([]);
  });

  it('create/delete events: exists watch → NodeCreated, child watch → NodeChildrenChanged, NodeDeleted', () => {
    const t = h();
    t.connect(1);
    t.connect(2);
    expect(t.call(2, 1, exists('/n', true)).err).toBe(E.NONODE);
    t.call(2, 2, children('/', true));
    t.call(1, 1, create('/n'));
    expect(t.take(2).map((x) => x.kind === 'notification' && [x.event.type, x.event.path])).toEqual([
      [W.NodeCreated, '/n'],
      [W.NodeChildrenChanged, '/'],
    ]);
    t.call(2, 3, exists('/n', true));
    t.call(2, 4, children('/n', true));
    t.call(1, 2, del('/n'));
    expect(t.take(2).map((x) => x.kind === 'notification' && [x.event.type, x.event.path])).toEqual([[W.NodeDeleted, '/n']]);
  });

  it('no event without READ on the node (ZOOKEEPER-4799)', () => {
    const t = h();
    t.connect(1);
    t.connect(2);
    t.call(1, -4, auth('digest', 'a:b'));
    t.call(1, 1, create('/secret', 0, null, [{ perms: 31, id: { scheme: 'auth', id: '' } }]));
    t.call(2, 1, { type: OpCode.addWatch, req: { path: '/', mode: 1 } });
    t.call(1, 2, setData('/secret', 'x'));
    expect(t.take(2)).toEqual([]);
  });

  it('multiRead holding a write, multi holding a read, addWatch with an unknown mode → MARSHALLINGERROR for the whole request (as 3.8)', () => {
    const t = h();
    t.connect(1);
    const mixed = t.call(1, 1, { type: OpCode.multiRead, req: { ops: [{ type: OpCode.getChildren, req: { path: '/' } }, { type: OpCode.delete, req: { path: '/x', version: -1 } }] } });
    expect(mixed.err).toBe(E.MARSHALLINGERROR);
    expect(t.call(1, 2, { type: OpCode.addWatch, req: { path: '/', mode: 7 } }).err).toBe(E.MARSHALLINGERROR);
    const before = t.core.lastProcessedZxid;
    const writeWithRead = t.call(1, 3, { type: OpCode.multi, req: { ops: [{ type: OpCode.create, req: { path: '/m', data: null, acl: open, flags: 0 } }, { type: OpCode.getData, req: { path: '/' } }] } });
    expect(writeWithRead.err).toBe(E.MARSHALLINGERROR);
    expect(t.core.lastProcessedZxid).toBe(before);
    expect(t.call(1, 4, create('/m')).err).toBe(0);
  });

  it('persistent recursive watch via addWatch gets descendants, removeWatches → NOWATCHER when gone', () => {
    const t = h();
    t.connect(1);
    t.connect(2);
    expect(t.call(2, 1, { type: OpCode.addWatch, req: { path: '/r', mode: 1 } }).response).toEqual({ type: OpCode.addWatch });
    t.call(1, 1, create('/r'));
    t.call(1, 2, create('/r/a'));
    t.call(1, 3, setData('/r/a', 'x'));
    expect(t.take(2).map((x) => x.kind === 'notification' && [x.event.type, x.event.path])).toEqual([
      [W.NodeCreated, '/r'],
      [W.NodeCreated, '/r/a'],
      [W.NodeDataChanged, '/r/a'],
    ]);
    expect(t.call(2, 2, { type: OpCode.checkWatches, req: { path: '/r', type: 5 } }).err).toBe(0);
    expect(t.call(2, 3, { type: OpCode.removeWatches, req: { path: '/r', type: 5 } }).err).toBe(0);
    expect(t.call(2, 4, { type: OpCode.removeWatches, req: { path: '/r', type: 5 } }).err).toBe(E.NOWATCHER);
  });

  it('setWatches with relativeZxid: missed changes fire before the reply; the rest register', () => {
    const t = h();
    t.connect(1);
    t.call(1, 1, create('/same'));
    t.call(1, 2, create('/changed'));
    const rel = t.core.lastProcessedZxid;
    t.call(1, 3, setData('/changed', 'v'));
    t.call(1, 4, create('/born'));
    t.connect(2);
    t.send(2, -8, {
      type: OpCode.setWatches,
      req: { relativeZxid: rel, dataWatches: ['/same', '/changed', '/gone'], existWatches: ['/born', '/notyet'], childWatches: ['/same'] },
    });
    const got = t.take(2);
    expect(got.map((x) => (x.kind === 'notification' ? [x.event.type, x.event.path] : x.kind === 'reply' ? ['reply', x.header.xid] : x.kind))).toEqual([
      [W.NodeDataChanged, '/changed'],
      [W.NodeDeleted, '/gone'],
      [W.NodeCreated, '/born'],
      ['reply', -8],
    ]);
    t.call(1, 5, setData('/same', 'v'));
    t.call(1, 6, create('/notyet'));
    t.call(1, 7, create('/same/kid'));
    expect(t.take(2).map((x) => x.kind === 'notification' && [x.event.type, x.event.path])).toEqual([
      [W.NodeDataChanged, '/same'],
      [W.NodeCreated, '/notyet'],
      [W.NodeChildrenChanged, '/same'],
    ]);
  });

  it('watches belong to the connection: dropped when it closes', () => {
    const t = h();
    t.connect(1);
    t.call(1, 1, exists('/q', true));
    expect(t.core.stats().watchCount).toBe(1);
    t.core.connectionClosed(1);
    expect(t.core.stats().watchCount).toBe(0);
  });
});

describe('auth and ACLs', () => {
  it('digest ACL: only the authenticated user may read; getACL redacts without ADMIN', () => {
    const t = h();
    t.connect(1);
    t.connect(2);
    t.call(1, -4, auth('digest', 'alice:pw'));
    const id = digestId('alice:pw', sha1);
    t.call(1, 1, create('/mine', 0, enc('s'), [
      { perms: Perms.ALL, id: { scheme: 'auth', id: '' } },
      { perms: Perms.READ, id: { scheme: 'ip', id: '10.9.9.9' } },
    ]));
    expect(t.call(1, 2, getData('/mine')).err).toBe(0);
    expect(t.call(2, 1, getData('/mine')).err).toBe(E.NOAUTH);
    expect(t.call(2, 2, exists('/mine')).err).toBe(E.NOAUTH);
    expect(t.call(1, 3, { type: OpCode.getACL, req: { path: '/mine' } }).response).toMatchObject({ acl: [{ perms: 31, id: { scheme: 'digest', id } }, { perms: 1 }] });
    t.connect(3, {}, '10.9.9.9');
    expect(t.call(3, 1, { type: OpCode.getACL, req: { path: '/mine' } }).response).toMatchObject({ acl: [{ perms: 31, id: { scheme: 'digest', id: 'alice:x' } }, { perms: 1 }] });
  });

  it('super digest bypasses every ACL', () => {
    const superDigest = digestId('super:adminpw', sha1);
    const t = h({ superDigest });
    t.connect(1);
    t.call(1, 1, create('/locked', 0, null, [{ perms: Perms.READ, id: { scheme: 'digest', id: 'nobody:x' } }]));
    expect(t.call(1, 2, getData('/locked')).err).toBe(E.NOAUTH);
    t.call(1, -4, auth('digest', 'super:adminpw'));
    expect(t.call(1, 3, getData('/locked')).err).toBe(0);
    expect(t.call(1, 4, del('/locked')).err).toBe(0);
  });

  it('addauth with an unknown scheme: AUTHFAILED, then close', () => {
    const t = h();
    t.connect(1);
    t.send(1, -4, auth('kerberos', 'x'));
    expect(t.take(1).map((x) => (x.kind === 'reply' ? [x.header.xid, x.header.err] : x.kind))).toEqual([[-4, E.AUTHFAILED], 'close']);
  });

  it('whoAmI lists ip and digest user; getEphemerals by prefix; getAllChildrenNumber', () => {
    const t = h();
    t.connect(1, {}, '::ffff:127.0.0.1');
    t.call(1, -4, auth('digest', 'bob:pw'));
    expect(t.call(1, 1, { type: OpCode.whoAmI, req: null }).response).toEqual({
      type: OpCode.whoAmI,
      clientInfo: [
        { authScheme: 'ip', user: '127.0.0.1' },
        { authScheme: 'digest', user: 'bob' },
      ],
    });
    t.call(1, 2, create('/e1', CreateFlags.EPHEMERAL));
    t.call(1, 3, create('/f1', CreateFlags.EPHEMERAL));
    expect(t.call(1, 4, { type: OpCode.getEphemerals, req: { prefixPath: '/e' } }).response).toEqual({ type: OpCode.getEphemerals, ephemerals: ['/e1'] });
    expect(t.call(1, 5, { type: OpCode.getEphemerals, req: { prefixPath: '/' } }).response).toEqual({ type: OpCode.getEphemerals, ephemerals: ['/e1', '/f1'] });
    expect(t.call(1, 6, { type: OpCode.getAllChildrenNumber, req: { path: '/' } }).response).toEqual({ type: OpCode.getAllChildrenNumber, totalNumber: 5 });
  });
});

describe('containers and TTL reaping', () => {
  it('an emptied container is deleted by the reaper on its next run, with watch events', () => {
    const t = h({ containerCheckIntervalMs: 1000 });
    t.connect(1, { timeOut: 40_000 });
    expect(t.call(1, 1, { type: OpCode.createContainer, req: { path: '/c', data: null, acl: open, flags: CreateFlags.CONTAINER } }).response).toMatchObject({ type: OpCode.createContainer, path: '/c' });
    t.advance(1000);
    expect(t.core.tree.has('/c')).toBe(true);
    t.call(1, 2, create('/c/x'));
    t.call(1, 3, del('/c/x'));
    t.call(1, 4, exists('/c', true));
    t.advance(1000);
    expect(t.core.tree.has('/c')).toBe(false);
    expect(t.take(1).map((x) => x.kind === 'notification' && x.event.type)).toEqual([W.NodeDeleted]);
    expect(t.logged[t.logged.length - 1]!.txn).toEqual({ type: OpCode.deleteContainer, path: '/c' });
  });

  it('a TTL node goes once untouched for longer than its TTL', () => {
    const t = h({ containerCheckIntervalMs: 1000, extendedTypesEnabled: true });
    t.connect(1, { timeOut: 40_000 });
    t.call(1, 1, { type: OpCode.createTTL, req: { path: '/t', data: null, acl: open, flags: CreateFlags.PERSISTENT_WITH_TTL, ttl: 2500n } });
    t.advance(1000);
    t.advance(1000);
    expect(t.core.tree.has('/t')).toBe(true);
    t.advance(1000);
    expect(t.core.tree.has('/t')).toBe(false);
  });
});

describe('trace events for the write path', () => {
  it('a write: request.received, txn.applied, request.replied share its zxid; a read: read.local without one', () => {
    const t = h();
    t.connect(1);
    t.traces.length = 0;
    const w = t.call(1, 1, create('/tr'));
    t.call(1, 2, getData('/tr'));
    t.send(1, -2, { type: OpCode.ping, req: null });
    const z = `0x${w.zxid.toString(16)}`;
    expect(t.traces.map((e) => [e.kind, e.zxid ?? null, e.xid ?? null])).toEqual([
      ['request.received', z, 1],
      ['txn.applied', z, null],
      ['request.replied', z, 1],
      ['read.local', null, 2],
    ]);
    expect(t.traces[3]).toMatchObject({ op: 'getData', path: '/tr', session: `0x${t.core.connections()[0]!.sessionId.toString(16)}` });
  });
});

describe('trace events when nobody reads them', () => {
  it('tracing: false → no per-request events (received, applied, replied, read, watch), session events stay', () => {
    const t = new CoreHarness(sha1, { tickTimeMs: 2000 }, 1, undefined, false);
    t.connect(1);
    t.call(1, 1, create('/quiet'));
    t.call(1, 2, exists('/quiet', true));
    t.call(1, 3, setData('/quiet', 'x'));
    t.call(1, 4, getData('/quiet'));
    expect(t.traces.map((e) => e.kind)).toEqual(['session.created']);
  });
});

describe('stats for four-letter words', () => {
  it('counts packets, connections, znodes, watches, ephemerals; cons/wchc/wchp/dump', () => {
    const t = h();
    const s = t.connect(1)!;
    t.call(1, 1, create('/e', CreateFlags.EPHEMERAL));
    t.call(1, 2, exists('/e', true));
    const st = t.core.stats();
    expect(st).toMatchObject({ aliveConnections: 1, znodeCount: 5, watchCount: 1, ephemeralsCount: 1, outstandingRequests: 0, sessionCount: 1 });
    expect(st.packetsReceived).toBe(3);
    expect(st.packetsSent).toBe(3);
    expect(t.core.connections()[0]).toMatchObject({ sessionId: s.sessionId, lastOp: 'exists', received: 2, remoteAddress: '127.0.0.1' });
    expect(t.core.watchesBySession()).toEqual(new Map([[s.sessionId, ['/e']]]));
    expect(t.core.watchesByPath()).toEqual(new Map([['/e', [s.sessionId]]]));
    expect(t.core.watchSummary()).toEqual({ connections: 1, paths: 1, total: 1 });
    expect(t.core.dump().ephemerals).toEqual(new Map([[s.sessionId, ['/e']]]));
  });
});
