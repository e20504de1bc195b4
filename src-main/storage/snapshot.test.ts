import { describe, expect, it } from 'vitest';
import { AssertionError } from '../common/assert';
import { isZooLabError } from '../common/errors';
import { makeZxid } from '../common/ids';
import { JuteReader, JuteWriter } from '../jute/buffer';
import { adler32 } from './adler32';
import type { Disk } from './disk';
import { MemoryDisk } from './memory-disk';
import { aclTableOf, decodeSnapshot, encodeSnapshot, OPEN_ACL_UNSAFE_REF, snapshotSealProblem } from './snapshot-format';
import { SnapshotStore } from './snapshot-store';
import { DyingDisk, sampleSnapshot, SimulatedDeath } from './test-support';

const DIR = '/data/version-2';

function corruption(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isZooLabError(e, 'STORAGE_CORRUPT')) return e.message;
    throw e;
  }
  throw new Error('expected STORAGE_CORRUPT');
}

describe('snapshot format', () => {
  it('round trip: sessions, nodes (null vs empty data), ACL lists and stats survive encode/decode', () => {
    const data = sampleSnapshot(makeZxid(3, 0x2a));
    expect(decodeSnapshot(encodeSnapshot(data), data.zxid)).toEqual(data);
  });

  it('layout: ZKSN header with dbid -1, sessions, ACL cache numbered from 1, root as "", "/" terminator, Adler-32 seal', () => {
    const data = sampleSnapshot(makeZxid(1, 5));
    const bytes = encodeSnapshot(data);
    const r = new JuteReader(bytes);
    expect(r.int()).toBe(0x5a4b534e);
    expect(r.int()).toBe(2);
    expect(r.long()).toBe(-1n);
    expect(r.int()).toBe(2);
    expect([r.long(), r.int()]).toEqual([0x1000000abcn, 30_000]);
    expect([r.long(), r.int()]).toEqual([0x2000000001n, 4_000]);
    expect(r.int()).toBe(2); // two distinct ACL lists
    expect(r.long()).toBe(1n);
    expect(r.vector((x) => [x.int(), x.string(), x.string()])).toEqual([[31, 'world', 'anyone']]);
    expect(r.long()).toBe(2n);
    expect(r.vector((x) => [x.int(), x.string(), x.string()])).toHaveLength(2);
    expect(r.string()).toBe(''); // the root
    expect(r.buffer()).toEqual(new Uint8Array(0));
    expect(r.long()).toBe(1n);
    r.offset += 8 * 4 + 4 * 3 + 8 * 2; // StatPersisted
    expect(r.string()).toBe('/zookeeper');
    // the end: ... "/" terminator, checksum of everything before it, "/"
    const tail = new JuteReader(bytes, bytes.length - 18);
    expect(tail.string()).toBe('/');
    expect(tail.long()).toBe(BigInt(adler32(bytes, 0, bytes.length - 13)));
    expect(tail.string()).toBe('/');
  });

  it('decode: a ZooKeeper 3.6+ digest section after the seal is verified, not required', () => {
    const data = sampleSnapshot(makeZxid(1, 5));
    const base = encodeSnapshot(data);
    const w = new JuteWriter();
    w.raw(base).long(data.zxid).int(2).long(0x1234n);
    const sealed = w.bytes();
    w.long(BigInt(adler32(sealed))).ustring('/');
    expect(decodeSnapshot(w.bytes(), data.zxid)).toEqual(data);
    const bad = w.bytes();
    bad[base.length + 3] = bad[base.length + 3]! ^ 1;
    expect(corruption(() => decodeSnapshot(bad, data.zxid))).toContain('digest section');
  });

  it('decode: any flipped byte, and any truncation, is STORAGE_CORRUPT naming the snapshot', () => {
    const data = sampleSnapshot(makeZxid(1, 5));
    const bytes = encodeSnapshot(data);
    for (let at = 0; at < bytes.length; at += 3) {
      const bad = bytes.slice();
      bad[at] = bad[at]! ^ 0x04;
      expect(corruption(() => decodeSnapshot(bad, data.zxid, 'snapshot.100000005'))).toContain('snapshot snapshot.100000005');
    }
    for (let len = 0; len < bytes.length; len += 7) {
      expect(corruption(() => decodeSnapshot(bytes.slice(0, len), data.zxid))).toMatch(/snapshot/);
    }
  });

  it('decode: a node before its parent, or an ACL ref not in the cache, is refused', () => {
    const data = sampleSnapshot(makeZxid(1, 5));
    const orphan = { ...data, nodes: data.nodes.filter((n) => n.path !== '/app') };
    expect(() => encodeSnapshot(orphan)).toThrow(AssertionError);
    // the same list written by something else: hand-build it by renaming /app's path in the bytes
    const bytes = encodeSnapshot(data);
    const at = findAscii(bytes, '/app\0');
    bytes.set(new TextEncoder().encode('/xyz'), at);
    const body = bytes.length - 13;
    new DataView(bytes.buffer).setBigInt64(body, BigInt(adler32(bytes, 0, body)));
    expect(corruption(() => decodeSnapshot(bytes, data.zxid))).toContain('node /app/e comes before its parent /app');
  });
});

