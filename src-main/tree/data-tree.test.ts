import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/error-codes';
import type { Txn, TxnEntry } from '../jute/types';
import { OpCode } from '../jute/types';
import { OPEN_ACL_UNSAFE } from './acl';
import { DataTree, nextVersion } from './data-tree';
import { CONTAINER_EPHEMERAL_OWNER, ttlOwner } from './ephemeral-type';

const acl = [...OPEN_ACL_UNSAFE];
const bytes = (s: string) => new TextEncoder().encode(s);

let zxid = 0n;
function entry(txn: Txn, clientId = 0x100n, time = 1000n, z?: bigint): TxnEntry {
  zxid = z ?? zxid + 1n;
  return { header: { clientId, cxid: 1, zxid, time, type: txn.type }, txn };
}
function create(path: string, parentCVersion: number, opts: { data?: Uint8Array | null; ephemeral?: boolean } = {}): Txn {
  return { type: OpCode.create, path, data: opts.data === undefined ? bytes('x') : opts.data, acl, ephemeral: opts.ephemeral ?? false, parentCVersion };
}

describe('DataTree: initial state', () => {
  it('fresh tree: /, /zookeeper, /zookeeper/quota, /zookeeper/config with upstream stats', () => {
    const t = new DataTree();
    expect(t.nodeCount).toBe(4);
    expect(t.getChildren('/')!.children).toEqual(['zookeeper']);
    expect(t.getChildren('/zookeeper')!.children).toEqual(['config', 'quota']);
    // stored creation count 0 with one child: visible cversion 2*0-1 = -1, as `stat /` on ZooKeeper
    expect(t.stat('/')!.cversion).toBe(-1);
    expect(t.stat('/zookeeper')!.cversion).toBe(-2);
    expect(t.stat('/zookeeper/config')!.czxid).toBe(0n);
    expect(t.stat('/zookeeper/config')!.aversion).toBe(-1);
    expect(t.getAcl('/zookeeper/config')!.acl).toEqual([{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
    expect(t.getData('/')!.data).toEqual(new Uint8Array(0));
    expect(t.allChildrenNumber('/')).toBe(3);
  });
});

describe('DataTree: stat rules per op', () => {
  it('create: node stats from the txn; parent creation count and pzxid move, mzxid/version do not', () => {
    const t = new DataTree();
    zxid = 0x100000000n;
    const r = t.applyTxn(entry(create('/a', 1), 0x100n, 5000n));
    expect(r.err).toBe(ErrorCode.OK);
    const s = t.stat('/a')!;
    expect(s).toEqual({ czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: 5000n, mtime: 5000n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 1, numChildren: 0 });
    expect(r.stat).toEqual(s);
    const root = t.stat('/')!;
    expect(root.pzxid).toBe(zxid);
    expect(root.mzxid).toBe(0n);
    expect(root.numChildren).toBe(2);
    expect(root.cversion).toBe(2 * 1 - 2);
    expect(t.lastProcessedZxid).toBe(zxid);
    expect(r.changes).toEqual([{ type: 'created', path: '/a', acl, parentPath: '/', parentAcl: acl }]);
  });

  it('delete: parent pzxid = zxid, visible cversion +1, creation count kept', () => {
    const t = new DataTree();
    zxid = 0n;
    t.applyTxn(entry(create('/p', 1)));
    t.applyTxn(entry(create('/p/c', 1)));
    expect(t.stat('/p')!.cversion).toBe(1);
    const r = t.applyTxn(entry({ type: OpCode.delete, path: '/p/c' }));
    expect(r.err).toBe(0);
    expect(t.stat('/p')!.cversion).toBe(2);
    expect(t.stat('/p')!.pzxid).toBe(zxid);
    expect(t.record('/p')!.stat.cversion).toBe(1);
    expect(r.changes[0]).toMatchObject({ type: 'deleted', path: '/p/c', parentPath: '/p' });
  });

  it('setData: version from txn, mzxid/mtime move, dataLength follows; null data has dataLength 0', () => {
    const t = new DataTree();
    zxid = 0n;
    t.applyTxn(entry(create('/a', 1, { data: null })));
    expect(t.getData('/a')!.data).toBeNull();
    expect(t.stat('/a')!.dataLength).toBe(0);
    const r = t.applyTxn(entry({ type: OpCode.setData, path: '/a', data: bytes('hello'), version: 1 }, 0x100n, 7777n));
    expect(r.stat).toMatchObject({ version: 1, mzxid: zxid, mtime: 7777n, dataLength: 5, czxid: 1n });
    t.applyTxn(entry({ type: OpCode.setData, path: '/a', data: new Uint8Array(0), version: 2 }));
    expect(t.getData('/a')!.data).toEqual(new Uint8Array(0));
  });

  it('setACL: only aversion changes, no watch change', () => {
    const t = new DataTree();
    zxid = 0n;
    t.applyTxn(entry(create('/a', 1)));
    const before = t.stat('/a')!;
    const r = t.applyTxn(entry({ type: OpCode.setACL, path: '/a', acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], version: 1 }));
    expect(r.stat).toEqual({ ...before, aversion: 1 });
    expect(r.changes).toEqual([]);
  });

  it('nextVersion wraps like a Java int and skips -1', () => {
    expect(nextVersion(0)).toBe(1);
    expect(nextVersion(0x7fffffff)).toBe(-(2 ** 31));
    expect(nextVersion(-2)).toBe(0);
  });

  it('sequential worked example: stored creations 1,1,2 with visible cversion 1,2,3', () => {
    const t = new DataTree();
    zxid = 0n;
    t.applyTxn(entry(create('/q', 1)));
    t.applyTxn(entry(create('/q/n0000000000', 1)));
    expect([t.record('/q')!.stat.cversion, t.stat('/q')!.cversion]).toEqual([1, 1]);
    t.applyTxn(entry({ type: OpCode.delete, path: '/q/n0000000000' }));
    expect([t.record('/q')!.stat.cversion, t.stat('/q')!.cversion]).toEqual([1, 2]);
    t.applyTxn(entry(create('/q/n0000000001', 2)));
    expect([t.record('/q')!.stat.cversion, t.stat('/q')!.cversion]).toEqual([2, 3]);
  });
});

describe('DataTree: node kinds and sessions', () => {
  it('ephemerals: owner visible, tracked per session, removed by closeSession with changes', () => {
    const t = new DataTree();
    zxid = 0n;
    t.applyTxn(entry({ type: OpCode.createSession, timeOut: 30000 }, 0x55n));
    t.applyTxn(entry(create('/e1', 1, { ephemeral: true }), 0x55n));
    t.applyTxn(entry(create('/e2', 2, { ephemeral: true }), 0x55n));
    expect(t.stat('/e1')!.ephemeralOwner).toBe(0x55n);
    expect(t.ephemeralsOf(0x55n)).toEqual(['/e1', '/e2']);
    expect(t.sessions.get(0x55n)).toBe(30000);
    const r = t.applyTxn(entry({ type: OpCode.closeSession, paths2Delete: ['/e2'] }, 0x55n));
    expect(r.changes.map((c) => [c.type, c.path])).toEqual([
      ['deleted', '/e2'],
      ['deleted', '/e1'],
    ]);
    expect(t.has('/e1') || t.has('/e2')).toBe(false);
    expect(t.sessions.has(0x55n)).toBe(false);
    expect(t.stat('/')!.pzxid).toBe(zxid);
  });

  it('containers: client sees ephemeralOwner 0; reaped only after having had a child', () => {
    const t = new DataTree();
    zxid = 0n;
    t.applyTxn(entry({ type: OpCode.createContainer, path: '/c', data: null, acl, parentCVersion: 1 }, 0x1n, 1000n));
    expect(t.stat('/c')!.ephemeralOwner).toBe(0n);
    expect(t.record('/c')!.stat.ephemeralOwner).toBe(CONTAINER_EPHEMERAL_OWNER);
    expect(t.reapCandidates(10_000_000)).toEqual([]);
    expect(t.reapCandidates(10_000_000, 1000)).toEqual(['/c']);
    t.applyTxn(entry(create('/c/x', 1)));
    expect(t.reapCandidates(10_000_000)).toEqual([]);
    t.applyTxn(entry({ type: OpCode.delete, path: '/c/x' }));
    expect(t.reapCandidates(10_000_000)).toEqual(['/c']);
  });

  it('TTL nodes: candidates when empty and now - mtime > ttl; setData refreshes', () => {
    const t = new DataTree();
    zxid = 0n;
    t.applyTxn(entry({ type: OpCode.createTTL, path: '/t', data: null, acl, parentCVersion: 1, ttl: 500n }, 0x1n, 1000n));
    expect(t.record('/t')!.stat.ephemeralOwner).toBe(ttlOwner(500n));
    expect(t.stat('/t')!.ephemeralOwner).toBe(0n);
    expect(t.reapCandidates(1500)).toEqual([]);
    expect(t.reapCandidates(1501)).toEqual(['/t']);
    t.applyTxn(entry({ type: OpCode.setData, path: '/t', data: null, version: 1 }, 0x1n, 1400n));
    expect(t.reapCandidates(1600)).toEqual([]);
  });
});

describe('DataTree: idempotent replay (fuzzy snapshots)', () => {
  it('replaying every txn a second time keeps the tree identical', () => {
    const t = new DataTree();
    zxid = 0n;
    const log = [
      entry({ type: OpCode.createSession, timeOut: 4000 }, 0x9n),
      entry(create('/a', 1)),
      entry(create('/a/b', 1)),
      entry(create('/a/e', 2, { ephemeral: true }), 0x9n),
      entry({ type: OpCode.setData, path: '/a/b', data: bytes('v2'), version: 1 }),
      entry({ type: OpCode.delete, path: '/a/b' }),
      entry({ type: OpCode.closeSession }, 0x9n),
    ];
    for (const e of log) t.applyTxn(e);
    const d = t.digest();
    const errs = log.map((e) => t.applyTxn(e).err);
    expect(t.digest()).toBe(d);
    // /a exists (NODEEXISTS); /a/b and /a/e are re-created, changed and removed again by the later txns
    expect(errs).toEqual([0, ErrorCode.NODEEXISTS, 0, 0, 0, 0, 0]);
  });

  it('snapshot taken mid-way then full replay equals the live tree', () => {
    const live = new DataTree();
    zxid = 0n;
    const log: TxnEntry[] = [];
    const push = (e: TxnEntry) => {
      log.push(e);
      live.applyTxn(e);
    };
    push(entry(create('/q', 1)));
    push(entry(create('/q/s0000000000', 1)));
    const snap = live.exportSnapshot();
    const snapZxid = snap.zxid;
    push(entry({ type: OpCode.delete, path: '/q/s0000000000' }));
    push(entry(create('/q/s0000000001', 2)));
    // fuzzy: the restored snapshot already contains a later txn (applied again on replay)
    const restored = DataTree.fromSnapshot(snap);
    restored.applyTxn(log[2]!);
    for (const e of log) if (e.header.zxid > snapZxid - 1n) restored.applyTxn(e);
    expect(restored.digest()).toBe(live.digest());
    expect(restored.record('/q')!.stat.cversion).toBe(2);
  });

  it('fuzzy walk: txns applied between every step of the walk, then snapshot + replay after its start zxid equals the live tree', () => {
    let notInTableTotal = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      let r = seed;
      const rand = (n: number) => {
        r = (r * 1103515245 + 12345) % 2 ** 31;
        return Math.floor(r / 65536) % n; // the high bits: the low ones of an LCG cycle
      };
      const live = new DataTree();
      zxid = 0n;
      const log: TxnEntry[] = [];
      const apply = (txn: Txn) => {
        const e = entry(txn);
        log.push(e);
        live.applyTxn(e);
      };
      const paths = ['/'];
      const randomTxn = (): void => {
        const at = paths[rand(paths.length)]!;
        const kind = rand(5);
        if (kind <= 1 || paths.length < 4) {
          const parent = live.record(at);
          if (parent === undefined) return;
          const p = `${at === '/' ? '' : at}/n${rand(6)}`;
          if (live.has(p)) return;
          apply(create(p, parent.stat.cversion + 1, { data: bytes(`v${zxid}`) }));
          paths.push(p);
        } else if (kind === 2 && at !== '/' && live.has(at) && live.allChildrenNumber(at) === 0) {
          apply({ type: OpCode.delete, path: at });
          paths.splice(paths.indexOf(at), 1);
        } else if (kind === 3 && live.has(at)) {
          apply({ type: OpCode.setData, path: at, data: bytes(`d${zxid}`), version: nextVersion(live.record(at)!.stat.version) });
        } else if (live.has(at)) {
          apply({ type: OpCode.setACL, path: at, acl: rand(2) === 0 ? acl : [{ perms: 1 + rand(30), id: { scheme: 'world', id: 'anyone' } }], version: nextVersion(live.record(at)!.stat.aversion) });
        }
      };
      for (let i = 0; i < 150; i++) randomTxn();
      const startZxid = live.lastProcessedZxid;
      const sessions = live.snapshotSessions();
      // the snapshot's ACL cache is written before the walk: a list not in it is written as
      // OPEN_ACL_UNSAFE (storage's SnapshotEncoder), which must not matter after the replay
      const aclKeys = new Set(live.snapshotAcls().map((l) => JSON.stringify(l)));
      let notInTable = 0;
      // "encode" each node as it is yielded (copies), with several txns between steps
      const nodes = [];
      for (const n of live.fuzzySnapshotNodes(startZxid)) {
        const known = aclKeys.has(JSON.stringify(n.acl));
        if (!known) notInTable += 1;
        const nodeAcl = known ? n.acl.map((a) => ({ ...a, id: { ...a.id } })) : [...OPEN_ACL_UNSAFE];
        nodes.push({ path: n.path, data: n.data === null ? null : n.data.slice(), acl: nodeAcl, stat: { ...n.stat } });
        expect(n.stat.czxid).toBeLessThanOrEqual(startZxid);
        for (let k = rand(4); k > 0; k--) randomTxn();
      }
      notInTableTotal += notInTable;
      expect(new Set(nodes.map((n) => n.path)).size).toBe(nodes.length);
      expect(log.filter((e) => e.header.zxid > startZxid).length).toBeGreaterThan(30); // the walk really was fuzzy
      const restored = DataTree.fromSnapshot({ zxid: startZxid, sessions, nodes });
      for (const e of log) if (e.header.zxid > startZxid) restored.applyTxn(e);
      expect(restored.exportSnapshot()).toEqual(live.exportSnapshot());
      expect(restored.digest()).toBe(live.digest());
    }
    expect(notInTableTotal).toBeGreaterThan(0); // the placeholder ACL was exercised
  });

  it('fuzzy walk: a node newer than every txn the tree applied (a fuzzy snapshot loaded without its log) is kept', () => {
    const t = new DataTree();
    zxid = 0n;
    t.applyTxn(entry(create('/a', 1)));
    t.applyTxn(entry(create('/a/b', 1)));
    const snap = t.exportSnapshot();
    const loaded = DataTree.fromSnapshot({ ...snap, zxid: 1n }); // /a/b (czxid 2) is past the snapshot's zxid
    expect([...loaded.fuzzySnapshotNodes(1n)].map((n) => n.path)).toContain('/a/b');
    loaded.applyTxn(entry(create('/c', 2), 0x100n, 1000n, 3n));
    // created after the walk's zxid by a txn the tree applied: left out, the log has it
    expect([...loaded.fuzzySnapshotNodes(2n)].map((n) => n.path)).not.toContain('/c');
  });

  it('replayed create of an existing node still raises the parent creation count (ZOOKEEPER-1046)', () => {
    const t = new DataTree();
    zxid = 0n;
    t.applyTxn(entry(create('/p', 1)));
    t.applyTxn(entry(create('/p/x', 1)));
    const r = t.applyTxn(entry(create('/p/x', 5)));
    expect(r.err).toBe(ErrorCode.NODEEXISTS);
    expect(t.record('/p')!.stat.cversion).toBe(5);
  });
});

describe('DataTree: multi txn', () => {
  it('successful multi applies every sub-txn under one zxid', () => {
    const t = new DataTree();
    zxid = 0n;
    const r = t.applyTxn(entry({ type: OpCode.multi, txns: [create('/m', 1), create('/m/c', 1), { type: OpCode.check, path: '/m', version: 1 }] }));
    expect(r.err).toBe(0);
    expect(r.multi!.map((x) => [x.type, x.err])).toEqual([
      [OpCode.create, 0],
      [OpCode.create, 0],
      [OpCode.check, 0],
    ]);
    expect(t.stat('/m/c')!.czxid).toBe(t.stat('/m')!.czxid);
    expect(r.changes).toHaveLength(2);
  });

  it('multi with an error sub-txn applies nothing: before OK, failing op its code, after RUNTIMEINCONSISTENCY', () => {
    const t = new DataTree();
    zxid = 0n;
    const r = t.applyTxn(
      entry({
        type: OpCode.multi,
        txns: [{ type: OpCode.error, err: 0 }, { type: OpCode.error, err: ErrorCode.NONODE }, { type: OpCode.error, err: ErrorCode.RUNTIMEINCONSISTENCY }],
      }),
    );
    expect(r.err).toBe(ErrorCode.NONODE);
    expect(r.multi!.map((x) => x.err)).toEqual([0, ErrorCode.NONODE, ErrorCode.RUNTIMEINCONSISTENCY]);
    expect(t.nodeCount).toBe(4);
    expect(t.lastProcessedZxid).toBe(zxid);
  });
});

describe('DataTree: snapshots and digest', () => {
  it('export/import round trip keeps stats, kinds, sessions and digest', () => {
    const t = new DataTree();
    zxid = 0n;
    t.applyTxn(entry({ type: OpCode.createSession, timeOut: 9000 }, 0x77n));
    t.applyTxn(entry(create('/a', 1, { data: null })));
    t.applyTxn(entry(create('/a/e', 1, { ephemeral: true }), 0x77n));
    t.applyTxn(entry({ type: OpCode.createContainer, path: '/c', data: bytes(''), acl, parentCVersion: 2 }));
    t.applyTxn(entry({ type: OpCode.createTTL, path: '/t', data: bytes('t'), acl, parentCVersion: 3, ttl: 10n }));
    const snap = t.exportSnapshot();
    expect(snap.nodes.map((n) => n.path)).toEqual(['/', '/a', '/a/e', '/c', '/t', '/zookeeper', '/zookeeper/config', '/zookeeper/quota']);
    const u = DataTree.fromSnapshot(snap);
    expect(u.digest()).toBe(t.digest());
    expect(u.ephemeralsOf(0x77n)).toEqual(['/a/e']);
    expect(u.containers()).toEqual(['/c']);
    expect(u.ttlNodes()).toEqual(['/t']);
    expect(u.sessions.get(0x77n)).toBe(9000);
    expect(u.lastProcessedZxid).toBe(t.lastProcessedZxid);
    expect(u.getData('/a')!.data).toBeNull();
  });

  it('digest differs when data, stat or path differ', () => {
    const a = new DataTree();
    const b = new DataTree();
    zxid = 0n;
    a.applyTxn(entry(create('/x', 1), 1n, 1n, 5n));
    b.applyTxn(entry(create('/x', 1), 1n, 1n, 5n));
    expect(a.digest()).toBe(b.digest());
    b.applyTxn(entry({ type: OpCode.setData, path: '/x', data: bytes('x'), version: 0 }, 1n, 1n, 6n));
    expect(a.digest()).not.toBe(b.digest());
  });
});

describe('DataTree: approximate data size', () => {
  it('is kept incrementally and equals a full recount after creates, setData, deletes and a restore', () => {
    const t = new DataTree();
    zxid = 0n;
    const recount = (d: DataTree) => d.exportSnapshot().nodes.reduce((s, n) => s + n.path.length + (n.data?.length ?? 0), 0);
    t.applyTxn(entry(create('/size', 1, { data: bytes('12345') })));
    t.applyTxn(entry(create('/size/k', 1, { data: null })));
    t.applyTxn(entry({ type: OpCode.setData, path: '/size', data: bytes('1'), version: 1 }));
    t.applyTxn(entry({ type: OpCode.delete, path: '/size/k' }));
    expect(t.approximateDataSize()).toBe(recount(t));
    expect(DataTree.fromSnapshot(t.exportSnapshot()).approximateDataSize()).toBe(recount(t));
  });
});

describe('DataTree: stored ACLs', () => {
  it('znodes with equal ACLs share one stored copy; the caller keeping its array changes nothing; setACL on one leaves the other', () => {
    const t = new DataTree();
    const mine = [{ perms: 31, id: { scheme: 'digest', id: 'u:x' } }];
    t.applyTxn(entry({ type: OpCode.create, path: '/s1', data: null, acl: mine, ephemeral: false, parentCVersion: -1 }));
    t.applyTxn(entry({ type: OpCode.create, path: '/s2', data: null, acl: [{ perms: 31, id: { scheme: 'digest', id: 'u:x' } }], ephemeral: false, parentCVersion: -1 }));
    expect(t.aclOf('/s1')).toBe(t.aclOf('/s2'));
    expect(t.aclOf('/s1')).not.toBe(mine);
    mine[0]!.perms = 1;
    expect(t.getAcl('/s2')!.acl).toEqual([{ perms: 31, id: { scheme: 'digest', id: 'u:x' } }]);
    t.applyTxn(entry({ type: OpCode.setACL, path: '/s1', acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], version: -1 }));
    expect(t.getAcl('/s1')!.acl).toEqual([{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
    expect(t.getAcl('/s2')!.acl).toEqual([{ perms: 31, id: { scheme: 'digest', id: 'u:x' } }]);
    // a snapshot round trip shares them again
    const back = DataTree.fromSnapshot(t.exportSnapshot());
    back.applyTxn(entry({ type: OpCode.create, path: '/s3', data: null, acl: [{ perms: 31, id: { scheme: 'digest', id: 'u:x' } }], ephemeral: false, parentCVersion: -1 }));
    expect(back.aclOf('/s3')).toBe(back.aclOf('/s2'));
  });
});

describe('DataTree: value storage', () => {
  it('values survive overwrite churn that leaves one long-lived value per slab; the slabs are compacted back to about the live bytes', () => {
    const t = new DataTree();
    zxid = 0n;
    t.applyTxn(entry(create('/hot', 1, { data: new Uint8Array(100) })));
    t.applyTxn(entry(create('/k', 1)));
    const keep = (i: number) => new Uint8Array(100).fill(i & 0xff);
    let slabBytesMax = 0;
    // ~170 overwrites of /hot fill a 16 KiB slab: each slab is left pinned by one /k/<i> value
    for (let i = 0; i < 400; i++) {
      t.applyTxn(entry(create(`/k/${i}`, i + 1, { data: keep(i) })));
      for (let s = 0; s < 170; s++) t.applyTxn(entry({ type: OpCode.setData, path: '/hot', data: new Uint8Array(100).fill(s), version: 1 }));
      slabBytesMax = Math.max(slabBytesMax, t.valueStats().slabBytes);
    }
    const { slabBytes, liveBytes } = t.valueStats();
    expect(liveBytes).toBe(401 * 100 + 'x'.length);
    // without compaction: 400 slabs of 16 KiB (6.4 MiB); the floor before compacting is 4 MiB
    expect(slabBytesMax).toBeLessThan(4.5 * 2 ** 20);
    expect(slabBytes).toBeLessThan(4.5 * 2 ** 20);
    for (let i = 0; i < 400; i++) expect(t.getData(`/k/${i}`)!.data).toEqual(keep(i));
    expect(t.getData('/hot')!.data).toEqual(new Uint8Array(100).fill(169));
    // moving values changes nothing a client or a snapshot sees
    const copy = DataTree.fromSnapshot(t.exportSnapshot());
    expect(copy.digest()).toBe(t.digest());
    expect(copy.treeDigest).toBe(t.treeDigest);
  });

  it('a znode whose last child is deleted reports no children, and takes new ones', () => {
    const t = new DataTree();
    zxid = 0n;
    t.applyTxn(entry(create('/p', 1)));
    t.applyTxn(entry(create('/p/a', 1)));
    t.applyTxn(entry({ type: OpCode.delete, path: '/p/a' }));
    expect(t.getChildren('/p')!.children).toEqual([]);
    expect(t.stat('/p')!.numChildren).toBe(0);
    expect(t.allChildrenNumber('/p')).toBe(0);
    t.applyTxn(entry(create('/p/b', 2)));
    expect(t.getChildren('/p')!.children).toEqual(['b']);
    expect([...t.paths()]).toContain('/p/b');
  });
});
