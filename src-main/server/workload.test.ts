/**
 * Seeded random workloads through the real pipeline (several connections, pipelined writes,
 * log made durable at random moments, reads, multis, ephemerals, session expiry), checked for:
 * replies per connection in request order; the live tree equals a replay of the logged txns;
 * a fuzzy snapshot taken mid-run plus a replay from its zxid (overlapping) equals it too.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MultiOp, Request, TxnEntry } from '../jute/types';
import { OpCode } from '../jute/types';
import { OPEN_ACL_UNSAFE } from '../tree/acl';
import { DataTree } from '../tree/data-tree';
import type { SnapshotData } from '../storage/snapshot-model';
import { CoreHarness, EnsembleHarness } from './test-harness';

const sha1 = (b: Uint8Array) => new Uint8Array(createHash('sha1').update(b).digest());
const acl = [...OPEN_ACL_UNSAFE];

function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

function randomRequest(rnd: (n: number) => number): Request {
  const paths = ['/a', '/a/b', '/a/b/c', '/d', '/d/e', '/q', '/q/x'];
  const p = () => paths[rnd(paths.length)]!;
  const data = () => (rnd(4) === 0 ? null : new Uint8Array(rnd(5)).fill(rnd(256)));
  const flags = () => [0, 0, 1, 2, 3, 4][rnd(6)]!;
  switch (rnd(11)) {
    case 0:
    case 1:
      return { type: OpCode.create, req: { path: p(), data: data(), acl, flags: flags() } };
    case 2:
      return { type: OpCode.create2, req: { path: p() + (rnd(2) ? '/' : ''), data: data(), acl, flags: 2 } };
    case 3:
      return { type: OpCode.delete, req: { path: p(), version: rnd(3) - 1 } };
    case 4:
      return { type: OpCode.setData, req: { path: p(), data: data(), version: rnd(3) - 1 } };
    case 5: {
      const ops: MultiOp[] = [];
      for (let i = rnd(4); i >= 0; i--) {
        const k = rnd(4);
        if (k === 0) ops.push({ type: OpCode.create, req: { path: p(), data: data(), acl, flags: 0 } });
        else if (k === 1) ops.push({ type: OpCode.delete, req: { path: p(), version: -1 } });
        else if (k === 2) ops.push({ type: OpCode.setData, req: { path: p(), data: data(), version: -1 } });
        else ops.push({ type: OpCode.check, req: { path: p(), version: rnd(2) - 1 } });
      }
      return { type: OpCode.multi, req: { ops } };
    }
    case 6:
      return { type: OpCode.getData, req: { path: p(), watch: rnd(2) === 0 } };
    case 7:
      return { type: OpCode.getChildren2, req: { path: p(), watch: rnd(2) === 0 } };
    case 8:
      return { type: OpCode.exists, req: { path: p(), watch: true } };
    case 9:
      return { type: OpCode.sync, req: { path: '/' } };
    default:
      return { type: OpCode.setACL, req: { path: p(), acl, version: -1 } };
  }
}

function replay(entries: readonly TxnEntry[], from?: SnapshotData): DataTree {
  const t = from ? DataTree.fromSnapshot(from) : new DataTree();
  for (const e of entries) if (!from || e.header.zxid > from.zxid) t.applyTxn(e);
  return t;
}

describe('random workloads (seeded)', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`seed ${seed}: ordered replies, replay equals live tree, fuzzy snapshot + replay equals it`, () => {
      const rnd = prng(seed);
      const t = new CoreHarness(sha1, { tickTimeMs: 100, minSessionTimeoutMs: 200, maxSessionTimeoutMs: 2000 });
      const conns = [1, 2, 3, 4];
      for (const c of conns) t.connect(c, { timeOut: 200 + rnd(1800) });
      const sent = new Map<number, number[]>();
      const got = new Map<number, number[]>();
      let snapshot: SnapshotData | undefined;
      let startedAt = 0n;
      let nextConn = 10;
      for (let step = 0; step < 400; step++) {
        t.holdLog = rnd(3) !== 0;
        const live = conns.filter((c) => t.core.connections().some((x) => x.connId === c));
        if (live.length === 0 || rnd(40) === 0) {
          const c = nextConn++;
          conns.push(c);
          t.connect(c, { timeOut: 200 + rnd(1800) });
          continue;
        }
        const c = live[rnd(live.length)]!;
        const xid = (sent.get(c)?.length ?? 0) + 1;
        sent.set(c, [...(sent.get(c) ?? []), xid]);
        t.send(c, xid, randomRequest(rnd));
        if (rnd(5) === 0) t.releaseLog();
        if (rnd(15) === 0) t.advance(rnd(300));
        // a fuzzy snapshot: labelled with the zxid at which it "started", holding later txns too
        if (step === 150) startedAt = t.core.lastProcessedZxid;
        if (step === 200) snapshot = { ...t.core.tree.exportSnapshot(), zxid: startedAt };
        for (const cc of conns) for (const r of t.take(cc)) if (r.kind === 'reply' && r.header.xid > 0) got.set(cc, [...(got.get(cc) ?? []), r.header.xid]);
      }
      t.holdLog = false;
      t.releaseLog();
      for (const cc of conns) for (const r of t.take(cc)) if (r.kind === 'reply' && r.header.xid > 0) got.set(cc, [...(got.get(cc) ?? []), r.header.xid]);
      for (const [c, xs] of got) expect(xs, `connection ${c}`).toEqual((sent.get(c) ?? []).slice(0, xs.length));
      expect(t.core.pendingTxnCount).toBe(0);
      const live = t.core.tree.digest();
      expect(replay(t.logged).digest()).toBe(live);
      expect(replay(t.logged, snapshot).digest()).toBe(live);
      expect(t.logged.map((e) => e.header.zxid)).toEqual(t.logged.map((_, i) => BigInt(i + 1)));
    });
  }
});

describe('random workloads on a leader and a learner (seeded)', () => {
  for (const seed of [11, 12, 13, 14, 15]) {
    it(`seed ${seed}: both replicas equal the replay of the proposals; replies in order on both servers`, () => {
      const rnd = prng(seed);
      const q = new EnsembleHarness(sha1, { tickTimeMs: 100, minSessionTimeoutMs: 200, maxSessionTimeoutMs: 2000 });
      const servers = [q.leader, q.learner];
      const conns: { h: CoreHarness; id: number }[] = [];
      const open = (h: CoreHarness) => {
        const id = 100 + conns.length;
        conns.push({ h, id });
        h.core.openConnection(id, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 200 + rnd(1800), sessionId: 0n, passwd: new Uint8Array(16) }, '127.0.0.1');
        q.settle();
      };
      for (let i = 0; i < 4; i++) open(servers[i % 2]!);
      const sent = new Map<number, number[]>();
      const got = new Map<number, number[]>();
      const collect = () => {
        for (const { h, id } of conns) for (const r of h.take(id)) if (r.kind === 'reply' && r.header.xid > 0) got.set(id, [...(got.get(id) ?? []), r.header.xid]);
      };
      for (let step = 0; step < 300; step++) {
        q.holdCommits = rnd(3) !== 0;
        const live = conns.filter(({ h, id }) => h.core.connections().some((x) => x.connId === id));
        if (live.length === 0 || rnd(40) === 0) {
          open(servers[rnd(2)]!);
          continue;
        }
        const { h, id } = live[rnd(live.length)]!;
        const xid = (sent.get(id)?.length ?? 0) + 1;
        sent.set(id, [...(sent.get(id) ?? []), xid]);
        const req = randomRequest(rnd);
        h.core.request(id, { xid, type: req.type }, req);
        q.settle();
        if (rnd(4) === 0) q.release();
        if (rnd(15) === 0) {
          q.leader.core.touchSessions(q.learner.core.takeSessionTouches());
          q.advance(rnd(300));
        }
        collect();
      }
      q.release();
      collect();
      for (const [c, xs] of got) expect(xs, `connection ${c}`).toEqual((sent.get(c) ?? []).slice(0, xs.length));
      const live = q.leader.core.tree.digest();
      expect(q.learner.core.tree.digest()).toBe(live);
      expect(replay(q.proposals).digest()).toBe(live);
      expect(q.proposals.length).toBeGreaterThan(100);
    });
  }
});