describe('snapshot seal check (without decoding the tree)', () => {
  const data = sampleSnapshot(makeZxid(1, 9));
  const good = encodeSnapshot(data);

  it('a whole file passes, with or without a ZooKeeper 3.6+ digest section', () => {
    expect(snapshotSealProblem(good)).toBeNull();
    const w = new JuteWriter();
    w.raw(good).long(data.zxid).int(2).long(0x1234n);
    w.long(BigInt(adler32(w.bytes()))).ustring('/');
    expect(snapshotSealProblem(w.bytes())).toBeNull();
  });

  it('a truncated file, a flipped byte, a foreign header: each says why', () => {
    expect(snapshotSealProblem(good.slice(0, good.length - 1))).toMatch(/no "\/" at the end/);
    expect(snapshotSealProblem(good.slice(0, 10))).toMatch(/truncated/);
    const flipped = good.slice();
    flipped[40] = flipped[40]! ^ 0x10;
    expect(snapshotSealProblem(flipped)).toBe('checksum mismatch');
    const foreign = good.slice();
    foreign[0] = 0;
    expect(snapshotSealProblem(foreign)).toMatch(/magic/);
    // every check that fails the seal fails the full decode too
    for (const bad of [good.slice(0, good.length - 1), flipped, foreign]) expect(() => decodeSnapshot(bad, data.zxid)).toThrow();
  });

  it('SnapshotStore.isValid: a whole snapshot yes, a torn one no', async () => {
    const disk = new MemoryDisk();
    const store = new SnapshotStore(disk, DIR);
    await store.save(sampleSnapshot(makeZxid(1, 1)));
    await store.save(sampleSnapshot(makeZxid(1, 2)));
    const [newest, older] = store.list();
    const bytes = disk.read(`${DIR}/${newest!.name}`)!;
    disk.truncate(`${DIR}/${newest!.name}`, bytes.length - 7);
    expect(store.isValid(newest!)).toBe(false);
    expect(store.isValid(older!)).toBe(true);
  });
});

