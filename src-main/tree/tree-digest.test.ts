import { describe, expect, it } from 'vitest';
import type { ACL, StatPersisted, Txn, TxnEntry } from '../jute/types';
import { OpCode } from '../jute/types';
import { OPEN_ACL_UNSAFE } from './acl';
import { crc32, crc32UpdateByte } from './crc32';
import { DataTree } from './data-tree';
import { CONTAINER_EPHEMERAL_OWNER } from './ephemeral-type';
import { DIGEST_LOG_ENTRIES_MAX, nodeDigest, TreeDigestSum, ZxidDigestLog } from './tree-digest';

const bytes = (s: string) => new TextEncoder().encode(s);
const acl: ACL[] = [...OPEN_ACL_UNSAFE];
const zero: StatPersisted = { czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 0n };

/** The tree digest recomputed from nothing: the sum of every node's digest, as a Java long. */
function recomputed(t: DataTree): bigint {
  let sum = 0n;
  for (const n of t.exportSnapshot().nodes) sum += BigInt(nodeDigest(n.path, n.data, n.stat));
  return BigInt.asIntN(64, sum);
}

describe('crc32', () => {
  it('the IEEE check value: "123456789" → 0xCBF43926, empty → 0', () => {
    expect(crc32(bytes('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('eight bytes at a time gives what one byte at a time gives, at every length and offset', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    const bytewise = (b: Uint8Array): number => {
      let c = -1;
      for (const x of b) c = crc32UpdateByte(c, x);
      return ~c >>> 0;
    };
    for (let start = 0; start < 9; start++) for (let len = 0; len < 40; len++) expect(crc32(data.subarray(start, start + len))).toBe(bytewise(data.subarray(start, start + len)));
    expect(crc32(data)).toBe(bytewise(data));
  });
});

describe('nodeDigest: the values java.util.zip.CRC32 gives over ZooKeeper DigestCalculator fields', () => {
  // golden values computed with java.util.zip.CRC32 + ByteBuffer (big-endian) on a JDK
  it('root counts as "" and /zookeeper with zero stats: the fresh tree digest', () => {
    expect(nodeDigest('/', new Uint8Array(0), zero)).toBe(68323592);
    expect(nodeDigest('/zookeeper', new Uint8Array(0), zero)).toBe(1303661912);
    expect(new DataTree().treeDigest).toBe(68323592n + 1303661912n);
  });

  it('path as UTF-8, data, then czxid mzxid pzxid ctime mtime version cversion aversion ephemeralOwner', () => {
    const stat: StatPersisted = {
      czxid: 0x100000001n, mzxid: 0x100000002n, pzxid: 0x100000003n, ctime: 1764000000000n, mtime: 1764000000123n,
      version: -1, cversion: 7, aversion: 2, ephemeralOwner: -(2n ** 63n) + 5000n,
    };
    expect(nodeDigest('/app/ünï', bytes('hello'), stat)).toBe(4231398613);
    expect(nodeDigest('/n', null, { ...zero, czxid: 5n, mzxid: 5n, pzxid: 5n, ctime: 9n, mtime: 9n, ephemeralOwner: 0x1234n })).toBe(4155410747);
  });

  it('nodes under /zookeeper/ count 0', () => {
    expect(nodeDigest('/zookeeper/quota', new Uint8Array(0), zero)).toBe(0);
    expect(nodeDigest('/zookeeper/config', bytes('server.1=...'), zero)).toBe(0);
    expect(nodeDigest('/zookeeperish', null, zero)).not.toBe(0);
  });
});

describe('TreeDigestSum: a 64-bit sum that wraps like a Java long', () => {
  it('adds and removes across the 32-bit carry and the sign bit', () => {
    const s = new TreeDigestSum();
    for (let i = 0; i < 5; i++) s.add(0xffffffff);
    expect(s.value()).toBe(5n * 0xffffffffn);
    s.remove(0xffffffff);
    s.remove(0xffffffff);
    expect(s.value()).toBe(3n * 0xffffffffn);
    const w = new TreeDigestSum();
    w.remove(1);
    expect(w.value()).toBe(-1n);
    w.add(2);
    expect(w.value()).toBe(1n);
  });
});

describe('ZxidDigestLog', () => {
  it('keeps zxids on multiples of 128 only, the last 1024', () => {
    const log = new ZxidDigestLog();
    for (let z = 1n; z <= 300n; z++) log.record(z, z * 10n);
    expect(log.list()).toEqual([
      { zxid: 128n, digest: 1280n },
      { zxid: 256n, digest: 2560n },
    ]);
    for (let i = 0n; i < BigInt(DIGEST_LOG_ENTRIES_MAX) + 5n; i++) log.record(0x200000000n + i * 128n, i);
    const all = log.list();
    expect(all.length).toBe(DIGEST_LOG_ENTRIES_MAX);
    // 2 + 1029 recorded, the oldest 7 dropped: the two early ones and i = 0..4
    expect(all[0]!.digest).toBe(5n);
  });
});

describe('DataTree: the tree digest is kept incrementally', () => {
  let zxid = 0n;
  const at = (txn: Txn, clientId = 0x100n): TxnEntry => {
    zxid += 1n;
    return { header: { clientId, cxid: 1, zxid, time: 1_700_000_000_000n + zxid, type: txn.type }, txn };
  };
  const create = (path: string, extra: Partial<{ ephemeral: boolean; data: Uint8Array | null }> = {}): Txn => ({
    type: OpCode.create, path, data: extra.data === undefined ? bytes(`d${path}`) : extra.data, acl, ephemeral: extra.ephemeral ?? false, parentCVersion: -1,
  });

  it('equals the from-scratch sum after every kind of txn, and survives a snapshot round trip', () => {
    zxid = 0n;
    const t = new DataTree();
    const script: [Txn, bigint?][] = [
      [{ type: OpCode.createSession, timeOut: 30000 }, 0x500n],
      [create('/a')],
      [create('/a/b', { data: null })],
      [create('/a/e', { ephemeral: true }), 0x500n],
      [{ type: OpCode.createContainer, path: '/c', data: null, acl, parentCVersion: -1 }],
      [create('/c/x')],
      [{ type: OpCode.setData, path: '/a', data: bytes('new data'), version: 1 }],
      [{ type: OpCode.setData, path: '/', data: bytes('root'), version: 1 }],
      [{ type: OpCode.setACL, path: '/a/b', acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], version: 1 }],
      [{ type: OpCode.delete, path: '/a/b' }],
      [{ type: OpCode.multi, txns: [create('/m1'), { type: OpCode.setData, path: '/m1', data: bytes('m'), version: 1 }, { type: OpCode.delete, path: '/c/x' }] }],
      [{ type: OpCode.multi, txns: [create('/never'), { type: OpCode.error, err: -101 }] }],
      [{ type: OpCode.deleteContainer, path: '/c' }],
      [create('/zookeeper/quota/a')],
      [{ type: OpCode.closeSession }, 0x500n],
      [{ type: OpCode.delete, path: '/missing' }],
    ];
    const seen = new Set<bigint>([t.treeDigest]);
    for (const [txn, client] of script) {
      t.applyTxn(at(txn, client));
      expect(t.treeDigest).toBe(recomputed(t));
      seen.add(t.treeDigest);
    }
    // every changing txn moved it (containers owner included): the digest is not a constant
    expect(seen.size).toBeGreaterThan(10);
    expect(t.has('/a/e')).toBe(false);
    expect(t.stat('/c')).toBeUndefined();
    expect(CONTAINER_EPHEMERAL_OWNER).not.toBe(0n);
    expect(DataTree.fromSnapshot(t.exportSnapshot()).treeDigest).toBe(t.treeDigest);
  });

  it('a replayed create (fuzzy snapshot) that only raises the parent count keeps the digest exact', () => {
    zxid = 0n;
    const t = new DataTree();
    t.applyTxn(at(create('/p')));
    t.applyTxn(at({ ...create('/p/c'), parentCVersion: 1 } as Txn));
    const replay = DataTree.fromSnapshot(t.exportSnapshot());
    replay.applyTxn({ header: { clientId: 0x100n, cxid: 1, zxid: 5n, time: 1n, type: OpCode.create }, txn: { ...create('/p/c'), parentCVersion: 4 } as Txn });
    expect(replay.record('/p')!.stat.cversion).toBe(4);
    expect(replay.treeDigest).toBe(recomputed(replay));
  });

  it('digestLog: the tree digest after each txn whose zxid is a multiple of 128', () => {
    zxid = 0n;
    const t = new DataTree();
    const after = new Map<bigint, bigint>();
    for (let i = 0; i < 300; i++) {
      t.applyTxn(at(i % 3 === 2 ? { type: OpCode.setData, path: '/n', data: bytes(String(i)), version: i } : create(`/n${i === 0 ? '' : i}`)));
      after.set(zxid, t.treeDigest);
    }
    expect(t.digestLog()).toEqual([
      { zxid: 128n, digest: after.get(128n) },
      { zxid: 256n, digest: after.get(256n) },
    ]);
  });
});