describe('snapshot store', () => {
  it('save: writes snapshot.<hex zxid> via a temp file; list is newest first', async () => {
    const disk = new MemoryDisk();
    const store = new SnapshotStore(disk, DIR);
    expect(await store.save(sampleSnapshot(makeZxid(1, 0x10)))).toBe('snapshot.100000010');
    await store.save(sampleSnapshot(makeZxid(2, 3)));
    expect(disk.list(DIR).sort()).toEqual(['snapshot.100000010', 'snapshot.200000003']);
    expect(store.list().map((s) => s.name)).toEqual(['snapshot.200000003', 'snapshot.100000010']);
    // durable: a power cut right after save keeps it
    expect(new SnapshotStore(disk.crash(), DIR).loadNewest()?.data).toEqual(sampleSnapshot(makeZxid(2, 3)));
  });

  it('save: two saves of the same zxid at once share one write (they would race on the temp file)', async () => {
    const disk = new MemoryDisk();
    const store = new SnapshotStore(disk, DIR);
    const data = sampleSnapshot(makeZxid(1, 4));
    const [a, b] = await Promise.all([store.save(data), store.save(data)]);
    expect([a, b]).toEqual(['snapshot.100000004', 'snapshot.100000004']);
    expect(disk.list(DIR)).toEqual(['snapshot.100000004']);
    expect(await store.save(data)).toBe('snapshot.100000004'); // and later saves write again
  });

  it('loadNewest: a corrupt newest snapshot falls back to the next valid one, with a note', async () => {
    const disk = new MemoryDisk();
    const store = new SnapshotStore(disk, DIR);
    for (const c of [1, 2, 3]) await store.save(sampleSnapshot(makeZxid(1, c)));
    const newest = `${DIR}/snapshot.100000003`;
    const bytes = disk.read(newest)!;
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
    disk.write(newest, bytes);
    disk.write(`${DIR}/snapshot.100000002`, bytes.slice(0, 30));
    const notes: string[] = [];
    const loaded = store.loadNewest((m) => notes.push(m));
    expect(loaded?.name).toBe('snapshot.100000001');
    expect(loaded?.data).toEqual(sampleSnapshot(makeZxid(1, 1)));
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^snapshot snapshot.100000003: checksum mismatch/);
    expect(notes[1]).toMatch(/^snapshot snapshot.100000002: impossible session count 2/);
  });

  it('loadNewest: no snapshot → null; only corrupt snapshots → STORAGE_CORRUPT, never an empty tree', async () => {
    const disk = new MemoryDisk();
    const store = new SnapshotStore(disk, DIR);
    expect(store.loadNewest()).toBeNull();
    await store.save(sampleSnapshot(makeZxid(1, 1)));
    disk.write(`${DIR}/snapshot.100000001`, new Uint8Array(100));
    expect(corruption(() => store.loadNewest())).toContain('none of the 1 newest snapshots');
  });

  it('save is crash-safe: killed or powered off after any operation, the old or the new snapshot loads', async () => {
    const old = sampleSnapshot(makeZxid(1, 1));
    const next = sampleSnapshot(makeZxid(1, 9));
    let opsTotal = 0;
    {
      const base = new MemoryDisk();
      await new SnapshotStore(base, DIR).save(old);
      const counting = new DyingDisk(base, 1000);
      await new SnapshotStore(counting, DIR).save(next);
      opsTotal = counting.ops;
    }
    expect(opsTotal).toBe(5); // mkdir, write temp, fsync, rename, fsyncDir
    for (let k = 0; k <= opsTotal; k++) {
      const base = new MemoryDisk();
      await new SnapshotStore(base, DIR).save(old);
      const dying = new DyingDisk(base, k);
      const outcome = await new SnapshotStore(dying, DIR).save(next).then(
        () => 'saved',
        (e: unknown) => {
          if (e instanceof SimulatedDeath) return 'died';
          throw e;
        },
      );
      expect(outcome).toBe(k === opsTotal ? 'saved' : 'died');
      for (const after of [base, base.crash()]) {
        const store = new SnapshotStore(after, DIR);
        const loaded = store.loadNewest();
        expect([old.zxid, next.zxid]).toContain(loaded?.data.zxid);
        expect(loaded?.data).toEqual(loaded?.data.zxid === old.zxid ? old : next);
        store.removeTemps();
        expect(after.list(DIR).every((n) => n.startsWith('snapshot.'))).toBe(true);
      }
      if (k === opsTotal) expect(new SnapshotStore(base.crash(), DIR).loadNewest()?.data.zxid).toBe(next.zxid);
    }
  });

  it('begin/step/done: a snapshot written in bounded steps is byte for byte the one save() writes, written out as it goes, and loads', async () => {
    const data = sampleSnapshot(makeZxid(2, 7));
    // enough nodes for several 1 MiB parts: the file checksum runs along the parts
    for (let i = 0; i < 3000; i++) {
      data.nodes.push({ path: `/app/n${i}`, data: new Uint8Array(900).fill(i & 0xff), acl: data.nodes[i % 2 === 0 ? 0 : 3]!.acl, stat: { ...data.nodes[3]!.stat, version: i } });
    }
    const whole = new MemoryDisk();
    await new SnapshotStore(whole, DIR).save(data);
    const disk = new MemoryDisk();
    const store = new SnapshotStore(disk, DIR);
    const save = store.begin(data.zxid, data.sessions, aclTableOf(data.nodes), data.nodes[Symbol.iterator]());
    let steps = 0;
    const written: number[] = [];
    while (save.step(100)) {
      steps += 1;
      expect(steps).toBeLessThan(100);
      written.push(disk.size(`${DIR}/${disk.list(DIR)[0] ?? 'none'}`) ?? 0);
    }
    expect(steps).toBe(30); // 3005 nodes at 100 a step; the 31st ends the walk and writes the rest
    // ~1 MiB parts reach the file while the walk goes on (~100 KB a step): never the whole in memory
    expect(written[9]).toBe(0);
    expect(written[11]).toBeGreaterThanOrEqual(2 ** 20);
    expect(written[29]).toBeGreaterThanOrEqual(2 * 2 ** 20);
    expect(save.nodeCount).toBe(data.nodes.length);
    expect(save.aclsNotInTable).toBe(0);
    expect(disk.list(DIR)).toEqual([expect.stringMatching(/^tmp\.snapshot\./)]); // nothing final before done()
    expect(await save.done()).toBe('snapshot.200000007');
    const [a, b] = [disk.read(`${DIR}/snapshot.200000007`)!, whole.read(`${DIR}/snapshot.200000007`)!];
    expect(a.length).toBe(b.length);
    expect(a.every((x, i) => x === b[i])).toBe(true); // (toEqual on MiBs of bytes is slow)
    const loaded = new SnapshotStore(disk.crash(), DIR).loadNewest()!.data;
    expect(loaded.nodes.map((n) => [n.path, n.stat.version, n.data?.length])).toEqual(data.nodes.map((n) => [n.path, n.stat.version, n.data?.length]));
  });

  it('begin: a streamed save killed or powered off at any step leaves the old snapshot, and only a temp file recovery removes', async () => {
    const old = sampleSnapshot(makeZxid(1, 1));
    const next = sampleSnapshot(makeZxid(1, 9));
    for (let k = 0; k < 8; k++) {
      const base = new MemoryDisk();
      await new SnapshotStore(base, DIR).save(old);
      const dying = new DyingDisk(base, k);
      const outcome = await (async () => {
        const save = new SnapshotStore(dying, DIR).begin(next.zxid, next.sessions, aclTableOf(next.nodes), next.nodes[Symbol.iterator]());
        while (save.step(2));
        return save.done();
      })().then(
        () => 'saved',
        (e: unknown) => {
          if (e instanceof SimulatedDeath) return 'died';
          throw e;
        },
      );
      expect(outcome).toBe(k >= 5 ? 'saved' : 'died'); // mkdir, write (a small snapshot is one part), fsync, rename, fsyncDir
      for (const after of [base, base.crash()]) {
        const store = new SnapshotStore(after, DIR);
        const loaded = store.loadNewest();
        expect(loaded?.data).toEqual(loaded?.data.zxid === old.zxid ? old : next);
        if (outcome === 'saved') expect(loaded?.data.zxid).toBe(next.zxid); // done() resolved: durable, even after a power cut
        store.removeTemps();
        expect(after.list(DIR).every((n) => n.startsWith('snapshot.'))).toBe(true);
      }
    }
  });

  it('begin: abandon() removes what was written; nothing is left under a final name', () => {
    const disk = new MemoryDisk();
    const store = new SnapshotStore(disk, DIR);
    const data = sampleSnapshot(makeZxid(1, 2));
    const save = store.begin(data.zxid, data.sessions, aclTableOf(data.nodes), data.nodes[Symbol.iterator]());
    while (save.step(1) && disk.list(DIR).length === 0);
    expect(disk.list(DIR)).toHaveLength(1);
    save.abandon();
    expect(disk.list(DIR)).toEqual([]);
    expect(() => save.step(1)).toThrow(AssertionError);
  });

  it('begin: abandon() while done() fsyncs the temp file: it is removed when the fsync ends, never renamed, and done() resolves null', async () => {
    const disk = new MemoryDisk();
    let releaseFsync = (): void => {};
    const held: Disk = Object.assign(Object.create(disk) as MemoryDisk, {
      fsync: (path: string) => new Promise<void>((resolve, reject) => (releaseFsync = () => void disk.fsync(path).then(resolve, reject))),
    });
    const data = sampleSnapshot(makeZxid(1, 4));
    const save = new SnapshotStore(held, DIR).begin(data.zxid, data.sessions, aclTableOf(data.nodes), data.nodes[Symbol.iterator]());
    while (save.step(1));
    const done = save.done();
    save.abandon();
    expect(disk.list(DIR)).toEqual([expect.stringMatching(/^tmp\.snapshot\./)]); // the fsync still runs on it
    releaseFsync();
    expect(await done).toBeNull();
    expect(disk.list(DIR)).toEqual([]);
  });

  it('begin: a node whose ACL list is not in the table given up front is written with ref -1 (OPEN_ACL_UNSAFE), and the file loads', async () => {
    const data = sampleSnapshot(makeZxid(1, 3));
    const disk = new MemoryDisk();
    const table = aclTableOf(data.nodes).slice(0, 1); // /app's digest list left out
    const save = new SnapshotStore(disk, DIR).begin(data.zxid, data.sessions, table, data.nodes[Symbol.iterator]());
    while (save.step(2));
    expect(save.aclsNotInTable).toBe(1);
    await save.done();
    const loaded = new SnapshotStore(disk, DIR).loadNewest()!.data;
    expect(loaded.nodes.find((n) => n.path === '/app')!.acl).toEqual([{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]);
    expect(loaded.nodes.map((n) => n.path)).toEqual(data.nodes.map((n) => n.path));
    expect(OPEN_ACL_UNSAFE_REF).toBe(-1n);
  });

  it('removeAfter: snapshots newer than a zxid are removed (after TRUNC)', async () => {
    const disk = new MemoryDisk();
    const store = new SnapshotStore(disk, DIR);
    for (const c of [1, 5, 9]) await store.save(sampleSnapshot(makeZxid(1, c)));
    expect(await store.removeAfter(makeZxid(1, 5))).toEqual(['snapshot.100000009']);
    expect(new SnapshotStore(disk.crash(), DIR).list()).toHaveLength(2); // durable
    expect(store.list().map((s) => s.zxid)).toEqual([makeZxid(1, 5), makeZxid(1, 1)]);
  });
});

/** Offset of `s` (ASCII) in bytes; the trailing \0 in the tests is the first byte of the next field. */
function findAscii(bytes: Uint8Array, s: string): number {
  const needle = new TextEncoder().encode(s);
  for (let i = 0; i + needle.length <= bytes.length; i++) {
    if (needle.every((b, j) => bytes[i + j] === b)) return i;
  }
  throw new Error(`${s} not found`);
}
